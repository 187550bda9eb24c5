"""git+<remote>#<branch>: a GitHub Pages style branch, one orphan commit, forced.

    git+git@github.com:robin/robin.github.io.git#gh-pages
    git+/srv/git/site.git#main?url=https://robin.example.org

Each deploy makes one commit with no parent in a throw-away repository
(plain git plumbing: add, write-tree, commit-tree) and force-pushes it, so the
branch never carries the history of what was withdrawn. The writer's own
repository is not touched: no local gh-pages branch keeps old trees, and
ghp-import's --no-history pitfall (it keeps history when a local branch of
that name exists but its remote branch is unknown locally) cannot arise.
"""

import hashlib
import logging
import os
import shutil
import subprocess
import weakref
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

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

logger = logging.getLogger(__name__)

LIVE = "refs/hearth/live"
LEASE_REF = "refs/hearth/{kind}"  # on the remote: hearth.targets.lease records
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# A neutral identity: the writer's name and email never enter a public branch.
IDENTITY = {
    "GIT_AUTHOR_NAME": "Hearth",
    "GIT_AUTHOR_EMAIL": "hearth@localhost",
    "GIT_COMMITTER_NAME": "Hearth",
    "GIT_COMMITTER_EMAIL": "hearth@localhost",
}
MESSAGES = {
    "published": "Hearth: site published",
    "withdrawn": "Hearth: site withdrawn",
    "locked": "Hearth: site locked",
}


class GitTarget(Target):
    scheme = "git"

    def __init__(self, url: str) -> None:
        rest = url[len("git+") :]
        remote, _, fragment = rest.partition("#")
        branch, _, query = fragment.partition("?")
        options = query_options(query, {"url"}, url)
        super().__init__(url, options.get("url"))
        if not remote:
            raise TargetError(
                f"Target {url!r} names no repository: write it as "
                "git+<remote>#<branch>, e.g. git+git@github.com:you/site.git#gh-pages."
            )
        self.remote = remote
        self.branch = branch or "gh-pages"
        self._repo: Path | None = None
        # The commit id of the branch on the remote once fetched ("": none).
        self._live: str | None = None
        self._md5_cache: dict[str, str] | None = None  # blob id -> MD5

    @property
    def display(self) -> str:
        parts = urlsplit(self.remote)
        remote = self.remote
        if parts.password:  # never show a token written into an https URL
            remote = remote.replace(parts.password, "***")
        return f"git+{remote}#{self.branch}"

    def _environment(self, env: Mapping[str, str] | None) -> dict[str, str]:
        timeout = net_timeout()
        # A stalled network cannot hang a command: ssh's connect timeout and
        # keep-alives (the writer's own GIT_SSH_COMMAND options come first,
        # and ssh keeps the first value of each), and for https a minimum
        # speed git must see at least every 6 x timeout seconds.
        ssh = os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        ssh += (
            f" -o ConnectTimeout={timeout} -o ServerAliveInterval={timeout}"
            " -o ServerAliveCountMax=3"
        )
        return {
            # Not the writer's passphrases: a hook or credential helper the
            # remote runs sees this environment.
            **without_secrets(),
            # Never ask a question: no username/password prompt, no ssh prompt.
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_SSH_COMMAND": ssh,
            "GIT_HTTP_LOW_SPEED_LIMIT": "1",
            "GIT_HTTP_LOW_SPEED_TIME": str(6 * timeout),
            **(env or {}),
        }

    def _git(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        check: bool = True,
    ) -> bytes:
        cmd = ["git", "--git-dir", str(self.repo), *args]
        limit = max(300, 12 * net_timeout())
        try:
            result = subprocess.run(
                cmd, capture_output=True, env=self._environment(env), input=input,
                check=False, timeout=limit,
            )  # fmt: skip
        except subprocess.TimeoutExpired as e:
            raise TargetError(
                f"{self.display}: git {args[0]} got no answer in {limit} s. Check "
                "the remote and your connection, then re-run."
            ) from e
        if check and result.returncode:
            raise self._error(args[0], result)
        return result.stdout

    def _error(
        self, verb: str, result: subprocess.CompletedProcess[bytes]
    ) -> TargetError:
        stderr = result.stderr.decode(errors="replace")
        detail = telling_line(stderr, f"exit {result.returncode}")
        if verb == "push" and ("rejected" in stderr or "denied" in stderr.lower()):
            said = [
                line.strip()[len("remote:") :].strip()
                for line in stderr.splitlines()
                if line.strip().startswith("remote:") and line.strip() != "remote:"
            ]
            if said:
                detail += "; the remote said: " + " ".join(said)
            return TargetError(
                f"{self.display}: the remote rejected the push ({detail}). Check "
                f"that you may push to {self.branch} (no branch protection or "
                "hook refuses forced pushes there), then re-run."
            )
        return TargetError(
            f"{self.display}: git {verb} failed ({detail}). Check the remote, the "
            "branch and your access to it."
        )

    @property
    def repo(self) -> Path:
        if self._repo is None:
            self._repo = Path(scratch_dir("git"))
            weakref.finalize(self, shutil.rmtree, self._repo, True)
            subprocess.run(
                ["git", "init", "-q", "--bare", str(self._repo)],
                check=True,
                env=without_secrets(),
            )
        return self._repo

    def _fetch(self) -> str | None:
        """Fetch the live branch (depth 1); return its commit id or None."""
        if self._live is None:
            out = self._git("ls-remote", self.remote, f"refs/heads/{self.branch}")
            if not out.strip():
                self._live = ""
            else:
                self._git(
                    "fetch", "-q", "--depth=1", self.remote,
                    f"+refs/heads/{self.branch}:{LIVE}",
                )  # fmt: skip
                self._live = self._git("rev-parse", LIVE).decode().strip()
        return self._live or None

    def manifest(self) -> dict[str, str]:
        if not self._fetch():
            return {}
        entries = self._git("ls-tree", "-r", "-z", LIVE).split(b"\0")
        blobs: dict[str, str] = {}
        for entry in filter(None, entries):
            meta, _, path = entry.partition(b"\t")
            _mode, kind, sha = meta.split()
            if kind == b"blob":
                blobs[path.decode(errors="surrogateescape")] = sha.decode()
        return {path: self._md5s(blobs)[sha] for path, sha in blobs.items()}

    def _md5s(self, blobs: Mapping[str, str]) -> dict[str, str]:
        if self._md5_cache is None:
            shas = sorted(set(blobs.values()))
            out = self._git(
                "cat-file", "--batch", input="\n".join(shas).encode() + b"\n"
            )
            cache: dict[str, str] = {}
            pos = 0
            for _ in shas:
                header_end = out.index(b"\n", pos)
                sha, _kind, size = out[pos:header_end].split()
                start = header_end + 1
                body = out[start : start + int(size)]
                cache[sha.decode()] = hashlib.md5(
                    body, usedforsecurity=False
                ).hexdigest()
                pos = start + int(size) + 1
            self._md5_cache = cache
        return self._md5_cache

    def forget(self) -> None:
        self._live = None
        self._md5_cache = None

    def empty_problem(self) -> str:
        return (
            f"{self.display}: the remote has no branch {self.branch!r}: nothing was "
            "published there, or the branch or remote is mistyped."
        )

    # --- lease records: refs/hearth/<kind> on the remote, commits whose
    # message is the record; pushes with a lease make them atomic.

    def _lease_sha(self, kind: str) -> str | None:
        out = self._git("ls-remote", self.remote, LEASE_REF.format(kind=kind))
        return out.split()[0].decode() if out.strip() else None

    def lease_read(self, kind: str) -> bytes | None:
        sha = self._lease_sha(kind)
        if sha is None:
            return None
        seen = f"refs/hearth/seen-{kind}"
        self._git("fetch", "-q", self.remote, f"+{LEASE_REF.format(kind=kind)}:{seen}")
        return self._git("log", "-1", "--format=%B", seen).strip() or None

    def _lease_commit(self, data: bytes) -> str:
        self._git("hash-object", "-t", "tree", "-w", "--stdin", input=b"")
        return (
            self._git("commit-tree", EMPTY_TREE, "-m", data.decode(), env=IDENTITY)
            .decode()
            .strip()
        )

    def lease_create(self, kind: str, data: bytes) -> bool:
        commit = self._lease_commit(data)
        ref = LEASE_REF.format(kind=kind)
        result = subprocess.run(
            ["git", "--git-dir", str(self.repo), "push", "-q",
             f"--force-with-lease={ref}:", self.remote, f"{commit}:{ref}"],
            capture_output=True, env=self._environment(None), check=False,
            timeout=max(300, 12 * net_timeout()),
        )  # fmt: skip
        if result.returncode == 0:
            return True
        refused = b"stale info" in result.stderr or b"rejected" in result.stderr
        if refused and self._lease_sha(kind) is not None:
            return False
        raise self._error("push", result)

    def lease_write(self, kind: str, data: bytes) -> None:
        commit = self._lease_commit(data)
        ref = LEASE_REF.format(kind=kind)
        self._git("push", "-q", "--force", self.remote, f"{commit}:{ref}")

    def lease_remove(self, kind: str, data: bytes, token: str) -> None:
        sha = self._lease_sha(kind)
        current = self.lease_read(kind) if sha else None
        if current is None or (current != data and token.encode() not in current):
            return
        ref = LEASE_REF.format(kind=kind)
        self._git(
            "push", "-q", f"--force-with-lease={ref}:{sha}", self.remote, f":{ref}",
            check=False,
        )  # fmt: skip

    def read_file(self, path: str) -> bytes | None:
        if not self._fetch():
            return None
        result = self._git("cat-file", "blob", f"{LIVE}:{path}", check=False)
        return result or None

    def extra_files(self) -> dict[str, bytes]:
        # GitHub Pages runs Jekyll unless told not to; Jekyll would drop
        # .hearth/ and any file whose name starts with an underscore.
        return {".nojekyll": b""}

    def deploy(self, tree: base.Tree, plan: base.Plan, *, state: str,
               progress: base.Progress,
               check: base.Check = lambda: None) -> None:  # fmt: skip
        live = self._fetch()
        env = {"GIT_INDEX_FILE": str(self.repo / "hearth-index")}
        self._git("--work-tree", str(tree), "add", "-A", "--", ".", env=env)
        new_tree = self._git("write-tree", env=env).decode().strip()
        if live:
            live_tree = self._git("rev-parse", f"{LIVE}^{{tree}}").decode().strip()
            parents = self._git("cat-file", "-p", LIVE).decode()
            if live_tree == new_tree and "\nparent " not in parents:
                logger.info("%s already serves this tree", self.display)
                return
        commit = (
            self._git(
                "commit-tree", new_tree, "-m", MESSAGES[state], env={**env, **IDENTITY}
            )
            .decode()
            .strip()
        )
        check()
        self._git(
            "push", "-q", "--force", self.remote, f"{commit}:refs/heads/{self.branch}"
        )
        self._live = commit
        self._git("update-ref", LIVE, commit)
        self._md5_cache = None
        for rel in [*plan.upload, *plan.delete]:
            progress(rel)

    def warnings(self, state: str) -> list[str]:
        if state == "published":
            return []
        return [
            (
                f"{self.display}: the branch now holds one commit and no history, "
                "but the host may keep the old, unreferenced commits reachable by "
                "their id for a while (GitHub does until it collects garbage). To "
                "be sure they are gone, ask the host's support to purge them, or "
                "delete and re-create the repository."
            )
        ]
