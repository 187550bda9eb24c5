"""The tracked state file: audience salts and the opaque ids of private posts.

`hearth-state.json` sits at the repository root and is committed with the
site, and the repository may be public. It holds nothing secret (salts travel
inside every envelope anyway) and names no private file, but it must survive
rebuilds and clones:

- per audience, a 16-byte random salt and the PBKDF2 iteration count it was
  made for. A reader's remembered key is derived from passphrase, salt and
  iterations; keeping the salt keeps that key valid across builds.
- per private post, an opaque id that makes its URL `p/<id>/`. A private
  post's title is secret, so its URL cannot come from the title.
- per private-only attachment, an opaque id for its file name.
- per audience, an opaque id for the encrypted list of its posts that the
  home page and archives show once a reader has unlocked the audience.

A private post's file name carries its date and often its title, so the
posts and attachments tables are not keyed by source path: each entry is
keyed by a tag, `<key id>.<HMAC-SHA256(state key, kind NUL path)>`, made
with the state key, a random key kept beside the passphrases (the
HEARTH_STATE_KEY variable or [state] in the untracked secrets file). A
fresh clone with the same secrets finds the same ids; without the key the
tags say nothing, not even which entry belongs to which date. The ids
themselves stay random, so an address says nothing either.

- The first build that needs a key and finds none makes one, and writes it
  to the secrets file together with the state file (only after a build that
  passed every check).
- A file whose entries were made with a key this build does not have is
  refused (`StateError`, naming the fix): a lost key must never give every
  private post a new address without the writer knowing.
- Format 1 files (keyed by source path) are read, and rewritten keyed with
  the ids they hold, so no address changes.
- The sample site's entries are keyed with a public demo key: a build uses it
  to find them, but never makes a new entry with it.

The file is written atomically (a temporary file, then a rename) and only
when something changed, so an unchanged site leaves it untouched.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hearth import pids

logger = logging.getLogger(__name__)

STATE_FILE_NAME = "hearth-state.json"
FORMAT = 2
READABLE_FORMATS = (1, 2)
SALT_BYTES = 16
# 8 random bytes as 16 hex digits: far beyond guessing or enumerating, short
# enough for a URL a reader might copy by hand.
ID_BYTES = 8
# Ids become URL path segments and file names: nothing else is accepted.
_ID = re.compile(r"^[a-z0-9]{1,64}$")
# A tag: 8 hex digits naming the key, a dot, 128 bits of HMAC (no guessing a
# collision; the full 256 bits would only make the file longer).
_TAG = re.compile(r"^[0-9a-f]{8}\.[0-9a-f]{32}$")
# The sample site's key: public (README, "The state file"). Its entries can
# be matched by anyone who guesses a file name, so no new entry is made with
# it; a build that has a key of its own moves each one it finds to that key.
DEMO_KEY = hashlib.sha256(b"hearth-demo-state-key").digest()
_KINDS = ("posts", "attachments")


def state_path(settings: Mapping[str, Any], root: str | os.PathLike[str]) -> Path:
    """The tracked state file: HEARTH_STATE_FILE (from `root`, the folder that
    holds the content folder), else hearth-state.json there."""
    return Path(root) / (settings.get("HEARTH_STATE_FILE") or STATE_FILE_NAME)


class StateError(ValueError):
    """The state file cannot be read safely."""


def key_id(key: bytes) -> str:
    """The 8 hex digits that name a state key in the file (not the key)."""
    return hmac.new(key, b"hearth state key id", hashlib.sha256).hexdigest()[:8]


def tag(key: bytes, kind: str, source_path: str | os.PathLike[str]) -> str:
    """The entry tag of a source path under a state key."""
    message = kind.encode("ascii") + b"\0" + Path(source_path).as_posix().encode()
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
    return f"{key_id(key)}.{mac}"


class State:
    """Salts and ids, loaded from and saved to one JSON file.

    `key` is the state key (bytes) or None; `store_key(key)` writes a new
    one where `key` will find it next time (called by save()).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        data: dict[str, Any] | None = None,
        *,
        key: bytes | None = None,
        store_key: Callable[[bytes], object] | None = None,
        secrets_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self._secrets_path = secrets_path  # named in messages
        data = data or {}
        # Entries made with a key this build does not have (see _check_keys).
        self._foreign = _foreign_keys(data, key)
        self._key = key
        self._store_key = store_key
        self._new_key: bytes | None = None  # made in this build, stored by save()
        self._audiences: dict[str, dict[str, Any]] = dict(data.get("audiences", {}))
        self._indexes: dict[str, str] = dict(data.get("indexes", {}))
        self._tables: dict[str, dict[str, str]] = {kind: {} for kind in _KINDS}
        # Format 1: {source path: id}, moved under the key at save.
        self._legacy: dict[str, dict[str, str]] = {kind: {} for kind in _KINDS}
        legacy = data.get("format", FORMAT) == 1
        for kind in _KINDS:
            target = self._legacy if legacy else self._tables
            target[kind].update(data.get(kind, {}))
        self._saved: str | None = None if self._has_legacy() else self._serialise()

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        secrets_file: str | os.PathLike[str] | None = None,
        check_key: bool = True,
    ) -> "State":
        """Read the state file; a missing file is an empty state.

        The state key comes from HEARTH_STATE_KEY or [state] in the secrets
        file (`secrets_file`, default secrets.toml beside the state file).
        A file whose posts were named with another key is refused here
        (StateError, with the fix); with `check_key=False` (for what needs
        only salts: `invoke lock`, links) only when a post's id is made.
        Temporaries a killed save left beside it are removed first.
        """
        from hearth import secrets as hearth_secrets

        path = Path(path)
        sweep_temporaries(path)
        secrets_path = hearth_secrets.secrets_file_path(
            secrets_file or path.parent / hearth_secrets.SECRETS_FILE_NAME
        )
        try:
            key = hearth_secrets.state_key(secrets_file=secrets_path)
        except hearth_secrets.SecretsError as err:
            raise StateError(str(err)) from None

        def store_key(new: bytes) -> Path:
            try:
                hearth_secrets.store_state_key(new, secrets_file=secrets_path)
                return secrets_path  # where save() says the key went
            except (hearth_secrets.SecretsError, OSError) as err:
                raise StateError(
                    f"Could not keep the new state key in {secrets_path} "
                    f"({err}); {path.name} is unchanged."
                ) from None

        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path, key=key, store_key=store_key, secrets_path=secrets_path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise StateError(
                f"The state file {path} is not valid JSON ({err.msg} at line "
                f"{err.lineno}). Restore it from git (git checkout -- {path.name}): "
                "it holds the salts that keep readers' remembered keys valid."
            ) from None
        _check(data, path)
        state = cls(path, data, key=key, store_key=store_key, secrets_path=secrets_path)
        if check_key:
            state.check_key()
        return state

    def check_key(self) -> None:
        """Raise StateError if the file's posts were named with a key this
        build does not have: without it no existing private post can be
        found, so every one would get a new address and the links readers
        were given would stop working."""
        if not self._foreign:
            return
        have = (
            "a different state key"
            if self._key
            else (
                "no state key (neither HEARTH_STATE_KEY nor [state] in "
                f"{self._secrets_path or 'the secrets file'})"
            )
        )
        raise StateError(
            f"The state file {self.path} names its private posts with state key "
            f"{self._foreign[0]}, and this build has {have}. Restore the secrets "
            "file from your backup (its [state] key = ... line) and build again. "
            "To give every private post a new address instead (links you shared "
            'stop working), delete the entries of "posts" and "attachments" in '
            f"{self.path.name}. To take the site down meanwhile, `invoke "
            "withdraw` works without the key."
        )

    def audience(self, name: str, iterations: int) -> tuple[bytes, int]:
        """Return (salt, iterations) for an audience, creating a salt if needed.

        A change of iteration count makes a new salt, so that a key derived
        with the old count is never mistaken for the new one.
        """
        entry = self._audiences.get(name)
        if entry is None or entry["iterations"] != iterations:
            entry = {
                "salt": _b64(secrets.token_bytes(SALT_BYTES)),
                "iterations": iterations,
            }
            self._audiences[name] = entry
        return base64.b64decode(entry["salt"]), int(entry["iterations"])

    def known_audience(self, name: str) -> tuple[bytes, int] | None:
        """(salt, iterations) of an audience already in the file, else None."""
        entry = self._audiences.get(name)
        if entry is None:
            return None
        return base64.b64decode(entry["salt"]), int(entry["iterations"])

    def post_id(self, source_path: str | os.PathLike[str]) -> str:
        """The stable opaque id of a private post, by its source path."""
        return self._id("posts", source_path)

    def post_ids(self, source_paths: Iterable[str]) -> dict[str, str]:
        """{source path: opaque id} of those of `source_paths` the file knows.

        The file cannot list its posts (it does not name them): the caller
        says which it asks about. Nothing is created.
        """
        found: dict[str, str] = {}
        for source in source_paths:
            known = self._find("posts", source)
            if known is not None:
                found[source] = known
        return found

    def attachment_id(self, source_path: str | os.PathLike[str]) -> str:
        """The stable opaque id of a private-only attachment."""
        return self._id("attachments", source_path)

    def index_id(self, audience: str) -> str:
        """The stable opaque id of an audience's encrypted list of posts.

        Audience names are not secret (the settings name them), so this table
        is keyed by name.
        """
        if audience not in self._indexes:
            self._indexes[audience] = self._fresh_id()
        return self._indexes[audience]

    def _keys(self) -> list[bytes]:
        """The keys an entry may have been made with, own key first."""
        own = self._key or self._new_key
        return [own, DEMO_KEY] if own else [DEMO_KEY]

    def _find(self, kind: str, source_path: str | os.PathLike[str]) -> str | None:
        """The id of a source path, or None; moves an entry found under the
        demo key or in a format 1 table to the build's own key if it has one."""
        source = Path(source_path).as_posix()
        table = self._tables[kind]
        own = self._key or self._new_key
        for key in self._keys():
            found = table.get(tag(key, kind, source))
            if found is not None:
                if own and key is not own:
                    del table[tag(key, kind, source)]
                    table[tag(own, kind, source)] = found
                return found
        return self._legacy[kind].get(source)

    def _id(self, kind: str, source_path: str | os.PathLike[str]) -> str:
        found = self._find(kind, source_path)
        if found is None:
            self.check_key()  # it may be there, under the key that is missing
            found = self._fresh_id()
            self._tables[kind][tag(self._own_key(), kind, source_path)] = found
        return found

    def _own_key(self) -> bytes:
        if self._key is not None:
            return self._key
        if self._new_key is None:
            if os.environ.get("GITHUB_ACTIONS") or os.environ.get("CI"):
                # A key made on a CI runner dies with it: the next run, and
                # the laptop, could not find the addresses it gave.
                raise StateError(
                    "This build runs in CI and has no state key, so it cannot "
                    "give a private post an address that lasts. Add the "
                    "`key = ...` value under [state] in your secrets.toml to "
                    "the forge's secrets as HEARTH_STATE_KEY (README, \"From a "
                    'phone"), or build once on your computer first.'
                )
            self._new_key = secrets.token_bytes(32)
        return self._new_key

    def _fresh_id(self) -> str:
        taken = {*self._indexes.values()}
        for kind in _KINDS:
            taken.update(self._tables[kind].values())
            taken.update(self._legacy[kind].values())
        new = secrets.token_hex(ID_BYTES)
        while new in taken:
            new = secrets.token_hex(ID_BYTES)
        return new

    def _has_legacy(self) -> bool:
        return any(self._legacy[kind] for kind in _KINDS)

    def save(self) -> bool:
        """Write the file atomically if anything changed; return True if written.

        A state key made in this build is written to the secrets file first:
        a state file whose key is lost is refused by the next build.
        """
        text = self._serialise()
        if text == self._saved and self.path.exists():
            return False
        if self._new_key is not None:
            if self._store_key is None:
                raise StateError(
                    f"{self.path.name}: a new state key was made but there is "
                    "nowhere to keep it; nothing was written."
                )
            where = self._store_key(self._new_key)
            self._key, self._new_key = self._new_key, None
            logger.info(
                "Hearth: made the state key that names private posts in %s and "
                "kept it in %s: back it up with your passphrases",
                self.path.name,
                where,
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.{os.getpid()}.",
            suffix=".tmp",
            dir=self.path.parent,
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._saved = text
        return True

    def _serialise(self) -> str:
        # A format 1 file's entries are moved under the key (the same ids).
        for kind in _KINDS:
            legacy = self._legacy[kind]
            for source, found in sorted(legacy.items()):
                self._tables[kind][tag(self._own_key(), kind, source)] = found
            legacy.clear()
        data = {
            "format": FORMAT,
            "about": "Hearth's state: commit this file. Audience salts keep "
            "readers' remembered keys valid; ids keep private posts' URLs "
            "stable. Posts and attachments are named by a keyed hash (the "
            "state key, kept with your passphrases), never by file name.",
            "audiences": dict(sorted(self._audiences.items())),
            "posts": dict(sorted(self._tables["posts"].items())),
            "attachments": dict(sorted(self._tables["attachments"].items())),
            "indexes": dict(sorted(self._indexes.items())),
        }
        return json.dumps(data, indent=2, ensure_ascii=True) + "\n"


# A save's temporary: .hearth-state.json.<pid>.<random>.tmp (older versions
# wrote .hearth-state.json.<random>.tmp, without the pid).
STALE_UNNAMED = 3600  # seconds after which a temporary without a pid is stale


def sweep_temporaries(path: str | os.PathLike[str]) -> int:
    """Remove the temporaries of saves that were killed; return how many."""
    path = Path(path)
    removed = 0
    try:
        candidates = list(path.parent.glob(f".{path.name}.*.tmp"))
    except OSError:
        return 0
    for tmp in candidates:
        middle = tmp.name[len(path.name) + 2 : -len(".tmp")]
        pid, _, _rest = middle.partition(".")
        try:
            if pid.isdigit() and _rest:
                if int(pid) == os.getpid() or pids.alive(int(pid)):
                    continue
            elif time.time() - tmp.stat().st_mtime < STALE_UNNAMED:
                continue
            tmp.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check(data: object, path: Path) -> None:
    """Refuse a state file whose shape is not what this version writes."""

    def fault(what: str) -> StateError:
        return StateError(
            f"The state file {path}: {what}. Restore it from git "
            f"(git checkout -- {path.name}) or fix that entry by hand."
        )

    if not isinstance(data, dict):
        raise fault("the top level is not an object")
    if data.get("format", FORMAT) not in READABLE_FORMATS:
        raise fault(
            f"format {data.get('format')!r} is not one this version of Hearth "
            f"reads ({', '.join(map(str, READABLE_FORMATS))}); a newer Hearth "
            "wrote it"
        )
    for name, entry in data.get("audiences", {}).items():
        try:
            salt = base64.b64decode(entry["salt"], validate=True)
            iterations = entry["iterations"]
        except (KeyError, TypeError, ValueError):
            raise fault(
                f"audience {name!r} needs a base64 'salt' and 'iterations'"
            ) from None
        if len(salt) != SALT_BYTES:
            raise fault(f"audience {name!r} has a salt of {len(salt)} bytes, not 16")
        if not isinstance(iterations, int) or isinstance(iterations, bool):
            raise fault(f"audience {name!r} has iterations that are not a number")
    legacy = data.get("format", FORMAT) == 1
    for table in ("posts", "attachments", "indexes"):
        entries = data.get(table, {})
        if not isinstance(entries, dict) or not all(
            isinstance(v, str) and _ID.match(v) for v in entries.values()
        ):
            raise fault(f"'{table}' must map names to lower-case ids")
        if table != "indexes" and not legacy:
            bad = [k for k in entries if not _TAG.match(k)]
            if bad:
                raise fault(
                    f"'{table}' has an entry {bad[0]!r} that is not a keyed "
                    "tag (8 hex digits, a dot, 32 hex digits)"
                )


def _foreign_keys(data: dict[str, Any], key: bytes | None) -> list[str]:
    """The key ids of entries made with neither `key` nor the demo key."""
    if data.get("format", FORMAT) == 1:
        return []
    known = {key_id(DEMO_KEY)} | ({key_id(key)} if key else set())
    return sorted(
        {name.split(".")[0] for kind in _KINDS for name in data.get(kind, {})} - known
    )
