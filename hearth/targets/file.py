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

from hearth.release import tree_manifest
from hearth.targets import base
from hearth.targets.base import (
    Target,
    TargetError,
    os_fault,
    query_options,
)

logger = logging.getLogger(__name__)

STAGING = "staging"


def new_release_id() -> str:
    """A release folder's name: when (UTC) and a few random hex digits."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class FileTarget(Target):
    scheme = "file"

    def __init__(self, url: str) -> None:
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
    def display(self) -> str:
        return f"file://{self.root}"

    def _live(self) -> Path | None:
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

    def manifest(self) -> dict[str, str]:
        live = self._live()
        try:
            return tree_manifest(live) if live else {}
        except OSError as e:
            raise TargetError(
                f"{self.display}: cannot read {e.filename or live} "
                f"({e.strerror}): give your user read access to the site's folder."
            ) from e

    def empty_problem(self) -> str:
        if self.root.is_symlink():
            return (
                f"THE SITE IS DOWN: {self.root} is a link to "
                f"{os.readlink(self.root)}, which does not exist, so readers get an "
                "error. Re-run `invoke publish` (or `withdraw`, `lock`)."
            )
        if not self.root.exists():
            hint = " (its parent folder does not exist either)"
            hint = "" if self.root.parent.is_dir() else hint
            return (
                f"Nothing at {self.root}{hint}: nothing was published there, or the "
                "target path is mistyped (HEARTH_TARGETS, HEARTH_TARGET or --target)."
            )
        return super().empty_problem()

    # --- lease records: files beside the document root, never served

    def _lease_path(self, kind: str) -> Path:
        return self.root.parent / f".{self.root.name}.hearth-{kind}.json"

    def lease_read(self, kind: str) -> bytes | None:
        try:
            return self._lease_path(kind).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise TargetError(os_fault(e, self.display)) from e

    def _lease_tmp(self, kind: str, data: bytes) -> Path:
        tmp = self._lease_path(kind).with_name(
            f".{self.root.name}.hearth-{kind}.{secrets.token_hex(4)}.tmp"
        )
        tmp.write_bytes(data)
        return tmp

    def lease_create(self, kind: str, data: bytes) -> bool:
        if not self.root.parent.is_dir():
            raise self._no_parent()
        try:
            tmp = self._lease_tmp(kind, data)
            try:
                os.link(tmp, self._lease_path(kind))  # fails if it exists
                return True
            except FileExistsError:
                return False
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as e:
            raise TargetError(os_fault(e, self.display)) from e

    def lease_write(self, kind: str, data: bytes) -> None:
        try:
            os.replace(self._lease_tmp(kind, data), self._lease_path(kind))
        except OSError as e:
            raise TargetError(os_fault(e, self.display)) from e

    def lease_remove(self, kind: str, data: bytes, token: str) -> None:
        path = self._lease_path(kind)
        current = self.lease_read(kind)
        if current is not None and (current == data or token.encode() in current):
            path.unlink(missing_ok=True)

    def leftovers(self, state: str) -> list[str]:
        live = self._live()
        if not self.releases.is_dir():
            return []
        others = sorted(
            e.name for e in self.releases.iterdir() if live is None or e != live
        )
        if state == "published" or not others:
            return []
        return [
            (
                f"OLD RELEASES STILL ON DISK: {len(others)} folder(s) of an older "
                f"site in {self.releases} ({', '.join(others[:3])}). They are not "
                "served, but anyone with access to the disk can read them: "
                f"re-run `invoke {'withdraw' if state == 'withdrawn' else 'lock'}`, "
                "or delete them."
            )
        ]

    def _no_parent(self) -> TargetError:
        return TargetError(
            f"The folder {self.root.parent} does not exist, so target "
            f"{self.display} cannot be created there: create it or fix the "
            "target (HEARTH_TARGETS in publishconf.py, HEARTH_TARGET or --target)."
        )

    def read_file(self, path: str) -> bytes | None:
        live = self._live()
        if live and (live / path).is_file():
            return (live / path).read_bytes()
        return None

    def deploy(self, tree: base.Tree, plan: base.Plan, *, state: str,
               progress: base.Progress,
               check: base.Check = lambda: None) -> None:  # fmt: skip
        if not self.root.parent.is_dir():
            raise self._no_parent()
        try:
            self._deploy(Path(tree), plan, state, progress, check)
        except OSError as e:
            raise TargetError(os_fault(e, self.display)) from e

    def _deploy(
        self,
        tree: Path,
        plan: base.Plan,
        state: str,
        progress: base.Progress,
        check: base.Check,
    ) -> None:
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
        made: set[Path] = set()
        # (device, inode) of a linked source -> its copy in staging
        copied: dict[tuple[int, int] | None, Path] = {}
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
        check()
        os.rename(staging, release)
        self._switch(release)
        for rel in plan.delete:
            progress(rel)
        self._prune(self._keep(release, live, state))

    @staticmethod
    def _copy(
        source: Path, dest: Path, copied: dict[tuple[int, int] | None, Path]
    ) -> None:
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

    def _keep(self, release: Path, live: Path | None, state: str) -> set[str]:
        keep = {release.name}
        if state == "published" and live and live.parent == self.releases:
            keep.add(live.name)  # one previous release, for a manual rollback
        return keep

    def _switch(self, release: Path) -> None:
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

    def _prune(self, keep: set[str]) -> None:
        failed: list[tuple[Path, OSError]] = []
        for entry in self.releases.iterdir():
            if entry.name not in keep:
                try:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
                except OSError as e:
                    failed.append((entry, e))
        if failed:
            entry, fault = failed[0]
            raise TargetError(
                f"{self.display}: the new site is live, but {len(failed)} old "
                f"release folder(s) could not be deleted ({fault.filename or entry}: "
                f"{fault.strerror}). They are not served, but stay on disk: give your "
                "user write access to them (or delete them) and re-run."
            )


def previous_release(target: FileTarget) -> Path | None:
    """The release a file target served before the live one, or None.

    A publish over a published site keeps exactly one (FileTarget._keep);
    a withdraw or a lock keeps none. Used by `invoke rollback`
    (hearth/rollback.py), which publishes it again through the usual path.
    """
    live = target._live()
    if not target.releases.is_dir():
        return None
    others = [
        e
        for e in target.releases.iterdir()
        if e.is_dir() and not e.is_symlink() and e != live
        and not e.name.startswith(STAGING)
    ]  # fmt: skip
    return max(others, key=lambda e: e.stat().st_mtime_ns) if others else None
