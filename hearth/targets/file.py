"""file:///path: a local folder a web server serves, switched by one symlink.

The path named is the document root. Hearth makes it a symlink to a release
folder kept beside it (`.<name>.releases/<id>`): each deploy fills a staging
folder there, renames it to a new release, and points the document root at it
with one os.replace of a temporary symlink. A reader gets the old tree or the
new one, never a mix; a deploy killed part-way leaves only the staging folder,
which the next run throws away.
"""

import logging
import os
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hearth.targets.base import Target, TargetError, query_options, tree_manifest

logger = logging.getLogger(__name__)

STAGING = "staging"


def new_release_id():
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class FileTarget(Target):
    scheme = "file"

    def __init__(self, url):
        parts = urlsplit(url)
        options = query_options(parts.query, {"url"}, url)
        super().__init__(url, options.get("url"))
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise TargetError(
                f"Target {url!r} is not a local folder: write it as "
                "file:///absolute/path/to/folder (three slashes)."
            )
        self.root = Path(os.path.abspath(unquote(parts.path)))
        self.releases = self.root.parent.resolve() / f".{self.root.name}.releases"

    @property
    def display(self):
        return f"file://{self.root}"

    def _live(self):
        """The folder served now (a release, or the writer's own folder), or None."""
        if self.root.is_symlink():
            live = self.root.resolve()
            return live if live.is_dir() else None
        if self.root.is_dir():
            return self.root
        if self.root.exists():
            raise TargetError(
                f"Target {self.root} is a file, not a folder: point the target "
                "at the folder your web server serves."
            )
        return None

    def manifest(self):
        live = self._live()
        return tree_manifest(live) if live else {}

    def read_file(self, path):
        live = self._live()
        if live and (live / path).is_file():
            return (live / path).read_bytes()
        return None

    def deploy(self, tree, plan, *, state, progress):
        if not self.root.parent.is_dir():
            raise TargetError(
                f"The folder {self.root.parent} does not exist, so target "
                f"{self.display} cannot be created there: create it or fix the "
                "target (HEARTH_TARGETS in publishconf.py, HEARTH_TARGET or --target)."
            )
        tree = Path(tree)
        live = self._live()
        self.releases.mkdir(exist_ok=True)
        staging = self.releases / STAGING
        if live and not plan.changed:
            # Already live; only finish what an interrupted run may have left.
            shutil.rmtree(staging, ignore_errors=True)
            if state != "published":
                self._prune({live.name})
            return
        # Whatever an interrupted run left here is half a tree: start afresh.
        shutil.rmtree(staging, ignore_errors=True)
        changed = set(plan.upload)
        made = set()
        copied = {}  # (device, inode) of a linked source -> its copy in staging
        for source in sorted(tree.rglob("*")):
            if not source.is_file():
                continue
            rel = source.relative_to(tree).as_posix()
            dest = staging / rel
            if dest.parent not in made:
                dest.parent.mkdir(parents=True, exist_ok=True)
                made.add(dest.parent)
            if rel not in changed and live and (live / rel).is_file():
                # Unchanged: share the live file's bytes, as rsync --link-dest does.
                try:
                    os.link(live / rel, dest)
                    continue
                except OSError:
                    pass
            self._copy(source, dest, copied)
            if rel in changed:
                progress(rel)
        release = self.releases / new_release_id()
        os.rename(staging, release)
        self._switch(release)
        for rel in plan.delete:
            progress(rel)
        self._prune(self._keep(release, live, state))

    @staticmethod
    def _copy(source, dest, copied):
        """Copy source into the new release; the same file twice (hard links
        in the tree, e.g. the withdraw notice at every page) is copied once
        and linked within the release, which nothing writes to once made."""
        stat = source.stat()
        inode = (stat.st_dev, stat.st_ino) if stat.st_nlink > 1 else None
        if inode in copied:
            try:
                os.link(copied[inode], dest)
                return
            except OSError:
                pass
        shutil.copy2(source, dest)
        if inode is not None:
            copied[inode] = dest

    def _keep(self, release, live, state):
        keep = {release.name}
        if state == "published" and live and live.parent == self.releases:
            keep.add(live.name)  # one previous release, for a manual rollback
        return keep

    def _switch(self, release):
        if self.root.exists() and not self.root.is_symlink():
            # First deploy over the writer's own folder: keep it as a release
            # (it is pruned like any other). Until the symlink below exists the
            # path is missing for a moment; every later switch is atomic.
            os.rename(self.root, self.releases / f"original-{release.name}")
        switch = self.root.parent / f".{self.root.name}.hearth-switch"
        if switch.is_symlink() or switch.exists():
            switch.unlink()
        os.symlink(os.path.relpath(release, self.root.parent), switch)
        os.replace(switch, self.root)
        logger.debug("%s now serves %s", self.root, release.name)

    def _prune(self, keep):
        for entry in self.releases.iterdir():
            if entry.name not in keep:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
