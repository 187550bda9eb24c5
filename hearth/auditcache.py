"""The leak audit's cache: what an earlier audit already proved, reused.

Two things are kept, in Hearth's cache folder (CACHE_PATH/hearth/audit/,
0700, every file 0600, since a reading holds a private post's text):

- the reading of each source file (hearth.reading), valid only for the same
  bytes, modification time, path, settings, rules file and reading code:
  Pelican renders every post again to read it, which was most of the
  audit's time;
- the digests of the output files an audit scanned and found nothing in,
  valid only for the same needles (a fingerprint of every secret and every
  public text the needles were judged against) and the same audit code.

Every entry carries an HMAC under a key kept in the same folder. An entry
that is damaged, cut short, edited, not owner-only or written for other
settings is ignored and the file read or scanned again: the cache can only
save work, never skip a check it cannot prove was done on the same bytes.
"""

import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import importlib.metadata
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pelican.utils import posixize_path

from hearth import reading as one_reading
from hearth.ownerfiles import owner_only_folder, replace_owner_only

FORMAT = 1
_KEY_BYTES = 32
# The code and libraries a reading, or a scan, depends on: a new version of
# any of them makes every entry stale.
_READING_CODE = ("reading.py", "frontmatter.py", "rules.py")
_READING_LIBRARIES = (
    "pelican",
    "Markdown",
    "docutils",
    "PyYAML",
    "pelican-yaml-metadata",
    "Pygments",
    "typogrify",
    "pymdown-extensions",
)
SCAN_CODE = ("audit.py", "surfaces.py", "envelope.py", "secrets.py")
SCAN_LIBRARIES = ("lxml", "brotli", "zstandard", "Pillow", "pypdf", "cryptography")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
# A cached reading keeps every field of Reading but these (its path is the
# entry's key, date and metadata are encoded apart, a reading with an error
# is never kept); a field Reading gains is kept too, not silently dropped.
_KEPT_APART = ("source_path", "relative_path", "date", "metadata", "error")
_KEPT = [
    f for f in dataclasses.fields(one_reading.Reading) if f.name not in _KEPT_APART
]
_READING_LISTS = tuple(f.name for f in _KEPT if isinstance(f.default, tuple))
_READING_FIELDS = tuple(f.name for f in _KEPT if f.name not in _READING_LISTS)


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def code_digest(files: Iterable[str], libraries: Iterable[str]) -> str:
    """A digest of Hearth's own modules `files` and the libraries' versions."""
    here = Path(__file__).parent
    parts: list[object] = [FORMAT, sys.version]
    for name in files:
        parts.append((here / name).read_bytes())
    for library in libraries:
        try:
            parts.append(f"{library}=={importlib.metadata.version(library)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{library} absent")
    return _digest(*parts)


def _stable(value: object, depth: int = 0) -> str:
    """A repr of a settings value that is the same in every process: object
    addresses left out, a function known by its name and its code."""
    if depth > 20:
        return "..."
    if isinstance(value, dict):
        items = sorted(
            (_stable(k, depth + 1), _stable(v, depth + 1)) for k, v in value.items()
        )
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_stable(v, depth + 1) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_stable(v, depth + 1) for v in value)) + "}"
    code = getattr(value, "__code__", None)
    if code is not None:
        body = _digest(code.co_code, repr(code.co_consts), repr(code.co_names))
        return f"<function {getattr(value, '__qualname__', '?')} {body}>"
    return _ADDRESS.sub("", repr(value))


def settings_digest(settings: Mapping[str, Any]) -> str:
    """A digest of every setting (Pelican reads with all of them in reach)."""
    return _digest(_stable(dict(settings)))


# Readings as JSON -----------------------------------------------------------------


def _encode(value: object) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {"$dict": [[str(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_encode(v) for v in value]
    return str(value)  # a Tag, an Author, Markup: the text templates print


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
        return {k: _decode(v) for k, v in value["$dict"]}
    return value


def reading_to_json(reading: one_reading.Reading) -> dict[str, Any]:
    """The fields of a Reading as JSON values (metadata's objects as text)."""
    data = {name: getattr(reading, name) for name in _READING_FIELDS}
    data.update({name: list(getattr(reading, name)) for name in _READING_LISTS})
    data["date"] = _encode(reading.date)
    data["metadata"] = _encode(reading.metadata)
    return data


def reading_from_json(
    data: Mapping[str, Any], source_path: str | os.PathLike[str], relative: str
) -> one_reading.Reading:
    """A Reading from reading_to_json's fields; ValueError for a damaged entry."""
    fields = {name: data[name] for name in _READING_FIELDS}
    for name in _READING_FIELDS:
        if fields[name] is not None and not isinstance(fields[name], str):
            raise ValueError(name)
    fields.update({name: tuple(map(str, data[name])) for name in _READING_LISTS})
    date = _decode(data["date"])
    metadata = _decode(data["metadata"])
    if not isinstance(metadata, dict) or not (
        date is None or isinstance(date, dt.datetime)
    ):
        raise ValueError("metadata")
    return one_reading.Reading(
        source_path=Path(source_path),
        relative_path=relative,
        date=date,
        metadata=metadata,
        **fields,
    )


# The cache ------------------------------------------------------------------------


class AuditCache:
    """Owner-only, authenticated entries in one folder (see the module doc)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._key: bytes | None = None
        self.hits = 0
        self.misses = 0

    # Files

    def _ready(self) -> bytes:
        """Make the folder owner-only and load (or make) the HMAC key."""
        if self._key is not None:
            return self._key
        for folder in (self.folder, self.folder / "readings"):
            owner_only_folder(folder)
        path = self.folder / "key"
        key = self._owner_only_bytes(path)
        if key is None or len(key) != _KEY_BYTES:
            key = os.urandom(_KEY_BYTES)  # entries under another key: ignored
            replace_owner_only(path, key)
        self._key = key
        return key

    @staticmethod
    def _owner_only_bytes(path: Path) -> bytes | None:
        """The bytes of a regular file only its owner (this user) can read
        or write, else None: an entry others could have written is not ours."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_mode & 0o077
                or info.st_uid != os.geteuid()
            ):
                return None
            return handle.read()

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._ready(), body, hashlib.sha256).hexdigest()

    def _load(self, path: Path) -> dict[str, Any] | None:
        """The JSON body of an entry whose HMAC holds, else None."""
        self._ready()
        data = self._owner_only_bytes(path)
        if data is None:
            return None
        mac, _, body = data.partition(b"\n")
        if not hmac.compare_digest(mac, self._mac(body).encode("ascii")):
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return None
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            return None
        return value

    def _store(self, path: Path, value: Mapping[str, Any]) -> None:
        body = json.dumps({**value, "format": FORMAT}, separators=(",", ":")).encode()
        # A cache that cannot be written only costs time.
        with contextlib.suppress(OSError):
            replace_owner_only(path, self._mac(body).encode("ascii") + b"\n" + body)

    # Readings

    def _reading_path(self, kind: str, relative: str) -> Path:
        return self.folder / "readings" / (_digest(kind, relative) + ".json")

    def read_site(self, settings: Mapping[str, Any]) -> list[one_reading.Reading]:
        """hearth.reading.read_site(settings), reusing the reading of every
        file whose bytes, time, path and settings are those of an entry."""
        settings, readers, files = one_reading.site_files(settings)
        context = _digest(
            code_digest(_READING_CODE, _READING_LIBRARIES),
            settings_digest(settings),
            _rules_digest(settings),
        )
        readings = []
        for kind, found_as in files:
            path = os.path.abspath(os.path.join(settings["PATH"], found_as))
            # As read_file names it ("./a.md" is "a.md").
            relative = posixize_path(os.path.relpath(path, settings["PATH"]))
            stamp = _stamp(path)
            found = self._cached_reading(kind, relative, path, context, stamp)
            if found is not None:
                self.hits += 1
                readings.append(found)
                continue
            self.misses += 1
            reading = one_reading.read_file(readers, settings, found_as, kind)
            if reading is None:
                continue
            readings.append(reading)
            if (
                stamp is not None
                and reading.error is None
                and reading.relative_path == relative
                and _stamp(path) == stamp  # unchanged while Pelican read it
                and not _in_future(reading, settings)
                and not _may_read_other_files(path, settings)
            ):
                self._store(
                    self._reading_path(kind, relative),
                    {
                        "context": context,
                        "stamp": stamp,
                        "source": path,
                        "reading": reading_to_json(reading),
                    },
                )
        return readings

    def _cached_reading(
        self, kind: str, relative: str, path: str, context: str, stamp: list[Any] | None
    ) -> one_reading.Reading | None:
        if stamp is None:
            return None
        entry = self._load(self._reading_path(kind, relative))
        if (
            entry is None
            or entry.get("context") != context
            or entry.get("stamp") != stamp
            or entry.get("source") != path
        ):
            return None
        try:
            reading = reading_from_json(entry["reading"], path, relative)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return reading if reading.kind == kind else None

    # Output files scanned clean

    def clean(self, fingerprint: Mapping[str, Any]) -> frozenset[str]:
        """The output files (digest and name) scanned clean for needles that
        include all of these: the same code, no secret source new or changed
        since, no public text the needles were judged against gone since.

        fingerprint: {"base": digest, "sources": [...], "public": [...]}
        (hearth.audit). Fewer needles find less: a file that held none of
        the old ones holds none of the new ones.
        """
        entry = self._load(self.folder / "clean.json")
        if entry is None or entry.get("base") != fingerprint["base"]:
            return frozenset()
        try:
            sources, public = set(entry["sources"]), set(entry["public"])
            files = frozenset(f for f in entry["files"] if isinstance(f, str))
        except (KeyError, TypeError):
            return frozenset()
        if not sources.issuperset(fingerprint["sources"]):
            return frozenset()
        if not public.issubset(fingerprint["public"]):
            return frozenset()
        return files

    def keep_clean(self, fingerprint: Mapping[str, Any], files: Iterable[str]) -> None:
        """Remember the output files a clean scan under `fingerprint` read."""
        self._store(self.folder / "clean.json", {**fingerprint, "files": sorted(files)})


def _stamp(path: str) -> list[Any] | None:
    """[sha256 of the bytes, size, mtime in ns] of a source file, or None."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read()
    except OSError:
        return None
    return [hashlib.sha256(data).hexdigest(), info.st_size, info.st_mtime_ns]


def _rules_digest(settings: Mapping[str, Any]) -> str:
    from hearth import rules

    path = rules.rules_file(settings)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b"(none)"
    except OSError as err:
        data = f"(unreadable: {err})".encode()
    return _digest(str(path), data)


# reStructuredText directives and options that read another file, and
# Markdown extensions that do: a reading keyed on the post's own bytes would
# miss a change in that other file, so such posts are read every time.
_RST_OTHER_FILE = re.compile(rb"^\s*\.\.\s+[\w:-]*include::|:file:|:url:", re.M)
_MARKDOWN_OTHER_FILE = ("snippet", "include")


def _may_read_other_files(path: str, settings: Mapping[str, Any]) -> bool:
    """Whether the post at path may pull text from another file."""
    if path.endswith((".rst", ".rest", ".txt")):
        try:
            with open(path, "rb") as handle:
                return bool(_RST_OTHER_FILE.search(handle.read()))
        except OSError:
            return True
    config = settings.get("MARKDOWN") or {}
    names = [*config.get("extensions", ()), *config.get("extension_configs", {})]
    return any(
        marker in (name if isinstance(name, str) else type(name).__module__).lower()
        for name in names
        for marker in _MARKDOWN_OTHER_FILE
    )


def _in_future(reading: one_reading.Reading, settings: Mapping[str, Any]) -> bool:
    """A post dated later than now while WITH_FUTURE_DATES is off: Pelican
    makes it a draft until then, so its reading changes with the clock."""
    date = reading.date
    if not isinstance(date, dt.datetime) or settings.get("WITH_FUTURE_DATES", True):
        return False
    now = dt.datetime.now(date.tzinfo) if date.tzinfo else dt.datetime.now()
    return date > now
