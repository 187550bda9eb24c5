"""Derived keys are cached: PBKDF2 once per passphrase, salt and work.

hearth.private.Keys on its own, then real builds: a warm build derives
nothing, and no change of passphrase, salt or iteration count and no damaged
or foreign cache entry ever puts a wrong key into what is published.
"""

import json
import re
import stat
from pathlib import Path

import pytest

from hearth import envelope, private
from hearth.state import State
from tests.conftest import TEST_PASSPHRASES, build, environ, passphrase_env

SALT = bytes(range(16))
OTHER_SALT = bytes(range(16, 32))
WORK = envelope.ITERATION_FLOOR
PHRASE = TEST_PASSPHRASES["friends"]


@pytest.fixture
def derivations(monkeypatch):
    """Every PBKDF2 derivation, as (passphrase, salt, iterations)."""
    calls = []
    real = envelope.derive_key

    def counting(passphrase, salt, iterations):
        calls.append((passphrase, bytes(salt), iterations))
        return real(passphrase, salt, iterations)

    monkeypatch.setattr(envelope, "derive_key", counting)
    return calls


def cached(path, phrase=PHRASE, salt=SALT, work=WORK):
    keys = private.Keys(path)
    key = keys.key(phrase, salt, work)
    keys.save()
    return key


# --- the cache on its own ---------------------------------------------------


def test_a_key_is_derived_once_then_read_from_the_owner_only_cache(
    tmp_path, derivations
):
    path = tmp_path / "cache" / "hearth" / "keys" / "derived.json"
    first = cached(path)
    assert derivations == [(PHRASE, SALT, WORK)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert PHRASE not in text and "hearth-test" not in text
    again = cached(path)
    assert derivations == [(PHRASE, SALT, WORK)]  # not derived again
    assert again == first == envelope.derive_key(PHRASE, SALT, WORK)


@pytest.mark.parametrize(
    "change",
    [
        {"phrase": "hearth-test-family-passphrase"},
        {"phrase": PHRASE + " "},  # another spelling costs a derivation, no more
        {"salt": OTHER_SALT},
        {"work": WORK + 1},
    ],
    ids=["passphrase", "spelling", "salt", "iterations"],
)
def test_a_changed_passphrase_salt_or_work_is_never_served_the_old_key(
    tmp_path, derivations, change
):
    path = tmp_path / "derived.json"
    old = cached(path)
    inputs = {"phrase": PHRASE, "salt": SALT, "work": WORK, **change}
    new = cached(path, **inputs)
    assert len(derivations) == 2
    assert new == envelope.derive_key(inputs["phrase"], inputs["salt"], inputs["work"])
    if "phrase" not in change or change["phrase"].strip() != PHRASE:
        assert new != old


def _entries(path):
    return json.loads(path.read_text())["keys"]


def _write_entries(path, entries):
    path.write_text(json.dumps({"keys": entries}))


def test_a_damaged_or_foreign_entry_is_derived_again(tmp_path, derivations):
    path = tmp_path / "derived.json"
    right = cached(path)
    (name,) = _entries(path)
    other = tmp_path / "other.json"
    cached(other, phrase="hearth-test-family-passphrase")
    (foreign,) = _entries(other).values()
    good = _entries(path)[name]
    wrong_key = envelope.b64url(bytes(32))
    damaged = [
        {name: {**good, "key": wrong_key}},  # another key, the old tag
        {name: {**good, "tag": foreign["tag"]}},  # another entry's tag
        {name: foreign},  # another passphrase's entry, moved under this name
        {name: {**good, "key": good["key"][:-2]}},  # cut short
        {name: "not an entry"},
    ]
    for entries in damaged:
        _write_entries(path, entries)
        before = len(derivations)
        assert cached(path) == right
        assert len(derivations) == before + 1, entries
        assert _entries(path)[name] == good  # and the entry is mended
    for text in ("", "{", "[]", '{"keys": []}', '{"keys": {"x": null}}'):
        path.write_text(text)
        before = len(derivations)
        assert cached(path) == right
        assert len(derivations) == before + 1, text


def test_only_the_keys_a_build_used_are_kept(tmp_path, derivations):
    path = tmp_path / "derived.json"
    cached(path)
    cached(path, phrase="hearth-test-family-passphrase")  # the passphrase changed
    (entry,) = _entries(path).values()
    assert envelope.unb64url(entry["key"]) == envelope.derive_key(
        "hearth-test-family-passphrase", SALT, WORK
    )


def test_early_derivations_start_only_for_what_the_cache_lacks(tmp_path, derivations):
    path = tmp_path / "derived.json"
    cached(path)
    keys = private.Keys(path)
    keys.start([(PHRASE, SALT, WORK), ("hearth-test-site-passphrase", SALT, WORK)])
    assert keys.key("hearth-test-site-passphrase", SALT, WORK)
    keys.forget()
    assert [d[0] for d in derivations] == [PHRASE, "hearth-test-site-passphrase"]


def test_early_derivations_read_the_secrets_file_hearth_secrets_file_names(
    tmp_path, monkeypatch
):
    """The early derivations read the same secrets file as the build: the
    one HEARTH_SECRETS_FILE names, not one that happens to sit in the site."""
    from types import SimpleNamespace

    from plugins.hearth_private import hearth_private

    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(f'[passphrases]\nfriends = "{PHRASE}"\n')
    site = tmp_path / "site"
    site.mkdir()
    (site / "secrets.toml").write_text('[passphrases]\nfriends = "not this one x"\n')
    started = []
    build = SimpleNamespace(
        settings={
            "HEARTH_PBKDF2_ITERATIONS": WORK,
            "HEARTH_AUDIENCES": {"friends": ""},
        },
        root=site,
        publish=True,
        state=SimpleNamespace(known_audience=lambda audience: (SALT, WORK)),
        keys=SimpleNamespace(start=started.extend),
    )
    monkeypatch.delenv("HEARTH_PASSPHRASE_FRIENDS", raising=False)
    monkeypatch.setenv("HEARTH_SECRETS_FILE", str(elsewhere))
    hearth_private._start_derivations(build)
    assert started == [(PHRASE, SALT, WORK)]


# --- in a real build --------------------------------------------------------

POST = """---
title: A post for friends
date: 2026-03-02 10:00
audience: friends
listing: locked
---

Only friends read this.
"""


def make_site(root):
    posts = Path(root) / "content" / "posts"
    posts.mkdir(parents=True)
    (posts / "post.md").write_text(POST)


def run(root, out, settings="publishconf.py", **passphrases):
    with environ(**passphrase_env(**passphrases)):
        return build(
            Path(root) / out,
            settings,
            content=Path(root) / "content",
            CACHE_PATH=str(Path(root) / "cache"),
        )


def opens_with(root, output, phrase):
    """Whether the post opens with the key a reader derives from `phrase`."""
    salt, work = State.load(Path(root) / "hearth-state.json").known_audience("friends")
    key = envelope.derive_key(phrase, salt, work)
    (page,) = output.glob("p/[0-9a-f]*/index.html")
    text = re.search(
        r'<script type="application/json" id="hearth-envelope">(.*?)</script>',
        page.read_text(),
    ).group(1)
    url = "/" + page.parent.relative_to(output).as_posix() + "/"
    try:
        envelope.decrypt(text, url, key, "friends")
    except envelope.WrongKey:
        return False
    return True


@pytest.fixture
def warm_site(tmp_path):
    make_site(tmp_path)
    run(tmp_path, "out0")  # salts, the envelope cache and the key cache
    return tmp_path


def test_a_warm_build_derives_nothing_and_still_opens(warm_site, derivations):
    output = run(warm_site, "out1")
    assert derivations == []
    assert opens_with(warm_site, output, PHRASE)


def test_a_changed_passphrase_publishes_for_the_new_one_only(warm_site, derivations):
    output = run(warm_site, "out1", friends="hearth-test-family-passphrase")
    assert [d[0] for d in derivations] == ["hearth-test-family-passphrase"]
    assert opens_with(warm_site, output, "hearth-test-family-passphrase")
    assert not opens_with(warm_site, output, PHRASE)


def test_a_tampered_key_cache_is_derived_again_and_nothing_wrong_is_published(
    warm_site, derivations
):
    path = warm_site / "cache" / "hearth" / "keys" / "derived.json"
    data = json.loads(path.read_text())
    for entry in data["keys"].values():
        entry["key"] = envelope.b64url(bytes(32))
    path.write_text(json.dumps(data))
    output = run(warm_site, "out1")
    # Every audience with a passphrase is keyed (friends and family here).
    assert len(derivations) == len(data["keys"])
    assert PHRASE in [d[0] for d in derivations]
    assert opens_with(warm_site, output, PHRASE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # rewritten owner-only


def test_preview_and_publish_builds_share_one_derivation(tmp_path, derivations):
    make_site(tmp_path)
    preview = run(tmp_path, "preview", "pelicanconf.py")
    assert PHRASE in [d[0] for d in derivations]
    before = list(derivations)
    publish = run(tmp_path, "publish")
    # The preview uses the configured passphrase when there is one: the
    # publish build finds its key already derived, and both open with it.
    assert derivations == before
    assert opens_with(tmp_path, preview, PHRASE)
    assert opens_with(tmp_path, publish, PHRASE)


# --- the strength estimate, kept beside the key -------------------------------


@pytest.fixture
def estimates(monkeypatch):
    """Every run of the strength estimate (zxcvbn), by passphrase."""
    from hearth import readers

    calls = []
    real = readers.strength_problem

    def counting(passphrase):
        calls.append(passphrase)
        return real(passphrase)

    monkeypatch.setattr(readers, "strength_problem", counting)
    return calls


def _key_entries(root):
    """derived.json's entries, and the name of the friends passphrase's."""
    path = Path(root) / "cache" / "hearth" / "keys" / "derived.json"
    salt, work = State.load(Path(root) / "hearth-state.json").known_audience("friends")
    return path, json.loads(path.read_text()), private._derived_name(PHRASE, salt, work)


def test_a_passphrase_that_passed_the_estimate_is_not_estimated_again(
    warm_site, estimates
):
    """zxcvbn is the slowest import of a build: a passphrase that passed it
    is marked beside its cached key, and the next build trusts the mark.
    (family's passphrase guards no post here, so no build estimates it.)"""
    _, data, friends = _key_entries(warm_site)
    assert "strong" in data["keys"][friends]
    assert PHRASE not in json.dumps(data)
    output = run(warm_site, "out1")
    assert estimates == []
    assert opens_with(warm_site, output, PHRASE)


@pytest.mark.parametrize("damage", ["copied", "garbled"])
def test_a_damaged_mark_or_a_new_rule_runs_the_estimate_again(
    warm_site, estimates, monkeypatch, damage
):
    from hearth import readers

    path, data, friends = _key_entries(warm_site)
    other = next(name for name in data["keys"] if name != friends)
    if damage == "copied":
        # A mark made for another entry is bound to that entry's name and key.
        tag = private._strong_tag(other, envelope.unb64url(data["keys"][other]["key"]))
        data["keys"][friends]["strong"] = tag
    else:
        tag = data["keys"][friends]["strong"]
        data["keys"][friends]["strong"] = ("A" if tag[0] != "A" else "B") + tag[1:]
    path.write_text(json.dumps(data))
    run(warm_site, "out1")
    assert estimates == [PHRASE]
    run(warm_site, "out2")
    assert estimates == [PHRASE]  # marked again by the build before
    # Another zxcvbn or another floor: the verdict is taken again.
    monkeypatch.setattr(readers, "strength_rule", lambda: "zxcvbn 9.9 floor 20 100")
    run(warm_site, "out3")
    assert estimates == [PHRASE, PHRASE]


def test_a_weak_passphrase_is_refused_however_warm_the_cache(warm_site, estimates):
    with pytest.raises(Exception, match="too easy to guess"):
        run(warm_site, "out1", friends="friends friends friends")
    assert "friends friends friends" in estimates
