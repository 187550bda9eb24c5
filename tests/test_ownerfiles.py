"""Whole-or-nothing writes: the file is the old one or the new one, never half,
with the mode its kind needs, and a failed write leaves no temporary behind."""

import os
import stat

import pytest

from hearth.ownerfiles import replace_in_place, replace_owner_only, replace_readable


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_cache_is_the_owners_alone_and_a_tracked_file_is_readable(tmp_path):
    replace_owner_only(tmp_path / "cache", b"key")
    replace_readable(tmp_path / "hearth-rules.json", b"{}\n")
    assert (mode(tmp_path / "cache"), mode(tmp_path / "hearth-rules.json")) == (
        0o600,
        0o644,
    )
    assert (tmp_path / "cache").read_bytes() == b"key"


@pytest.mark.parametrize("write", [replace_owner_only, replace_readable])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path, monkeypatch, write
):
    path = tmp_path / "hearth-schedule.json"
    path.write_bytes(b"old")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        write(path, b"new")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hearth-schedule.json"]


def test_a_file_replaced_in_place_keeps_its_mode_and_leaves_a_link_target_alone(
    tmp_path,
):
    original = tmp_path / "content-photo.jpg"
    original.write_bytes(b"with metadata")
    output = tmp_path / "output-photo.jpg"
    os.link(original, output)  # as Pelican's STATIC_CREATE_LINKS makes it
    os.chmod(output, 0o640)
    replace_in_place(output, b"clean")
    assert output.read_bytes() == b"clean"
    assert original.read_bytes() == b"with metadata"
    assert mode(output) == 0o640
