"""The tracked state file: salts and ids that survive rebuilds."""

import json
import shutil

import pytest

from hearth import envelope
from hearth.state import State, StateError
from tests.conftest import ROOT


def test_an_audience_salt_is_created_once_and_kept_across_saves(tmp_path):
    path = tmp_path / "hearth-state.json"
    state = State.load(path)
    salt, iterations = state.audience("friends", 600_000)
    assert len(salt) == 16 and iterations == 600_000
    state.save()
    again = State.load(path)
    assert again.audience("friends", 600_000) == (salt, 600_000)
    assert again.audience("family", 600_000)[0] != salt


def test_a_new_iteration_count_makes_a_new_salt(tmp_path):
    state = State(tmp_path / "s.json")
    salt, _ = state.audience("friends", 600_000)
    new_salt, iterations = state.audience("friends", 900_000)
    assert iterations == 900_000 and new_salt != salt


def test_post_ids_are_stable_opaque_and_distinct(tmp_path):
    path = tmp_path / "hearth-state.json"
    state = State.load(path)
    first = state.post_id("posts/a-secret-title.md")
    second = state.post_id("posts/another.md")
    assert first != second
    assert len(first) == 16 and int(first, 16) >= 0
    assert "secret" not in first
    state.save()
    assert State.load(path).post_id("posts/a-secret-title.md") == first


def test_save_writes_only_when_something_changed(tmp_path):
    path = tmp_path / "hearth-state.json"
    state = State.load(path)
    state.post_id("posts/a.md")
    assert state.save() is True
    before = path.stat().st_mtime_ns
    again = State.load(path)
    again.post_id("posts/a.md")
    assert again.save() is False
    assert path.stat().st_mtime_ns == before
    assert not list(tmp_path.glob(".hearth-state.json.*"))  # no temporary left


def test_a_missing_state_file_is_empty_and_not_written_until_saved(tmp_path):
    path = tmp_path / "hearth-state.json"
    State.load(path).post_id("posts/a.md")
    assert not path.exists()


def test_malformed_json_names_the_file_and_how_to_restore_it(tmp_path):
    path = tmp_path / "hearth-state.json"
    path.write_text("{not json")
    with pytest.raises(
        StateError, match=r"hearth-state\.json is not valid JSON.*git checkout"
    ):
        State.load(path)


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        (
            {"audiences": {"friends": {"salt": "c2hvcnQ=", "iterations": 600000}}},
            "salt of 5 bytes",
        ),
        ({"audiences": {"friends": {"iterations": 600000}}}, "needs a base64 'salt'"),
        ({"posts": {"posts/a.md": "../../etc"}}, "lower-case ids"),
        ({"format": 99}, "format 99"),
    ],
)
def test_a_state_file_of_the_wrong_shape_is_refused(tmp_path, data, fault):
    path = tmp_path / "hearth-state.json"
    path.write_text(json.dumps(data))
    with pytest.raises(StateError, match=fault):
        State.load(path)


# --- the committed file names no private file (issue 13) ---------------------

PRIVATE_SOURCE = "posts/2026-11-02-the-night-i-called-the-crisis-line.md"
PRIVATE_POST = """Title: The night I called the crisis line
Date: 2026-11-02 23:40
Audience: friends
Listing: locked

What I said to them, and what they said back.
![The kitchen]({static}/images/2026-11-02-kitchen-at-night.png)
"""
NAMES_OF_PRIVATE_FILES = [
    "2026-11-02",
    "crisis",
    "the-night-i-called",
    "kitchen",
    "posts/",
    "images/",
]


def _site(root, name=PRIVATE_SOURCE):
    from tests.test_private import png

    content = root / "content"
    (content / "posts").mkdir(parents=True, exist_ok=True)
    (content / "images").mkdir(parents=True, exist_ok=True)
    (content / name).write_text(PRIVATE_POST)
    (content / "images" / "2026-11-02-kitchen-at-night.png").write_bytes(png("red"))
    return content


def _build(root):
    from tests.test_private import build_site

    return build_site(root)


def _addresses(output):
    return sorted(p.parent.name for p in (output / "p").glob("*/index.html"))


def _attachments(output):
    return sorted(p.name for p in (output / "p" / "f").iterdir())


@pytest.fixture
def no_state_key(monkeypatch):
    """The key comes from the secrets file beside each test's state file."""
    monkeypatch.delenv("HEARTH_STATE_KEY", raising=False)
    monkeypatch.delenv("HEARTH_SECRETS_FILE", raising=False)


def test_the_state_file_names_no_private_file_title_or_date(
    tmp_path, no_state_key, caplog
):
    _site(tmp_path)
    with caplog.at_level("INFO", logger="hearth.state"):
        output = _build(tmp_path)
    assert "made the state key" in caplog.text and "back it up" in caplog.text
    # ...and says where it kept the key (the writer must back up that file).
    assert f"kept it in {tmp_path / 'secrets.toml'}" in caplog.text
    text = (tmp_path / "hearth-state.json").read_text()
    for name in [*NAMES_OF_PRIVATE_FILES, "The night", "23:40"]:
        assert name.lower() not in text.lower(), name
    # ...and yet it holds the post's address and the picture's file name.
    [address] = _addresses(output)
    [picture] = _attachments(output)
    assert f'"{address}"' in text and f'"{picture}"' in text
    # The key that names them went to the untracked secrets file, owner-only.
    secrets_file = tmp_path / "secrets.toml"
    assert "[state]" in secrets_file.read_text()
    assert secrets_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("variable", ["GITHUB_ACTIONS", "CI"])
def test_a_build_on_a_ci_runner_makes_no_state_key_that_would_die_with_it(
    tmp_path, no_state_key, monkeypatch, variable
):
    # A key made on a runner is gone after the run: the state file it pushed
    # would name posts with a key no later build has.
    monkeypatch.setenv(variable, "true")
    _site(tmp_path)
    with pytest.raises(Exception, match="HEARTH_STATE_KEY"):
        _build(tmp_path)
    assert not (tmp_path / "secrets.toml").exists()
    assert not (tmp_path / "hearth-state.json").exists() or (
        "posts" not in (tmp_path / "hearth-state.json").read_text()
    )
    # With the key in the environment, as the forge's secrets give it, it builds.
    monkeypatch.setenv("HEARTH_STATE_KEY", envelope.b64url(bytes(range(32))))
    [_address] = _addresses(_build(tmp_path))


def test_a_fresh_clone_with_the_same_secrets_gets_the_same_addresses(
    tmp_path, no_state_key
):
    first = tmp_path / "first"
    _site(first)
    built = _build(first)
    clone = tmp_path / "clone"
    shutil.copytree(first / "content", clone / "content")
    shutil.copy(first / "hearth-state.json", clone / "hearth-state.json")
    shutil.copy(first / "secrets.toml", clone / "secrets.toml")
    before = (clone / "hearth-state.json").read_text()
    again = _build(clone)
    assert _addresses(again) == _addresses(built)
    assert _attachments(again) == _attachments(built)
    assert (clone / "hearth-state.json").read_text() == before


def test_the_state_key_may_come_from_the_environment(tmp_path, monkeypatch):

    monkeypatch.delenv("HEARTH_SECRETS_FILE", raising=False)
    monkeypatch.setenv("HEARTH_STATE_KEY", envelope.b64url(bytes(range(32))))
    _site(tmp_path)
    built = _build(tmp_path)
    assert not (tmp_path / "secrets.toml").exists()  # nothing to store
    state = State.load(tmp_path / "hearth-state.json")
    assert state.post_ids([PRIVATE_SOURCE]) == {PRIVATE_SOURCE: _addresses(built)[0]}


def test_a_lost_state_key_stops_the_build_with_the_fix_and_changes_nothing(
    tmp_path, no_state_key
):
    _site(tmp_path)
    _build(tmp_path)
    before = (tmp_path / "hearth-state.json").read_text()
    (tmp_path / "secrets.toml").unlink()  # a clone without the secrets file
    shutil.rmtree(tmp_path / "out")
    with pytest.raises(
        Exception,
        match=r"names its private posts with state key [0-9a-f]{8}.*no state key"
        r".*Restore the secrets file from your backup.*delete the entries",
    ):
        _build(tmp_path)
    assert (tmp_path / "hearth-state.json").read_text() == before
    assert not (tmp_path / "secrets.toml").exists()  # no new key made either
    assert not (tmp_path / "out").exists() or not list(
        (tmp_path / "out").rglob("*.html")
    )


def test_another_state_key_is_refused_too(tmp_path, monkeypatch, no_state_key):

    _site(tmp_path)
    _build(tmp_path)
    monkeypatch.setenv("HEARTH_STATE_KEY", envelope.b64url(b"\1" * 32))
    with pytest.raises(StateError, match="this build has a different state key"):
        State.load(tmp_path / "hearth-state.json")


def test_a_malformed_state_key_is_refused_with_the_fix(tmp_path, no_state_key):
    (tmp_path / "secrets.toml").write_text('[state]\nkey = "short"\n')
    (tmp_path / "secrets.toml").chmod(0o600)
    with pytest.raises(StateError, match=r"not a state key.*Restore it from"):
        State.load(tmp_path / "hearth-state.json")


def test_an_old_state_file_is_migrated_without_changing_any_address(
    tmp_path, no_state_key
):
    _site(tmp_path)
    (tmp_path / "hearth-state.json").write_text(
        json.dumps(
            {
                "format": 1,
                "posts": {PRIVATE_SOURCE: "00aa11bb22cc33dd"},
                "attachments": {
                    "images/2026-11-02-kitchen-at-night.png": "44ee55ff66aa77bb"
                },
                "indexes": {"friends": "8899aabbccddeeff"},
            }
        )
    )
    output = _build(tmp_path)
    assert _addresses(output) == ["00aa11bb22cc33dd"]
    assert _attachments(output) == ["44ee55ff66aa77bb"]
    text = (tmp_path / "hearth-state.json").read_text()
    assert json.loads(text)["format"] == 2
    for name in NAMES_OF_PRIVATE_FILES:
        assert name not in text, name
    # A second build keeps them, from the keyed file.
    shutil.rmtree(output)
    assert _addresses(_build(tmp_path)) == ["00aa11bb22cc33dd"]


def test_renaming_a_private_posts_file_gives_it_a_new_address(tmp_path, no_state_key):
    """README: the address follows the file name (as before the names were
    keyed); the old address is not reused for the renamed file."""
    content = _site(tmp_path)
    [old] = _addresses(_build(tmp_path))
    (content / PRIVATE_SOURCE).rename(content / "posts" / "2026-11-02-renamed.md")
    shutil.rmtree(tmp_path / "out")
    [new] = _addresses(_build(tmp_path))
    assert new != old


def test_the_sample_sites_entries_use_the_public_demo_key_and_move_to_a_real_one(
    tmp_path, no_state_key
):
    """The committed sample state is keyed with the demo key, so a build
    without secrets finds it; a writer with a key of their own gets the same
    ids under that key, and new entries are never made with the demo key."""
    from hearth import state as hearth_state

    sample = json.loads((ROOT / "hearth-state.json").read_text())
    assert sample["format"] == 2
    assert {name.split(".")[0] for name in sample["posts"]} == {
        hearth_state.key_id(hearth_state.DEMO_KEY)
    }
    for word in ("2026-", "letter", "phone", "posts/", "images/"):
        assert word not in json.dumps(sample["posts"] | sample["attachments"])
    path = tmp_path / "hearth-state.json"
    shutil.copy(ROOT / "hearth-state.json", path)
    letter = "posts/2026-10-18-letter-home.md"
    demo_id = State.load(path).post_ids([letter])[letter]
    state = State.load(path)
    new = state.post_id("posts/a-new-one.md")
    assert state.post_id(letter) == demo_id
    state.save()
    data = json.loads(path.read_text())
    own = {name.split(".")[0] for name in data["posts"]}
    assert hearth_state.key_id(hearth_state.DEMO_KEY) in own  # the phone call
    assert len(own) == 2
    moved = State.load(path)
    assert moved.post_ids([letter, "posts/a-new-one.md"]) == {
        letter: demo_id,
        "posts/a-new-one.md": new,
    }
    # The letter now sits under the writer's key only, the new post never
    # under the demo key.
    assert hearth_state.tag(hearth_state.DEMO_KEY, "posts", letter) not in data["posts"]
    demo_tag = hearth_state.tag(hearth_state.DEMO_KEY, "posts", "posts/a-new-one.md")
    assert demo_tag not in data["posts"]


def test_a_state_file_kept_elsewhere_keeps_its_key_with_the_passphrases(
    tmp_path, no_state_key
):
    """HEARTH_STATE_FILE may name another folder (maybe a tracked one): the
    key still goes to the repository root's untracked secrets.toml."""
    from tests.test_private import build_site

    _site(tmp_path)
    elsewhere = tmp_path / "state" / "hearth-state.json"
    elsewhere.parent.mkdir()
    build_site(tmp_path, HEARTH_STATE_FILE=str(elsewhere))
    assert "[state]" in (tmp_path / "secrets.toml").read_text()
    assert not (elsewhere.parent / "secrets.toml").exists()
    state = State.load(elsewhere, secrets_file=tmp_path / "secrets.toml")
    assert state.post_ids([PRIVATE_SOURCE])


def test_without_the_key_salts_still_read_but_no_post_gets_a_new_id(
    tmp_path, no_state_key
):
    """What needs only salts (invoke lock, links) still works without the
    key; making an id for a post it cannot find is refused, never guessed."""
    path = tmp_path / "hearth-state.json"
    state = State.load(path)
    state.audience("site", 600_000)
    old = state.post_id(PRIVATE_SOURCE)
    state.save()
    (tmp_path / "secrets.toml").unlink()
    with pytest.raises(StateError, match="no state key"):
        State.load(path)
    salts_only = State.load(path, check_key=False)
    assert salts_only.known_audience("site")[1] == 600_000
    assert salts_only.post_ids([PRIVATE_SOURCE]) == {}
    with pytest.raises(StateError, match="Restore the secrets file"):
        salts_only.post_id(PRIVATE_SOURCE)
    assert old  # it had an id, which only the lost key can find
