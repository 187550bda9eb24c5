"""Private posts without Pelican: references, payloads, keys, envelope reuse.

plugins/hearth_private is the Pelican glue around this module. What is here
takes plain values (text, paths, dicts) and is tested on its own
(tests/test_quarantine.py): which files a page uses, the payload and index
schemas (docs/architecture.md), one key derivation per audience per build,
the cache of last build's envelopes, and the fate of each content file.
"""

import base64
import hashlib
import json
import os
import posixpath
import tempfile
from concurrent.futures import ThreadPoolExecutor
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hearth import envelope

# Attributes that name a file a page loads or links. `srcset` and
# `imagesrcset` hold several candidates; the rest one address each.
_URL_ATTRS = {"src", "href", "poster", "data", "xlink:href", "background"}
_SRCSET_ATTRS = {"srcset", "imagesrcset"}
# Pelican's link directives, as a writer may put them in a metadata value.
_DIRECTIVES = ("{static}", "{attach}", "{filename}", "|static|", "|attach|")
_KEY_BYTES = 32  # an attachment key, as the envelope makes it

# What a static file becomes in a build.
PUBLIC = "public"
SEALED = "sealed"  # encrypted: only private posts use it
LEFT_OUT = "left out"  # nobody public or private uses it


def audience_label(audiences, labels):
    """'Close friends', 'Close friends and Family', 'A, B and C'."""
    names = [labels.get(a, a) for a in audiences]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def neutral_title(audiences, labels):
    return f"A post for {audience_label(audiences, labels)}"


def b64url(data):
    """base64url without padding, the spelling docs/format.md uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def page_address(url, siteurl):
    """The address an envelope is bound to: the path as `location.pathname`
    shows it, from the server root (docs/format.md, "Associated data")."""
    prefix = urlsplit(siteurl or "").path.rstrip("/")
    return f"{prefix}/{url}"


def site_path(value, page_url, siteurl):
    """The site-relative, URL-decoded path a reference points to, or None.

    Resolves a relative reference against the page's own address, as the
    browser will, and drops SITEURL's path ("/blog") in front. A link
    directive Pelican left in place (`{static}/x` in a srcset) names /x. None for
    another host, a bare fragment or query, and `data:`/`mailto:` values.
    """
    value = value.strip()
    for directive in _DIRECTIVES:
        # Pelican resolves these in src and href, not in srcset: a
        # candidate may still carry one. It names a file from the site root.
        if value.startswith(directive):
            value = "/" + value[len(directive) :].lstrip("/")
            break
    parts = urlsplit(value)
    site = urlsplit(siteurl or "")
    if (parts.scheme or parts.netloc) and (parts.scheme, parts.netloc) != (
        site.scheme,
        site.netloc,
    ):
        return None
    if not parts.path:
        return None
    page = page_address(page_url, siteurl)
    path = posixpath.normpath(
        posixpath.join(posixpath.dirname(page), unquote(parts.path))
    )
    prefix = site.path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return path.lstrip("/")


def srcset_urls(value):
    """Every candidate's URL in a srcset ("a.jpg 1x, b.jpg 2x"), as the HTML
    standard splits it: a URL runs to whitespace, trailing commas end it."""
    urls = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < end and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        stripped = url.rstrip(",")
        if stripped:
            urls.append(stripped)
        if url != stripped:
            continue  # the commas ended this candidate: no descriptors
        depth = 0
        while pos < end and (value[pos] != "," or depth):
            depth += {"(": 1, ")": -1}.get(value[pos], 0)
            pos += 1
    return urls


class _References(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if not value:
                continue
            if name in _SRCSET_ATTRS:
                self.found.extend(srcset_urls(value))
            elif name in _URL_ATTRS:
                self.found.append(value)

    handle_startendtag = handle_starttag


def references(html):
    """Every address an HTML fragment names in an attribute (entities decoded).

    src, href, poster, `<object data>`, `<embed src>`, `<source src/srcset>`,
    `<img srcset>` (every candidate), SVG's xlink:href: a real parser, so
    quoting, entities and odd spacing do not hide a reference.
    """
    if not html or "=" not in html:
        return []
    parser = _References()
    parser.feed(html)
    parser.close()
    return parser.found


class _Tags(HTMLParser):
    """Start tags with their offsets, for rewrite()."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((self.getpos(), self.get_starttag_text(), tag, attrs))

    handle_startendtag = handle_starttag


def rewrite(html, replace):
    """Rewrite every reference in html through `replace(value) -> new | None`.

    Only start tags holding a reference that changes are written anew (with
    their attributes quoted and escaped); the rest of the text is untouched.
    """
    if not html or "=" not in html:
        return html
    parser = _Tags()
    parser.feed(html)
    parser.close()
    starts = [0]
    for line in html.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out, done = [], 0
    for (line, col), text, tag, attrs in parser.tags:
        changed, new_attrs = False, []
        for name, value in attrs:
            new = value
            if value and name in _SRCSET_ATTRS:
                for url in srcset_urls(value):
                    swapped = replace(url)
                    if swapped is not None:
                        new = new.replace(url, swapped)
            elif value and name in _URL_ATTRS:
                swapped = replace(value)
                if swapped is not None:
                    new = swapped
            changed |= new != value
            new_attrs.append((name, new))
        if not changed or text is None:
            continue
        start = starts[line - 1] + col
        out.append(html[done:start])
        parts = [f"<{tag}"]
        for name, value in new_attrs:
            parts.append(f" {name}" if value is None else f' {name}="{escape(value)}"')
        parts.append("/>" if text.rstrip().endswith("/>") else ">")
        out.append("".join(parts))
        done = start + len(text)
    out.append(html[done:])
    return "".join(out)


def metadata_references(metadata):
    """Addresses named in metadata values (image, og_image, cover, ...).

    Every string value (and string in a list) counts, with Pelican's link
    directives removed: a key only another plugin knows still names a file.
    """
    found = []
    for value in metadata.values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if not isinstance(item, str) or not item or "\n" in item:
                continue
            text = item.strip()
            for directive in _DIRECTIVES:
                if text.startswith(directive):
                    text = "/" + text[len(directive) :].lstrip("/")
                    break
            found.append(text)
    return found


def fates(static_paths, public, private, publish):
    """What each static file becomes: PUBLIC, SEALED or LEFT_OUT.

    `public` and `private` are the site paths public and private pages use.
    A file used publicly stays public even if private posts use it too; one
    only private posts use is sealed; the rest (used only by drafts or hidden
    posts, or by nobody) is left out of a publish build and kept in a preview.
    """
    result = {}
    for path in static_paths:
        if path in public:
            result[path] = PUBLIC
        elif path in private:
            result[path] = SEALED
        else:
            result[path] = LEFT_OUT if publish else PUBLIC
    return result


# --- payload and index schemas (docs/architecture.md) ----------------------


def post_payload(
    *, title, date, locale_date, content, summary, tags, category, warnings, attachments
):
    """The JSON a private post's envelope holds, as bytes."""
    payload = {
        "title": title,
        "date": date,
        "locale_date": locale_date,
        "content": content,
        "summary": summary,
        "tags": list(tags),
        "category": category,
        "warnings": list(warnings),
        "attachments": attachments,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def index_payload(entries):
    """An audience's list of posts, newest first, as bytes."""
    entries = sorted(entries, key=lambda e: e["date"], reverse=True)
    return json.dumps({"entries": entries}, ensure_ascii=False).encode("utf-8")


# --- keys per build ---------------------------------------------------------


class Keys:
    """One PBKDF2 derivation per audience per build, started early in threads.

    `start` begins the derivations whose inputs are already known (PBKDF2
    releases the GIL, so they run while the content is read); `key` uses one
    only if passphrase, salt and work still match, and derives otherwise: a
    guess costs time, never correctness.
    """

    def __init__(self):
        self._early = {}

    def start(self, jobs):
        """jobs: {audience: (passphrase, salt, iterations)}."""
        if not jobs:
            return
        pool = ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1))
        for audience, (phrase, salt, work) in jobs.items():
            future = pool.submit(envelope.derive_key, phrase, salt, work)
            self._early[audience] = (phrase, salt, work, future)
        pool.shutdown(wait=False)

    def key(self, audience, phrase, salt, iterations):
        early = self._early.pop(audience, None)
        if early is not None and early[:3] == (phrase, salt, iterations):
            try:
                return early[3].result()
            except Exception:  # noqa: BLE001 - derive again below, and fail there
                pass
        return envelope.derive_key(phrase, salt, iterations)

    def forget(self):
        """Let unused guesses (and their passphrases) go."""
        self._early.clear()


# --- last build's envelopes -------------------------------------------------


class EnvelopeCache:
    """Last build's envelopes and attachments, so unchanged ones are reused.

    Kept beside Pelican's own cache, never online. Attachments are stored
    with their key, so the folder is the owner's only (0700, files 0600):
    nothing in it is world-readable, and nothing in it is plaintext.
    """

    def __init__(self, folder, owned=None):
        self.folder = Path(folder)
        # The top folder that is Hearth's alone (made owner-only with it).
        self.owned = Path(owned) if owned is not None else self.folder
        self._new = {}

    def _path(self, address, suffix):
        name = hashlib.sha256(address.encode("utf-8")).hexdigest() + suffix
        return self.folder / name

    def envelope(self, address):
        try:
            return self._path(address, ".txt").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return None

    def attachment(self, address):
        try:
            data = self._path(address, ".bin").read_bytes()
        except OSError:
            return None
        if len(data) <= _KEY_BYTES:
            return None
        return envelope.Attachment(data[:_KEY_BYTES], data[_KEY_BYTES:])

    def keep_envelope(self, address, text):
        self._new[self._path(address, ".txt")] = text.encode("ascii")

    def keep_attachment(self, address, attachment):
        self._new[self._path(address, ".bin")] = attachment.key + attachment.blob

    def save(self):
        """Write what this build made, owner-only, each file atomically."""
        if not self._new:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        folder = self.folder
        while True:
            os.chmod(folder, 0o700)
            if folder in (self.owned, folder.parent):
                break
            folder = folder.parent
        for path, data in self._new.items():
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:  # mkstemp: mode 0600
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        self._new = {}


def seal(data, address, cache):
    """Encrypt one attachment for `address`, reusing last build's if unchanged."""
    sealed = envelope.encrypt_attachment(
        data, address, previous=cache.attachment(address)
    )
    cache.keep_attachment(address, sealed)
    return sealed
