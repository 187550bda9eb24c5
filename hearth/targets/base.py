"""What every publish target shares: manifests, plans, headers, errors."""

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from hearth import pids
from hearth.release import MARKER, is_page

# Fingerprinted static assets (name.0123abcd.css) never change under their
# name, so they alone may be cached for long; everything else must revalidate,
# or a browser or CDN could keep serving a withdrawn page.
_FINGERPRINT = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
CACHE_NO_CACHE = "no-cache"
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"


class TargetError(Exception):
    """A target cannot be used: the message says what, where and how to fix it."""

    # Set by hearth.targets.ops once the message says what the live site is.
    checked = False


_OS_FAULTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "an input/output error (a failing disk?)",
}
_OS_FIXES = {
    errno.ENOSPC: "free some space there",
    errno.EDQUOT: "free some space there",
    errno.EACCES: "give your user access to it (to read and to write)",
    errno.EPERM: "give your user access to it (to read and to write)",
    errno.EROFS: "mount it writable or choose another target",
}


_TELLING = re.compile(
    r"fatal|error|denied|no space|read-only|refused|timed? ?out|could not|cannot|"
    r"not found|does not exist|no such|rejected|unreachable|broken pipe|reset",
    re.IGNORECASE,
)
# In order: git's ref status ("! [remote rejected] ..."), ssh's own line,
# a tool's fatal/error line, then any line naming a fault.
_FIRST = (
    re.compile(r"^!\s*\["),
    re.compile(r"^ssh: "),
    re.compile(
        r"timed out|connection refused|could not resolve|no route to host|"
        r"permission denied \(|host key verification",
        re.IGNORECASE,
    ),
    re.compile(r"^(fatal|error|rsync error|rsync): ", re.IGNORECASE),
    _TELLING,
)
NET_TIMEOUT_VARIABLE = "HEARTH_NET_TIMEOUT"
NET_TIMEOUT = 10  # seconds to connect; a transfer idle 6 times this long stops


# What a deploy calls per change (the path), and right before its switch.
Progress = Callable[[str], object]
Check = Callable[[], object]
# A folder: the built tree a deploy sends.
Tree = str | os.PathLike[str]


def net_timeout(environ: Mapping[str, str] | None = None) -> int:
    """Seconds a network step may wait to connect ($HEARTH_NET_TIMEOUT, 10)."""
    environ = os.environ if environ is None else environ
    try:
        value = float(environ.get(NET_TIMEOUT_VARIABLE, NET_TIMEOUT))
    except ValueError:
        value = NET_TIMEOUT
    return max(1, int(value))


def telling_line(text: str | None, fallback: str) -> str:
    """The line of a tool's error output that says what went wrong.

    Tools print hints and context around their error ("Please make sure you
    have the correct access rights\nand the repository exists."); the first
    line naming a fault is the one to quote, not the last line.
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for pattern in _FIRST:
        for line in lines:
            if pattern.search(line):
                return line
    return lines[-1] if lines else fallback


def os_fault(error: OSError, where: str) -> str:
    """One sentence for an OSError while writing `where`: what and what to do."""
    code = error.errno or 0
    what = _OS_FAULTS.get(code, error.strerror or str(error))
    fix = _OS_FIXES.get(code, "fix that and re-run")
    name = getattr(error, "filename", None) or where
    return f"{where}: {what} ({name}). {fix[0].upper()}{fix[1:]}."


SCRATCH_PREFIX = "hearth-"


def scratch_dir(kind: str) -> str:
    """A new folder in the system temp folder, named for this process.

    The name carries the pid, so a later run can tell the folder of a
    process that was killed (sweep_scratch) from one still in use.
    """
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{kind}-{os.getpid()}-")


def sweep_scratch(tmp: str | os.PathLike[str] | None = None) -> int:
    """Remove what killed Hearth processes left in the temp folder; return count."""
    folder = Path(tmp or tempfile.gettempdir())
    pattern = re.compile(rf"^{SCRATCH_PREFIX}[a-z]+-(\d+)-")
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        if pids.alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


class Interrupted(Exception):
    """Raised by a progress callback to stop a deploy part-way (tests use it)."""


def cache_control(path: str) -> str:
    """Long-lived caching only for fingerprinted assets; everything else no-cache."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith((".html", ".htm", ".xml", ".json", ".txt")):
        return CACHE_NO_CACHE
    if _FINGERPRINT.search(name):
        return CACHE_IMMUTABLE
    return CACHE_NO_CACHE


def upload_order(paths: Iterable[str]) -> list[str]:
    """Assets before the pages that use them, the home page last, the marker after.

    Object storage cannot switch a whole tree at once; this order keeps every
    page that is already new pointing at assets that are already there.
    """

    def rank(path: str) -> tuple[int, str]:
        if path == MARKER:
            return (3, path)
        if path in ("index.html", "404.html"):
            return (2, path)
        return (1 if is_page(path) else 0, path)

    return sorted(paths, key=rank)


@dataclass
class Plan:
    """What a deploy changes on one target."""

    upload: list[str] = field(default_factory=list)  # new or changed paths
    delete: list[str] = field(default_factory=list)  # on the target, not in the tree
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.upload or self.delete)

    def summary(self) -> str:
        return (
            f"{len(self.upload)} to upload, {len(self.delete)} to delete, "
            f"{self.unchanged} unchanged"
        )


def make_plan(local: Mapping[str, str], remote: Mapping[str, str]) -> Plan:
    """Compare two manifests ({path: md5}) and say what must move."""
    upload = [p for p in local if remote.get(p) != local[p]]
    delete = sorted(p for p in remote if p not in local)
    return Plan(upload_order(upload), delete, len(local) - len(upload))


def query_options(query: str, allowed: Iterable[str], where: str) -> dict[str, str]:
    """Parse a target URL's ?a=b&c=d, refusing options we do not know."""
    options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TargetError(
            f"Unknown option {unknown[0]!r} in target {where}: "
            f"valid options are {', '.join(sorted(allowed)) or 'none'}."
        )
    return options


class Target:
    """A place the site is served from. Subclasses implement the five methods."""

    scheme = ""
    # Whether deploy() switches the whole site at once (False: object storage).
    atomic = True

    def __init__(self, url: str, site_url: str | None = None) -> None:
        self.url = url
        # Where readers reach this target over HTTP, for `status` (optional).
        self.site_url = site_url.rstrip("/") if site_url else None

    @property
    def display(self) -> str:
        """The target as shown to the writer (no credentials in it)."""
        return self.url

    def manifest(self) -> dict[str, str]:
        """{path: md5} of what the target serves now ({} when it is empty)."""
        raise NotImplementedError

    def read_file(self, path: str) -> bytes | None:
        """The bytes of one served file, or None when it is not there."""
        raise NotImplementedError

    def deploy(self, tree: Tree, plan: Plan, *, state: str, progress: Progress,
               check: Check = lambda: None) -> None:  # fmt: skip
        """Make the target serve exactly `tree`; call progress(path) per change.

        check() is called right before the switch (and between steps where
        there is none); it raises to stop the deploy with nothing switched.
        """
        raise NotImplementedError

    # Lease records (hearth.targets.lease): "lock" and "preempt", kept
    # beside the site, never served as part of it.

    def lease_read(self, kind: str) -> bytes | None:
        """The bytes of a lease record, or None."""
        raise NotImplementedError

    def lease_create(self, kind: str, data: bytes) -> bool:
        """Write a lease record only if none exists; True if written."""
        raise NotImplementedError

    def lease_write(self, kind: str, data: bytes) -> None:
        """Write (replace) a lease record."""
        raise NotImplementedError

    def lease_remove(self, kind: str, data: bytes, token: str) -> None:
        """Remove a lease record if it still holds `token`."""
        raise NotImplementedError

    def empty_problem(self) -> str:
        """What to tell the writer when the target serves nothing."""
        return (
            f"{self.display} serves nothing: nothing was published there, or the "
            "target is mistyped (HEARTH_TARGETS, HEARTH_TARGET or --target)."
        )

    def forget(self) -> None:
        """Drop what was cached about the target, to read it afresh."""

    def leftovers(self, state: str) -> list[str]:
        """Problems: what of an older site the target keeps beside the live one."""
        return []

    def close(self) -> None:
        """Release what the target holds open (a connection); it may be reused."""

    def extra_files(self) -> dict[str, bytes]:
        """Files this kind of host needs in every tree ({path: bytes})."""
        return {}

    def warnings(self, state: str) -> list[str]:
        """Things the writer must know after a deploy in this state."""
        return []
