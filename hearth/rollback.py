"""`invoke rollback`: the previous release back, on the targets that keep one.

A file target keeps the release it served before the last publish (one,
beside the live one); rollback publishes that folder again through the usual
path (a lease, one atomic switch, a fresh marker), so a second rollback goes
forward again. Targets that keep no release say so and are left as they are:

- ssh: not yet (this version does not switch a server back to an older
  release folder; it says so);
- git: every publish is one commit with no parent (withdrawn pages must not
  stay in the branch's history), so there is no previous commit to go to;
- S3 keeps no releases; a versioned bucket keeps old object versions, which
  the provider's console can restore.

For those, the way back is publishing the previous version of the sources:
`git stash` (or `git checkout HEAD~1 -- content`), then `invoke publish`.
"""

from dataclasses import dataclass
from pathlib import Path

from hearth.deploy import read_marker
from hearth.targets import ops
from hearth.targets.base import MARKER

SOURCES_BACK = (
    "go back in your sources instead (`git checkout HEAD~1 -- content`, or undo "
    "the edit) and run `invoke publish`"
)


@dataclass
class Result:
    target: str
    done: bool
    message: str


def cannot(target):
    """Why a target keeps no release to go back to (None if it keeps one)."""
    from hearth.targets.file import FileTarget

    if isinstance(target, FileTarget):
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
    if kind == "SshTarget":
        return (
            f"{target.display}: cannot roll back yet: this version of Hearth "
            f"does not switch an ssh target back to an older release; "
            f"{SOURCES_BACK}."
        )
    return f"{target.display}: cannot roll back ({kind}); {SOURCES_BACK}."


def rollback(targets, *, dry_run=False, reporter=None):
    """Publish each file target's previous release again; say why for others."""
    from hearth.targets.file import previous_release

    results = []
    for target in targets:
        reason = cannot(target)
        if reason:
            results.append(Result(target.display, False, reason))
            target.close()
            continue
        previous = previous_release(target)
        marker = None
        if previous is not None:
            path = Path(previous) / MARKER
            marker = read_marker(path.read_bytes() if path.is_file() else None)
        if previous is None or not marker or marker.get("state") != "published":
            results.append(Result(target.display, False, (
                f"{target.display}: no previous published release to go back to "
                "(it keeps one after a publish over a published site; a withdraw "
                f"or a lock keeps none): {SOURCES_BACK}."
            )))  # fmt: skip
            target.close()
            continue
        ops.publish(previous, [target], dry_run=dry_run, reporter=reporter)
        results.append(Result(target.display, True, (
            f"{target.display}: the release of {marker.get('deployed')} is live "
            "again" + (" (dry run: nothing changed)" if dry_run else "") + "."
        )))  # fmt: skip
    return results
