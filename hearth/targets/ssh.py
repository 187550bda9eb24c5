"""ssh://user@host[:port]/path: rsync over SSH into release folders, one switch.

The remote path is the document root; as with file://, it becomes a symlink to
a release folder beside it (`.<name>.releases/<id>`). rsync fills a staging
folder there (--checksum, --link-dest to the live release, so only changed
files travel), then one remote `mv -T` of a temporary symlink switches the
site. rsync's temporary files of an interrupted transfer stay in the staging
folder, which no web server serves, and the next run carries on from them.

The remote host needs a POSIX shell, GNU coreutils (`mv -T`, `readlink -f`,
`md5sum`) and rsync: any Debian or Ubuntu host has them.
"""

import logging
import posixpath
import shlex
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hearth.targets.base import Target, TargetError, query_options
from hearth.targets.file import STAGING, new_release_id

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10


class SshTarget(Target):
    scheme = "ssh"

    def __init__(self, url, ssh_options=()):
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
        self.ssh = [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={CONNECT_TIMEOUT}",
        ]
        if self.port:
            self.ssh += ["-p", str(self.port)]
        if options.get("identity"):
            self.ssh += ["-i", options["identity"], "-o", "IdentitiesOnly=yes"]
        self.ssh += list(ssh_options)
        self._control = None

    def _connection(self):
        """ssh options sharing one connection for this operation's commands."""
        if self._control is None:
            # One SSH connection per operation instead of one per command;
            # close() ends it (and ControlPersist does if we are killed).
            self._control = tempfile.mkdtemp(prefix="hearth-ssh-")
            weakref.finalize(self, shutil.rmtree, self._control, True)
        return [
            *self.ssh,
            "-o", "ControlMaster=auto",
            "-o", f"ControlPath={self._control}/c",
            "-o", "ControlPersist=30",
        ]  # fmt: skip

    def close(self):
        if self._control:
            subprocess.run(
                [*self._connection(), "-O", "exit", self.login],
                capture_output=True, check=False,
            )  # fmt: skip
            shutil.rmtree(self._control, ignore_errors=True)
            self._control = None

    @property
    def login(self):
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def display(self):
        port = f":{self.port}" if self.port else ""
        return f"ssh://{self.login}{port}/{self.root.lstrip('/')}"

    def _remote(self, script, *, ok=(0,)):
        """Run a shell script on the host; return (exit code, stdout bytes)."""
        cmd = [*self._connection(), self.login, "--", "sh -c " + shlex.quote(script)]
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
        except subprocess.TimeoutExpired as e:
            raise TargetError(f"{self.display}: the host stopped answering.") from e
        if result.returncode not in ok:
            raise self._error(result.returncode, result.stderr)
        return result.returncode, result.stdout

    def _error(self, code, stderr):
        detail = stderr.decode(errors="replace").strip().splitlines()
        detail = detail[-1] if detail else f"exit {code}"
        if code == 255:
            return TargetError(
                f"Cannot reach {self.display} over SSH ({detail}). Check the host, "
                "port and key (?identity=/path/to/key or HEARTH_SSH_OPTIONS); "
                "the live site was not changed."
            )
        return TargetError(f"{self.display}: the remote command failed ({detail}).")

    def manifest(self):
        root = shlex.quote(self.root)
        _, out = self._remote(
            f"if [ -d {root} ]; then cd {root} && "
            "find . -type f -exec md5sum {} +; fi"
        )
        manifest = {}
        for line in out.decode(errors="surrogateescape").splitlines():
            digest, _, path = line.partition("  ")
            if digest and path.startswith("./"):
                manifest[path[2:]] = digest.lstrip("\\")
        return manifest

    def read_file(self, path):
        full = shlex.quote(posixpath.join(self.root, path))
        code, out = self._remote(
            f"if [ -f {full} ]; then cat {full}; else exit 3; fi", ok=(0, 3)
        )
        return out if code == 0 else None

    def deploy(self, tree, plan, *, state, progress):
        q = shlex.quote
        root, releases = q(self.root), q(self.releases)
        _, out = self._remote(
            f"[ -d {q(self.parent)} ] || {{ echo 'folder {self.parent} does not "
            f"exist' >&2; exit 4; }}; mkdir -p {releases}; "
            f"if [ -L {root} ]; then readlink -f {root}; "
            f"elif [ -d {root} ]; then cd {root} && pwd; fi"
        )
        live = out.decode().strip()
        staging = posixpath.join(self.releases, STAGING)
        if live and not plan.changed:
            # Already live; only finish what an interrupted run may have left.
            keep = [posixpath.basename(live)] if state != "published" else None
            self._remote(f"rm -rf {q(staging)}; " + self._prune_script(keep))
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
        self._remote(
            "set -e; "
            f"if [ -d {q(staging)} ]; then mv {q(staging)} {new}; fi; "
            f"if [ -d {root} ] && [ ! -L {root} ]; then "
            f"mv {root} {q(posixpath.join(self.releases, 'original-' + release))}; fi; "
            f"ln -sfn {q(self.release_link + '/' + release)} {q(self.switch)}; "
            f"mv -Tf {q(self.switch)} {root}; " + self._prune_script(keep)
        )
        for rel in plan.delete:
            progress(rel)

    def _prune_script(self, keep):
        """Shell that removes every release but `keep` (nothing when None)."""
        if keep is None:
            return "true"
        releases = shlex.quote(self.releases)
        return (
            f"for d in {releases}/* {releases}/.[!.]*; do "
            '[ -e "$d" ] || continue; '
            f'case "${{d##*/}}" in {"|".join(keep)}) ;; *) rm -rf "$d";; esac; done'
        )

    def _rsync(self, tree, staging, live, changed, progress):
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
            "-e",
            shlex.join(self._connection()),
        ]
        if live:
            cmd.append(f"--link-dest={live}")
        cmd += [f"{tree}/", f"{self.login}:{staging}/"]
        logger.debug("rsync to %s", self.display)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
            raise self._error(code, stderr)
