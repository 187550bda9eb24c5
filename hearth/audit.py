"""The leak audit: prove that no private text reached a built site.

`audit_site(settings, output)` builds nothing and trusts no plugin. It takes
what Pelican read (hearth.reading: every post and page, in every format
Pelican reads, with path and default metadata) and, for everything that must
not be public (an audience, a draft, a hidden post), turns its title, slug,
tags, category, summary, warnings, authors, the files only it uses and the
runs of its body text into needles. Then it reads every byte of the output
folder as a reader or a crawler would get it (hearth/surfaces.py: decoded,
decompressed, markup parsed) and reports every needle it finds.

Matching works on words: a text is cut into lower-case runs of letters and
digits, so a title in a feed, a search index or a URL slug is the same title.
A short secret (a tag, a one-word title) must match as whole words; a body
gives every run of `window` words. A needle that public text also holds
(public posts, the theme, the settings, the dates the site prints) is not
distinctive and is dropped, judged per word and per surface: a private title
"November" is no leak on a page dated in November, but is one in a file
name.

It also refuses what is not a publish build: envelopes that open with a
documented demo passphrase, drafts, and the opaque address of a hidden
private post anywhere but on its own page.

Findings name the output file, the kind of surface, the kind of secret and
the source file; the secret itself is shown only as a keyed hash whose key
is drawn anew for every run, so that nothing printed can be looked up.

With a cache folder (hearth/auditcache.py; `invoke audit` and `invoke
publish` use CACHE_PATH/hearth/audit) the readings of unchanged sources and
the verdicts on output files already scanned clean for the same or fewer
needles are used again: the findings are the same as without it.
"""

import array
import base64
import binascii
import collections
import concurrent.futures
import dataclasses
import hashlib
import hmac
import itertools
import json
import locale
import logging
import os
import re
import time
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from hearth import auditcache, envelope, frontmatter, secrets, surfaces
from hearth import reading as one_reading
from hearth.state import State, StateError, state_path

logger = logging.getLogger(__name__)

# A run of this many words from a private body is distinctive enough to call
# a leak. Measured on the 1,000-post benchmark site and the sample site
# (README, "Leak audit"): shorter runs turn up in pages built only from
# public text, where the site's own words meet a post's.
DEFAULT_WINDOW = 7

SECRET_STATUSES = {"draft", "hidden"}
# Header fields that are needles of their own kind above, or say nothing of
# the post (its date, language, template, who may read it).
_NOT_SECRET_KEYS = {
    "title",
    "slug",
    "tags",
    "keywords",
    "category",
    "summary",
    "warnings",
    "author",
    "authors",
    "date",
    "modified",
    "status",
    "lang",
    "template",
    "audience",
    "listing",
    "save_as",
    "url",
    "translation",
    "timezone",
}
FILE_NAME = surfaces.FILE_NAME
IMAGE_METADATA = surfaces.IMAGE_METADATA

_WORD = re.compile(r"[^\W_]+")
# Characters that show nothing inside a word: soft hyphen, zero-width space,
# non-joiner and joiner, word joiner, zero-width no-break space.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# What a file reference in a source looks like once URL-decoded.
# A token (a run of what a URL may hold) with a dot followed by more; the
# look-behind starts it only where a token starts, so no word is scanned
# from every one of its letters.
_REFERENCE = re.compile(
    r"(?<![^\s\"'()<>\[\]{}|\\^`=,;*])"
    r"[^\s\"'()<>\[\]{}|\\^`=,;*.]*\.[^\s\"'()<>\[\]{}|\\^`=,;*]+"
)
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]?")
_DIGEST_BYTES = 4  # 8 hex digits: enough to tell two findings apart
_ENVELOPE_START = '{"hearth":'
_MAX_FILE = 512 * 1024 * 1024

# A needle as find() knows it: the words of a short one, the hash of a run.
Key = tuple[str, ...] | int
Run = tuple[str, ...]
# A demo key being derived (None: the salt cannot be one).
DemoKey = concurrent.futures.Future[bytes | None]
# _index(): single words, pairs, longer needles by the hash of three words,
# and the rarest words that say whether a text can hold a pair or a triple.
Index = tuple[
    dict[str, Run],
    dict[Run, Run],
    dict[int, list[tuple[int, Run]]],
    dict[int, set[str]],
]


class AuditError(ValueError):
    """The audit cannot run (no output, unreadable source): fail closed."""


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    """One kind of secret of one source, found in one output file."""

    path: str  # output file, relative to the output folder
    surface: str  # page, feed, sitemap, data file, script, file name, ...
    kind: str  # title, tag, category, warning, slug, attachment, phrase, ...
    source: str  # the secret post's source, relative to content/
    digest: str  # keyed hash of one secret found (never the text)
    count: int = 1  # how many needles of this kind and source matched
    # The path as printed: parts of it that are themselves secret masked.
    shown: str = dataclasses.field(default="", compare=False)
    # Why, for findings that are not a secret's text (a demo passphrase...).
    note: str = dataclasses.field(default="", compare=False)

    def __str__(self) -> str:
        path = self.shown or self.path
        if self.note:
            return f"{path}: {self.surface}: {self.note}"
        what = f"{self.kind} of {self.source}" if self.source else self.kind
        times = f" ({self.count} matches)" if self.count > 1 else ""
        digest = f" [#{self.digest}]" if self.digest else ""
        return f"{path}: {self.surface} carries the {what}{digest}{times}"


# Words --------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """Lower-case runs of letters and digits, as a reader reads them: a soft
    hyphen or zero-width space inside a word is no break, and compatibility
    forms (fullwidth letters, ligatures, a letter and its combining accent)
    are the letters they show."""
    if not text.isascii():
        text = _INVISIBLE.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold())


def _runs(words: Sequence[str], length: int) -> Iterator[Run]:
    """Every run of `length` words, as tuples (lazily)."""
    return zip(*(words[i:] for i in range(length)), strict=False)


class _Keyed:
    """Keyed hashes of secrets: HMAC-SHA256 with a key drawn for this run.

    An unsalted hash of a word is a dictionary lookup away from the word;
    with a key that exists only in this process, a printed digest can tell
    two findings apart and nothing more.
    """

    def __init__(self) -> None:
        self._key = os.urandom(32)

    def __call__(self, words: Iterable[str]) -> str:
        text = " ".join(words).encode("utf-8")
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()[
            : 2 * _DIGEST_BYTES
        ]


# Needles ------------------------------------------------------------------------


class _Needles:
    """What to look for, and what each needle would reveal.

    A text of more than `length` words (a body, a summary, a long title)
    gives runs of `length` words, kept as 64-bit hashes in one frozenset:
    one pass over a text's runs finds them all. Shorter needles (a title, a
    tag, a file name) are kept whole and matched as whole words through
    their rarest words (`_index`).

    A needle is found by its key: the tuple of words of a short needle, the
    hash of a run. Whether public text holds it too is judged afterwards,
    for the needles found only (`public()`).
    """

    def __init__(self, window: int) -> None:
        self.window = window
        # Every `stride`-th run of `length` words is kept: any run of
        # `window` words holds one of them, at half the memory.
        self.length = max(3, window - 1)
        self.stride = window - self.length + 1
        self.owners: list[tuple[str, str]] = []  # index -> (kind, source)
        self._owner_index: dict[tuple[str, str], int] = {}
        # [(owner index, array of the hashes of its runs)]: 8 bytes a run,
        # where a dict from hash to owner would take ten times that.
        self.runs: list[tuple[int, array.array[int]]] = []
        self.short: dict[Run, list[int]] = {}  # tuple of words -> [owner index]
        # owner index -> output path prefixes where it may appear (its own page)
        self.allowed_in: dict[int, tuple[str, ...]] = {}
        self.run_keys: frozenset[int] = frozenset()
        self._index: dict[bool, Index] = {}
        # How often each word occurs in the secrets: the rarest word of a
        # short needle is where it is looked for.
        self.frequency: collections.Counter[str] = collections.Counter()
        # What find() looks for, as digests that are the same in every run:
        # one per secret source of all the needles it gave, one per public
        # text the needles were judged against in freeze() (hearth/auditcache:
        # a file clean for these needles is clean for fewer of them).
        self.source_prints: dict[str, Any] = {}  # source -> its sha256 object
        self.public_prints: set[str] = set()

    def owner(self, kind: str, source: str) -> int:
        """The index of (kind, source) among the owners, added if new."""
        key = (kind, source)
        if key not in self._owner_index:
            self._owner_index[key] = len(self.owners)
            self.owners.append(key)
        return self._owner_index[key]

    def add(self, kind: str, source: str, text: str, *, whole: bool = True) -> None:
        """Add a secret text: whole (if short enough) or as runs of `window`.

        A body (`whole=False`) shorter than the window is still a needle when
        it has at least three words; a single short word or a number alone
        could be anything.
        """
        words = _words(text)
        self._print(source, kind, whole, *words)
        if not words:
            return
        owner = self.owner(kind, source)
        self.frequency.update(words)
        if len(words) > self.window:
            self.runs.append(
                (owner, array.array("q", map(hash, self._kept_runs(words))))
            )
            return
        if len(words) >= self.length:  # as long as a run: its runs, all
            self.runs.append(
                (owner, array.array("q", map(hash, _runs(words, self.length))))
            )
            return
        if not whole and len(words) < 3:
            return
        if len(words) == 1 and (len(words[0]) < 3 or words[0].isdigit()):
            return
        owners = self.short.setdefault(tuple(words), [])
        if owner not in owners:
            owners.append(owner)

    def _print(self, source: str, *parts: object) -> None:
        digest = self.source_prints.get(source)
        if digest is None:
            digest = self.source_prints[source] = hashlib.sha256(source.encode())
        digest.update("\x1f".join(map(str, parts)).encode() + b"\x1e")

    def fingerprint(self) -> dict[str, Any]:
        """{"sources": [digest], "public": [digest]} of what find() looks for."""
        return {
            "sources": sorted(d.hexdigest() for d in self.source_prints.values()),
            "public": sorted(self.public_prints),
        }

    def _kept_runs(self, words: Sequence[str]) -> Iterator[Run]:
        """Every `stride`-th run of `length` words, and the last one."""
        last = len(words) - self.length
        starts = [*range(0, last + 1, self.stride)]
        if starts[-1] != last:
            starts.append(last)
        return (tuple(words[i : i + self.length]) for i in starts)

    def freeze(
        self, public_text: Iterable[list[str]], public_paths: Iterable[list[str]]
    ) -> None:
        """Make the needles ready to find, less those that public text which
        costs nothing to read (settings, dates, public posts' headers) holds,
        per surface: `public_text` and `public_paths` are word lists."""
        public_text, public_paths = list(public_text), list(public_paths)
        for name, texts in (("text", public_text), ("paths", public_paths)):
            for words in texts:
                text = "\x1f".join([name, *words]).encode()
                self.public_prints.add(hashlib.sha256(text).hexdigest()[:32])
        keys = frozenset(itertools.chain.from_iterable(keys for _, keys in self.runs))
        in_text = self.public(self.short, keys, public_text)
        in_paths = self.public(self.short, (), public_paths)
        dropped = {k for k in in_text if not isinstance(k, tuple)}
        self.run_keys = keys - dropped if dropped else keys
        self._index = {
            False: self._anchors(k for k in self.short if k not in in_text),
            True: self._anchors(k for k in self.short if k not in in_paths),
        }

    def _anchors(self, needles: Iterable[Run]) -> Index:
        return _index(needles, self.frequency)

    def owners_of(self, keys: Iterable[Key]) -> dict[Key, list[int]]:
        """{key: [owner index]} for needle keys found."""
        keys = list(keys)
        owners: dict[Key, list[int]] = {
            k: self.short[k] for k in keys if isinstance(k, tuple)
        }
        runs = {k for k in keys if isinstance(k, int)}
        for owner, hashes in self.runs:  # the first owner of a run keeps it
            for key in runs.intersection(hashes):
                owners.setdefault(key, [owner])
        return owners

    def find(
        self, words: Sequence[str], *, paths: bool = False
    ) -> list[tuple[Key, Run]]:
        """[(key, run of words)] of every needle in `words` (in a path)."""
        found: list[tuple[Key, Run]] = [
            (n, n) for n in _find_short(words, self._index[paths])
        ]
        if len(words) >= self.length and self.run_keys:
            keys = set(self.run_keys.intersection(map(hash, _runs(words, self.length))))
            if keys:
                for run in _runs(words, self.length):
                    key = hash(run)
                    if key in keys:
                        keys.discard(key)
                        found.append((key, run))
        return found

    def public(
        self, short: Collection[Run], runs: Iterable[int], texts: Iterable[list[str]]
    ) -> set[Key]:
        """The needles among `short` (tuples) and `runs` (hashes) that the
        word lists `texts` also hold; stops once every one is found."""
        index = self._anchors(short)
        runs = runs if isinstance(runs, (set, frozenset)) else set(runs)
        found_short: set[Run] = set()
        found_runs: set[int] = set()
        for words in texts:
            if len(found_short) == len(short) and len(found_runs) == len(runs):
                break
            if len(found_short) < len(short):
                found_short |= _find_short(words, index)
            if runs and len(words) >= self.length:
                found_runs.update(
                    runs.intersection(map(hash, _runs(words, self.length)))
                )
        found: set[Key] = {*found_short, *found_runs}
        return found


def _index(needles: Iterable[Run], frequency: Mapping[str, int]) -> Index:
    """Short needles, indexed to be found in a few set intersections.

    Single words by themselves; pairs by themselves; longer needles by the
    hash of their rarest three words. A text is searched for pairs or
    triples only if it holds the rarest word of one (rarest in the secrets:
    a guess at rarest in the output that costs nothing).
    """
    singles: dict[str, Run] = {}
    pairs: dict[Run, Run] = {}
    triples: dict[int, list[tuple[int, Run]]] = {}
    rare: dict[int, set[str]] = {2: set(), 3: set()}
    for needle in needles:
        if len(needle) == 1:
            singles[needle[0]] = needle
            continue
        rare[min(len(needle), 3)].add(min(needle, key=frequency.__getitem__))
        if len(needle) == 2:
            pairs[needle] = needle
        else:
            offset = min(
                range(len(needle) - 2),
                key=lambda i: sum(frequency[w] for w in needle[i : i + 3]),
            )
            key = hash(needle[offset : offset + 3])
            triples.setdefault(key, []).append((offset, needle))
    return singles, pairs, triples, rare


def _find_short(words: Sequence[str], index: Index) -> set[Run]:
    """The short needles that occur in `words` as whole words."""
    singles, pairs, triples, rare = index
    found: set[Run] = set()
    if not (singles or pairs or triples):
        return found
    present = set(words)
    if singles:
        found.update(singles[w] for w in singles.keys() & present)
    if pairs and not rare[2].isdisjoint(present):
        found.update(pairs.keys() & set(_runs(words, 2)))
    if triples and not rare[3].isdisjoint(present):
        hashes = triples.keys() & set(map(hash, _runs(words, 3)))
        if hashes:
            keys = list(map(hash, _runs(words, 3)))
            for start in [i for i, key in enumerate(keys) if key in hashes]:
                for offset, needle in triples[keys[start]]:
                    begin = start - offset
                    if begin >= 0 and tuple(words[begin : begin + len(needle)]) == (
                        needle
                    ):
                        found.add(needle)
    return found


# Reading what Pelican read ------------------------------------------------------


def _read_site(
    settings: Mapping[str, Any], cache: auditcache.AuditCache | None = None
) -> list[one_reading.Reading]:
    """Every article and page Pelican would read (hearth.reading), through
    the cache's readings of unchanged files if there is a cache."""
    try:
        if cache is not None:
            readings = cache.read_site(settings)
        else:
            readings = one_reading.read_site(settings)
    except one_reading.ReadingError as err:
        raise AuditError(str(err)) from None
    errors = [r for r in readings if r.error]
    if errors:
        raise AuditError(
            "The audit cannot tell whether these files are private, so it "
            "refuses to pass the build. Fix them, build again and re-run the "
            "audit:\n  " + "\n  ".join(str(r.error) for r in errors)
        )
    return readings


class _AnyAudience(dict):
    """HEARTH_AUDIENCES for a content folder audited without its settings:
    every audience a post names is one (the post is private), none is an
    error."""

    def __contains__(self, name: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


# Collecting needles -------------------------------------------------------------


def _text_of_html(html: str | None) -> tuple[str, str]:
    """(rendered text, attribute values and comments) of a reading's HTML."""
    if not html:
        return "", ""
    texts = surfaces.markup_texts(html)
    return texts[0], "\n".join(texts[1:])


def _metadata_strings(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _metadata_strings(item, out)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            _metadata_strings(item, out)
    elif value is not None and not isinstance(value, (int, float, datetime)):
        out.append(str(value))


def _reading_text(reading: one_reading.Reading) -> str:
    """A reading's body, summary and metadata, lower case: where it names
    files ({static}/images/a.jpg, src, href, an `image:` key)."""
    texts = [reading.content or "", reading.summary or ""]
    _metadata_strings(reading.metadata, texts)
    return "\n".join(str(t) for t in texts).lower()


def _files(
    folder: str | os.PathLike[str], empty_folders: list[str] | None = None
) -> list[tuple[str, str]]:
    """(path, path relative to `folder` with '/') of every file below it,
    sorted; symlinked folders followed (a web server serves them), each real
    folder once. Empty folders (and links back up) are appended, relative,
    to `empty_folders` if given. os.walk and strings: rglob is slow."""
    top_folder = os.fspath(folder)
    found: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    for top, folders, names in os.walk(top_folder, followlinks=True):
        relative = top[len(top_folder) + 1 :].replace(os.sep, "/")
        prefix = relative + "/" if relative else ""
        info = os.stat(top)
        if (info.st_dev, info.st_ino) in seen:  # a link back up: a loop
            folders[:] = []
            if empty_folders is not None:  # its name is still read
                empty_folders.append(prefix)
            continue
        seen.add((info.st_dev, info.st_ino))
        folders.sort()
        if empty_folders is not None and not folders and not names and relative:
            empty_folders.append(prefix)
        found.extend((os.path.join(top, name), prefix + name) for name in sorted(names))
    return found


def _names_in(text: str) -> set[str]:
    """The file names a text points at, whole ("dog.jpg" is not in
    "hotdog.jpg"): the last part of every path-like token."""
    names: set[str] = set()
    for token in _REFERENCE.findall(text):
        name = unquote(token.rsplit("/", 1)[-1]).rstrip(".:!?")
        if "." in name:
            names.add(name)
    return names


def _date_words(settings: Mapping[str, Any]) -> str:
    """Month and day names, as the site's dates print them: in English, in
    this process's locale and in each of the site's LOCALE settings."""
    words: set[str] = set()
    locales = settings.get("LOCALE") or ()
    locales = [locales] if isinstance(locales, str) else list(locales)
    saved = locale.setlocale(locale.LC_TIME)
    try:
        for name in [saved, "C", *locales]:
            try:
                locale.setlocale(locale.LC_TIME, name)
            except locale.Error:
                continue
            for month in range(1, 13):
                words.add(datetime(2001, month, 1).strftime("%B %b"))
            for weekday in range(7):
                words.add(datetime(2001, 1, 1 + weekday).strftime("%A %a"))
    finally:
        locale.setlocale(locale.LC_TIME, saved)
    return " ".join(sorted(words))


def settings_text(settings: Mapping[str, Any]) -> list[str]:
    """Every string in a settings dict: words the site itself makes public."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item)

    walk(dict(settings))
    return found


# Settings with which the writer chose to show a private post's field on its
# locked page (plugins/hearth_private, plugins/hearth_warnings).
SHOWN_BY_SETTING = {
    "HEARTH_SHOW_PRIVATE_TITLES": "title",
    "HEARTH_WARNINGS_ON_LOCKED_PANEL": "warning",
}


def _state(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The state file's post ids and audience salts ({} if there is none)."""
    root = Path(settings["PATH"]).resolve().parent
    path = state_path(settings, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise AuditError(
            f"The state file {path} cannot be read ({err}), so the audit cannot "
            "tell where hidden posts live. Restore it from git."
        ) from None
    return data if isinstance(data, dict) else {}


def _post_ids(settings: Mapping[str, Any], sources: Iterable[str]) -> dict[str, str]:
    """{source path: id} of the state file's private posts among `sources`
    (the file names them by keyed tag only: hearth.state finds them)."""
    root = Path(settings["PATH"]).resolve().parent
    path = state_path(settings, root)
    try:
        return State.load(path, secrets_file=root / secrets.SECRETS_FILE_NAME).post_ids(
            sources
        )
    except StateError as err:
        raise AuditError(
            f"{err} (The audit cannot tell where hidden posts live without it.)"
        ) from None


@dataclasses.dataclass(frozen=True)
class _PublicSource:
    source_path: Path
    summary: object


class _Plan:
    """Everything the audit looks for in one output folder."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        readings: Sequence[one_reading.Reading],
        window: int,
        public_text: Iterable[object],
        shown: Sequence[str],
    ) -> None:
        """Needles of the secret readings; what is public is kept to judge
        the needles found, afterwards."""
        self.needles = needles = _Needles(window)
        # sha256 of a private-only file -> (source, name)
        self.digests: dict[str, tuple[str, str]] = {}
        # sha256 -> (private file, public file)
        self.same_as_public: dict[str, tuple[str, str]] = {}
        # "p/<id>/" of a draft or hidden post -> (source, status)
        self.own_pages: dict[str, tuple[str, str]] = {}
        # (audience, salt, iterations) from the state file
        self.salts: set[tuple[str, Any, Any]] = set()
        self.notes: list[str] = []
        self.reported_same: set[tuple[str, str]] = set()
        # (output path, private file, public file)
        self.same_found: list[tuple[str, str, str]] = []
        secret = [r for r in readings if r.is_secret]
        public = [r for r in readings if not r.is_secret]
        site_authors = {a.lower() for a in frontmatter.as_list(settings.get("AUTHOR"))}
        state = _state(settings)
        post_ids = _post_ids(settings, [r.relative_path for r in secret])
        for name, entry in (state.get("audiences") or {}).items():
            if isinstance(entry, dict) and "salt" in entry:
                self.salts.add((name, entry["salt"], entry.get("iterations")))
        for reading in secret:
            self._add_reading(reading, shown, site_authors)
            # Where hearth_private may have written it: the id the state file
            # holds, or p/<slug>/ for an explicit slug (a translation paired
            # with another post gets an id instead). Both are checked.
            candidates = [post_ids.get(reading.relative_path)]
            if reading.is_private and reading.metadata.get("slug"):
                candidates.append(reading.slug)
            addresses = [
                a for a in dict.fromkeys(candidates) if isinstance(a, str) and a
            ]
            if reading.status in SECRET_STATUSES:
                for address in addresses:
                    self.own_pages[f"p/{address}/"] = (
                        reading.relative_path,
                        reading.status,
                    )
            elif addresses and reading.is_private and reading.listing == "hidden":
                owner = needles.owner("hidden address", reading.relative_path)
                for address in addresses:
                    needles.add("hidden address", reading.relative_path, address)
                needles.allowed_in[owner] = tuple(f"p/{a}/" for a in addresses)
        self._add_files(settings, secret, public)
        self._settings = settings
        # Readings until freeze(); then only what costly_public reads again.
        self._public: list[Any] = public
        self._public_text = public_text
        needles.freeze(self.cheap_public(False), self.cheap_public(True))
        # Only the sources and summaries are read again (costly_public).
        self._public = [_PublicSource(r.source_path, r.summary) for r in public]

    def _add_reading(
        self, reading: one_reading.Reading, shown: Sequence[str], site_authors: set[str]
    ) -> None:
        add, source = self.needles.add, reading.relative_path
        # Fields the writer chose to show for posts of an audience (never for
        # drafts and hidden posts, which are not published at all).
        shown = shown if reading.is_private and reading.status == "published" else ()
        title = _words(reading.title)
        if "title" not in shown:
            add("title", source, reading.title)
        # A published private post with an explicit `slug:` is written at
        # p/<slug>/ (hearth_private warns that the address says what the slug
        # says): the writer chose to show that address, so its words are no
        # needle. Under `listing: hidden` the address itself stays secret
        # (the hidden-address needle below allows it on its own page only).
        chosen = (
            _words(str(reading.metadata["slug"]))
            if reading.is_private
            and reading.status == "published"
            and reading.metadata.get("slug")
            else None
        )
        for slug in (reading.slug, _DATE_PREFIX.sub("", PurePosixPath(source).stem)):
            # A slug made from a title the writer chose to show is shown too.
            if ("title" not in shown or _words(slug) != title) and (
                _words(slug) != chosen
            ):
                add("slug", source, slug)
        for tag in reading.tags:
            add("tag", source, tag)
        if reading.category:
            add("category", source, reading.category)
        if "warning" not in shown:
            for warning in reading.warnings:
                add("warning", source, warning)
        for author in reading.authors:
            if author.lower() not in site_authors:
                add("author", source, author)
        for html in (str(reading.summary or ""), reading.content):
            for text in _text_of_html(html):
                add("phrase", source, text, whole=False)
        # Any other header field (a subtitle, a description for an SEO
        # plugin, an `image:`): a template or plugin may print it.
        for key, value in reading.metadata.items():
            if key.lower() not in _NOT_SECRET_KEYS:
                strings: list[str] = []
                _metadata_strings(value, strings)
                for text in strings:
                    add("header field", source, text)

    def _add_files(
        self,
        settings: Mapping[str, Any],
        secret: list[one_reading.Reading],
        public: list[one_reading.Reading],
    ) -> None:
        """Static files only secret readings use: their names and bytes."""
        base = Path(settings["PATH"])
        sources = {str(r.source_path) for r in secret + public}
        files = [Path(p) for p, _ in _files(base) if p not in sources]
        if not files:
            return
        # The file names each reading names, read once: linear in the site.
        public_names = set().union(*(_names_in(_reading_text(r)) for r in public))
        secret_users: dict[str, str] = {}  # file name -> the first secret reading
        for reading in secret:
            for name in _names_in(_reading_text(reading)):
                secret_users.setdefault(name, reading.relative_path)
        static = [base / p for p in settings.get("STATIC_PATHS") or ()]
        by_digest_public: dict[str, str] = {}
        private_files: list[tuple[Path, str]] = []
        for path in files:
            name = path.name.lower()
            used_publicly = name in public_names
            if name in secret_users and not used_publicly:
                private_files.append((path, secret_users[name]))
            elif used_publicly or any(s in path.parents for s in static):
                # Published: a public post shows it, or Pelican copies it.
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                by_digest_public.setdefault(digest, path.relative_to(base).as_posix())
        for path, source in private_files:
            self.needles.add("attachment", source, path.name)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            relative = path.relative_to(base).as_posix()
            if digest in by_digest_public:
                # The same bytes are public under another name: the picture
                # is no secret (its name still is).
                self.same_as_public[digest] = (relative, by_digest_public[digest])
            else:
                self.digests[digest] = (source, relative)

    def cheap_public(self, paths: bool) -> Iterator[list[str]]:
        """Word lists of public text that costs nothing to read: settings,
        the dates the site prints, public posts' headers (as text, or as the
        words paths are made of)."""
        values = [str(t) for t in self._public_text]
        yield _words(" \n ".join(values))
        dates = _words(_date_words(self._settings))
        # Paths hold month or day names only if the site's URLs are made so.
        patterns = " ".join(
            str(v)
            for k, v in self._settings.items()
            if k.endswith(("_URL", "_SAVE_AS")) and isinstance(v, str)
        )
        if not paths or re.search(r"%[-#]?[BbAa]", patterns):
            yield dates
        for reading in self._public:
            strings = [reading.title, reading.slug, reading.category or ""]
            strings += [*reading.tags, *reading.authors, *reading.warnings]
            _metadata_strings(reading.metadata, strings)
            if paths:
                strings.append(reading.relative_path)
            yield _words(" \n ".join(strings))

    def costly_public(self, paths: bool) -> Iterator[list[str]]:
        """Word lists of the rest of what is public: public posts' sources,
        the theme's files (their text, or their paths)."""
        theme = self._settings.get("THEME")
        files: list[tuple[str, str]] = []
        if theme and Path(theme).is_dir():
            files = _files(theme)
        if paths:
            for _, relative in files:
                yield _words(relative)
            return
        for path, _ in files:
            with open(path, "rb") as handle:
                yield _words(surfaces.decode(handle.read())[0])
        for reading in self._public:
            try:
                raw = reading.source_path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                raw = ""
            yield _words(" \n ".join([str(reading.summary or ""), raw]))


# Envelopes ----------------------------------------------------------------------


class _Envelopes:
    """Finds envelopes that open with a documented demo passphrase.

    A key is derived once per (audience, salt, iterations), never per
    envelope; the salts in the state file are derived in the background
    while the files are read.
    """

    def __init__(self, salts: Iterable[tuple[str, Any, Any]]) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self._keys: dict[tuple[str, bytes, int], DemoKey] = {}
        for audience, salt, iterations in salts:
            self._key(audience, salt, iterations)

    def _key(self, audience: object, salt: object, iterations: Any) -> DemoKey | None:
        """A future of the demo key for this salt (None if it cannot be one)."""
        try:
            slot = (str(audience), _unb64(salt), int(iterations))
        except (TypeError, ValueError):
            return None
        if slot not in self._keys:
            self._keys[slot] = self._pool.submit(_demo_key, *slot)
        return self._keys[slot]

    def close(self) -> None:
        """Stop the derivations not started (a scan that failed needs none)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def open_all(self, text: str, url: str) -> tuple[set[str], str]:
        """(audiences whose demo key opens an envelope in `text`, the text
        without its envelopes).

        Only what the envelope module parses strictly as an envelope is cut
        out: base64 ciphertext, which holds no words, and would cost more to
        read than all the rest of a private page.
        """
        found: set[str] = set()
        kept: list[str] = []
        last = 0
        decoder = json.JSONDecoder()
        start = text.find(_ENVELOPE_START)
        while start != -1:
            try:
                data, end = decoder.raw_decode(text, start)
            except ValueError:
                start = text.find(_ENVELOPE_START, start + 1)
                continue
            sealed = text[start:end]
            entries = data.get("recipients") if isinstance(data, dict) else None
            opened, well_formed = self._opens(sealed, entries, url)
            found |= opened
            if well_formed:
                kept.append(text[last:start])
                last = end
            start = text.find(_ENVELOPE_START, end)
        kept.append(text[last:])
        return found, " ".join(kept)

    def _opens(self, sealed: str, entries: object, url: str) -> tuple[set[str], bool]:
        """(audiences whose demo key opens `sealed`, whether the envelope
        module parses it strictly): one decryption per envelope, mostly."""
        opened: set[str] = set()
        well_formed: bool | None = None
        for entry in entries if isinstance(entries, list) else ():
            try:
                audience = entry["audience"]
                future = self._key(audience, entry["salt"], entry["iterations"])
            except (KeyError, TypeError):
                continue
            key = future.result() if future is not None else None
            if key is None:
                continue
            try:
                envelope.decrypt(sealed, url, key, audience)
            except envelope.WrongKey:
                well_formed = True  # parsed; the key is not the demo one
                continue
            except envelope.EnvelopeError:
                # Damaged before the key (not an envelope) or after it (the
                # demo key opened it; the payload is bound to another
                # address): a random key tells which.
                if not _well_formed(sealed, entries):
                    return opened, False
            well_formed = True
            opened.add(audience)
        if well_formed is None:
            well_formed = isinstance(entries, list) and _well_formed(sealed, entries)
        return opened, well_formed


def _demo_key(audience: str, salt: bytes, iterations: int) -> bytes | None:
    try:
        return envelope.derive_key(secrets.demo_passphrase(audience), salt, iterations)
    except (TypeError, ValueError):
        return None


def _unb64(text: object) -> bytes:
    """Salt bytes from base64 or base64url, padded or not."""
    plain = str(text).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(plain + "=" * (-len(plain) % 4), validate=True)
    except binascii.Error as err:
        raise ValueError(str(err)) from None


def _well_formed(sealed: str, entries: Any) -> bool:
    """True if the envelope module parses `sealed` strictly: a random key is
    refused as a wrong key, not as a damaged envelope."""
    try:
        audience = entries[0]["audience"]
        envelope.decrypt(sealed, "/", os.urandom(32), audience)
    except envelope.WrongKey:
        return True
    except (envelope.EnvelopeError, KeyError, TypeError, ValueError, IndexError):
        return False
    return False


def _page_url(relative: str, prefix: str) -> str:
    folder, _, name = relative.rpartition("/")
    if name == "index.html":
        return f"{prefix}/{folder}/" if folder else f"{prefix}/"
    return f"{prefix}/{relative}"


# Scanning the output ------------------------------------------------------------


class _Scan:
    """One pass over the output: needles found, then judged against what is
    public, then findings with their paths masked."""

    def __init__(
        self,
        plan: _Plan,
        keyed: _Keyed,
        envelopes: _Envelopes,
        settings: Mapping[str, Any],
        clean: frozenset[str] = frozenset(),
    ) -> None:
        self.plan = plan
        # Digests of output files an earlier audit scanned clean for the
        # same needles (hearth.auditcache), and of those clean in this one.
        self.clean_before = clean
        self.clean_now: set[str] = set()
        self._hits = 0  # needles found and findings made so far
        self.files = 0
        self.needles = plan.needles
        self.keyed = keyed
        self.envelopes = envelopes
        self.findings: dict[tuple[str, str, str, str], Finding] = {}
        # (output path, surface, is a path) -> {needle key: run of words}
        self.found: dict[tuple[str, str, bool], dict[Key, Run]] = {}
        # needle key -> [owner index], filled in finish()
        self.owner_map: dict[Key, list[int]] = {}
        self.draft_folders = _draft_folders(settings)
        siteurl = str(settings.get("SITEURL") or "")
        self.prefix = re.sub(r"^[a-z]+://[^/]*", "", siteurl).rstrip("/")

    def add(
        self,
        path: str,
        surface: str,
        kind: str,
        source: str,
        *,
        digest: str = "",
        count: int = 1,
        note: str = "",
    ) -> None:
        """Record a finding (or add to the count of the same one)."""
        self._hits += 1
        key = (path, surface, kind, source)
        old = self.findings.get(key)
        if old is not None:
            count += old.count
            digest = min(digest, old.digest) if digest and old.digest else digest
        self.findings[key] = Finding(
            path, surface, kind, source, digest, count, "", note
        )

    def look(
        self, relative: str, surface: str, words: Sequence[str], *, paths: bool = False
    ) -> None:
        """Find the needles in a text's words; judged later, in finish()."""
        found = self.needles.find(words, paths=paths)
        if found:
            self._hits += 1
            self.found.setdefault((relative, surface, paths), {}).update(found)

    def name(self, relative: str) -> None:
        """Look for needles in an output path."""
        self.look(relative, FILE_NAME, _words(surfaces.path_text(relative)), paths=True)

    def file(self, path: str, relative: str) -> None:
        """Read one output file: its name, its copies, every view of its bytes."""
        self.files += 1
        self.name(relative)
        for folder in self.draft_folders:
            if relative.startswith(folder):
                self.add(
                    relative,
                    FILE_NAME,
                    "draft",
                    "",
                    note="a draft's page: this is a preview build (invoke build), "
                    "not a publish build (invoke build --publish)",
                )
        for own, (source, status) in self.plan.own_pages.items():
            if relative.startswith(own):
                self.add(
                    relative,
                    FILE_NAME,
                    status,
                    source,
                    note=f"the encrypted page of {source}, which is a {status} "
                    "post: only a preview build writes it",
                )
        size = os.path.getsize(path)
        if size > _MAX_FILE:
            self.add(
                relative,
                "file",
                "unreadable",
                "",
                note=f"the file is {size >> 20} MB, more than the audit reads",
            )
            return
        with open(path, "rb") as handle:
            data = handle.read()
        digest = hashlib.sha256(data).hexdigest()
        self._copies(relative, data, digest)
        # How a file is read depends on its name too (a.html.br is opened
        # as brotli, an envelope is opened for its page's address).
        seen = f"{digest} {relative}"
        if seen in self.clean_before:
            # These bytes, under this name, were read through view by view
            # for these same needles and held none: they would hold none now.
            self.clean_now.add(seen)
            return
        hits = self._hits
        try:
            for view_surface, member, text in surfaces.views(relative, data):
                self._view(relative, member, view_surface, text)
            if self._hits == hits:
                self.clean_now.add(seen)
        except surfaces.Unreadable as err:
            self.add(
                relative,
                surfaces.surface_of(relative, data),
                "unreadable",
                "",
                note=f"the audit cannot read all of it ({err}), so it cannot "
                "say that it holds no private text",
            )

    def _copies(self, relative: str, data: bytes, digest: str) -> None:
        copied = self.plan.digests.get(digest)
        if copied:
            source, name = copied
            self.add(
                relative,
                surfaces.surface_of(relative, data),
                "attachment",
                source,
                note=f"a copy of {name}, a file only {source} uses",
            )
        same = self.plan.same_as_public.get(digest)
        if same and same not in self.plan.reported_same:
            self.plan.reported_same.add(same)
            self.plan.same_found.append((relative, *same))

    def _view(self, relative: str, member: str, surface: str, text: str) -> None:
        if surface == surfaces.GPS:
            self.add(relative, IMAGE_METADATA, "GPS location", "")
            return
        if member != relative and surface == FILE_NAME:
            self.look(relative, f"{FILE_NAME} in an archive", _words(text), paths=True)
            return
        if member == relative:
            label = surface
        elif member.endswith(surfaces.DATA_URI):
            label = f"{surface} in a data: URI"
        else:
            label = f"{surface} in a compressed copy"
        if _ENVELOPE_START in text:
            url = _page_url(relative, self.prefix)
            demo, text = self.envelopes.open_all(text, url)
            for audience in sorted(demo):
                self.add(
                    relative,
                    surface,
                    "demo passphrase",
                    "",
                    note=f"an envelope for audience {audience!r} opens with the "
                    "public demo passphrase from README: this is a preview "
                    "build. Set a passphrase of your own and build with --publish",
                )
        if text:
            self.look(relative, label, _words(text))

    def finish(self) -> list[Finding]:
        """The findings: needles public text also holds dropped, per surface
        (page text or paths), and paths that carry a secret masked."""
        needles = self.needles
        public: dict[bool, set[Key]] = {}
        for paths in (False, True):
            keys: set[Key] = set()
            for (_, _, is_path), found in self.found.items():
                if is_path == paths:
                    keys.update(found)
            short = [k for k in keys if isinstance(k, tuple)]
            runs = [k for k in keys if isinstance(k, int)]
            public[paths] = (
                needles.public(short, runs, self.plan.costly_public(paths))
                if keys
                else set()
            )
        self.owner_map = needles.owners_of(
            set().union(*(found.keys() for found in self.found.values()))
        )
        secret_paths: dict[str, str] = {}
        for (relative, surface, paths), found in sorted(self.found.items()):
            secret_runs = self._secret(relative, found, public[paths])
            for owner, owner_runs in secret_runs.items():
                kind, source = needles.owners[owner]
                digests = sorted(self.keyed(r) for r in owner_runs)
                self.add(
                    relative,
                    surface,
                    kind,
                    source,
                    digest=digests[0],
                    count=len(owner_runs),
                )
            if secret_runs and surface == FILE_NAME:
                secret_paths[relative] = self._masked(relative, public[True])
        findings: list[Finding] = []
        for finding in self.findings.values():
            shown = secret_paths.get(finding.path, finding.path)
            findings.append(dataclasses.replace(finding, shown=shown))
        for relative, private, public_copy in self.plan.same_found:
            self.plan.notes.append(
                f"{secret_paths.get(relative, relative)}: the same bytes as "
                f"{private}, which only private posts use, and as {public_copy}, "
                "which public posts use: that picture is public, so this is "
                "not a leak. Give the private post its own copy if it should "
                "not be."
            )
        return findings

    def _secret(
        self, relative: str, found: Mapping[Key, Run], public: set[Key]
    ) -> dict[int, list[Run]]:
        """{owner: [runs]} of the needles found that are neither public nor
        allowed in this file (a hidden post's address on its own page)."""
        runs: dict[int, list[Run]] = {}
        missing = [k for k in found if k not in self.owner_map]
        if missing:
            self.owner_map.update(self.needles.owners_of(missing))
        for key, run in found.items():
            if key in public:
                continue
            for owner in self.owner_map.get(key, ()):
                allowed = self.needles.allowed_in.get(owner)
                if allowed and relative.startswith(allowed):
                    continue
                runs.setdefault(owner, []).append(run)
        return runs

    def _masked(self, relative: str, public: set[Key]) -> str:
        """The path with each part that carries a secret replaced by a digest.

        A path such as tag/<secret>.html is itself the leak; printing it would
        copy the secret into a terminal or a CI log.
        """
        parts: list[str] = []
        for part in relative.split("/"):
            found = dict(self.needles.find(_words(unquote(part)), paths=True))
            runs = self._secret(relative, found, public)
            if runs:
                digest = min(self.keyed(r) for rs in runs.values() for r in rs)
                suffix = PurePosixPath(part).suffix
                parts.append(f"[secret #{digest}]{suffix if len(suffix) <= 6 else ''}")
            else:
                parts.append(part)
        masked = "/".join(parts)
        return masked if masked != relative else "[a path that carries a secret]"


def _draft_folders(settings: Mapping[str, Any]) -> list[str]:
    """Where Pelican writes drafts (its default, and these settings')."""
    from pelican.settings import DEFAULT_CONFIG

    folders: set[str] = set()
    for key in (
        "DRAFT_SAVE_AS",
        "DRAFT_PAGE_SAVE_AS",
        "DRAFT_LANG_SAVE_AS",
        "DRAFT_PAGE_LANG_SAVE_AS",
    ):
        for value in (settings.get(key), DEFAULT_CONFIG.get(key)):
            folder = str(value or "").split("{", 1)[0]
            if "/" in folder:
                folders.add(folder[: folder.rindex("/") + 1])
    return sorted(folders)


# The audit ----------------------------------------------------------------------


def audit_settings(
    settings: Mapping[str, Any],
    output_path: str | os.PathLike[str],
    *,
    window: int = DEFAULT_WINDOW,
    public_text: Iterable[object] | None = None,
    readings: Sequence[one_reading.Reading] | None = None,
    notes: list[str] | None = None,
    cache: auditcache.AuditCache | str | os.PathLike[str] | None = None,
    stats: dict[str, Any] | None = None,
) -> list[Finding]:
    """Scan a built site for text of private, draft and hidden posts.

    settings: Pelican settings (pelican.settings.read_settings), with an
    absolute PATH; output_path: the built site to check; window: how many
    words of a body make a distinctive phrase; public_text: strings known
    to be public (default: every string of the settings); readings: what
    hearth.reading.read_site(settings) returns, if the caller has it;
    notes: a list to append remarks that are not leaks to; cache: a folder
    (or hearth.auditcache.AuditCache) where readings of unchanged sources
    and digests of output files scanned clean are kept between runs (None:
    read and scan everything); stats: a dict to put timings and cache
    counts in.
    Return the findings, sorted; an empty list means no leak was found.
    """
    started = time.perf_counter()
    if cache is not None and not isinstance(cache, auditcache.AuditCache):
        cache = auditcache.AuditCache(cache)
    if cache is not None and _inside(cache.folder, output_path):
        # A cache holds private text: never beside what goes online.
        logger.warning(
            "The leak audit does not keep its cache in %s, which is inside the "
            "folder it audits (%s): set CACHE_PATH to a folder outside it.",
            cache.folder,
            output_path,
        )
        cache = None
    output_path = Path(output_path)
    if not output_path.is_dir() or not any(output_path.iterdir()):
        raise AuditError(
            f"There is no built site in {output_path} to audit: build it first "
            "(invoke build --publish)."
        )
    if not Path(settings["PATH"]).is_dir():
        raise AuditError(
            f"The content folder {settings['PATH']} does not exist: pass the "
            "folder that holds the posts (PATH in pelicanconf.py)."
        )
    if readings is None:
        readings = _read_site(settings, cache)
    read = time.perf_counter()
    if public_text is None:
        public_text = settings_text(settings)
    shown = [v for k, v in SHOWN_BY_SETTING.items() if settings.get(k)]
    plan = _Plan(settings, readings, window, public_text, shown)
    sources = len(readings)
    readings = None  # what the plan needs it has kept: let the rest go
    envelopes = _Envelopes(plan.salts)
    fingerprint = None
    if cache is not None:
        siteurl = str(settings.get("SITEURL") or "")
        fingerprint = plan.needles.fingerprint()
        # What else decides what a view holds: the code, the window, the
        # salts demo keys are derived for and the address envelopes are for.
        fingerprint["base"] = auditcache._digest(
            auditcache.code_digest(auditcache.SCAN_CODE, auditcache.SCAN_LIBRARIES),
            window,
            repr(sorted(map(repr, plan.salts))),
            siteurl,
        )
    clean = (
        cache.clean(fingerprint)
        if cache is not None and fingerprint is not None
        else frozenset()
    )
    scan = _Scan(plan, _Keyed(), envelopes, settings, clean)
    try:
        empty: list[str] = []
        for path, relative in _files(output_path, empty):
            if os.path.isfile(path):
                scan.file(path, relative)
            else:  # a broken link still has a name
                scan.name(relative)
        for relative in empty:  # an empty folder has a name too
            scan.name(relative)
    finally:
        envelopes.close()
    findings = scan.finish()
    if cache is not None and fingerprint is not None:
        cache.keep_clean(fingerprint, scan.clean_now)
    if stats is not None:
        stats.update(
            read_seconds=read - started,
            seconds=time.perf_counter() - started,
            readings_reused=cache.hits if cache is not None else 0,
            readings_read=cache.misses if cache is not None else sources,
            files_reused=len(clean & scan.clean_now),
            files_scanned=scan.files - len(clean & scan.clean_now),
        )
    for note in plan.notes:
        logger.warning("%s", note)
    if notes is not None:
        notes.extend(plan.notes)
    return sorted(
        findings, key=lambda f: (f.path, f.surface, f.kind, f.source, f.digest)
    )


def _inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    inner, outer = Path(path).resolve(), Path(folder).resolve()
    return inner == outer or outer in inner.parents


def pelican_settings(
    settings: Mapping[str, Any], root: str | os.PathLike[str] = "."
) -> dict[str, Any]:
    """A settings dict as Pelican's read_settings makes it, paths from `root`."""
    from pelican.settings import read_settings

    root = Path(root)
    override = dict(settings)
    override["PATH"] = str((root / settings["PATH"]).resolve())
    if settings.get("THEME") and not Path(settings["THEME"]).is_absolute():
        candidate = root / settings["THEME"]
        if candidate.is_dir():
            override["THEME"] = str(candidate.resolve())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        read: dict[str, Any] = read_settings(None, override=override)
        return read
    finally:
        os.chdir(cwd)


def audit_site(
    settings: Mapping[str, Any],
    output_path: str | os.PathLike[str],
    root: str | os.PathLike[str] = ".",
    **options: Any,
) -> list[Finding]:
    """audit_settings() a built site with what its Pelican settings say.

    settings: the site's settings dict (PATH, THEME, ...; relative paths are
    taken from `root`); output_path: the folder about to be published.
    Keyword options are audit_settings()'s; the cache is kept in Hearth's
    cache folder (CACHE_PATH/hearth/audit) unless `cache` is given (None:
    no cache).
    """
    settings = pelican_settings(settings, root)
    options.setdefault("cache", cache_folder(settings))
    return audit_settings(settings, Path(root) / output_path, **options)


def cache_folder(settings: Mapping[str, Any]) -> Path:
    """Where the audit keeps its cache: CACHE_PATH/hearth/audit."""
    return Path(settings["CACHE_PATH"]) / "hearth" / "audit"


def audit(
    content_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    theme_path: str | os.PathLike[str] | None = None,
    public_text: Iterable[object] = (),
    **options: Any,
) -> list[Finding]:
    """audit_settings() with Pelican's default settings for a content folder.

    For a site without a settings file: content_path is PATH, theme_path the
    theme, public_text strings known to be public besides the settings.
    """
    override: dict[str, Any] = {"PATH": str(Path(content_path).resolve())}
    override["HEARTH_AUDIENCES"] = _AnyAudience()
    if theme_path is not None:
        override["THEME"] = str(Path(theme_path).resolve())
    settings = pelican_settings(override)
    return audit_settings(
        settings,
        output_path,
        public_text=[*settings_text(settings), *public_text],
        **options,
    )
