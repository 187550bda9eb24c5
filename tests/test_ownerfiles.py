"""Whole-or-nothing writes: the file is the old one or the new one, never half,
with the mode its kind needs, and a failed write leaves no temporary behind."""

import os
import stat

import pytest

from hearth.ownerfiles import replace_owner_only, replace_readable


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
