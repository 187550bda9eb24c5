"""Readers: their own generated secrets, the keyring, removal and expiry.

Real publish builds in tmp_path; every secret is opened as a reader's
browser would: passphrase (or link key) -> keyring -> audience key -> post.
"""

import datetime as dt
import json
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
from pelican.log import LimitFilter

from hearth import envelope, readers, secrets
from hearth.state import State
from tests.conftest import build, environ

POST = """---
title: A post for the readers
date: 2026-03-02 10:00
audience: friends
listing: locked
---

Only friends read this.
"""
LATER = """---
title: Written after a reader left
date: 2026-03-03 10:00
audience: friends
listing: locked
---

The removed reader must not read this.
"""


@pytest.fixture(autouse=True)
def no_outside_secrets(monkeypatch):
    """Nothing from the machine running the tests: no passphrase variables,
    no secrets file but the site's own; Pelican's log limits left alone."""
    for name in list(os.environ):
        if name.startswith("HEARTH_PASSPHRASE") or name == "HEARTH_SECRETS_FILE":
            monkeypatch.delenv(name)
    raised = set(LimitFilter._raised_messages)
    yield
    LimitFilter._raised_messages.clear()
    LimitFilter._raised_messages.update(raised)


def site(root, posts=None):
    content = root / "content" / "posts"
    content.mkdir(parents=True, exist_ok=True)
    for name, text in (posts or {"post.md": POST}).items():
        (content / name).write_text(text)
    return root


def publish(root, out="out"):
    return build(
        root / out,
        "publishconf.py",
        content=root / "content",
        CACHE_PATH=str(root / "cache"),
    )


def envelope_of(page):
    match = re.search(
        r'<script type="application/json" id="hearth-envelope">(.*?)</script>',
        page.read_text(),
    )
    assert match, f"{page} has no envelope"
    return match.group(1)


def post_pages(output):
    return sorted(output.glob("p/[0-9a-f]*/index.html"))


def reader_key(root, secret, audience="friends"):
    """What a reader's browser holds: a link key, or the derived key."""
    if isinstance(secret, bytes):
        return secret
    salt, iterations = State.load(root / "hearth-state.json").known_audience(audience)
    return envelope.derive_key(secret, salt, iterations)


def opens(root, output, page, secret, audience="friends"):
    """Open a post as the browser does; its payload, or None if it stays shut."""
    key = reader_key(root, secret, audience)
    salt, _ = State.load(root / "hearth-state.json").known_audience(audience)
    ring_path = readers.keyring_path(salt)
    ring = (output / ring_path).read_text()
    try:
        audience_key = envelope.decrypt(ring, "/" + ring_path, key, audience)
    except envelope.WrongKey:
        return None
    url = "/" + page.parent.relative_to(output).as_posix() + "/"
    try:
        return json.loads(
            envelope.decrypt(envelope_of(page), url, audience_key, audience)
        )
    except envelope.WrongKey:
        return None


def add(root, name, **kw):
    return secrets.add_reader("friends", name, secrets_file=root / "secrets.toml", **kw)


# --- generated secrets ------------------------------------------------------


def test_a_generated_passphrase_is_six_words_of_the_eff_long_list():
    words = set(readers._eff_long_list())
    assert len(words) == 7776
    assert {"abacus", "zoom"} <= words  # the list's first and last words
    phrases = {readers.generate_passphrase() for _ in range(20)}
    assert len(phrases) == 20
    for phrase in phrases:
        assert len(phrase.split()) == 6
        assert set(phrase.split()) <= words
        assert not readers.strength_problem(phrase)
    with pytest.raises(readers.ReaderError, match="at least 6 words"):
        readers.generate_passphrase(4)


def test_a_draw_that_hearth_would_refuse_is_drawn_again(monkeypatch):
    # The EFF list holds "password", and Hearth refuses any passphrase that
    # contains it: about one draw in 1,300. Such a draw is never handed out
    # (it once made a 30-reader benchmark build stop as "weak").
    assert "password" in readers._eff_long_list()
    draws = iter(["password", *["abacus"] * 5, *["zoom", "heron", "lantern"] * 2])
    monkeypatch.setattr(readers.secrets, "choice", lambda _words: next(draws))
    phrase = readers.generate_passphrase()
    assert phrase == "zoom heron lantern zoom heron lantern"
    assert next(draws, None) is None  # exactly two draws
    assert not readers.weakness(phrase)
    # The draw that was refused is one the build's gate refuses.
    refused = "password abacus abacus abacus abacus abacus"
    assert readers.weakness(refused) == "is one that guessers try first"


def test_a_generated_passphrase_is_drawn_again_when_zxcvbn_rates_it_low(monkeypatch):
    # Six words of the list that zxcvbn would rate low do not exist in
    # practice; the rule is tested with one word repeated, which it does.
    draws = iter([*["abacus"] * 6, *["zoom", "heron", "lantern"] * 2])
    monkeypatch.setattr(readers.secrets, "choice", lambda _words: next(draws))
    assert readers.strength_problem("abacus " * 5 + "abacus")
    assert readers.generate_passphrase() == "zoom heron lantern zoom heron lantern"


def test_add_reader_writes_an_owner_only_file_and_keeps_what_was_there(tmp_path):
    file = tmp_path / "secrets.toml"
    file.write_text('# my notes\n[passphrases]\nfamily = "a b c d e f g"\n')
    file.chmod(0o600)
    sam = add(tmp_path, "sam", link_expires=dt.date(2027, 1, 31))
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    text = file.read_text()
    assert text.startswith("# my notes\n[passphrases]\nfamily =")
    data = tomllib.loads(text)["readers"]["friends"]["sam"]
    assert data["passphrase"] == sam.passphrase
    assert envelope.unb64url(data["link"]) == sam.link
    assert data["link_expires"] == dt.date(2027, 1, 31)
    assert sam.passphrase not in repr(sam)
    # A new file is owner-only from the start.
    add(tmp_path / "new", "jo")
    assert stat.S_IMODE((tmp_path / "new" / "secrets.toml").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "match"),
    [("Sam", "not a valid reader name"), ("", "not a valid"), ("shared", "shared")],
)
def test_add_reader_refuses_a_bad_name(tmp_path, name, match):
    with pytest.raises((readers.ReaderError, secrets.SecretsError), match=match):
        add(tmp_path, name)
    assert not (tmp_path / "secrets.toml").exists()


def test_adding_a_reader_twice_or_removing_a_stranger_says_so(tmp_path):
    sam = add(tmp_path, "sam")
    before = (tmp_path / "secrets.toml").read_text()
    with pytest.raises(secrets.SecretsError, match="already a reader"):
        add(tmp_path, "sam")
    with pytest.raises(secrets.SecretsError, match=r"not a reader.*readers: sam"):
        secrets.remove_reader("friends", "jo", secrets_file=tmp_path / "secrets.toml")
    assert (tmp_path / "secrets.toml").read_text() == before
    assert sam.passphrase in before


def test_listing_readers_never_shows_a_secret(tmp_path):
    sam = add(tmp_path, "sam", link_expires=dt.date(2027, 1, 31))
    jo = add(tmp_path, "jo")
    with environ(HEARTH_PASSPHRASE_FAMILY="alpha bravo charlie delta echo"):
        rows = secrets.list_readers(
            ["friends", "family", "work"], secrets_file=tmp_path / "secrets.toml"
        )
    assert ("friends", "sam", "passphrase and link until 2027-01-31") in rows
    assert ("friends", "jo", "passphrase and link") in rows
    assert ("family", "shared", "shared, from HEARTH_PASSPHRASE_FAMILY") in rows
    assert ("work", "", "no readers yet") in rows
    shown = repr(rows)
    for secret in (sam.passphrase, jo.passphrase, envelope.b64url(sam.link)):
        assert secret not in shown


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ('passphrase = ""', "needs a passphrase"),
        ('passphrase = "a b c d e f"\nlink = "short"', "not a link key"),
        ('passphrase = "a b c d e f"\nlink_expires = 2027-01-01', "beside a link"),
        ('passphrase = "a b c d e f"\nexpires = 2027-01-01', "unknown keys"),
    ],
)
def test_a_hand_edited_reader_that_cannot_work_stops_with_where(tmp_path, entry, match):
    file = tmp_path / "secrets.toml"
    file.write_text(f"[readers.friends.sam]\n{entry}\n")
    file.chmod(0o600)
    with pytest.raises(secrets.SecretsError, match=match) as err:
        secrets.read_readers(file)
    assert "[readers.friends.sam]" in str(err.value)


# --- builds: who opens what -------------------------------------------------


def test_each_reader_opens_with_passphrase_and_link_and_a_stranger_does_not(
    tmp_path,
):
    site(tmp_path)
    sam, jo = add(tmp_path, "sam"), add(tmp_path, "jo")
    output = publish(tmp_path)
    (page,) = post_pages(output)
    for secret in (sam.passphrase, sam.link, jo.passphrase, jo.link):
        assert opens(tmp_path, output, page, secret)["title"] == (
            "A post for the readers"
        )
    assert opens(tmp_path, output, page, "some other six words entirely") is None
    assert opens(tmp_path, output, page, os.urandom(32)) is None
    # Encrypted once per audience key: the post holds one entry, whatever
    # the number of readers; the keyring one per passphrase and link.
    assert len(json.loads(envelope_of(page))["recipients"]) == 1
    salt, _ = State.load(tmp_path / "hearth-state.json").known_audience("friends")
    ring = json.loads((output / readers.keyring_path(salt)).read_text())
    assert len(ring["recipients"]) == 4


def test_removing_a_reader_rotates_the_key_and_the_others_notice_nothing(tmp_path):
    site(tmp_path)
    sam, jo = add(tmp_path, "sam"), add(tmp_path, "jo")
    first = publish(tmp_path, "first")
    # The same readers: the same envelopes (reused), no rotation.
    again = publish(tmp_path, "again")
    (page,) = post_pages(first)
    rel = page.relative_to(first)
    assert envelope_of(again / rel) == envelope_of(page)

    secrets.remove_reader("friends", "sam", secrets_file=tmp_path / "secrets.toml")
    site(tmp_path, {"later.md": LATER})
    after = publish(tmp_path, "after")
    pages = post_pages(after)
    assert len(pages) == 2
    for new_page in pages:
        assert opens(tmp_path, after, new_page, sam.passphrase) is None
        assert opens(tmp_path, after, new_page, sam.link) is None
        assert opens(tmp_path, after, new_page, jo.passphrase) is not None
        assert opens(tmp_path, after, new_page, jo.link) is not None
    # What sam could open before does not open what is built now: the
    # audience key they could have kept is not the new one.
    salt, _ = State.load(tmp_path / "hearth-state.json").known_audience("friends")
    ring_path = readers.keyring_path(salt)
    old_key = envelope.decrypt(
        (first / ring_path).read_text(), "/" + ring_path, sam.link, "friends"
    )
    later = next(p for p in pages if p.parent.name != page.parent.name)
    url = "/" + later.parent.relative_to(after).as_posix() + "/"
    with pytest.raises(envelope.WrongKey):
        envelope.decrypt(envelope_of(later), url, old_key, "friends")


def test_a_link_stops_at_the_first_publish_after_its_expiry(tmp_path):
    site(tmp_path)
    today = dt.date.today()
    gone = add(tmp_path, "gone", link_expires=today - dt.timedelta(days=1))
    lasts = add(tmp_path, "lasts", link_expires=today)
    output = publish(tmp_path)
    (page,) = post_pages(output)
    assert opens(tmp_path, output, page, gone.link) is None
    assert opens(tmp_path, output, page, gone.passphrase) is not None
    assert opens(tmp_path, output, page, lasts.link) is not None


def test_publish_refuses_a_weak_reader_passphrase_naming_reader_and_fix(tmp_path):
    site(tmp_path)
    add(tmp_path, "sam")
    file = tmp_path / "secrets.toml"
    file.write_text(
        file.read_text() + '\n[readers.friends.jo]\npassphrase = "jo2026!!"\n'
    )
    with pytest.raises(Exception, match="reader 'jo' of audience 'friends'") as err:
        publish(tmp_path)
    assert "invoke passphrase" in str(err.value)
    assert "jo2026!!" not in str(err.value)
    assert not (tmp_path / "out" / "p").exists()


def test_a_shared_passphrase_is_one_reader_beside_named_ones(tmp_path):
    site(tmp_path)
    sam = add(tmp_path, "sam")
    shared = "hearth-test-friends-passphrase"
    with environ(HEARTH_PASSPHRASE_FRIENDS=shared):
        output = publish(tmp_path)
    (page,) = post_pages(output)
    assert opens(tmp_path, output, page, shared) is not None
    assert opens(tmp_path, output, page, sam.passphrase) is not None
    # The shared key also opens the post directly, as links and remembered
    # keys from before readers do.
    url = "/" + page.parent.relative_to(output).as_posix() + "/"
    key = reader_key(tmp_path, shared)
    assert envelope.decrypt(envelope_of(page), url, key, "friends")


def test_the_audience_keys_are_owner_only_and_not_in_the_output(tmp_path):
    site(tmp_path)
    sam = add(tmp_path, "sam")
    output = publish(tmp_path)
    store = tmp_path / "cache" / "hearth" / "keys" / "publish.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    key = json.loads(store.read_text())["audiences"]["friends"]["key"]
    for path in output.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key.encode() not in data
            assert sam.passphrase.encode() not in data
            assert envelope.b64url(sam.link).encode() not in data


def test_the_tasks_show_a_new_readers_secrets_once_and_never_again(
    tmp_path, monkeypatch, capsys
):
    from invoke import Context, Exit

    import tasks

    file = tmp_path / "secrets.toml"
    monkeypatch.setenv("HEARTH_SECRETS_FILE", str(file))
    tasks.readers_add(Context(), "friends", "sam", link_expires="2027-01-31")
    added = capsys.readouterr().out
    (sam,) = secrets.read_readers(file)["friends"]
    assert sam.passphrase in added
    assert "#k=" + envelope.b64url(sam.link) in added
    tasks.readers(Context())
    listed = capsys.readouterr().out
    assert "sam" in listed
    assert "until 2027-01-31" in listed
    assert sam.passphrase not in listed
    assert envelope.b64url(sam.link) not in listed
    with pytest.raises(Exit, match="not an audience in HEARTH_AUDIENCES"):
        tasks.readers_add(Context(), "strangers", "jo")
    with pytest.raises(Exit, match="not a day like 2027-01-31"):
        tasks.readers_add(Context(), "friends", "jo", link_expires="31/01/2027")
    tasks.readers_remove(Context(), "friends", "sam")
    assert "what sam already downloaded stays theirs" in capsys.readouterr().out
    assert "friends" not in secrets.read_readers(file)


def test_invoke_passphrase_prints_a_fresh_one(capsys):
    from invoke import Context

    import tasks

    tasks.passphrase(Context())
    first = capsys.readouterr().out.strip()
    tasks.passphrase(Context())
    second = capsys.readouterr().out.strip()
    assert first != second
    assert len(first.split()) == 6
    assert not readers.strength_problem(first)


DEMO = Path(__file__).resolve().parent.parent / "secrets.demo.toml"


def test_the_sample_demo_readers_open_a_preview_and_a_publish_refuses_them(
    tmp_path, monkeypatch
):
    site(tmp_path)
    monkeypatch.setenv("HEARTH_SECRETS_FILE", str(DEMO))
    output = build(
        tmp_path / "preview",
        "pelicanconf.py",
        content=tmp_path / "content",
        CACHE_PATH=str(tmp_path / "cache"),
    )
    (page,) = post_pages(output)
    (sam, *_) = secrets.read_readers(DEMO)["friends"]
    assert sam.passphrase == "hearth-demo-friends-sam"  # as README documents
    assert opens(tmp_path, output, page, sam.passphrase) is not None
    assert opens(tmp_path, output, page, sam.link) is not None
    with pytest.raises(Exception, match=r"\[readers\.friends\.sam\].*public demo"):
        publish(tmp_path)


@pytest.mark.parametrize("weak", ["abc", "friends2026!!", "Summer2026!!"])
def test_lock_refuses_a_weak_site_passphrase_naming_it_and_the_fix(
    tmp_path, monkeypatch, weak
):
    """The strength gate covers the site passphrase too: `invoke lock`
    publishes nothing behind a guessable one."""
    from invoke import Exit, MockContext

    import tasks
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tasks, "LOCK_CACHE", str(tmp_path / "lock-cache"))
    monkeypatch.delenv("HEARTH_TARGET", raising=False)
    monkeypatch.setenv("HEARTH_PASSPHRASE_SITE", weak)
    root = tmp_path / "blog"
    with pytest.raises(Exit) as err:
        tasks.lock(MockContext(), target=[root.as_uri()])
    message = str(err.value)
    assert "audience 'site'" in message and "refuses it" in message
    assert "invoke passphrase" in message
    assert "readers-add" not in message  # the locked site has no readers
    assert weak not in message
    assert not root.exists()
