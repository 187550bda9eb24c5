"""The leak audit: prove that no private text reached a built site.

`audit(content_path, output_path, ...)` builds nothing. It reads the sources
of everything that must not be public (posts for an audience, drafts, hidden
posts), turns their titles, tags, categories, warnings, attachment names and
the phrases of their bodies and summaries into one set of needles, and scans
every byte of the output folder once: pages, feeds, sitemaps, data files,
scripts, file names and paths, and image metadata (EXIF, XMP, IPTC, PNG text).

Matching works on words, not bytes, so that a title found in a feed
(HTML-escaped inside XML), a search index (JSON-escaped) or a URL slug
(hyphenated) is the same title: text is unescaped, tags are dropped, and what
is left is cut into lower-case words. A needle is a run of words; a body gives
every run of `window` words. Needles that also occur in public posts' sources,
the theme or the given public text (site settings) are not distinctive, so
they are dropped before scanning: the audit must not cry wolf.

Findings name the output file, the kind of surface, the kind of secret and
the private post's source path, never the secret text (only a short hash).
"""

import contextlib
import dataclasses
import gzip
import hashlib
import html
import io
import re
import unicodedata
import zlib
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

import yaml
from PIL import Image, IptcImagePlugin

from hearth import frontmatter

# A run of this many words from a private body is distinctive enough to call
# a leak; shorter runs ("I did not want to") turn up everywhere.
DEFAULT_WINDOW = 6

MARKDOWN_EXTENSIONS = {".md", ".markdown", ".mkd", ".mdown"}
SECRET_STATUSES = {"draft", "hidden"}

# Kinds of surface a finding is reported in.
FILE_NAME = "file name"
IMAGE_METADATA = "image metadata"
_SURFACE_BY_SUFFIX = {
    ".html": "page",
    ".htm": "page",
    ".xhtml": "page",
    ".atom": "feed",
    ".rss": "feed",
    ".json": "data file",
    ".webmanifest": "data file",
    ".csv": "data file",
    ".js": "script",
    ".mjs": "script",
    ".css": "style sheet",
    ".txt": "text",
    ".md": "copied source",
    ".markdown": "copied source",
    ".rst": "copied source",
    ".jpg": "image",
    ".jpeg": "image",
    ".png": "image",
    ".webp": "image",
    ".gif": "image",
    ".svg": "image",
}

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^<>]*>")
_ATTRIBUTE_VALUE = re.compile(r"""=\s*(?:"([^"]*)"|'([^']*)')""")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\[nrtbf/\\\"']")
# Printable runs of a binary file: ASCII, or UTF-8 sequences.
_PRINTABLE = re.compile(rb"(?:[\x20-\x7e\t\r\n]|[\xc2-\xf4][\x80-\xbf]{1,3}){4,}")
_MARKDOWN_TARGET = re.compile(r"\]\([^)]*\)|^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_YAML_HEADER = re.compile(
    r"\s*^---$(?P<metadata>.+?)^(?:---|\.\.\.)$(?P<content>.*)",
    re.MULTILINE | re.DOTALL,
)
_NATIVE_KEY = re.compile(r"^[ ]{0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)")
_NATIVE_MORE = re.compile(r"^[ ]{4,}(?P<value>.*)")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]?")
_XP_TAGS = range(0x9C9B, 0x9CA0)  # Windows XP tags: UTF-16 text
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_GZIP_LIMIT = 64 * 1024 * 1024


class AuditError(ValueError):
    """The audit cannot run (no output, unreadable source): fail closed."""


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    """One kind of secret of one source, found in one output file."""

    path: str  # output file, relative to the output folder
    surface: str  # page, feed, sitemap, data file, script, file name, ...
    kind: str  # title, tag, category, warning, slug, attachment, phrase, ...
    source: str  # the secret post's source, relative to content/
    digest: str  # short hash of one secret found (never the text)
    count: int = 1  # how many needles of this kind and source matched
    # The path as printed: parts of it that are themselves secret masked.
    shown: str = dataclasses.field(default="", compare=False)

    def __str__(self):
        what = f"{self.kind} of {self.source}" if self.source else self.kind
        times = f" ({self.count} matches)" if self.count > 1 else ""
        digest = f" [#{self.digest}]" if self.digest else ""
        path = self.shown or self.path
        return f"{path}: {self.surface} carries the {what}{digest}{times}"


@dataclasses.dataclass
class _Post:
    source: str
    meta: dict
    body: str
    raw: str


# Reading sources ----------------------------------------------------------------


def _read_post(path, content_path):
    raw = path.read_text(encoding="utf-8", errors="replace")
    source = path.relative_to(content_path).as_posix()
    match = _YAML_HEADER.fullmatch(raw)
    if match:
        try:
            meta = yaml.safe_load(match.group("metadata"))
        except yaml.YAMLError as err:
            raise AuditError(
                f"{source}: the YAML front-matter is malformed, so the audit "
                "cannot tell whether the post is private. Fix the header "
                "between the '---' lines."
            ) from err
        if not isinstance(meta, dict):
            raise AuditError(
                f"{source}: the YAML front-matter is not 'key: value' lines. "
                "Fix the header between the '---' lines."
            )
        meta = {str(k).lower(): v for k, v in meta.items()}
        return _Post(source, meta, match.group("content"), raw)
    # Pelican's native header: Python-Markdown's meta lines, up to a blank
    # line; a first line that is not "Key: value" means there is no header.
    meta, key, lines = {}, None, raw.splitlines()
    body_start = len(lines)
    for index, line in enumerate(lines):
        more = _NATIVE_MORE.match(line)
        found = _NATIVE_KEY.match(line)
        if not line.strip():
            body_start = index + 1
            break
        if more and key:
            meta[key] += " " + more.group("value").strip()
        elif found:
            key = found.group("key").lower()
            meta[key] = found.group("value").strip()
        else:
            body_start = index
            break
    return _Post(source, meta, "\n".join(lines[body_start:]), raw)


def _secret_reason(post):
    """Why a post must stay out of the public output, or None if it is public."""
    status = str(post.meta.get("status") or "").strip().lower()
    if status in SECRET_STATUSES:
        return status
    if "audience" in post.meta:
        value = post.meta["audience"]
        names = [n.lower() for n in frontmatter.as_list(value)]
        # Anything but a clear "public" is private: fail closed.
        if names != [frontmatter.PUBLIC]:
            return "private"
    return None


def _slugs(post):
    """What a post's URL may be made of: its slug, file name, slugified title."""
    title = str(post.meta.get("title") or "")
    # Pelican's slugify drops apostrophes and accents: "didn't" -> "didnt".
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    candidates = [
        str(post.meta.get("slug") or ""),
        _DATE_PREFIX.sub("", Path(post.source).stem),
        re.sub(r"[^\w\s-]", "", title),
        re.sub(r"[^\w\s-]", "", plain),
    ]
    seen = {tuple(_words(title))}
    for candidate in candidates:
        words = tuple(_words(candidate))
        if words and words not in seen:
            seen.add(words)
            yield candidate


# Words ------------------------------------------------------------------------


def _words(text):
    return _WORD.findall(text.lower())


def _windows(words, length):
    """The set of hashes of every run of `length` words."""
    return set(map(hash, zip(*(words[i:] for i in range(length)), strict=False)))


def _unescape(text):
    text = _JSON_ESCAPE.sub(
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else " ", text
    )
    # Twice: feeds carry HTML escaped inside XML (&amp;lt;p&amp;gt;).
    return html.unescape(html.unescape(text))


def _text_segments(text):
    """The words of a text file: its text without tags, and attribute values."""
    text = _unescape(text)
    values = " \n ".join(a or b for a, b in _ATTRIBUTE_VALUE.findall(text))
    return [_words(_TAG.sub(" ", text)), _words(values)]


def _decode(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return b"\n".join(_PRINTABLE.findall(data)).decode("utf-8", "replace")


# Needles ----------------------------------------------------------------------


def _digest(run):
    """A short, stable name for a secret run of words (never the words)."""
    return hashlib.sha256(" ".join(run).encode()).hexdigest()[:8]


class _Needles:
    """Runs of words to look for, by length, each with what it would reveal."""

    def __init__(self, window):
        self.window = window
        # length -> {hash(run): (run, [(kind, source), ...])}
        self.by_length = defaultdict(dict)

    def add(self, kind, source, text, whole=True):
        """Add a secret text: whole (if short enough) or as runs of `window`."""
        words = _words(text)
        if not words:
            return
        if len(words) <= self.window:
            if not whole and len(words) < 3:
                return
            if len(words) == 1 and (len(words[0]) < 3 or words[0].isdigit()):
                return  # too short to tell apart from anything else
            runs = [tuple(words)]
        else:
            runs = zip(*(words[i:] for i in range(self.window)), strict=False)
        owner = (kind, source)
        for run in runs:
            table = self.by_length[len(run)]
            slot = table.get(hash(run))
            if slot is None:
                table[hash(run)] = (run, [owner])
            elif owner not in slot[1]:
                slot[1].append(owner)

    def drop_public(self, words):
        """Forget needles that public text also contains."""
        for length, table in self.by_length.items():
            for key in _windows(words, length) & table.keys():
                del table[key]

    def find(self, segments):
        """{(kind, source): (count, digest of one)} for needles in the segments."""
        hits = {}
        for length, table in self.by_length.items():
            if not table:
                continue
            found = set()
            for words in segments:
                found |= _windows(words, length) & table.keys()
            for key in found:
                run, owners = table[key]
                for owner in owners:
                    count, first = hits.get(owner, (0, run))
                    hits[owner] = (count + 1, min(first, run))
        return {owner: (n, _digest(run)) for owner, (n, run) in hits.items()}


def _attachments(content_path, secret_posts, public_posts):
    """Static files that only secret posts refer to: {path: source}."""
    found = {}
    for path in sorted(content_path.rglob("*")):
        if not path.is_file() or path.suffix.lower() in MARKDOWN_EXTENSIONS:
            continue
        # The file's name as a whole word: "dog.jpg" is not in "hotdog.jpg".
        name = re.compile(rf"(?<![\w.-]){re.escape(path.name)}(?!\w)")
        users = [p.source for p in secret_posts if name.search(p.raw)]
        if users and not any(name.search(p.raw) for p in public_posts):
            found[path] = users[0]
    return found


def collect_needles(
    content_path, theme_path=None, public_text=(), window=6, shown_private=()
):
    """Read the sources; return (needles, {sha256 of attachment: source})."""
    content_path = Path(content_path)
    if not content_path.is_dir():
        raise AuditError(
            f"The content folder {content_path} does not exist: pass the "
            "folder that holds the posts (PATH in pelicanconf.py)."
        )
    posts = [
        _read_post(p, content_path)
        for p in sorted(content_path.rglob("*"))
        if p.suffix.lower() in MARKDOWN_EXTENSIONS and p.is_file()
    ]
    secret = [p for p in posts if _secret_reason(p)]
    public = [p for p in posts if not _secret_reason(p)]
    public_categories = {
        tuple(_words(str(p.meta["category"]))) for p in public if p.meta.get("category")
    }
    needles = _Needles(window)
    for post in secret:
        meta, source = post.meta, post.source
        # Fields the writer chose to show for posts of an audience (never for
        # drafts and hidden posts, which are not published at all).
        shown = shown_private if _secret_reason(post) == "private" else ()
        if "title" not in shown:
            needles.add("title", source, str(meta.get("title") or ""))
        for slug in _slugs(post):
            needles.add("slug", source, slug)
        for tag in frontmatter.as_list(meta.get("tags")):
            needles.add("tag", source, tag)
        if "warning" not in shown:
            for warning in frontmatter.as_list(meta.get("warnings")):
                needles.add("warning", source, warning)
        category = str(meta.get("category") or "")
        # A category public posts use too gives nothing away.
        if category and tuple(_words(category)) not in public_categories:
            needles.add("category", source, category)
        needles.add("phrase", source, str(meta.get("summary") or ""), whole=False)
        needles.add("phrase", source, _MARKDOWN_TARGET.sub("]", post.body), False)
    attachments = _attachments(content_path, secret, public)
    digests = {}
    for path, source in attachments.items():
        needles.add("attachment", source, path.name)
        digests[hashlib.sha256(path.read_bytes()).hexdigest()] = source
    # What public text also says is not a secret.
    for post in public:
        needles.drop_public(_words(post.raw))
    for text in public_text:
        needles.drop_public(_words(str(text)))
    if theme_path is not None:
        for path in sorted(Path(theme_path).rglob("*")):
            if path.is_file():
                needles.drop_public(_words(_decode(path.read_bytes())))
    return needles, digests


# Scanning the output ----------------------------------------------------------


def _surface(relative, data):
    suffix = Path(relative).suffix.lower()
    if suffix == ".xml":
        if "sitemap" in relative.lower():
            return "sitemap"
        head = data[:1024]
        return "feed" if b"<feed" in head or b"<rss" in head else "data file"
    return _SURFACE_BY_SUFFIX.get(suffix, "file")


def _metadata_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return " ".join(_metadata_text(v) for v in value)
    if isinstance(value, dict):
        return " ".join(_metadata_text(v) for v in value.values())
    return str(value)


def _image_metadata(data):
    """(text of every metadata field, has a GPS location) or None if no image."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            texts = []
            exif = im.getexif()
            gps = exif.get_ifd(_GPS_IFD)
            for table in (exif, exif.get_ifd(_EXIF_IFD), gps):
                for tag, value in table.items():
                    if tag in _XP_TAGS and isinstance(value, bytes):
                        texts.append(value.decode("utf-16-le", "replace"))
                    else:
                        texts.append(_metadata_text(value))
            if hasattr(im, "text"):
                texts.extend(im.text.values())  # PNG text, compressed or not
            for key, value in im.info.items():
                if key not in ("exif", "icc_profile") and isinstance(
                    value, (str, bytes)
                ):
                    texts.append(_metadata_text(value))
            iptc = IptcImagePlugin.getiptcinfo(im)
            if iptc:
                texts.append(_metadata_text(iptc))
            return "\n".join(texts), bool(gps)
    except (OSError, SyntaxError, ValueError, TypeError, zlib.error):
        return None


def _masked(relative, needles):
    """The path with each part that carries a secret replaced by its hash.

    A path such as tag/<secret>.html is itself the leak; printing it would
    copy the secret into a terminal or a CI log.
    """
    parts = []
    for part in relative.split("/"):
        hits = needles.find([_words(unquote(part))])
        if hits:
            digest = min(d for _, d in hits.values())
            suffix = Path(part).suffix if len(Path(part).suffix) <= 6 else ""
            parts.append(f"[secret #{digest}]{suffix}")
        else:
            parts.append(part)
    masked = "/".join(parts)
    return masked if masked != relative else "[a path that carries a secret]"


def _scan_file(path, relative, needles, digests, findings):
    # The path itself: /tag/<secret>.html, /2026/<secret-title>/, photo names.
    in_name = needles.find([_words(unquote(relative))])
    shown = _masked(relative, needles) if in_name else relative

    def report(surface, hits):
        for (kind, source), (count, digest) in hits.items():
            findings.add(Finding(relative, surface, kind, source, digest, count, shown))

    report(FILE_NAME, in_name)
    data = path.read_bytes()
    surface = _surface(relative, data)
    copied = digests.get(hashlib.sha256(data).hexdigest())
    if copied:
        findings.add(Finding(relative, surface, "attachment", copied, "", 1, shown))
    if data[:2] == b"\x1f\x8b":  # a pre-compressed copy (.gz) of another file
        # A damaged one is scanned as it is.
        with contextlib.suppress(OSError, EOFError, zlib.error):
            data = gzip.GzipFile(fileobj=io.BytesIO(data)).read(_GZIP_LIMIT)
    report(surface, needles.find(_text_segments(_decode(data))))
    if surface == "image" or Image.registered_extensions().get(path.suffix.lower()):
        metadata = _image_metadata(data)
        if metadata:
            text, has_gps = metadata
            report(IMAGE_METADATA, needles.find(_text_segments(text)))
            if has_gps:
                findings.add(
                    Finding(relative, IMAGE_METADATA, "GPS location", "", "", 1, shown)
                )


def audit(
    content_path,
    output_path,
    *,
    theme_path=None,
    public_text=(),
    window=DEFAULT_WINDOW,
    shown_private=(),
):
    """Scan a built site for text of private, draft and hidden posts.

    content_path: the site's content folder (PATH); output_path: the built
    site to check; theme_path: the theme folder, whose words are public;
    public_text: other strings known to be public (the site's settings);
    window: how many words of a body make a distinctive phrase;
    shown_private: fields ("title", "warning") that the writer's settings
    show in the clear on a private post's locked page.
    Return the findings, sorted; an empty list means no leak was found.
    Also report any published image that still carries a GPS location.
    """
    output_path = Path(output_path)
    if not output_path.is_dir() or not any(output_path.iterdir()):
        raise AuditError(
            f"There is no built site in {output_path} to audit: build it first "
            "(invoke build --publish)."
        )
    needles, digests = collect_needles(
        content_path, theme_path, public_text, window, shown_private
    )
    findings = set()
    for path in sorted(output_path.rglob("*")):
        if not path.is_file():
            continue  # folders are scanned as parts of their files' paths
        relative = path.relative_to(output_path).as_posix()
        _scan_file(path, relative, needles, digests, findings)
    return sorted(
        findings, key=lambda f: (f.path, f.surface, f.kind, f.source, f.digest)
    )


def settings_text(settings):
    """Every string in a settings dict: words the site itself makes public."""
    found = []

    def walk(value):
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


def audit_site(settings, output_path, root="."):
    """audit() a built site with what its Pelican settings say.

    settings: the site's settings dict (PATH, THEME, ...; relative paths are
    taken from `root`); output_path: the folder about to be published.
    """
    root = Path(root)
    return audit(
        root / settings["PATH"],
        root / output_path,
        theme_path=root / settings["THEME"] if settings.get("THEME") else None,
        public_text=settings_text(settings),
        shown_private=[v for k, v in SHOWN_BY_SETTING.items() if settings.get(k)],
    )
