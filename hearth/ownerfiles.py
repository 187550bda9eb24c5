"""Whole-or-nothing writes: the build's owner-only caches of keys and images,
the small tracked files beside the site (the rules, the schedule), and the
output images the build cleans in place."""

import os
import tempfile
from pathlib import Path


def owner_only_folder(path: str | os.PathLike[str]) -> None:
    """Make the folder `path` (and its parents) if needed; mode 0700 either way."""
    Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def replace_owner_only(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all, readable by its owner only.

    The bytes go to a temporary file beside it (mkstemp makes it mode 0600),
    which then replaces `path` in one rename: a reader never sees half a file,
    and a stopped write leaves no temporary behind.
    """
    _replace(Path(path), data, None)


def replace_readable(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all, mode 0644: a file the writer
    commits (nothing secret), read by git, CI and every command."""
    _replace(Path(path), data, 0o644)


def replace_in_place(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` over an existing file whole or not at all, keeping its mode.

    The new file is renamed over the old entry, so a hard link or symlink
    there (Pelican's STATIC_CREATE_LINKS, to the writer's original) is
    replaced, never written through.
    """
    _replace(Path(path), data, os.stat(path).st_mode & 0o777)


def _replace(path: Path, data: bytes, mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
