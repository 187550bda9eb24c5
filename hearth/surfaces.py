"""What a reader or a crawler gets from each file of a built site, as text.

The leak audit (hearth/audit.py) looks for words; this module turns every
byte of an output file into the texts those words are read from:

- the file's path, URL-decoded (`%20`, `%C3%A9`), folder names included;
- compressed copies opened (`.gz`, `.br`, `.zst`) and `.zip` members read,
  each as the file it holds;
- text in any Unicode encoding (a BOM, or UTF-16/32 without one), else the
  printable runs of a binary file;
- HTML and XML through a real HTML parser (libxml2's HTML5 tokenizer, via
  lxml): the text as rendered, with tags removed but words split by inline
  tags kept whole (`Zorb<em>lat</em>` is "Zorblat"), entities decoded,
  comments, and every attribute value, quoted or not. HTML escaped inside a
  feed or a JSON string is parsed again, as a feed reader would;
- JSON strings decoded, JavaScript and CSS escapes (`\\u0041`, `\\41 `)
  decoded, percent-encoded text decoded;
- PDF text and document information (pypdf); image metadata (EXIF, XP tags,
  XMP, IPTC, PNG text) with Pillow.

Nothing here knows what a secret is: `views()` yields (surface, text) pairs.
"""

import base64
import binascii
import codecs
import contextlib
import gzip
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from urllib.parse import unquote, unquote_to_bytes

import brotli
import zstandard
from lxml import etree
from PIL import Image, IptcImagePlugin

# Kinds of surface a text is read from.
FILE_NAME = "file name"
IMAGE_METADATA = "image metadata"
PDF = "pdf"
GPS = "GPS location"  # not a text: an image that says where it was taken
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
    ".svg": "image",
    ".pdf": PDF,
}
_COMPRESSED = {".gz": "gzip", ".br": "brotli", ".zst": "zstandard"}
_HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".xml", ".atom", ".rss", ".svg"}

# A compressed copy or a zip member may not open into more than this: a
# bomb is refused (a finding), never read until memory runs out.
EXPANDED_LIMIT = 256 * 1024 * 1024
_NESTING = 3  # a .zip inside a .gz inside a .zip: no deeper

# Block-level elements: the text before and after them are separate words
# for a reader. Inline elements (em, span, a...) join their neighbours.
_BLOCK_TAGS = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "img",
    "input",
    "label",
    "legend",
    "li",
    "link",
    "main",
    "meta",
    "nav",
    "noscript",
    "ol",
    "option",
    "p",
    "pre",
    "script",
    "section",
    "select",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
    "entry",
    "item",
    "feed",
    "channel",
    "content",
    "description",
    "published",
    "updated",
    "id",
    "name",
    "author",
    "category",
    "url",
    "loc",
    "lastmod",
]
_ROOT_END_TAG = re.compile(r"</\s*(?:html|body)\s*>", re.IGNORECASE)
_PARSER = etree.HTMLParser(huge_tree=True, remove_comments=False, recover=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_MARKUP = re.compile(r"<[A-Za-z!/?]|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
# \uXXXX, \u{X...}, \xXX (JavaScript, JSON) and \XXXXXX (CSS) escapes.
_ESCAPE = re.compile(
    r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})"
    r"|([0-9a-fA-F]{1,6})\s?|([nrtbfv]))"
)
_CODE_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F{]|x[0-9a-fA-F]{2}|[0-9a-fA-F]{2,6}\s?)")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_DATA_URI = re.compile(r"data:([^,\s\"'<>]*),([^\s\"'<>()]*)", re.IGNORECASE)
# The name a data: URI's bytes are read under: the file's, and this.
DATA_URI = "#data-uri"
# Printable runs of a binary file: ASCII or UTF-8 sequences, and UTF-16LE.
_PRINTABLE = re.compile(rb"(?:[\x20-\x7e\t\r\n]|[\xc2-\xf4][\x80-\xbf]{1,3}){4,}")
_PRINTABLE_16 = re.compile(rb"(?:[\x20-\x7e]\x00){4,}")
_XP_TAGS = range(0x9C9B, 0x9CA0)  # Windows XP tags: UTF-16 text
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class Unreadable(Exception):
    """A file the audit cannot read completely (a bomb, a broken archive)."""


def surface_of(name: str, data: bytes = b"") -> str:
    """The kind of surface a file is: page, feed, sitemap, data file, ..."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".xml":
        if "sitemap" in name.lower():
            return "sitemap"
        head = data[:1024]
        return "feed" if b"<feed" in head or b"<rss" in head else "data file"
    if suffix in _SURFACE_BY_SUFFIX:
        return _SURFACE_BY_SUFFIX[suffix]
    if Image.registered_extensions().get(suffix):
        return "image"
    return "file"


def path_text(relative: str) -> str:
    """A path as a reader's address bar shows it: percent-decoding undone."""
    text = relative
    for _ in range(3):  # %2520 is %20 encoded once more
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text.replace("/", " / ")


# Opening containers -------------------------------------------------------------


def _limited(read: Callable[[int], bytes], what: str) -> bytes:
    data = read(EXPANDED_LIMIT + 1)
    if len(data) > EXPANDED_LIMIT:
        raise Unreadable(f"{what} opens into more than {EXPANDED_LIMIT >> 20} MB")
    return data


def _expand(name: str, data: bytes) -> tuple[str, bytes] | None:
    """(inner name, bytes) of a compressed copy, or None if it is not one."""
    path = PurePosixPath(name)
    kind = _COMPRESSED.get(path.suffix.lower())
    inner = name[: -len(path.suffix)] if kind else name  # a/b.html.br: a/b.html
    try:
        if data[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                return inner, _limited(handle.read, f"the gzip file {name}")
        if data[:4] == b"\x28\xb5\x2f\xfd":
            reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
            with reader:
                return inner, _limited(reader.read, f"the zstandard file {name}")
        if kind == "brotli":
            decompressor = brotli.Decompressor()
            out: bytes = decompressor.process(
                data, output_buffer_limit=EXPANDED_LIMIT + 1
            )
            if len(out) > EXPANDED_LIMIT or not decompressor.is_finished():
                raise Unreadable(
                    f"the brotli file {name} opens into more than "
                    f"{EXPANDED_LIMIT >> 20} MB or is cut short"
                )
            return inner, out
    except Unreadable:
        raise
    except (OSError, EOFError, zlib.error, zstandard.ZstdError, brotli.error) as err:
        raise Unreadable(f"the compressed file {name} is damaged ({err})") from None
    if kind:
        raise Unreadable(f"{name} is named as {kind} data but is not")
    return None


def _members(name: str, data: bytes) -> list[tuple[str, bytes | None]] | None:
    """[(member name, bytes)] of a zip archive, or None if it is not one."""
    if data[:4] != b"PK\x03\x04" and not name.lower().endswith(".zip"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members: list[tuple[str, bytes | None]] = []
            total = 0
            for info in archive.infolist():
                if info.is_dir():
                    members.append((f"{name}/{info.filename}", None))
                    continue
                with archive.open(info) as handle:
                    member = _limited(handle.read, f"{name}/{info.filename}")
                total += len(member)
                if total > EXPANDED_LIMIT:
                    raise Unreadable(f"the zip file {name} opens into too much")
                members.append((f"{name}/{info.filename}", member))
            return members
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as err:
        raise Unreadable(f"the zip file {name} cannot be opened ({err})") from None


# Decoding text --------------------------------------------------------------------


def _utf16_or_32(data: bytes) -> str | None:
    """The encoding of BOM-less UTF-16/32 text, judged by its zero bytes."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    zeros = [sample[i::4].count(0) / len(sample[i::4]) for i in range(4)]
    if zeros[1] > 0.9 and zeros[2] > 0.9 and zeros[3] > 0.9 and zeros[0] < 0.5:
        return "utf-32-le"
    if zeros[0] > 0.9 and zeros[1] > 0.9 and zeros[2] > 0.9 and zeros[3] < 0.5:
        return "utf-32-be"
    odd = sample[1::2].count(0) / len(sample[1::2])
    even = sample[0::2].count(0) / len(sample[0::2])
    if odd > 0.4 and even < 0.1:
        return "utf-16-le"
    if even > 0.4 and odd < 0.1:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, bool]:
    """(text, is_text): the file as text, or the printable runs of a binary."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace"), True
    # UTF-16 and UTF-32 of plain text are valid UTF-8 too: zero bytes tell.
    wide = _utf16_or_32(data) if b"\x00" in data[:4096] else None
    if wide:
        return data.decode(wide, "replace"), True
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    runs = [m.decode("utf-8", "replace") for m in _PRINTABLE.findall(data)]
    runs += [m.decode("utf-16-le") for m in _PRINTABLE_16.findall(data)]
    return "\n".join(runs), False


def _unescape_code(text: str) -> str:
    """JavaScript, JSON and CSS escapes decoded (\\u00e9, \\u{1F600}, \\e9 )."""

    def one(match: re.Match[str]) -> str:
        braced, four, two, css, letter = match.groups()
        if letter:
            return " "
        code = int(braced or four or two or css, 16)
        return chr(code) if 0 < code <= 0x10FFFF else " "

    return _ESCAPE.sub(one, text)


def markup_texts(text: str, depth: int = 0) -> list[str]:
    """Texts a reader gets from markup: rendered text, attributes, comments."""
    # A browser shows what follows </body> or </html> (HTML's "after body"
    # modes put it back in the body); libxml2 drops it. Without those end
    # tags everything stays in the tree.
    text = _ROOT_END_TAG.sub(" ", _XML_DECLARATION.sub("", text))
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        return [text]
    for element in root.iter(_BLOCK_TAGS):
        # A space on each side of a block: "a</p><p>b" is two words.
        element.text = " " + (element.text or "")
        element.tail = " " + (element.tail or "")
    texts = [etree.tostring(root, method="text", encoding="unicode")]
    texts.append("\n".join(root.xpath("//@*")))
    texts.append("\n".join(str(c.text or "") for c in root.xpath("//comment()")))
    texts.append(
        "\n".join(str(c.text or "") for c in root.xpath("//processing-instruction()"))
    )
    if depth < 2 and _MARKUP.search(texts[0]):
        # HTML escaped inside XML (a feed's content) or shown as code.
        texts += markup_texts(texts[0], depth + 1)
    return texts


def _json_strings(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.append(key)
            _json_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _json_strings(item, out)


def _text_views(name: str, text: str) -> list[str]:
    """The texts of a text file, by what kind of file it is."""
    suffix = PurePosixPath(name).suffix.lower()
    stripped = text.lstrip("\ufeff \t\r\n")
    markup = suffix in _HTML_SUFFIXES or stripped[:1] == "<"
    texts: list[str] = []
    if not markup and (suffix == ".json" or stripped[:1] in "[{"):
        with contextlib.suppress(ValueError, RecursionError):
            strings: list[str] = []
            _json_strings(json.loads(text), strings)
            texts.append("\n".join(strings))
    if markup:
        # The parser's views cover all a reader gets; the raw markup would
        # only add tag names, at twice the cost.
        texts += markup_texts(text)
    else:
        texts.append(text)
        if _MARKUP.search(texts[0]):
            texts += markup_texts(texts[0])
    more = [_unescape_code(t) for t in texts if _CODE_ESCAPE.search(t)]
    more += [unquote(t) for t in texts + more if _PERCENT.search(t)]
    return texts + more


def _data_uris(text: str) -> list[bytes]:
    """The bytes of every data: URI in a text (base64 or percent-encoded)."""
    found: list[bytes] = []
    for match in _DATA_URI.finditer(text):
        params, payload = match.group(1), match.group(2)
        if ";base64" in params.lower():
            payload = re.sub(r"\s+", "", unquote(payload))
            try:
                data = base64.b64decode(payload + "=" * (-len(payload) % 4))
            except (binascii.Error, ValueError):
                continue
        else:
            data = unquote_to_bytes(payload)
        if data and len(found) < 10_000:
            found.append(data[: EXPANDED_LIMIT + 1])
    return found


# Images and PDFs ------------------------------------------------------------------


def _metadata_text(value: object) -> str:
    if isinstance(value, bytes):
        return decode(value)[0]
    if isinstance(value, (list, tuple)):
        return " ".join(_metadata_text(v) for v in value)
    if isinstance(value, dict):
        return " ".join(_metadata_text(v) for v in value.values())
    return str(value)


def image_metadata(data: bytes) -> tuple[str, bool] | None:
    """(text of every metadata field, has a GPS location), or None."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            texts: list[str] = []
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


def pdf_text(name: str, data: bytes) -> list[str]:
    """The text of every page of a PDF and its document information."""
    import pypdf  # only a site that publishes PDFs pays for the import

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        texts = [page.extract_text() or "" for page in reader.pages]
        if reader.metadata is not None:
            texts += [str(value) for value in reader.metadata.values()]
        if reader.xmp_metadata is not None:
            texts.append(decode(reader.xmp_metadata.stream.get_data())[0])
    except Exception as err:  # noqa: BLE001 - pypdf raises many kinds
        raise Unreadable(f"the PDF {name} cannot be read ({err})") from None
    return texts


# All of it --------------------------------------------------------------------


def views(name: str, data: bytes, depth: int = 0) -> Iterator[tuple[str, str, str]]:
    """Yield (surface, member name, text) for every text in a file's bytes.

    `name` is the file's path in the output; a compressed copy or a zip
    member is yielded under its own name (`a.html.br`, `x.zip/b.txt`).
    Raises Unreadable for a file that cannot be read completely.
    """
    expanded = _expand(name, data)
    if expanded is not None and depth < _NESTING:
        inner, inner_data = expanded
        yield from views(inner, inner_data, depth + 1)
        return
    members = _members(name, data) if depth < _NESTING else None
    if members is not None:
        for member, member_data in members:
            yield FILE_NAME, member, path_text(member)
            if member_data is not None:
                yield from views(member, member_data, depth + 1)
        return
    surface = surface_of(name, data)
    if data[:5] == b"%PDF-":
        for text in pdf_text(name, data):
            yield PDF, name, text
        return
    text, is_text = decode(data)
    if is_text:
        for item in _text_views(name, text):
            yield surface, name, item
            if "data:" in item and depth < _NESTING:
                for embedded in _data_uris(item):
                    yield from views(name + DATA_URI, embedded, depth + 1)
    else:
        yield surface, name, text
    if surface == "image" or not is_text:
        found = image_metadata(data)
        if found is not None:
            yield IMAGE_METADATA, name, found[0]
            if found[1]:
                yield GPS, name, ""
