"""ssh://user@host[:port]/path: rsync over SSH into release folders, one switch.

The remote path is the document root; as with file://, it becomes a symlink to
a release folder beside it (`.<name>.releases/<id>`). rsync fills a staging
folder of this run's own there (--checksum, --link-dest to the live release,
so only changed files travel), then one remote `mv -T` of a temporary symlink
switches the site. An interrupted transfer's files stay in its staging
folder, which no web server serves; the next run removes it (a stopped
rsync's remote half may write on for a moment, never into another run's).

The remote host needs a POSIX shell, GNU coreutils (`mv -T`, `readlink -f`,
`md5sum`) and rsync: any Debian or Ubuntu host has them.
"""

import logging
import posixpath
import shlex
import shutil
import subprocess
import weakref
from collections.abc import Container, Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hearth.secrets import without_secrets
from hearth.targets import base
from hearth.targets.base import (
    Target,
    TargetError,
    net_timeout,
    query_options,
    scratch_dir,
    telling_line,
)
from hearth.targets.file import STAGING, new_release_id

logger = logging.getLogger(__name__)

# rsync's exit codes that mean the connection, not the files, failed.
RSYNC_NETWORK = {
    10: "a socket error",
    12: "the connection broke mid-transfer",
    30: "the transfer stalled (timeout)",
    35: "the transfer stalled",
}


class SshTarget(Target):
    scheme = "ssh"

    def __init__(self, url: str, ssh_options: Sequence[str] = ()) -> None:
        parts = urlsplit(url)
        options = query_options(parts.query, {"identity", "url"}, url)
        super().__init__(url, options.get("url"))
        if not parts.hostname or not parts.path or parts.path == "/":
            raise TargetError(
                f"Target {url!r} names no host or folder: write it as "
                "ssh://user@host[:port]/path/to/folder."
            )
        self.host = parts.hostname
        self.user = unquote(parts.username) if parts.username else None
        self.port = parts.port
        path = unquote(parts.path)
        # ssh://host/~/blog is a folder in the login's home directory.
        self.root = path[3:] if path.startswith("/~/") else path.rstrip("/")
        parent, name = posixpath.split(self.root)
        self.parent = parent or "."
        self.releases = posixpath.join(self.parent, f".{name}.releases")
        self.release_link = f".{name}.releases"
        self.switch = posixpath.join(self.parent, f".{name}.hearth-switch")
        # Never ask a question: no password prompt, no host key question
        # beyond what the writer's ssh config or HEARTH_SSH_OPTIONS answer.
        # A stalled network cannot hang a command: a connect timeout, and
        # keep-alives that end a connection silent for 3 x timeout.
        self.timeout = net_timeout()
        self.ssh = [
            "ssh",
            "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={self.timeout}",
            "-o", f"ServerAliveInterval={self.timeout}",
            "-o", "ServerAliveCountMax=3",
        ]  # fmt: skip
        if self.port:
            self.ssh += ["-p", str(self.port)]
        if options.get("identity"):
            self.ssh += ["-i", options["identity"], "-o", "IdentitiesOnly=yes"]
        self.ssh += list(ssh_options)
        self._control: str | None = None

    def _connection(self) -> list[str]:
        """ssh options sharing one connection for this operation's commands."""
        if self._control is None:
            # One SSH connection per operation instead of one per command;
            # close() ends it (and ControlPersist does if we are killed).
            self._control = scratch_dir("ssh")
            weakref.finalize(self, shutil.rmtree, self._control, True)
        return [
            *self.ssh,
            "-o", "ControlMaster=auto",
            "-o", f"ControlPath={self._control}/c",
            "-o", "ControlPersist=30",
        ]  # fmt: skip

    def close(self) -> None:
        if self._control:
            subprocess.run(
                [*self._connection(), "-O", "exit", self.login],
                capture_output=True, check=False, env=without_secrets(),
            )  # fmt: skip
            shutil.rmtree(self._control, ignore_errors=True)
            self._control = None

    @property
    def login(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def display(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"ssh://{self.login}{port}/{self.root.lstrip('/')}"

    def _remote(self, script: str, *, ok: Container[int] = (0,)) -> tuple[int, bytes]:
        """Run a shell script on the host; return (exit code, stdout bytes)."""
        cmd = [*self._connection(), self.login, "--", "sh -c " + shlex.quote(script)]
        try:
            result = subprocess.run(
                cmd, capture_output=True, timeout=max(300, 12 * self.timeout),
                check=False, env=without_secrets(),
            )  # fmt: skip
        except subprocess.TimeoutExpired as e:
            raise TargetError(
                f"{self.display}: the host stopped answering (no reply in "
                f"{max(300, 12 * self.timeout)} s). Check the host and your "
                "connection, then re-run."
            ) from e
        if result.returncode not in ok:
            raise self._error(result.returncode, result.stderr)
        return result.returncode, result.stdout

    def _error(self, code: int, stderr: bytes, rsync: bool = False) -> TargetError:
        detail = telling_line(stderr.decode(errors="replace"), f"exit {code}")
        low = detail.lower()
        if code == 255 or (rsync and "connection" in low and "closed" in low):
            return TargetError(
                f"Cannot reach {self.display} over SSH ({detail}). Check the host, "
                "port and key (?identity=/path/to/key or HEARTH_SSH_OPTIONS)."
            )
        if "no space left" in low or "quota" in low:
            return TargetError(
                f"{self.display}: the host's disk is full ({detail}). Free some "
                "space there and re-run."
            )
        if "read-only file system" in low:
            return TargetError(
                f"{self.display}: the host's folder is read-only ({detail}). Make "
                "it writable or choose another target."
            )
        if "permission denied" in low:
            return TargetError(
                f"{self.display}: permission denied on the host ({detail}). Give "
                f"{self.login} write access to {self.parent}."
            )
        if rsync and code in RSYNC_NETWORK:
            return TargetError(
                f"{self.display}: {RSYNC_NETWORK[code]} ({detail}). Check the host "
                "and your connection, then re-run."
            )
        return TargetError(f"{self.display}: the remote command failed ({detail}).")

    def manifest(self) -> dict[str, str]:
        root = shlex.quote(self.root)
        _, out = self._remote(
            f"if [ -d {root} ]; then cd {root} && "
            "find . -type f -exec md5sum {} +; fi"
        )
        manifest: dict[str, str] = {}
        for line in out.decode(errors="surrogateescape").splitlines():
            digest, _, path = line.partition("  ")
            if digest and path.startswith("./"):
                manifest[path[2:]] = digest.lstrip("\\")
        return manifest

    def read_file(self, path: str) -> bytes | None:
        full = shlex.quote(posixpath.join(self.root, path))
        code, out = self._remote(
            f"if [ -f {full} ]; then cat {full}; else exit 3; fi", ok=(0, 3)
        )
        return out if code == 0 else None

    # --- lease records: files beside the document root, never served

    def _lease_path(self, kind: str) -> str:
        name = posixpath.basename(self.root)
        return posixpath.join(self.parent, f".{name}.hearth-{kind}.json")

    def lease_read(self, kind: str) -> bytes | None:
        path = shlex.quote(self._lease_path(kind))
        code, out = self._remote(
            f"if [ -f {path} ]; then cat {path}; else exit 3; fi", ok=(0, 3)
        )
        return out if code == 0 else None

    def _lease_script(self, kind: str, data: bytes, final: str) -> str:
        q = shlex.quote
        path = self._lease_path(kind)
        tmp = f"{path}.$$.tmp"
        return (
            f"[ -d {q(self.parent)} ] || {{ echo 'folder {self.parent} does not "
            f"exist' >&2; exit 4; }}; printf '%s' {q(data.decode())} > {q(tmp)} "
            f"|| exit 5; {final.format(tmp=q(tmp), path=q(path))}"
        )

    def lease_create(self, kind: str, data: bytes) -> bool:
        # ln fails when the record exists: an atomic create-if-absent.
        code, _ = self._remote(
            self._lease_script(
                kind, data,
                "if ln {tmp} {path} 2>/dev/null; then rm -f {tmp}; "
                "else rm -f {tmp}; exit 3; fi",
            ),
            ok=(0, 3),
        )  # fmt: skip
        return code == 0

    def lease_write(self, kind: str, data: bytes) -> None:
        self._remote(self._lease_script(kind, data, "mv -f {tmp} {path}"))

    def lease_remove(self, kind: str, data: bytes, token: str) -> None:
        path = shlex.quote(self._lease_path(kind))
        self._remote(
            f"if [ -f {path} ] && grep -q {shlex.quote(token)} {path}; then "
            f"rm -f {path}; fi"
        )

    def empty_problem(self) -> str:
        q = shlex.quote
        root = q(self.root)
        _, out = self._remote(
            f"if [ -L {root} ]; then echo dangling; readlink {root}; "
            f"elif [ -e {root} ]; then echo there; "
            f"elif [ -d {q(self.parent)} ]; then echo missing; else echo noparent; fi"
        )
        what, _, link = out.decode(errors="replace").partition("\n")
        if what == "dangling":
            return (
                f"THE SITE IS DOWN: {self.display} is a link to {link.strip()}, "
                "which does not exist, so readers get an error. Re-run `invoke "
                "publish` (or `withdraw`, `lock`)."
            )
        if what in ("missing", "noparent"):
            return (
                f"Nothing at {self.display} on the host: nothing was published "
                "there, or the target path is mistyped (HEARTH_TARGETS, "
                "HEARTH_TARGET or --target)."
            )
        return super().empty_problem()

    def leftovers(self, state: str) -> list[str]:
        if state == "published":
            return []
        q = shlex.quote
        _, out = self._remote(
            f"live=$(readlink -f {q(self.root)} 2>/dev/null); "
            f"for d in {q(self.releases)}/* {q(self.releases)}/.[!.]*; do "
            '[ -e "$d" ] || continue; [ "$(readlink -f "$d")" = "$live" ] || '
            'echo "${d##*/}"; done'
        )
        others = out.decode(errors="replace").split()
        if not others:
            return []
        return [
            (
                f"OLD RELEASES STILL ON THE HOST: {len(others)} folder(s) of an older "
                f"site in {self.releases} ({', '.join(others[:3])}). They are not "
                "served, but anyone with access to the host can read them: re-run "
                f"`invoke {'withdraw' if state == 'withdrawn' else 'lock'}`, or delete "
                "them."
            )
        ]

    def deploy(self, tree: base.Tree, plan: base.Plan, *, state: str,
               progress: base.Progress,
               check: base.Check = lambda: None) -> None:  # fmt: skip
        q = shlex.quote
        root, releases = q(self.root), q(self.releases)
        _, out = self._remote(
            f"[ -d {q(self.parent)} ] || {{ echo 'folder {self.parent} does not "
            f"exist' >&2; exit 4; }}; mkdir -p {releases}; "
            + self._prune_script([], releases=False)
            + f"; if [ -L {root} ]; then readlink -f {root}; "
            f"elif [ -d {root} ]; then cd {root} && pwd; fi"
        )
        live = out.decode().strip()
        # A staging folder of this run's own: the remote half of an rsync
        # that was stopped (a pre-empted publish, a killed command) may
        # write on for a moment, and must not write into ours.
        staging = posixpath.join(self.releases, f"{STAGING}-{new_release_id()}")
        if live and not plan.changed:
            # Already live; only finish what an interrupted run may have left.
            keep = [posixpath.basename(live)] if state != "published" else []
            self._remote(self._prune_script(keep, releases=state != "published"))
            return
        self._rsync(Path(tree), staging, live, set(plan.upload), progress)
        release = new_release_id()
        keep = [release]
        if (
            state == "published"
            and live
            and posixpath.dirname(live).endswith("/" + self.release_link)
        ):
            keep.append(posixpath.basename(live))  # one previous, for rollback
        new = q(posixpath.join(self.releases, release))
        check()
        # One remote script; every step in it is one rename, and readers see
        # the old release until the last `mv -T` replaces the symlink.
        self._remote(
            "set -e; "
            f"mv {q(staging)} {new}; "
            f"if [ -d {root} ] && [ ! -L {root} ]; then "
            f"mv {root} {q(posixpath.join(self.releases, 'original-' + release))}; fi; "
            f"ln -sfn {q(self.release_link + '/' + release)} {q(self.switch)}; "
            f"mv -Tf {q(self.switch)} {root}; " + self._prune_script(keep)
        )
        for rel in plan.delete:
            progress(rel)

    def _prune_script(self, keep: Iterable[str], releases: bool = True) -> str:
        """Shell that removes staging folders left by stopped runs (if it can:
        a dying rsync may still write there) and, with `releases`, every
        release but `keep`, failing if one cannot be removed."""
        folder = shlex.quote(self.releases)
        old = 'rm -rf "$d"' if releases else ":"
        kept = "|".join(keep) or "''"
        return (
            f"for d in {folder}/* {folder}/.[!.]*; do "
            '[ -e "$d" ] || continue; '
            f'case "${{d##*/}}" in {kept}) ;; '
            f'{STAGING}-*) rm -rf "$d" 2>/dev/null || true;; '
            f"*) {old};; esac; done"
        )

    def _rsync(
        self,
        tree: Path,
        staging: str,
        live: str,
        changed: Container[str],
        progress: base.Progress,
    ) -> None:
        cmd = [
            "rsync",
            "--recursive",
            "--links",
            "--times",
            "--checksum",
            "--delete",
            "--chmod=D755,F644",
            "--secluded-args",
            "--out-format=%n",
            f"--timeout={6 * self.timeout}",
            "-e",
            shlex.join(self._connection()),
        ]
        if live:
            cmd.append(f"--link-dest={live}")
        cmd += [f"{tree}/", f"{self.login}:{staging}/"]
        logger.debug("rsync to %s", self.display)
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=without_secrets()
        )
        assert proc.stdout is not None and proc.stderr is not None  # PIPE: both open
        try:
            for line in proc.stdout:
                rel = line.decode(errors="replace").rstrip("\n")
                if rel in changed:
                    progress(rel)
            stderr = proc.stderr.read()
            code = proc.wait()
        finally:
            if proc.poll() is None:  # stopped part-way: leave no rsync behind
                proc.kill()
                proc.wait()
        if code != 0:
            raise self._error(code, stderr, rsync=True)
