"""The one reading of a site's content: what Pelican reads, read strictly.

The build (plugins/hearth_frontmatter), the leak audit, `invoke posts`,
`new-post` and `unlock-link` all read posts through this module, so they
cannot disagree about who may read a post. Files are found by Pelican's own
generator code and read by Pelican's own readers (Markdown with both header
styles through pelican-yaml-metadata, reStructuredText, HTML), wrapped so that
a header mistake that could change who sees a post is an error, not a guess:

- a key nobody knows (a typo, a plural) stops a publish build and warns in a
  preview; a near-miss of `audience`, `listing` or `status` stops every build;
- a key given twice, or `audience`/`status`/`listing` left empty, stops it;
- header lines that a blank line pushed into the body stop it;
- YAML anchors and aliases are refused (no header can be a bomb).

Every message names the file and the line (counted from 1, as editors count),
says what is wrong and how to fix it.
"""

import contextlib
import copy
import datetime as dt
import difflib
import functools
import itertools
import logging
import os
import re
from collections.abc import (
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docutils.nodes
import docutils.utils
import yaml
from markdown import Markdown
from markdown.extensions.meta import BEGIN_RE, END_RE, META_MORE_RE, META_RE
from pelican.contents import Article, Page, SkipStub
from pelican.generators import Generator
from pelican.plugins import signals
from pelican.plugins.yaml_metadata.yaml_metadata import (
    HEADER_RE,
    YAMLMetadataReader,
    _convert_py_to_meta,
)
from pelican.readers import HTMLReader, MarkdownReader, Readers, RstReader
from pelican.utils import get_date, posixize_path

from hearth import frontmatter

logger = logging.getLogger(__name__)

# Pelican's documented metadata (docs/content.rst, "File metadata"), plus
# `keywords`, which the HTML reader turns into tags.
PELICAN_KEYS = frozenset(
    {
        "title",
        "date",
        "modified",
        "tags",
        "keywords",
        "category",
        "slug",
        "author",
        "authors",
        "summary",
        "lang",
        "translation",
        "status",
        "template",
        "save_as",
        "url",
    }
)
# <meta name=...> that HTML pages carry for browsers, not for Pelican.
HTML_META_NAMES = frozenset(
    {
        "viewport",
        "description",
        "generator",
        "robots",
        "referrer",
        "theme-color",
        "color-scheme",
        "application-name",
    }
)
# The keys that decide who sees a post: a near-miss or an empty value of one
# of these stops every build, preview included.
STRICT_KEYS = ("audience", "listing", "status")
STATUSES = ("published", "draft", "hidden", "skip")
EXTRA_KEYS_SETTING = "HEARTH_EXTRA_KEYS"
DEFAULT_AUDIENCE_SETTING = "HEARTH_DEFAULT_AUDIENCE"
# Longest file name most file systems allow, in bytes.
NAME_MAX = 255

_EMPTY_FIX = {
    "audience": "write 'audience: public' for everyone, or name who may read it",
    "status": "write 'status: draft', 'status: published' or 'status: hidden'",
    "listing": "write 'listing: hidden' or 'listing: locked'",
}
# A body line that reads like a header line: `Key: value`, a little looser
# than Markdown's own pattern so that `Audience : friends` is caught too.
_LOOSE_KEY = re.compile(r"^[ ]{0,3}(?P<key>[A-Za-z][A-Za-z0-9_ -]*?)[ \t]*:(?:\s|$)")
_RST_FIELD = re.compile(r"^\s*:(?P<key>[^:\n`]+):(?:\s|$)")
_YAML_NULL = "tag:yaml.org,2002:null"


class ReadingError(ValueError):
    """A file, or a setting, that cannot be read safely; the message says why."""


@dataclass(frozen=True)
class Reading:
    """One article or page as Pelican reads it, checked strictly."""

    source_path: Path  # absolute path as Pelican saw it (symlinks not resolved)
    relative_path: str  # relative to settings["PATH"], '/' separators
    kind: str  # "article" or "page"
    title: str = ""
    slug: str = ""
    date: dt.datetime | None = None
    status: str = "published"  # "published", "draft" or "hidden"
    audience: tuple[str, ...] = ()  # () = public
    listing: str = frontmatter.DEFAULT_LISTING
    warnings: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: str | None = None
    authors: tuple[str, ...] = ()
    summary: str | None = None
    content: str = ""  # rendered body HTML ("" when error)
    metadata: dict[str, Any] = field(default_factory=dict)  # all Pelican's metadata
    error: str | None = None  # one writer-facing message: file, line, what, fix
    # Added after the first version: what a preview build warns about.
    notes: tuple[str, ...] = ()

    @property
    def is_private(self) -> bool:
        """Whether it has an audience (is encrypted when published)."""
        return bool(self.audience)

    @property
    def is_secret(self) -> bool:
        """Must never be public in the clear (a broken file counts: fail closed)."""
        return (
            self.is_private
            or self.status in ("draft", "hidden")
            or self.error is not None
        )


# Settings ----------------------------------------------------------------------


# The settings known_keys reads; its answer is kept while these are unchanged.
_KEY_SETTINGS = (
    "FORMATTED_FIELDS",
    EXTRA_KEYS_SETTING,
    "DEFAULT_METADATA",
    "EXTRA_PATH_METADATA",
    "FILENAME_METADATA",
    "PATH_METADATA",
)
_known_cache: dict[tuple[int, str], tuple[list[Any], frozenset[str]]] = {}


def known_keys(settings: Mapping[str, Any], style: str = "md") -> frozenset[str]:
    """Every header key a post may use with these settings.

    Asked once or twice per file: the answer is kept per settings object and
    style, and given again only while the settings it reads compare equal to
    a copy taken when it was made (a plugin that changes one mid-build gets
    a fresh answer).
    """
    key = (id(settings), style)
    values = [settings.get(name) for name in _KEY_SETTINGS]
    kept = _known_cache.get(key)
    if kept is not None and kept[0] == values:
        return kept[1]
    keys = frozenset(_known_keys(settings, style))
    if len(_known_cache) > 64:
        _known_cache.clear()
    _known_cache[key] = (copy.deepcopy(values), keys)
    return keys


def _known_keys(settings: Mapping[str, Any], style: str) -> set[str]:
    keys = set(PELICAN_KEYS) | set(frontmatter.HEARTH_KEYS)
    keys |= {str(k).lower() for k in settings.get("FORMATTED_FIELDS") or ()}
    extra = settings.get(EXTRA_KEYS_SETTING) or ()
    if isinstance(extra, str):
        extra = frontmatter.as_list(extra)
    keys |= {str(k).lower() for k in extra}
    # Keys the writer already gives through settings may be set per post too.
    keys |= {str(k).lower() for k in settings.get("DEFAULT_METADATA") or {}}
    for meta in (settings.get("EXTRA_PATH_METADATA") or {}).values():
        keys |= {str(k).lower() for k in meta}
    for name in ("FILENAME_METADATA", "PATH_METADATA"):
        pattern = settings.get(name)
        if pattern:
            keys |= {k.lower() for k in re.compile(pattern).groupindex}
    if style == "html":
        keys |= HTML_META_NAMES
    return keys


def apply_default_audience(settings: dict[str, Any]) -> dict[str, Any]:
    """Make HEARTH_DEFAULT_AUDIENCE Pelican's DEFAULT_METADATA audience.

    Pelican documents DEFAULT_METADATA as the way to give every post a value
    its header may override, and its readers apply it in order (default,
    then path metadata, then the header), so a post says `audience: public`
    to be public. Changes `settings` in place; raises ReadingError for a
    default that is not a declared audience.
    """
    default = settings.get(DEFAULT_AUDIENCE_SETTING)
    meta = dict(settings.get("DEFAULT_METADATA") or {})
    known = settings.get("HEARTH_AUDIENCES") or {}
    try:
        if "audience" in meta:
            given = frontmatter.audience_names(
                meta["audience"], known, "DEFAULT_METADATA['audience']"
            )
        if default is None:
            return settings
        names = frontmatter.audience_names(default, known, DEFAULT_AUDIENCE_SETTING)
    except frontmatter.FrontMatterError as err:
        raise ReadingError(f"{err} (in pelicanconf.py)") from None
    if "audience" in meta:
        if given != names:
            raise ReadingError(
                f"pelicanconf.py sets both {DEFAULT_AUDIENCE_SETTING} and "
                "DEFAULT_METADATA['audience'], differently; keep only "
                f"{DEFAULT_AUDIENCE_SETTING}."
            )
        return settings
    if names:
        meta["audience"] = ", ".join(names)
        settings["DEFAULT_METADATA"] = meta
    return settings


# Reading a file's text ---------------------------------------------------------


# "//", "/./" or "/../" anywhere, or "/." or "/.." at the end.
_UNNORMAL = re.compile(r"//|/\.\.?(?:/|$)")


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as the writer knows it: relative to here when it is below here."""
    return _shown_from(str(path), os.getcwd())


@functools.lru_cache(maxsize=4096)
def _shown_from(text: str, here: str) -> str:
    # Every message about a file names it, and a file is named several times
    # per build: relpath is worth keeping (per folder the build runs from).
    # A normalised absolute path (as Pelican's are) is cut without relpath.
    below = here.rstrip("/") + "/"
    if (
        os.sep == "/"
        and text.startswith("/")
        and not text.endswith("/")
        and text != below[:-1]
        and not _UNNORMAL.search(text)
        and not _UNNORMAL.search(below)
    ):
        return text[len(below) :] if text.startswith(below) else text
    try:
        relative = os.path.relpath(text, here)
    except ValueError:
        return text
    outside = relative == os.pardir or relative.startswith(os.pardir + os.sep)
    return text if outside else relative


def text_of(source_path: str | os.PathLike[str]) -> str:
    """The text Pelican reads (UTF-8, BOM dropped, CR and CRLF line ends as
    \\n), or ReadingError saying why it cannot be read."""
    try:
        with open(source_path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        shown = shown_path(source_path)
        raise ReadingError(f"{shown}: cannot be read ({err.strerror}).") from None
    if b"\x00" in data:
        shown = shown_path(source_path)
        raise ReadingError(
            f"{shown}: this is not a text file (it holds binary data). Move it "
            "out of the content folder, or into the images folder if it is one."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        shown = shown_path(source_path)
        line = data.count(b"\n", 0, err.start) + 1
        raise ReadingError(
            f"{shown}, line {line}: this is not UTF-8 text (byte "
            f"0x{data[err.start]:02x}). Save the file as UTF-8 in your editor "
            "(often 'Save with encoding' or 'Reopen with encoding')."
        ) from None
    if not text or text.isspace():
        shown = shown_path(source_path)
        raise ReadingError(
            f"{shown}: the file is empty. Write a header (a title and a date) "
            "and some text, or delete the file."
        )
    if "\r" in text:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# Headers: what each reader takes as header lines, with line numbers ------------


@dataclass
class _Entry:
    key: str  # lower case
    line: int  # 1-based, in the file
    value: object  # as written (native, rst, html) or as YAML constructs it
    spelled: str  # the key as the writer wrote it
    null: bool = False


@dataclass
class _Header:
    style: str  # "native", "yaml", "rst", "html"
    entries: list[_Entry] = field(default_factory=list)
    # Body lines that read as header lines: (line, key, text, why).
    stray: list[tuple[int, str, str, str]] = field(default_factory=list)


def _quoted(key: str, line: str) -> str:
    """A body line as a message may quote it: a title or text could be secret.

    Only the value of a key that names who may read (audience, listing,
    status) is shown; any other is left out.
    """
    if key.removesuffix("s") in STRICT_KEYS:
        return line.strip()
    return line.split(":", 1)[0].strip() + ": ..."


def _stray_scan(
    lines: Sequence[str], start: int, offset: int, why: str
) -> tuple[list[tuple[int, str, str, str]], int]:
    """Header-like lines at the start of the body (from lines[start]), and
    the index of the last line it looked at."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index > start and why == "ended":
        why = "blank"
    found: list[tuple[int, str, str, str]] = []
    while index < len(lines):
        match = _LOOSE_KEY.match(lines[index].expandtabs(4))
        if not match:
            break
        key = " ".join(match["key"].split()).lower()
        found.append((offset + index + 1, key, _quoted(key, lines[index]), why))
        index += 1
    return found, index


# A header and the lines after it fit in the first lines of a file: only
# those are split off (a post's text is not cut into lines to read its head).
_HEAD_LINES = 200


def _native_header(text: str) -> _Header:
    """Python-Markdown's meta extension, as Pelican uses it, line by line."""
    lines = text.split("\n", _HEAD_LINES)
    header, last = _native_lines(lines)
    if len(lines) > _HEAD_LINES and last >= _HEAD_LINES:
        # It reached the unsplit rest: read the whole text by lines.
        header, _ = _native_lines(text.split("\n"))
    return header


def _native_lines(lines: Sequence[str]) -> tuple[_Header, int]:
    """The header in these lines, and the index of the last one looked at."""
    header = _Header("native")
    index, entry = 0, None
    if lines and BEGIN_RE.match(lines[0]):
        index = 1
    why = "ended"
    while index < len(lines):
        line = lines[index].expandtabs(4)
        if not line.strip():
            why = "blank"
            index += 1
            break
        if END_RE.match(line):
            why = "closed"
            index += 1
            break
        found = META_RE.match(line)
        if found:
            entry = _Entry(
                found["key"].lower().strip(),
                index + 1,
                found["value"].strip(),
                found["key"],
            )
            header.entries.append(entry)
        elif entry and META_MORE_RE.match(line):
            entry.value = f"{entry.value} {line.strip()}"
        else:
            why = "ended"
            break
        index += 1
    header.stray, last = _stray_scan(lines, index, 0, why)
    return header, last


class _AnchorRefused(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__(mark)
        self.mark = mark


class _HeaderLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases as it composes.

    An alias repeats a node without copying it; a few lines of aliases of
    aliases make a structure of billions of values (the "billion laughs"),
    and a header has no use for them.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _AnchorRefused(event.start_mark)
        return super().compose_node(parent, index)


def _yaml_problem(
    err: yaml.YAMLError, line: int, shown: str, source_lines: Sequence[str]
) -> str:
    """A writer's message for a YAML error at `line` of the file."""
    problem = getattr(err, "problem", None) or str(err)
    where = f"{shown}, line {line}"
    text = source_lines[line - 1].strip() if 0 < line <= len(source_lines) else ""
    key = text.split(":", 1)[0].strip() if ":" in text else ""
    if "mapping values are not allowed" in problem:
        # A made-up example: the writer's own title may be a secret one.
        example = f'{key}: "Week 3: better"' if key and " " not in key else ""
        noun = key.lower() if example else "value"
        return (
            f"{where}: the value of '{key or 'this key'}' has a colon in it, so "
            f"YAML cannot read it: a {noun} with a colon needs quotes"
            + (f", like {example}." if example else ".")
        )
    if "'\\t'" in problem or "tab" in problem:
        return f"{where}: YAML does not allow tabs here; indent with spaces."
    if "cannot start any token" in problem:
        return (
            f"{where}: a value that starts with {problem.split()[2]} needs "
            f'quotes in YAML, like {key or "title"}: "...".'
        )
    return (
        f"{where}: the YAML front-matter is malformed ({problem}). Fix the "
        "header: put a value in quotes if it holds ':', '#', quotes or "
        "brackets, close every '[', and keep one 'key: value' per line "
        "between the '---' lines."
    )


def _yaml_header(text: str, match: re.Match[str], shown: str) -> _Header:
    """The YAML front-matter's keys, lines and values, refusing aliases."""
    offset = text.count("\n", 0, match.start("metadata"))
    source = match.group("metadata")
    source_lines = text.split("\n", offset + source.count("\n") + 1)

    def line_of(mark: Any) -> int:
        return int(offset + mark.line + 1)

    loader = _HeaderLoader(source)
    try:
        try:
            node = loader.get_single_node()
        except _AnchorRefused as err:
            raise ReadingError(
                f"{shown}, line {line_of(err.mark)}: YAML anchors and aliases "
                "('&name', '*name') are not allowed in a header. Write the "
                "value out in full."
            ) from None
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            if "<stream end>" in str(err.problem) and err.context_mark:
                mark = err.context_mark  # an unclosed '[' or quote: where it opens
            line = line_of(mark) if mark else offset + 1
            raise ReadingError(_yaml_problem(err, line, shown, source_lines)) from None
        except yaml.YAMLError as err:
            raise ReadingError(_yaml_problem(err, offset + 1, shown, [])) from None
        if not isinstance(node, yaml.MappingNode):
            raise ReadingError(
                f"{shown}, line {offset + 1}: the YAML front-matter is not a "
                "list of 'key: value' lines. Write one 'key: value' per line "
                "between the '---' lines."
            )
        header = _Header("yaml")
        for key_node, value_node in node.value:
            line = line_of(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode) or not key_node.value:
                raise ReadingError(
                    f"{shown}, line {line}: a header key must be a plain word, "
                    "like 'title'."
                )
            try:
                value = loader.construct_object(value_node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError, TypeError) as err:
                problem = getattr(err, "problem", None) or err
                raise ReadingError(
                    f"{shown}, line {line}: the value of '{key_node.value}' "
                    f"cannot be read ({problem}). Put it in quotes, or for a "
                    "date write it like 2026-01-31 18:00."
                ) from None
            header.entries.append(
                _Entry(
                    key_node.value.lower().strip(),
                    line,
                    value,
                    key_node.value,
                    null=value_node.tag == _YAML_NULL,
                )
            )
    finally:
        loader.dispose()
    body_start = offset + source.count("\n") + 1  # index of the line after '---'
    lines = text.split("\n")
    header.stray, _ = _stray_scan(lines, body_start, 0, "yaml")
    return header


def _rst_header(document: Any, text: str) -> _Header:
    """The docinfo fields Pelican reads, and field lists left in the body."""
    lines = text.split("\n")
    field_lines: dict[str, list[int]] = {}
    for number, line in enumerate(lines, 1):
        found = _RST_FIELD.match(line)
        if found:
            field_lines.setdefault(found["key"].strip().lower(), []).append(number)
    used: dict[str, int] = {}

    def line_of(name: str) -> int:
        numbers = field_lines.get(name) or [0]
        count = used.get(name, 0)
        used[name] = count + 1
        return numbers[min(count, len(numbers) - 1)]

    header = _Header("rst")
    docinfo = list(document.findall(docutils.nodes.docinfo))
    for info in docinfo:
        for element in info.children:
            if element.tagname == "field":
                name = element.children[0].astext()
                value = element.children[1].astext()
            else:
                name = element.tagname
                value = element.astext()
            key = name.lower().strip()
            header.entries.append(_Entry(key, line_of(key), value, name))
    for field_list in document.findall(docutils.nodes.field_list):
        if any(field_list in info.children for info in docinfo):
            continue
        for element in field_list.children:
            name = element.children[0].astext()
            key = name.lower().strip()
            header.stray.append((line_of(key), key, f":{name}:", "rst"))
    return header


# Judging a header ----------------------------------------------------------------


# 2026-01-31, 2026-01-31 18:00 or 2026-01-31T18:00:05: how nearly every
# header writes a date, and one dateutil reads whenever datetime does. Any
# other text, or one datetime refuses (dateutil may still read "2026-13-01"),
# goes to Pelican's own get_date.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def _check_date(text: str) -> None:
    """Raise ValueError if Pelican's get_date cannot read `text`."""
    if _ISO_DATE.fullmatch(text):
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return
    get_date(text)


def _near(key: str, candidates: Iterable[str], cutoff: float) -> str | None:
    if key.rstrip("s") in candidates:
        return key.rstrip("s")
    found = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def _empty(entry: _Entry) -> bool:
    if entry.null or entry.value is None:
        return True
    if isinstance(entry.value, str):
        return not entry.value.strip()
    if isinstance(entry.value, (list, tuple)):
        return not frontmatter.as_list(entry.value)
    return False


def _value_problem(
    entry: _Entry, where: str, settings: Mapping[str, Any]
) -> str | None:
    """A message if a known key's value could change who sees the post."""
    known = settings.get("HEARTH_AUDIENCES") or {}
    try:
        if entry.key == "audience":
            frontmatter.audience_names(entry.value, known, where)
        elif entry.key == "listing":
            frontmatter.listing_mode(entry.value, where)
    except frontmatter.FrontMatterError as err:
        return str(err)
    if entry.key == "status":
        status = str(entry.value).strip()
        if status not in STATUSES:
            return (
                f"{where}: status {status!r} is not one Pelican knows; write "
                "one of published, draft, hidden (in lower case)."
            )
    if entry.key in ("date", "modified") and not isinstance(entry.value, dt.date):
        try:
            _check_date(str(entry.value).strip().replace("_", " "))
        except (ValueError, OverflowError, TypeError):
            return (
                f"{where}: '{entry.key}' {str(entry.value)!r} is not a date "
                "Pelican can read. Write it like 2026-01-31 or 2026-01-31 18:00."
            )
    return None


def judge(
    shown: str, header: _Header, settings: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """(errors, notes) for a header: errors stop the build, notes warn."""
    known = known_keys(settings, "html" if header.style == "html" else "md")
    publish = bool(settings.get("HEARTH_PUBLISH"))
    errors: list[str] = []
    notes: list[str] = []
    seen: dict[str, _Entry] = {}
    for entry in header.entries:
        where = f"{shown}, line {entry.line}"
        if entry.key in seen:
            first = seen[entry.key]
            errors.append(
                f"{where}: '{entry.spelled}' is given twice (lines {first.line} "
                f"and {entry.line}); Pelican would keep only one of them. Delete "
                "the one that is wrong."
            )
            continue
        seen[entry.key] = entry
        if entry.key not in known:
            strict = _near(entry.key, STRICT_KEYS, 0.7)
            nearest = strict or _near(entry.key, known, 0.6)
            hint = f" Did you mean '{nearest}'?" if nearest else ""
            message = (
                f"{where}: '{entry.spelled}' is not a header key Hearth knows, "
                f"so Pelican would ignore it.{hint} Correct it, or if it is a "
                f"key of your own (for a theme or plugin) add it to "
                f"{EXTRA_KEYS_SETTING} in pelicanconf.py."
            )
            if strict or publish:
                errors.append(message)
            else:
                notes.append(message + " A publish build stops on it.")
            continue
        if entry.key in STRICT_KEYS and _empty(entry):
            errors.append(
                f"{where}: '{entry.spelled}' has no value, which Pelican would "
                f"read as if the line were not there; {_EMPTY_FIX[entry.key]}."
            )
            continue
        problem = _value_problem(entry, where, settings)
        if problem:
            errors.append(problem)
    for line, key, text, why in header.stray:
        # Known keys only (and a plural of audience, listing or status): a
        # line of the writer's prose like "State: tired" is not a header.
        if key not in known and key.removesuffix("s") not in STRICT_KEYS:
            continue
        where = f"{shown}, line {line}"
        if why == "blank":
            fix = (
                "because of the blank line above it, so Pelican reads it as "
                "text of the post. Remove the blank line above it so that it "
                "is part of the header."
            )
        elif why == "yaml":
            fix = (
                "below the closing '---' of the front-matter, so Pelican reads "
                "it as text of the post. Move it above that line."
            )
        elif why == "html":
            fix = (
                "because it is outside the <head>, where Pelican does not read "
                "<meta> tags. Move it into the <head>."
            )
        elif why == "rst":
            fix = (
                "not in the field list right under the title, so Pelican reads "
                "it as text of the post. Move it up with the other fields, "
                "with no blank line or text between them."
            )
        else:
            fix = (
                "because it is not a 'Key: value' line, so the header ended "
                "above it and Pelican reads it as text of the post. Write it "
                "with no space before the colon, like 'Audience: friends'."
            )
        errors.append(f"{where}: '{text}' is not in the header {fix}")
        break
    return errors, notes


# Pelican's readers, made strict --------------------------------------------------


class _Strict:
    """Check a file's header before Pelican's own reader reads it."""

    # The build logs what a preview only warns about; read_site collects it.
    log_notes = True

    settings: dict[str, Any]
    notes: list[str]

    def _strictly(self, source_path: str, header: _Header) -> None:
        errors, notes = judge(shown_path(source_path), header, self.settings)
        self.notes = notes
        if self.log_notes:
            for note in notes:
                logger.warning("%s", note)
        if errors:
            raise ReadingError("\n".join(errors))

    def _pelican(self, read: Callable[[str], Any], source_path: str) -> Any:
        """Pelican's read, with its surprises turned into a message."""
        try:
            return read(source_path)
        except ReadingError:
            raise
        except Exception as err:
            raise ReadingError(
                f"{shown_path(source_path)}: Pelican could not read this file "
                f"({type(err).__name__}: {err}). Check its header."
            ) from err


# Markdown's own extensions whose reset() clears all a document leaves in
# them (Markdown 3.11; tests/test_reading.py converts every sample file both
# ways), and the modules of Markdown's core processors.
_RESETTABLE_EXTENSIONS = frozenset(
    [
        "abbr",
        "admonition",
        "attr_list",
        "codehilite",
        "def_list",
        "extra",
        "fenced_code",
        "footnotes",
        "legacy_attrs",
        "legacy_em",
        "md_in_html",
        "meta",
        "nl2br",
        "sane_lists",
        "smarty",
        "tables",
        "toc",
        "wikilinks",
    ]
)
# Where markdown.extensions.meta registers its preprocessor.
_META_PRIORITY = 27
_MARKDOWN_CORE = frozenset(
    f"markdown.{name}"
    for name in [
        "blockprocessors",
        "inlinepatterns",
        "postprocessors",
        "preprocessors",
        "treeprocessors",
    ]
)


def _resets_fully(part: object) -> bool:
    kind = type(part)
    if getattr(kind, "hearth_resets_fully", False):  # Hearth's own passages
        return True
    module = kind.__module__
    if module in _MARKDOWN_CORE:
        return True
    package, _, name = module.rpartition(".")
    if package != "markdown.extensions" or name not in _RESETTABLE_EXTENSIONS:
        return False
    # Footnotes' UNIQUE_IDS numbers the notes by the resets so far.
    get_config = getattr(part, "getConfig", None)
    return not (get_config and get_config("UNIQUE_IDS", False))


def reusable_markdown(md: Markdown) -> bool:
    """Whether `md`, reset between files, converts each file of a build as
    a new Markdown would (Pelican makes one per file: about 5% of a build).

    Only when every processor and every extension with state is Markdown's
    own from _RESETTABLE_EXTENSIONS or marked `hearth_resets_fully`: any
    other extension may keep something of one post (a private one) into
    the next, so it gets a new Markdown per file.
    """
    registries = (
        md.preprocessors,
        md.parser.blockprocessors,
        md.inlinePatterns,
        md.treeprocessors,
        md.postprocessors,
    )
    parts = itertools.chain(*registries, md.registeredExtensions)
    return all(map(_resets_fully, parts))


class HearthMarkdownReader(_Strict, YAMLMetadataReader):
    """Markdown with a YAML or a `Key: value` header, read strictly.

    The file is read once: the text whose header was checked is the text
    converted (an editor saving the file in between cannot slip an unchecked
    header past the check), by the same steps as pelican-yaml-metadata's
    read for a YAML header and Pelican's MarkdownReader.read for the other.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # pelican-yaml-metadata makes its Markdown here, for every file
        # extension of every generator (16 a build); made on first use instead.
        MarkdownReader.__init__(self, *args, **kwargs)
        self._yaml_md: Markdown | None = None
        self._native_md: Markdown | None = None
        self._meta: Any = None

    def read(self, source_path: str) -> Any:
        self.notes = []
        text = text_of(source_path)
        shown = shown_path(source_path)
        match = HEADER_RE.fullmatch(text)
        header = _yaml_header(text, match, shown) if match else _native_header(text)
        self._strictly(source_path, header)
        if match:
            return self._pelican(lambda path: self._read_yaml(match, path), source_path)
        return self._pelican(lambda path: self._read_native(text, path), source_path)

    def _read_yaml(self, match: re.Match[str], source_path: str) -> Any:
        """YAMLMetadataReader.read, on the text already read."""
        md = self._yaml_md
        if md is None:
            md_settings = copy.deepcopy(self.settings["MARKDOWN"])
            with contextlib.suppress(KeyError, ValueError):
                md_settings["extensions"].remove("markdown.extensions.meta")
            md = Markdown(**md_settings)
            # pelican-yaml-metadata keeps one always; Hearth only when no
            # state of one file can reach the next (reusable_markdown).
            if reusable_markdown(md):
                self._yaml_md = md
        # Its formatted fields (a summary) convert with this Markdown too.
        self._md = md
        metadata = self._load_yaml_metadata(match.group("metadata"), source_path)
        self._md.Meta = {k: _convert_py_to_meta(v) for k, v in metadata.items()}
        return self._md.reset().convert(match.group("content")), metadata

    def _read_native(self, text: str, source_path: str) -> Any:
        """MarkdownReader.read, on the text already read."""
        self._source_path = source_path
        kept = self._native_md
        md: Markdown
        if kept is None:
            md = Markdown(**self.settings["MARKDOWN"])
            if "meta" in md.preprocessors and reusable_markdown(md):
                self._native_md = md
                self._meta = md.preprocessors["meta"]
        else:
            md = kept.reset()
        self._md = md
        content = md.convert(text)
        if hasattr(md, "Meta"):
            return content, self._parse_metadata(md.Meta)
        return content, {}

    def _parse_metadata(self, meta: Any) -> Any:
        """Pelican's, which takes the header's preprocessor off the Markdown
        (for the formatted fields) and leaves it off: a kept one gets it back."""
        try:
            return super()._parse_metadata(meta)
        finally:
            kept = self._native_md
            if kept is not None and "meta" not in kept.preprocessors:
                kept.preprocessors.register(self._meta, "meta", _META_PRIORITY)


_DOCUTILS_MESSAGE = re.compile(r"^.*?:(?P<line>\d+): \(\w+/\d\) (?P<message>.*)", re.S)
_EMPTY_FIELD = re.compile(r'empty bibliographic field "(?P<key>[^"]+)"')


def _rst_problem(err: Exception, shown: str) -> str:
    """A writer's message for docutils' complaint about a file."""
    found = _DOCUTILS_MESSAGE.match(str(err))
    if not found:
        return f"{shown}: reStructuredText cannot read it ({err}). Fix the markup."
    where, message = f"{shown}, line {found['line']}", found["message"].strip()
    empty = _EMPTY_FIELD.search(message)
    if empty:
        key = empty["key"].lower()
        fix = _EMPTY_FIX.get(key, f"give ':{key}:' a value or delete the line")
        return f"{where}: '{key}' has no value; {fix}."
    return (
        f"{where}: reStructuredText cannot read this line ({message.rstrip('.')})."
        " Fix the markup there."
    )


class HearthRstReader(_Strict, RstReader):
    """reStructuredText, its docinfo fields read strictly."""

    def read(self, source_path: str) -> Any:
        self.notes = []
        text = text_of(source_path)
        try:
            publisher = self._get_publisher(source_path)
        except docutils.utils.SystemMessage as err:
            raise ReadingError(_rst_problem(err, shown_path(source_path))) from None
        self._strictly(source_path, _rst_header(publisher.document, text))

        def rest(_source_path: str) -> Any:
            # Pelican's RstReader.read, on the document parsed above.
            parts = publisher.writer.parts
            metadata = self._parse_metadata(publisher.document, source_path)
            metadata.setdefault("title", parts.get("title"))
            return parts.get("body"), metadata

        return self._pelican(rest, source_path)


class HearthHTMLReader(_Strict, HTMLReader):
    """HTML with <meta name=... content=...> headers, read strictly."""

    class _HTMLParser(HTMLReader._HTMLParser):
        def __init__(self, settings: Mapping[str, Any], filename: str) -> None:
            super().__init__(settings, filename)
            self.entries: list[_Entry] = []
            self.stray: list[
                tuple[int, str, str, str]
            ] = []  # <meta> tags in the body, which Pelican ignores

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            self._stray_meta(tag, attrs)
            super().handle_starttag(tag, attrs)

        def handle_startendtag(self, tag: str, attrs: Any) -> None:
            self._stray_meta(tag, attrs)
            super().handle_startendtag(tag, attrs)

        def _stray_meta(self, tag: str, attrs: Any) -> None:
            name = self._attr_value(attrs, "name")
            if tag == "meta" and not self._in_head and name:
                line = self.getpos()[0]
                text = f'<meta name="{name}">'
                self.stray.append((line, name.lower().strip(), text, "html"))

        def _handle_meta_tag(self, attrs: Any) -> None:
            name = self._attr_value(attrs, "name")
            if name is not None:
                value = self._attr_value(attrs, "content", "") or self._attr_value(
                    attrs, "contents", ""
                )
                self.entries.append(
                    _Entry(name.lower().strip(), self.getpos()[0], value, name)
                )
            super()._handle_meta_tag(attrs)

    def read(self, filename: str) -> Any:
        self.notes = []
        text = text_of(filename)
        parser = self._HTMLParser(self.settings, filename)
        parser.feed(text)
        parser.close()
        self._strictly(filename, _Header("html", parser.entries, parser.stray))

        def rest(_filename: str) -> Any:
            # Pelican's HTMLReader.read, on the document parsed above.
            metadata = {
                k: self.process_metadata(k, v) for k, v in parser.metadata.items()
            }
            return parser.body, metadata

        return self._pelican(rest, filename)


STRICT_READERS = {
    MarkdownReader: HearthMarkdownReader,
    YAMLMetadataReader: HearthMarkdownReader,
    RstReader: HearthRstReader,
    HTMLReader: HearthHTMLReader,
}


def use_strict_readers(readers: Readers) -> None:
    """Put Hearth's strict readers in place of Pelican's (a readers_init hook).

    Markdown extensions always get the YAML-capable reader, so both header
    styles read the same with or without pelican-yaml-metadata in PLUGINS. A
    reader the writer set in READERS (or None, to turn one off) is kept.
    """
    for ext in MarkdownReader.file_extensions:
        if readers.reader_classes.get(ext, MarkdownReader) in STRICT_READERS:
            readers.reader_classes[ext] = HearthMarkdownReader
    for ext, cls in list(readers.reader_classes.items()):
        if cls in STRICT_READERS:
            readers.reader_classes[ext] = STRICT_READERS[cls]
    # Part of the blog (hearth/rules.py): the rules file's metadata, applied
    # to what Pelican merged, before the checks below.
    from hearth import rules

    try:
        rules.install(readers)
    except rules.RulesError as err:
        raise ReadingError(str(err)) from None


# Checks on what Pelican made of a file -----------------------------------------


def _how_to_add(prop: str, source_path: str) -> str:
    ext = os.path.splitext(str(source_path))[1].lower()
    if ext in (".html", ".htm"):
        if prop == "title":
            return "Add a <title> to the <head>."
        return f'Add <meta name="{prop}" content="..."> to the <head>.'
    if ext == ".rst":
        if prop == "title":
            return "Start the file with a title line underlined with ####."
        return f"Add a ':{prop}:' field under the title."
    return f"Add a '{prop.title()}:' line to the header."


def check_content(
    content: Any, *, names: bool = True
) -> tuple[list[str], str, list[str]]:
    """(audience names, listing, warnings) of a content object, or ReadingError.

    Run on the metadata as Pelican merged it (DEFAULT_METADATA, path
    metadata, header), so a value from the settings is checked too.
    `names`: also refuse a page whose file name would be too long (the
    build leaves that to hearth_private, which knows where each page is
    written once every plugin has had its say: see file_name_problem).
    """
    shown = shown_path(content.source_path)
    kind = "article" if isinstance(content, Article) else "page"
    for prop in type(content).mandatory_properties:
        # Pelican dates an article that is a draft without a date itself.
        if prop == "date" and getattr(content, "status", "") == "draft":
            continue
        if not str(getattr(content, prop, "") or "").strip():
            raise ReadingError(
                f"{shown}: no '{prop}' in the header (nor from the settings); "
                f"Pelican skips a{'n' if kind == 'article' else ''} {kind} "
                f"without one. {_how_to_add(prop, content.source_path)}"
            )
    if getattr(content, "status", "") not in STATUSES:
        raise ReadingError(
            f"{shown}: status {content.status!r} is not one Pelican knows; "
            "write one of published, draft, hidden (in lower case)."
        )
    meta = content.metadata
    _check_reader(shown, meta)
    check_keys(shown, meta, content.settings)
    known = content.settings.get("HEARTH_AUDIENCES") or {}
    try:
        audience = frontmatter.audience_names(meta.get("audience"), known, shown)
        listing = frontmatter.listing_mode(meta.get("listing"), shown)
        warnings = frontmatter.as_list(meta.get("warnings"))
    except frontmatter.FrontMatterError as err:
        raise ReadingError(str(err)) from None
    if names and not audience:  # a private post is written at p/<id>/
        problem = file_name_problem(shown, getattr(content, "save_as", "") or "")
        if problem:
            raise ReadingError(problem)
    return audience, listing, warnings


def file_name_problem(shown: str, save_as: str) -> str | None:
    """A message if a page written at `save_as` has a file name too long."""
    for part in str(save_as).split("/"):
        if len(part.encode()) > NAME_MAX:
            return (
                f"{shown}: its address would be a file name of "
                f"{len(part.encode())} bytes, longer than file systems allow "
                f"({NAME_MAX}). Shorten the title, or add a short 'slug:'."
            )
    return None


# What Pelican's `reader` metadata says for its own readers (and the plain
# pelican-yaml-metadata one): a file they read skipped Hearth's checks.
_UNCHECKED_READERS = ("markdown", "yamlmetadata", "rst", "html")


def _check_reader(shown: str, meta: Mapping[str, Any]) -> None:
    """Refuse a file one of Pelican's own readers read instead of Hearth's.

    Another plugin's readers_init hook (pelican-yaml-metadata listed in
    PLUGINS, say) can put its reader back after Hearth's.
    """
    if meta.get("reader") in _UNCHECKED_READERS:
        raise ReadingError(
            f"{shown}: was read by Pelican's plain {meta['reader']} reader, not "
            "Hearth's strict one, so its header was not checked. Remove the "
            "plugin that adds that reader from PLUGINS (hearth_frontmatter "
            "already reads YAML front-matter)."
        )


def check_keys(
    shown: str, meta: Mapping[str, Any], settings: Mapping[str, Any]
) -> None:
    """Unknown keys in what Pelican merged, for content no strict reader read.

    A reader the writer added in READERS (a plugin's format), or Pelican's
    reader-level content cache, hands over metadata Hearth's readers never
    checked: the same rule holds for its keys, without a line to name. (A
    file a strict reader read has already stopped on these, with its line.)
    """
    style = "html" if str(meta.get("reader", "")).endswith("html") else "md"
    known = known_keys(settings, style) | {"reader"}
    for key in sorted(set(map(str, meta)) - known):
        strict = _near(key, STRICT_KEYS, 0.7)
        if strict or settings.get("HEARTH_PUBLISH"):
            nearest = strict or _near(key, known, 0.6)
            hint = f" Did you mean '{nearest}'?" if nearest else ""
            raise ReadingError(
                f"{shown}: '{key}' is not a header key Hearth knows, so Pelican "
                f"would ignore it.{hint} Correct it, or if it is a key of your "
                f"own add it to {EXTRA_KEYS_SETTING} in pelicanconf.py."
            )


# The whole site ----------------------------------------------------------------


class _Finder(Generator):
    """Pelican's Generator for its get_files alone (no templates, no signals)."""

    def __init__(self, settings: Mapping[str, Any], readers: Readers) -> None:
        self.settings = settings
        self.path = settings["PATH"]
        self.readers = readers


def prepare_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of Pelican settings for reading, with the default audience."""
    settings = dict(settings)
    # Pelican's Markdown reader adds its meta extension to this dict.
    settings["MARKDOWN"] = copy.deepcopy(settings.get("MARKDOWN") or {})
    settings["PATH"] = os.path.abspath(settings["PATH"])
    return apply_default_audience(settings)


def strict_readers(settings: Mapping[str, Any]) -> Readers:
    """Pelican's Readers for these settings, with Hearth's strict readers.

    readers_init is muted so that plugins a build in this process registered
    cannot change what is read here; Hearth's readers are put in directly.
    """
    with signals.readers_init.muted():
        readers = Readers(settings)
    use_strict_readers(readers)
    for ext, cls in readers.reader_classes.items():
        if cls:
            readers.readers[ext] = cls(settings)
            readers.readers[ext].log_notes = False
    return readers


def _broken(path: str, relative: str, kind: str, error: str) -> Reading:
    return Reading(Path(path), relative, kind, status="", error=error)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def read_file(
    readers: Readers, settings: Mapping[str, Any], relative: str, kind: str
) -> Reading | None:
    """One Reading of a file below settings['PATH'] (None if status is skip)."""
    base = settings["PATH"]
    path = os.path.abspath(os.path.join(base, relative))
    relative = posixize_path(os.path.relpath(path, base))
    cls = Article if kind == "article" else Page
    reader = readers.readers.get(os.path.splitext(path)[1][1:])
    try:
        # content_object_init is muted: plugins a build in this process
        # registered must not act on (or seal) what is only being read.
        with signals.content_object_init.muted():
            content = readers.read_file(
                base_path=base, path=relative, content_class=cls, context={}
            )
        if isinstance(content, SkipStub):
            return None
        audience, listing, warnings = check_content(content)
    except ReadingError as err:
        return _broken(path, relative, kind, str(err))
    except Exception as err:  # noqa: BLE001 - every file gets a row
        return _broken(
            path,
            relative,
            kind,
            f"{shown_path(path)}: Pelican could not read this file "
            f"({type(err).__name__}: {err}). Check its header.",
        )
    meta = content.metadata
    return Reading(
        source_path=Path(path),
        relative_path=relative,
        kind=kind,
        title=_text(getattr(content, "title", "")),
        slug=_text(getattr(content, "slug", "")),
        date=getattr(content, "date", None),
        status=content.status,
        audience=tuple(audience),
        listing=listing,
        warnings=tuple(warnings),
        tags=tuple(str(t) for t in getattr(content, "tags", None) or ()),
        category=_text(content.category) if hasattr(content, "category") else None,
        authors=tuple(str(a) for a in getattr(content, "authors", None) or ()),
        summary=None if meta.get("summary") is None else str(meta["summary"]),
        content=content._content or "",
        metadata=dict(meta),
        notes=tuple(getattr(reader, "notes", ())),
    )


def read_site(settings: Mapping[str, Any]) -> list[Reading]:
    """Every article and page Pelican would read with these settings.

    `settings` is a Pelican settings dict (pelican.settings.read_settings).
    Files are found by Pelican's Generator.get_files (ARTICLE_PATHS,
    PAGE_PATHS, their EXCLUDES, IGNORE_FILES, every enabled reader's
    extensions, symlinked folders followed) and read by Pelican's Readers
    with Hearth's strict readers. A file that cannot be read safely comes
    back with `error` set, never dropped and never raised; a `status: skip`
    file, which Pelican does not read, is left out. Raises ReadingError only
    for a settings mistake (HEARTH_DEFAULT_AUDIENCE). No Hearth plugin needs
    to be registered.
    """
    settings, readers, files = site_files(settings)
    readings: list[Reading] = []
    for kind, relative in files:
        reading = read_file(readers, settings, relative, kind)
        if reading is not None:
            readings.append(reading)
    return readings


def site_files(
    settings: Mapping[str, Any],
) -> tuple[dict[str, Any], Readers, list[tuple[str, str]]]:
    """(reading settings, strict Readers, [(kind, relative path)]): the files
    read_site reads, in its order, and what read_file needs to read each.

    For a caller that reads some files another way (the leak audit reuses
    readings of unchanged files) and the rest with read_file.
    """
    settings = prepare_settings(settings)
    readers = strict_readers(settings)
    finder = _Finder(settings, readers)
    files: list[tuple[str, str]] = []
    for kind, paths, excludes in (
        ("article", "ARTICLE_PATHS", "ARTICLE_EXCLUDES"),
        ("page", "PAGE_PATHS", "PAGE_EXCLUDES"),
    ):
        found = finder.get_files(settings[paths], exclude=settings[excludes])
        files.extend((kind, relative) for relative in sorted(found))
    return settings, readers, files
