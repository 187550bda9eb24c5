"""Publish targets: where the site is served from, written as URLs.

    file:///srv/blog                         a local folder (the default)
    ssh://user@host[:port]/srv/blog          rsync over SSH
    s3://bucket/prefix?endpoint=...          S3-compatible storage (+ CDN)
    git+<remote>#<branch>                    a GitHub Pages style branch

open_target() turns a URL into a Target; hearth.targets.ops publishes,
withdraws, locks and checks a list of them.
"""

import os
import shlex
from collections.abc import Iterable, Mapping, Sequence

from hearth.release import MARKER, content_type
from hearth.targets.base import (
    Interrupted,
    Plan,
    Target,
    TargetError,
    cache_control,
)

SCHEMES = "file:///path, ssh://user@host/path, s3://bucket/prefix, git+<remote>#branch"
TARGET_VARIABLE = "HEARTH_TARGET"
SSH_OPTIONS_VARIABLE = "HEARTH_SSH_OPTIONS"


def configured_targets(
    flag: Iterable[str] | None = (),
    setting: Iterable[str] | None = (),
    environ: Mapping[str, str] | None = None,
) -> list[Target]:
    """The targets to act on: --target, else $HEARTH_TARGET, else HEARTH_TARGETS.

    $HEARTH_TARGET holds one URL or several separated by spaces;
    $HEARTH_SSH_OPTIONS extra options for ssh (e.g. "-o Port=2222").
    """
    environ = os.environ if environ is None else environ
    urls = list(flag or ()) or environ.get(TARGET_VARIABLE, "").split()
    urls = urls or list(setting or ())
    if not urls:
        raise TargetError(
            "No publish target: set HEARTH_TARGETS in publishconf.py, or "
            f"{TARGET_VARIABLE}, or pass --target (e.g. file:///srv/blog)."
        )
    ssh_options = shlex.split(environ.get(SSH_OPTIONS_VARIABLE, ""))
    return [open_target(url, ssh_options=ssh_options) for url in urls]


def open_target(url: object, *, ssh_options: Sequence[str] = ()) -> Target:
    """The Target a URL names; TargetError with the valid spellings otherwise."""
    url = str(url).strip()
    if url.startswith("file:"):
        from hearth.targets.file import FileTarget

        return FileTarget(url)
    if url.startswith("ssh://"):
        from hearth.targets.ssh import SshTarget

        return SshTarget(url, ssh_options)
    if url.startswith("s3://"):
        from hearth.targets.s3 import S3Target

        return S3Target(url)
    if url.startswith("git+"):
        from hearth.targets.git import GitTarget

        return GitTarget(url)
    raise TargetError(f"Unknown target {url!r}: valid targets look like {SCHEMES}.")


__all__ = [
    "MARKER",
    "SCHEMES",
    "Interrupted",
    "Plan",
    "Target",
    "TargetError",
    "cache_control",
    "configured_targets",
    "content_type",
    "open_target",
]
