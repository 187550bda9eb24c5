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
import tempfile
import weakref
from pathlib import Path
from urllib.parse import urlsplit

from hearth.targets.base import Target, TargetError, query_options

logger = logging.getLogger(__name__)

LIVE = "refs/hearth/live"
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

    def __init__(self, url):
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
        self._repo = None
        self._live = None  # commit id of the branch on the remote, once fetched

    @property
    def display(self):
        parts = urlsplit(self.remote)
        remote = self.remote
        if parts.password:  # never show a token written into an https URL
            remote = remote.replace(parts.password, "***")
        return f"git+{remote}#{self.branch}"

    def _git(self, *args, env=None, input=None, check=True):
        environment = {
            **os.environ,
            # Never ask a question: no username/password prompt, no ssh prompt.
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_SSH_COMMAND": os.environ.get(
                "GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=10"
            ),
            **(env or {}),
        }
        cmd = ["git", "--git-dir", str(self.repo), *args]
        result = subprocess.run(
            cmd, capture_output=True, env=environment, input=input, check=False
        )
        if check and result.returncode:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            detail = detail[-1] if detail else f"exit {result.returncode}"
            raise TargetError(
                f"{self.display}: git {args[0]} failed ({detail}). Check the "
                "remote, the branch and your access to it; the live site was not "
                "changed."
            )
        return result.stdout

    @property
    def repo(self):
        if self._repo is None:
            self._repo = Path(tempfile.mkdtemp(prefix="hearth-git-"))
            weakref.finalize(self, shutil.rmtree, self._repo, True)
            subprocess.run(["git", "init", "-q", "--bare", str(self._repo)], check=True)
        return self._repo

    def _fetch(self):
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

    def manifest(self):
        if not self._fetch():
            return {}
        entries = self._git("ls-tree", "-r", "-z", LIVE).split(b"\0")
        blobs = {}
        for entry in filter(None, entries):
            meta, _, path = entry.partition(b"\t")
            _mode, kind, sha = meta.split()
            if kind == b"blob":
                blobs[path.decode(errors="surrogateescape")] = sha.decode()
        return {path: self._md5s(blobs)[sha] for path, sha in blobs.items()}

    def _md5s(self, blobs):
        if not hasattr(self, "_md5_cache"):
            shas = sorted(set(blobs.values()))
            out = self._git(
                "cat-file", "--batch", input="\n".join(shas).encode() + b"\n"
            )
            cache, pos = {}, 0
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

    def read_file(self, path):
        if not self._fetch():
            return None
        result = self._git("cat-file", "blob", f"{LIVE}:{path}", check=False)
        return result or None

    def extra_files(self):
        # GitHub Pages runs Jekyll unless told not to; Jekyll would drop
        # .hearth/ and any file whose name starts with an underscore.
        return {".nojekyll": b""}

    def deploy(self, tree, plan, *, state, progress):
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
        self._git(
            "push", "-q", "--force", self.remote, f"{commit}:refs/heads/{self.branch}"
        )
        self._live = commit
        self._git("update-ref", LIVE, commit)
        if hasattr(self, "_md5_cache"):
            del self._md5_cache
        for rel in [*plan.upload, *plan.delete]:
            progress(rel)

    def warnings(self, state):
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
