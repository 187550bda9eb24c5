"""`invoke rollback`: the previous release back, on the targets that keep one.

A file target keeps the release it served before the last publish (one,
beside the live one), and so does an ssh target on its host (rollback copies
it back with rsync first). Rollback publishes that release again through the
usual path (a lease, one atomic switch, a fresh marker), so a second
rollback goes forward again. Targets that keep no release say so and are
left as they are:

- git: every publish is one commit with no parent (withdrawn pages must not
  stay in the branch's history), so there is no previous commit to go to;
- S3 keeps no releases; a versioned bucket keeps old object versions, which
  the provider's console can restore.

For those, the way back is publishing the previous version of the sources:
`git stash` (or `git checkout HEAD~1 -- content`), then `invoke publish`.
"""

import posixpath
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hearth import localtime
from hearth.release import MARKER, read_record
from hearth.secrets import without_secrets
from hearth.targets import ops
from hearth.targets.base import Target, TargetError
from hearth.targets.file import FileTarget, previous_release
from hearth.targets.ops import Reporter
from hearth.targets.ssh import SshTarget

SOURCES_BACK = (
    "go back in your sources instead (`git checkout HEAD~1 -- content`, or undo "
    "the edit) and run `invoke publish`"
)


@dataclass
class Result:
    target: str
    done: bool
    message: str


def cannot(target: Target) -> str | None:
    """Why a target keeps no release to go back to (None if it keeps one)."""
    if isinstance(target, FileTarget | SshTarget):
        return None
    kind = type(target).__name__
    if kind == "GitTarget":
        return (
            f"{target.display}: cannot roll back: each publish is one commit with "
            "no parent, so that withdrawn pages are not in the branch's history; "
            f"there is no previous release. {SOURCES_BACK.capitalize()}."
        )
    if kind == "S3Target":
        return (
            f"{target.display}: cannot roll back: a bucket keeps no releases. If "
            "versioning is on, old object versions can be restored in the "
            f"provider's console; else {SOURCES_BACK}."
        )
    return f"{target.display}: cannot roll back ({kind}); {SOURCES_BACK}."


def _ssh_previous(target: SshTarget, dest: Path) -> Path | None:
    """Copy the ssh host's previous release (not the live one) into dest."""
    q = shlex.quote
    _, out = target._remote(
        f"live=$(readlink -f {q(target.root)} 2>/dev/null); "
        f"cd {q(target.releases)} 2>/dev/null || exit 0; "
        "for d in $(ls -1r | grep '^[0-9]'); do "
        '[ -d "$d" ] || continue; '
        '[ "$(readlink -f "$d")" = "$live" ] && continue; '
        'echo "$d"; break; done'
    )
    name = out.decode(errors="replace").strip()
    if not name:
        return None
    source = f"{target.login}:{posixpath.join(target.releases, name)}/"
    done = subprocess.run(
        ["rsync", "--recursive", "--links", "--times", "--secluded-args",
         "-e", shlex.join(target._connection()), source, f"{dest}/"],
        capture_output=True, check=False, timeout=max(300, 12 * target.timeout),
        env=without_secrets(),
    )  # fmt: skip
    if done.returncode != 0:
        raise TargetError(
            f"{target.display}: could not copy the previous release back "
            f"(rsync exit {done.returncode}: "
            f"{done.stderr.decode(errors='replace').strip()[:200]})."
        )
    return Path(dest)


def _previous(target: Target, workdir: str) -> Path | None:
    if isinstance(target, FileTarget):
        return previous_release(target)
    if not isinstance(target, SshTarget):
        return None  # cannot() said why
    return _ssh_previous(target, Path(workdir) / "previous")


def rollback(
    targets: Sequence[Target],
    *,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> list[Result]:
    """Publish each target's previous release again; say why others cannot."""
    results: list[Result] = []
    for target in targets:
        reason = cannot(target)
        if reason:
            results.append(Result(target.display, False, reason))
            target.close()
            continue
        with tempfile.TemporaryDirectory(prefix="hearth-rollback-") as workdir:
            results.append(_rollback_one(target, workdir, dry_run, reporter))
    return results


def _rollback_one(
    target: Target, workdir: str, dry_run: bool, reporter: Reporter | None
) -> Result:
    previous = _previous(target, workdir)
    marker = None
    if previous is not None:
        path = Path(previous) / MARKER
        marker = read_record(path.read_bytes() if path.is_file() else None)
    if previous is None or not marker or marker.get("state") != "published":
        target.close()
        return Result(target.display, False, (
            f"{target.display}: no previous published release to go back to "
            "(it keeps one after a publish over a published site; a withdraw "
            f"or a lock keeps none): {SOURCES_BACK}."
        ))  # fmt: skip
    ops.publish(previous, [target], dry_run=dry_run, reporter=reporter)
    return Result(target.display, True, (
        f"{target.display}: the release of {localtime.shown(marker.get('deployed'))} "
        "is live "
        "again" + (" (dry run: nothing changed)" if dry_run else "") + "."
    ))  # fmt: skip
