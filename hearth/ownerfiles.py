"""Files only the writer's account may read: the build's caches of keys and images."""

import os
import tempfile
from pathlib import Path


def replace_owner_only(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` whole or not at all, readable by its owner only.

    The bytes go to a temporary file beside it (mkstemp makes it mode 0600),
    which then replaces `path` in one rename: a reader never sees half a file,
    and a stopped write leaves no temporary behind.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
