"""The tracked state file: salts and ids that survive rebuilds."""

import json

import pytest

from hearth.state import State, StateError


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
