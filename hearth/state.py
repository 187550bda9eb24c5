"""The tracked state file: audience salts and the opaque ids of private posts.

`hearth-state.json` sits at the repository root and is committed with the
site. It holds nothing secret (salts travel inside every envelope anyway), but
it must survive rebuilds and clones:

- per audience, a 16-byte random salt and the PBKDF2 iteration count it was
  made for. A reader's remembered key is derived from passphrase, salt and
  iterations; keeping the salt keeps that key valid across builds.
- per private post source path, an opaque id that makes its URL `p/<id>/`.
  A private post's title is secret, so its URL cannot come from the title.
- per private-only attachment source path, an opaque id for its file name.
- per audience, an opaque id for the encrypted list of its posts that the
  home page and archives show once a reader has unlocked the audience.

The file is written atomically (a temporary file, then a rename) and only
when something changed, so an unchanged site leaves it untouched.
"""

import base64
import json
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

STATE_FILE_NAME = "hearth-state.json"
FORMAT = 1
SALT_BYTES = 16
# 8 random bytes as 16 hex digits: far beyond guessing or enumerating, short
# enough for a URL a reader might copy by hand.
ID_BYTES = 8
# Ids become URL path segments and file names: nothing else is accepted.
_ID = re.compile(r"^[a-z0-9]{1,64}$")


class StateError(ValueError):
    """The state file cannot be read safely."""


class State:
    """Salts and ids, loaded from and saved to one JSON file."""

    def __init__(self, path, data=None):
        self.path = Path(path)
        data = data or {}
        self._audiences = dict(data.get("audiences", {}))
        self._posts = dict(data.get("posts", {}))
        self._attachments = dict(data.get("attachments", {}))
        self._indexes = dict(data.get("indexes", {}))
        self._saved = self._serialise()

    @classmethod
    def load(cls, path):
        """Read the state file; a missing file is an empty state.

        Temporaries a killed save left beside it are removed first.
        """
        path = Path(path)
        sweep_temporaries(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise StateError(
                f"The state file {path} is not valid JSON ({err.msg} at line "
                f"{err.lineno}). Restore it from git (git checkout -- {path.name}): "
                "it holds the salts that keep readers' remembered keys valid."
            ) from None
        _check(data, path)
        return cls(path, data)

    def audience(self, name, iterations):
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
        return base64.b64decode(entry["salt"]), entry["iterations"]

    def known_audience(self, name):
        """(salt, iterations) of an audience already in the file, else None."""
        entry = self._audiences.get(name)
        if entry is None:
            return None
        return base64.b64decode(entry["salt"]), entry["iterations"]

    def post_id(self, source_path):
        """The stable opaque id of a private post, by its source path."""
        return self._id(self._posts, source_path)

    def post_ids(self):
        """{source path: opaque id} of every private post the file knows."""
        return dict(self._posts)

    def attachment_id(self, source_path):
        """The stable opaque id of a private-only attachment."""
        return self._id(self._attachments, source_path)

    def index_id(self, audience):
        """The stable opaque id of an audience's encrypted list of posts."""
        return self._id(self._indexes, audience)

    def _id(self, table, source_path):
        key = Path(source_path).as_posix()
        if key not in table:
            taken = {
                *self._posts.values(),
                *self._attachments.values(),
                *self._indexes.values(),
            }
            new = secrets.token_hex(ID_BYTES)
            while new in taken:
                new = secrets.token_hex(ID_BYTES)
            table[key] = new
        return table[key]

    @property
    def changed(self):
        return self._serialise() != self._saved

    def save(self):
        """Write the file atomically if anything changed; return True if written."""
        text = self._serialise()
        if text == self._saved and self.path.exists():
            return False
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

    def _serialise(self):
        data = {
            "format": FORMAT,
            "about": "Hearth's state: commit this file. Audience salts keep "
            "readers' remembered keys valid; ids keep private posts' URLs stable.",
            "audiences": dict(sorted(self._audiences.items())),
            "posts": dict(sorted(self._posts.items())),
            "attachments": dict(sorted(self._attachments.items())),
            "indexes": dict(sorted(self._indexes.items())),
        }
        return json.dumps(data, indent=2, ensure_ascii=True) + "\n"


# A save's temporary: .hearth-state.json.<pid>.<random>.tmp (older versions
# wrote .hearth-state.json.<random>.tmp, without the pid).
STALE_UNNAMED = 3600  # seconds after which a temporary without a pid is stale


def sweep_temporaries(path):
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
                if int(pid) == os.getpid() or _alive(int(pid)):
                    continue
            elif time.time() - tmp.stat().st_mtime < STALE_UNNAMED:
                continue
            tmp.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _check(data, path):
    """Refuse a state file whose shape is not what this version writes."""

    def fault(what):
        return StateError(
            f"The state file {path}: {what}. Restore it from git "
            f"(git checkout -- {path.name}) or fix that entry by hand."
        )

    if not isinstance(data, dict):
        raise fault("the top level is not an object")
    if data.get("format", FORMAT) != FORMAT:
        raise fault(
            f"format {data.get('format')!r} is not {FORMAT}, the one this "
            "version of Hearth reads"
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
    for table in ("posts", "attachments", "indexes"):
        entries = data.get(table, {})
        if not isinstance(entries, dict) or not all(
            isinstance(v, str) and _ID.match(v) for v in entries.values()
        ):
            raise fault(f"'{table}' must map source paths to lower-case ids")
