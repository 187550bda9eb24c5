"""Publish, withdraw, lock and check a list of targets: the writer's four verbs.

Each operation computes, for every target, the tree that must be live, a
plan (what to upload, what to delete) from what the target serves now, and
hands both to the target. Nothing here asks a question; a target that fails
does not stop the others, and the failures are raised together at the end.
Re-running any operation converges: the plan is always computed afresh from
the target itself.
"""

import contextlib
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hearth import envelope
from hearth.deploy import (
    LOCKED_DIR,
    NOTICE_CSS,
    link_tree,
    lock_tree,
    marked_manifest,
    notice_tree,
    now,
    page_url,
)
from hearth.envelope import Recipient
from hearth.notice import Notice
from hearth.release import (
    MARKER,
    is_feed,
    is_page,
    manifest_digest,
    read_record,
)
from hearth.secrets import without_secrets
from hearth.targets.base import (
    Plan,
    Target,
    TargetError,
    make_plan,
    net_timeout,
    os_fault,
    scratch_dir,
    sweep_scratch,
)
from hearth.targets.lease import Lease, lease_status

logger = logging.getLogger(__name__)

PUBLIC_FORGES = (
    "github.com",
    "gitlab.com",
    "codeberg.org",
    "bitbucket.org",
    "git.sr.ht",
    "sr.ht",
    "gitea.com",
    "framagit.org",
    "notabug.org",
    "salsa.debian.org",
)
# How many pages `status` fetches over HTTP at most (all of them after a
# withdraw or a lock, up to this; a sample of a published site).
HTTP_CHECK_LIMIT = 500
HTTP_SAMPLE = 10
_STATE_META = re.compile(rb'<meta name="hearth-state" content="(\w+)">')


# A published, withdrawn or locked tree to deploy: (manifest of the target, the
# `since` of its marker, where to make it) -> the tree's folder.
MakeTree = Callable[[dict[str, str], str, Path], Path]
# (status code, body) of an HTTP GET; 0 when nothing answers.
Fetch = Callable[[str], tuple[int, bytes]]


class Reporter:
    """What the operations tell the writer. This one says nothing (tests)."""

    def plan(self, target: Target, plan: Plan, dry_run: bool) -> None:
        """The plan for one target, before anything moves."""

    def progress(
        self, target: Target, total: int
    ) -> AbstractContextManager[Callable[[str], object]]:
        """A context giving the callable a deploy calls per changed path."""
        return contextlib.nullcontext(lambda path: None)

    def done(self, target: Target, state: str, plan: Plan) -> None:
        """One target now serves the new tree."""

    def warn(self, message: str) -> None:
        """A problem the writer must read (a failed target, a host's warning)."""
        logger.warning("%s", message)

    def note(self, message: str) -> None:
        """Something the writer should know now (e.g. waiting for a lock)."""
        logger.info("%s", message)


@dataclass
class Outcome:
    """What one deploy did: the target, its plan, the marker it wrote."""

    target: str
    plan: Plan
    marker: dict[str, Any]


def since_for(state: str, previous: Mapping[str, Any] | None, when: str) -> str:
    """When the target entered `state`: kept from the last marker if unchanged."""
    if previous and previous.get("state") == state and previous.get("since"):
        return str(previous["since"])
    return when


@contextlib.contextmanager
def _scratch(kind: str) -> Iterator[str]:
    """A temporary folder removed on every exit (Ctrl-C too); a kill leaves it
    to the next run's sweep_scratch."""
    folder = scratch_dir(kind)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_all(
    targets: Sequence[Target], one: Callable[[Target], Outcome], reporter: Reporter
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    errors: list[TargetError] = []
    for target in targets:
        try:
            outcomes.append(one(target))
        except TargetError as e:
            errors.append(e)
            reporter.warn(str(e))
        finally:
            target.close()
    if len(errors) == 1:
        raise errors[0]  # its own kind (e.g. Preempted) and message
    if errors:
        raise TargetError("\n".join(map(str, errors)))
    return outcomes


def _deploy_one(
    target: Target,
    make_tree: MakeTree,
    state: str,
    workdir: str,
    *,
    dry_run: bool,
    reporter: Reporter,
) -> Outcome:
    if dry_run:  # reads only: no lock, nothing written
        return _plan_and_deploy(target, make_tree, state, workdir, None,
                                dry_run=True, reporter=reporter)  # fmt: skip
    try:
        with Lease(target, _verb(state), say=reporter.note) as lease:
            return _plan_and_deploy(target, make_tree, state, workdir, lease,
                                    dry_run=False, reporter=reporter)  # fmt: skip
    except TargetError as e:
        if e.checked:
            raise
        # Failed before its deploy began: it sent nothing to the site.
        raise _checked(
            f"{e} This {_verb(state)} stopped before sending anything: the live "
            "site was not changed by it.",
            type(e),
        ) from e


def _checked(message: str, kind: type[TargetError] = TargetError) -> TargetError:
    error = kind(message)
    error.checked = True
    return error


def _plan_and_deploy(
    target: Target,
    make_tree: MakeTree,
    state: str,
    workdir: str,
    lease: Lease | None,
    *,
    dry_run: bool,
    reporter: Reporter,
) -> Outcome:
    # Read the target only once it is ours: a withdraw that waited for a
    # publish covers the pages that publish added.
    remote = target.manifest()
    previous = read_record(target.read_file(MARKER)) if remote else None
    when = now()
    since = since_for(state, previous, when)
    try:
        dest = Path(tempfile.mkdtemp(dir=workdir)) / "tree"
        tree = make_tree(remote, since, dest)
        for rel, data in target.extra_files().items():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            # The tree's files may be hard links (to the build, or to one
            # notice): replace, never write through one.
            (tree / rel).unlink(missing_ok=True)
            (tree / rel).write_bytes(data)
        marker, local = marked_manifest(tree, state, previous, when=when)
    except OSError as e:
        raise TargetError(os_fault(e, "the temporary folder")) from e
    plan = make_plan(local, remote)
    reporter.plan(target, plan, dry_run)
    if dry_run or lease is None:
        return Outcome(target.display, plan, marker)
    lease.check(force=True)
    try:
        with reporter.progress(target, len(plan.upload) + len(plan.delete)) as advance:

            def step(path: str) -> None:
                lease.check()
                advance(path)

            target.deploy(
                tree, plan, state=state, progress=step,
                check=lambda: lease.check(force=True),  # at the switch: always
            )  # fmt: skip
    except (TargetError, OSError) as e:
        message = str(e) if isinstance(e, TargetError) else os_fault(e, target.display)
        after = _after_fault(target, remote, local, state)
        if not target.atomic and "unchanged" not in after:
            lease.abandon()  # `status` reports the command as half done
        kind = type(e) if isinstance(e, TargetError) else TargetError
        raise _checked(f"{message} {after}", kind) from e
    except BaseException:
        # Ctrl-C (or a test's Interrupted) part-way: on a target without an
        # atomic switch, leave the lock for `status` to report as half done.
        if not target.atomic:
            lease.abandon()
        raise
    reporter.done(target, state, plan)
    for message in target.warnings(state):
        reporter.warn(message)
    return Outcome(target.display, plan, marker)


def _after_fault(
    target: Target, before: Mapping[str, str], intended: Mapping[str, str], state: str
) -> str:
    """What the live site is after a failed deploy: read back, never assumed."""
    try:
        target.forget()
        after = target.manifest()
    except (TargetError, OSError):
        return (
            f"Could not check what {target.display} serves now: run `invoke status` "
            f"once it answers, and re-run `invoke {_verb(state)}`."
        )
    if after == before:
        return "The live site is unchanged (checked after the failure)."
    if after == intended:
        return f"The live site is the new {state} site (checked after the failure)."
    changed = sum(1 for p in set(after) | set(before) if after.get(p) != before.get(p))
    return (
        f"THE LIVE SITE IS PART-WAY: {changed} of its files changed and the rest "
        f"did not (checked after the failure). Re-run `invoke {_verb(state)}` to "
        "finish."
    )


def _each(
    targets: Sequence[Target],
    make_tree: MakeTree,
    state: str,
    workdir: str,
    *,
    dry_run: bool,
    reporter: Reporter,
) -> list[Outcome]:
    """Deploy the tree of `state` to every target (the others go on past a failure)."""
    return _run_all(
        targets,
        lambda t: _deploy_one(
            t, make_tree, state, workdir, dry_run=dry_run, reporter=reporter
        ),
        reporter,
    )


def publish(
    build: str | os.PathLike[str],
    targets: Sequence[Target],
    *,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> list[Outcome]:
    """Make every target serve the built site `build` exactly."""
    told = reporter or Reporter()
    sweep_scratch()
    with _scratch("publish") as workdir:

        def make_tree(remote: dict[str, str], since: str, dest: Path) -> Path:
            return Path(link_tree(build, dest))

        return _each(
            targets, make_tree, "published", workdir, dry_run=dry_run, reporter=told
        )


def withdraw(
    targets: Sequence[Target],
    *,
    sitename: str,
    site_url: str,
    message: str | Notice | None = None,
    lang: str = "en",
    feeds: Collection[str] = (),
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> list[Outcome]:
    """Replace every target's site by the notice, at every page it served."""
    told = reporter or Reporter()
    sweep_scratch()
    with _scratch("withdraw") as workdir:

        def make_tree(remote: dict[str, str], since: str, dest: Path) -> Path:
            return Path(notice_tree(
                dest, remote, sitename=sitename, site_url=site_url, since=since,
                message=message, lang=lang, feeds=feeds,
            ))  # fmt: skip

        return _each(
            targets, make_tree, "withdrawn", workdir, dry_run=dry_run, reporter=told
        )


def lock(
    build: str | os.PathLike[str],
    targets: Sequence[Target],
    *,
    recipients: Sequence[Recipient],
    sitename: str,
    site_url: str,
    lang: str = "en",
    static_dir: str = "theme",
    previous_tree: str | os.PathLike[str] | None = None,
    keep_tree: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    notice: str | Notice | None = None,
) -> list[Outcome]:
    """Put every target's site behind the site passphrase (the `site` audience).

    `previous_tree` is the last locked tree, so unchanged pages keep their
    bytes; after a deploy the new locked tree is copied to `keep_tree`.
    """
    told = reporter or Reporter()
    sweep_scratch()
    with _scratch("lock") as workdir:
        locked = lock_tree(
            build, Path(workdir) / "locked", recipients=recipients,
            sitename=sitename, site_url=site_url, lang=lang,
            static_dir=static_dir, previous_tree=previous_tree, notice=notice,
        )  # fmt: skip

        def make_tree(remote: dict[str, str], since: str, dest: Path) -> Path:
            return Path(link_tree(locked, dest))

        try:
            return _each(
                targets, make_tree, "locked", workdir, dry_run=dry_run, reporter=told
            )
        finally:
            if keep_tree and not dry_run:
                shutil.rmtree(keep_tree, ignore_errors=True)
                shutil.copytree(locked, keep_tree)


def leak_audit(
    settings: Mapping[str, Any],
    tree: str | os.PathLike[str],
    root: str | os.PathLike[str],
) -> list[str]:
    """Run the leak audit (hearth.audit) over a tree about to go out.

    Returns one line per finding ([] when clean). An audit that cannot run
    is a finding too: nothing goes out unaudited.
    """
    try:
        from hearth import audit
    except ImportError as e:
        return [f"The leak audit could not run: hearth.audit cannot be imported ({e})."]
    try:
        findings = audit.audit_site(settings, tree, root=root)
    except audit.AuditError as e:
        # Cannot audit: fail closed, as a finding would.
        return [f"The leak audit could not run: {e}"]
    return [str(finding) for finding in findings]


# --- status -----------------------------------------------------------------


@dataclass
class Status:
    """What one target serves, as read from the target itself."""

    target: str
    state: str  # published, withdrawn, locked, empty or unknown
    since: str | None = None
    deployed: str | None = None
    files: int = 0
    checked_urls: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def http_get(url: str, timeout: float | None = None) -> tuple[int, bytes]:
    """(status code, body) of a GET; (0, b"") when nothing answers."""
    request = urllib.request.Request(url, headers={"User-Agent": "hearth-status"})
    timeout = net_timeout() if timeout is None else timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def _served_state(body: bytes | None) -> str:
    match = _STATE_META.search(body or b"")
    return match.group(1).decode() if match else "published"


def status(targets: Sequence[Target], *, fetch: Fetch = http_get) -> list[Status]:
    """Check each target: its marker, its files, and over HTTP what readers get."""
    results: list[Status] = []
    for target in targets:
        try:
            results.append(_status_one(target, fetch))
        except TargetError as e:
            results.append(Status(target.display, "unknown", problems=[str(e)]))
        finally:
            target.close()
    return results


def _status_one(target: Target, fetch: Fetch) -> Status:
    running = lease_status(target)
    remote = target.manifest()
    marker = read_record(target.read_file(MARKER)) if remote else None
    if not remote:
        return Status(
            target.display, "empty", problems=[*running, target.empty_problem()]
        )
    if marker is None:
        return Status(
            target.display, "unknown", files=len(remote),
            problems=[*running, (
                f"{target.display} serves {len(remote)} files but no Hearth marker "
                f"({MARKER}): run `invoke publish`, `withdraw` or `lock` once."
            )],
        )  # fmt: skip
    state = marker.get("state", "unknown")
    result = Status(
        target.display, state, marker.get("since"), marker.get("deployed"),
        files=len(remote),
    )  # fmt: skip
    if manifest_digest(remote) != marker.get("digest"):
        result.problems.append(
            f"{target.display}: the files served ({len(remote)}) are not the ones the "
            f"last deploy wrote ({marker.get('files')}, {state}): a deploy was "
            f"interrupted or the files were changed. Re-run `invoke "
            f"{_verb(state)}`."
        )
    result.problems[:0] = running
    _check_files(target, remote, state, result)
    result.problems.extend(target.leftovers(state))
    if target.site_url:
        _check_http(target, remote, marker, state, result, fetch=fetch)
    return result


def _verb(state: str) -> str:
    return {"published": "publish", "withdrawn": "withdraw", "locked": "lock"}.get(
        state, "publish"
    )


def _check_files(
    target: Target, remote: Mapping[str, str], state: str, result: Status
) -> None:
    """After a withdraw or a lock, nothing of the old site may sit on the target."""
    if state == "published":
        return
    home = target.read_file("index.html") or b""
    if _served_state(home) != state:
        result.problems.append(
            f"{target.display}: the home page is not the {state} page. Re-run "
            f"`invoke {_verb(state)}`."
        )
    allowed_extra = {MARKER, "robots.txt", ".nojekyll"}
    if state == "withdrawn":
        notice = remote.get("index.html")
        for path, digest in sorted(remote.items()):
            if is_page(path) and digest != notice:
                result.problems.append(
                    f"OLD PAGE STILL ON THE TARGET: {target.display} /{path} is not "
                    "the notice. Re-run `invoke withdraw`."
                )
            elif not (is_page(path) or is_feed(path) or path in allowed_extra
                      or path == NOTICE_CSS):  # fmt: skip
                result.problems.append(
                    f"OLD FILE STILL ON THE TARGET: {target.display} /{path}. Re-run "
                    "`invoke withdraw`."
                )
    else:
        for path in sorted(remote):
            if (is_page(path) or is_feed(path) or path in allowed_extra
                    or path.startswith((LOCKED_DIR + "/", "theme/"))):  # fmt: skip
                continue
            # A private post's file (a Hearth attachment) and an audience's
            # list or keyring (an envelope) are ciphertext already.
            data = target.read_file(path) or b""
            if not envelope.is_ciphertext(data):
                result.problems.append(
                    f"UNLOCKED FILE ON THE TARGET: {target.display} /{path}. Re-run "
                    "`invoke lock`."
                )


def _check_http(
    target: Target,
    remote: Mapping[str, str],
    marker: Mapping[str, Any],
    state: str,
    result: Status,
    *,
    fetch: Fetch,
) -> None:
    base = target.site_url or ""
    code, body = fetch(base + "/" + MARKER)
    result.checked_urls += 1
    if code == 0:
        result.problems.append(
            f"{base} does not answer: the site is not reachable over HTTP."
        )
        return
    if code == 200:
        if read_record(body) != marker:
            result.problems.append(
                f"{base} serves an older release marker than {target.display} holds: "
                "a cache (CDN, proxy or nginx open_file_cache) is serving old files. "
                "Invalidate or reload it (docs/hosting.md)."
            )
    else:
        result.warnings.append(
            f"{base}/{MARKER} answers {code}: cannot compare what is served with the "
            "target (a server rule hiding dot-folders?)."
        )
    pages = sorted(p for p in remote if is_page(p))
    if state == "published":
        pages = ["index.html", *[p for p in pages if p != "index.html"][:HTTP_SAMPLE]]
    for path in pages[:HTTP_CHECK_LIMIT]:
        url = base + page_url(path)
        code, body = fetch(url)
        result.checked_urls += 1
        if code == 0:
            result.problems.append(
                f"{url} does not answer (or stalled): the site is not reachable "
                "over HTTP; the other pages were not checked."
            )
            return
        served = _served_state(body)
        if state in ("withdrawn", "locked") and (code != 200 or served != state):
            result.problems.append(
                f"OLD PAGE STILL REACHABLE: {url} answers {code} without the "
                f"{state} page. Check caches (docs/hosting.md) and re-run "
                f"`invoke {_verb(state)}`."
            )
        elif state == "published" and (code != 200 or served != "published"):
            result.problems.append(
                f"{url} answers {code} with the {served} page, not the published site."
            )
    if state in ("withdrawn", "locked"):
        url = f"{base}/hearth-status-{secrets.token_hex(4)}/"
        code, body = fetch(url)
        result.checked_urls += 1
        if _served_state(body) != state:
            result.warnings.append(
                f"An unknown URL ({url}) answers {code} without the {state} page: "
                "make the server use /404.html for missing pages (docs/hosting.md)."
            )


# --- the source repository -------------------------------------------------


def public_forge_remotes(repo: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """The git remotes of `repo` that point at a public forge: [(name, url)]."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "remote", "-v"],
            capture_output=True, text=True, check=False, env=without_secrets(),
        ).stdout  # fmt: skip
    except OSError:
        return []
    found: list[tuple[str, str]] = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2 or (parts[0], parts[1]) in found:
            continue
        if _forge_host(parts[1]) is not None:
            found.append((parts[0], parts[1]))
    return found


def _forge_host(url: str) -> str | None:
    host = urlsplit(url).hostname
    if host is None and "@" in url and ":" in url:  # scp-like git@host:path
        host = url.split("@", 1)[1].split(":", 1)[0]
    host = (host or "").lower()
    for forge in PUBLIC_FORGES:
        if host == forge or host.endswith("." + forge):
            return forge
    return None
