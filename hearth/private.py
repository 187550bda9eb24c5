"""Private posts without Pelican: references, payloads, keys, envelope reuse.

plugins/hearth_private is the Pelican glue around this module. What is here
takes plain values (text, paths, dicts) and is tested on its own
(tests/test_quarantine.py): which files a page uses, the payload and index
schemas (docs/architecture.md), derived keys (once, then cached),
the cache of last build's envelopes, and the fate of each content file.
"""

import datetime as dt
import hashlib
import hmac
import json
import mimetypes
import os
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from hearth import envelope, frontmatter, readers, secrets
from hearth.envelope import Attachment
from hearth.images import ImageError, clean_image
from hearth.ownerfiles import owner_only_folder, replace_owner_only
from hearth.state import STATE_FILE_NAME, State

# An attachment's entry in a payload: {"key": base64url, "type": MIME type}.
Meta = dict[str, str]
# A sealed file: (out path, address, its Meta, the blob).
Sealed = tuple[str, str, Meta, bytes]
# A static file as fates() sees it: its site path, or the object itself.
F = TypeVar("F")

# Attributes that name a file a page loads or links. `srcset` and
# `imagesrcset` hold several candidates; the rest one address each.
_URL_ATTRS = {"src", "href", "poster", "data", "xlink:href", "background"}
_SRCSET_ATTRS = {"srcset", "imagesrcset"}
# Pelican's link directives, as a writer may put them in a metadata value.
_DIRECTIVES = ("{static}", "{attach}", "{filename}", "|static|", "|attach|")
_KEY_BYTES = 32  # an attachment key, as the envelope makes it

# Private pages live under p/; their own ids are 16 hex digits, so the
# attachment folder and the audience indexes cannot collide with them.
PRIVATE_DIR = "p"
ATTACHMENT_DIR = "p/f"
INDEX_DIR = "p/i"
# Statuses a publish build never publishes: Pelican writes `hidden` posts at
# their address (only unlisted) and drafts under drafts/.
UNPUBLISHED = ("draft", "hidden")
_IMG = re.compile(r"<img\b[^>]*>", re.I)

# What a static file becomes in a build.
PUBLIC = "public"
SEALED = "sealed"  # encrypted: only private posts use it
LEFT_OUT = "left out"  # nobody public or private uses it


class PrivateError(Exception):
    """The build stopped: a private post could not be kept private."""


def audience_label(audiences: Sequence[str], labels: Mapping[str, str]) -> str:
    """'Close friends', 'Close friends and Family', 'A, B and C'."""
    names = [labels.get(a, a) for a in audiences]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def neutral_title(audiences: Sequence[str], labels: Mapping[str, str]) -> str:
    """A private post's public stand-in title: 'A post for Close friends'."""
    return f"A post for {audience_label(audiences, labels)}"


def page_address(url: str, siteurl: str | None) -> str:
    """The address an envelope is bound to: the path as `location.pathname`
    shows it, from the server root (docs/format.md, "Associated data")."""
    prefix = urlsplit(siteurl or "").path.rstrip("/")
    return f"{prefix}/{url}"


def site_path(value: str, page_url: str, siteurl: str | None) -> str | None:
    """The site-relative, URL-decoded path a reference points to, or None.

    Resolves a relative reference against the page's own address, as the
    browser will, and drops SITEURL's path ("/blog") in front. A link
    directive Pelican left in place (`{static}/x` in a srcset) names /x. None for
    another host, a bare fragment or query, and `data:`/`mailto:` values.
    """
    return _Resolver(page_url, siteurl).site_path(value)


def site_paths(values: Iterable[str], page_url: str, siteurl: str | None) -> set[str]:
    """site_path of each value named on one page (its address worked out once)."""
    resolve = _Resolver(page_url, siteurl).site_path
    return {path for value in values if (path := resolve(value))}


class _Resolver:
    """site_path for one page: the site's and the page's parts split once."""

    def __init__(self, page_url: str, siteurl: str | None) -> None:
        site = urlsplit(siteurl or "")
        self.site = (site.scheme, site.netloc)
        self.prefix = site.path.rstrip("/")
        self.folder = posixpath.dirname(page_address(page_url, siteurl))

    def site_path(self, value: str) -> str | None:
        value = value.strip()
        for directive in _DIRECTIVES:
            # Pelican resolves these in src and href, not in srcset: a
            # candidate may still carry one. It names a file from the site root.
            if value.startswith(directive):
                value = "/" + value[len(directive) :].lstrip("/")
                break
        parts = urlsplit(value)
        if (parts.scheme or parts.netloc) and (parts.scheme, parts.netloc) != self.site:
            return None
        if not parts.path:
            return None
        path = posixpath.normpath(posixpath.join(self.folder, unquote(parts.path)))
        prefix = self.prefix
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        return path.lstrip("/")


def srcset_urls(value: str) -> list[str]:
    """Every candidate's URL in a srcset ("a.jpg 1x, b.jpg 2x"), as the HTML
    standard splits it: a URL runs to whitespace, trailing commas end it."""
    urls: list[str] = []
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
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if name in _SRCSET_ATTRS:
                self.found.extend(srcset_urls(value))
            elif name in _URL_ATTRS:
                self.found.append(value)

    handle_startendtag = handle_starttag


def references(html: str | None) -> list[str]:
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

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[
            tuple[tuple[int, int], str | None, str, list[tuple[str, str | None]]]
        ] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((self.getpos(), self.get_starttag_text(), tag, attrs))

    handle_startendtag = handle_starttag


def rewrite(html: str, replace: Callable[[str], str | None]) -> str:
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
    for row in html.splitlines(keepends=True):
        starts.append(starts[-1] + len(row))
    out: list[str] = []
    done = 0
    for (line, col), text, tag, attrs in parser.tags:
        changed = False
        new_attrs: list[tuple[str, str | None]] = []
        for name, value in attrs:
            new = value
            if value and name in _SRCSET_ATTRS:
                swapped_set = value
                for url in srcset_urls(value):
                    swapped = replace(url)
                    if swapped is not None:
                        swapped_set = swapped_set.replace(url, swapped)
                new = swapped_set
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


def metadata_references(metadata: Mapping[str, Any]) -> list[str]:
    """Addresses named in metadata values (image, og_image, cover, ...).

    Every string value (and string in a list) counts, with Pelican's link
    directives removed: a key only another plugin knows still names a file.
    """
    found: list[str] = []
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


def fates(
    static_paths: Iterable[F],
    public: Collection[F],
    private: Collection[F],
    publish: bool,
) -> dict[F, str]:
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
    *,
    title: str,
    date: str,
    locale_date: str,
    content: str,
    summary: str,
    tags: Iterable[str],
    category: str | None,
    warnings: Iterable[Mapping[str, str]],
    attachments: Mapping[str, Meta],
    warnings_note: str = "",
) -> bytes:
    """The JSON a private post's envelope holds, as bytes."""
    payload = {
        "warnings_note": warnings_note,
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


def index_payload(entries: Iterable[dict[str, Any]]) -> bytes:
    """An audience's list of posts, newest first, as bytes."""
    entries = sorted(entries, key=lambda e: e["date"], reverse=True)
    return json.dumps({"entries": entries}, ensure_ascii=False).encode("utf-8")


# --- derived keys -----------------------------------------------------------

# The cache's name for a derived key is PBKDF2 again, at a sixtieth of the
# floor's work: cheap next to the derivation it saves, and not a fast way
# to test guesses of the passphrase against a stolen cache (docs/design.md,
# "Derived keys are cached").
_NAME_ITERATIONS = 10_000
_DERIVED_FILE_ABOUT = (
    "Hearth's derived keys: secret, owner-only, never commit it. "
    "Delete it to make the next build derive every key again."
)


def _derived_name(passphrase: str, salt: bytes, iterations: int) -> str:
    """Which passphrase, salt and work a derived key is for.

    Over the passphrase exactly as given: two spellings that derive the same
    key (a trailing newline) only cost a second derivation, never a wrong key.
    """
    label = b"hearth derived key\x00" + iterations.to_bytes(8, "big") + bytes(salt)
    secret = passphrase.encode("utf-8", "surrogatepass")
    kdf = PBKDF2HMAC(  # OpenSSL's: about twice as fast as hashlib's
        algorithm=hashes.SHA256(), length=32, salt=label, iterations=_NAME_ITERATIONS
    )
    return kdf.derive(secret).hex()


def _derived_tag(name: str, key: bytes) -> str:
    """Binds a cached key to its name: a damaged or moved entry fails it."""
    mac = hmac.new(bytes(key), b"hearth derived tag\x00" + name.encode(), "sha256")
    return envelope.b64url(mac.digest())


def _strong_tag(name: str, key: bytes) -> str:
    """Says the passphrase behind a cached key passed the strength estimate,
    under this rule: only the key's holder can write it."""
    label = f"hearth strong\x00{name}\x00{readers.strength_rule()}".encode()
    return envelope.b64url(hmac.new(bytes(key), label, "sha256").digest())


class Keys:
    """Derived keys: PBKDF2 once per passphrase, salt and work, then cached.

    Kept in an owner-only file in Hearth's cache folder (beside the audience
    and attachment keys, which open as much), so a build derives only what
    changed: a new passphrase, salt or iteration count gets a new name and
    is derived afresh; an entry that is damaged or is not this cache's own
    fails its tag and is derived again. The passphrase is never written.

    `start` begins the derivations the cache lacks in threads (PBKDF2
    releases the GIL, so they run while the content is read); `key` returns
    the cached key, else the early one, else derives.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        # names whose passphrase passed the strength estimate (tagged)
        self._strong: set[str] = set()
        self._cached = self._load()
        self._early: dict[str, Future[bytes]] = {}
        # name -> key: what this build used, saved at the end
        self._used: dict[str, bytes] = {}
        # (passphrase, salt, work) -> name, until forget()
        self._names: dict[tuple[str, bytes, int], str] = {}

    def _load(self) -> dict[str, bytes]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
            entries = data["keys"]
            if not isinstance(entries, dict):
                return {}
        except (OSError, ValueError, KeyError, TypeError):
            return {}  # unreadable: every key is derived again
        found = {}
        for name, entry in entries.items():
            try:
                key = envelope.unb64url(entry["key"])
                good = len(key) == _KEY_BYTES and hmac.compare_digest(
                    entry["tag"], _derived_tag(name, key)
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                good = False
            if good:
                found[name] = key
                strong = entry.get("strong")
                if isinstance(strong, str) and hmac.compare_digest(
                    strong, _strong_tag(name, key)
                ):
                    self._strong.add(name)
        return found

    def start(self, jobs: Iterable[tuple[str, bytes, int]]) -> None:
        """jobs: [(passphrase, salt, iterations)], derived early if not cached."""
        missing = {}
        for phrase, salt, work in jobs:
            name = self._name(phrase, salt, work)
            if name not in self._cached and name not in self._early:
                missing[name] = (phrase, salt, work)
        if not missing:
            return
        # Imported here: a build whose keys are all cached starts no thread.
        from concurrent.futures import ThreadPoolExecutor

        workers = min(len(missing), os.cpu_count() or 1)
        pool = ThreadPoolExecutor(max_workers=workers)
        for name, (phrase, salt, work) in missing.items():
            future = pool.submit(envelope.derive_key, phrase, salt, work)
            self._early[name] = future
        pool.shutdown(wait=False)

    def _name(self, phrase: str, salt: bytes, work: int) -> str:
        inputs = (phrase, bytes(salt), work)
        if inputs not in self._names:
            self._names[inputs] = _derived_name(phrase, salt, work)
        return self._names[inputs]

    def key(self, phrase: str, salt: bytes, iterations: int) -> bytes:
        """The derived key: cached, else derived early, else derived now."""
        name = self._name(phrase, salt, iterations)
        key = self._cached.get(name)
        if key is None:
            early = self._early.pop(name, None)
            if early is not None:
                try:
                    key = early.result()
                except Exception:  # noqa: BLE001 - derive again below, and fail there
                    key = None
            if key is None:
                key = envelope.derive_key(phrase, salt, iterations)
            self._cached[name] = key
        self._used[name] = key
        return key

    def strong(self, phrase: str, salt: bytes, iterations: int) -> bool:
        """Whether this passphrase passed the strength estimate in a build
        that kept its key (the estimate need not run again)."""
        return self._name(phrase, salt, iterations) in self._strong

    def mark_strong(self, phrase: str, salt: bytes, iterations: int) -> None:
        """The passphrase passed the estimate: say so beside its key."""
        self._strong.add(self._name(phrase, salt, iterations))

    def forget(self) -> None:
        """Let unused early derivations (and the passphrases) go."""
        self._early.clear()
        self._names.clear()

    def save(self) -> None:
        """Keep the keys this build used (and only those), owner-only."""
        if self.path is None or not self._used:
            return
        data = {
            "about": _DERIVED_FILE_ABOUT,
            "keys": {
                name: {
                    "key": envelope.b64url(key),
                    "tag": _derived_tag(name, key),
                    **(
                        {"strong": _strong_tag(name, key)}
                        if name in self._strong
                        else {}
                    ),
                }
                for name, key in sorted(self._used.items())
            },
        }
        owner_only_folder(self.path.parent)
        text = json.dumps(data, indent=1) + "\n"
        replace_owner_only(self.path, text.encode("ascii"))


# --- last build's envelopes -------------------------------------------------


class EnvelopeCache:
    """Last build's envelopes and attachments, so unchanged ones are reused.

    Kept beside Pelican's own cache, never online. Attachments are stored
    with their key, so the folder is the owner's only (0700, files 0600):
    nothing in it is world-readable, and nothing in it is plaintext.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        owned: str | os.PathLike[str] | None = None,
    ) -> None:
        self.folder = Path(folder)
        # The top folder that is Hearth's alone (made owner-only with it).
        self.owned = Path(owned) if owned is not None else self.folder
        self._new: dict[Path, bytes] = {}
        self._read: dict[Path, bytes] = {}  # path -> bytes last build left there

    def _load(self, path: Path) -> bytes | None:
        # Nothing here is written before save(): a file is read once a build
        # (an envelope is asked for by its tag check, then by encrypt).
        if path in self._read:
            return self._read[path]
        try:
            data = path.read_bytes()
        except OSError:
            return None
        self._read[path] = data
        return data

    def _path(self, address: str, suffix: str) -> Path:
        name = hashlib.sha256(address.encode("utf-8")).hexdigest() + suffix
        return self.folder / name

    def envelope(self, address: str) -> str | None:
        """Last build's envelope text for `address`, or None."""
        data = self._load(self._path(address, ".txt"))
        try:
            return data.decode("ascii") if data is not None else None
        except UnicodeDecodeError:
            return None

    def attachment(self, address: str) -> Attachment | None:
        """Last build's attachment (key and blob) for `address`, or None."""
        data = self._load(self._path(address, ".bin"))
        if data is None or len(data) <= _KEY_BYTES:
            return None
        return Attachment(data[:_KEY_BYTES], data[_KEY_BYTES:])

    def _keep(self, path: Path, data: bytes) -> None:
        if self._read.get(path) != data:  # an unchanged file is not written again
            self._new[path] = data

    def keep_envelope(self, address: str, text: str, tag: bytes = b"") -> None:
        """Keep this build's envelope (and its reuse tag) for the next."""
        data = text.encode("ascii")
        self._keep(self._path(address, ".txt"), data)
        if tag:
            self._keep(self._path(address, ".tag"), tag + hashlib.sha256(data).digest())

    def unchanged_envelope(self, address: str, tag: bytes) -> str | None:
        """Last build's envelope for `address` if it was made for exactly what
        `tag` binds (reuse_tag) and its bytes are whole, else None."""
        kept = self._load(self._path(address, ".tag"))
        text = self.envelope(address)
        if kept is None or text is None:
            return None
        digest = hashlib.sha256(text.encode("ascii")).digest()
        return text if hmac.compare_digest(kept, tag + digest) else None

    def keep_attachment(
        self, address: str, attachment: Attachment, source_digest: bytes = b""
    ) -> None:
        """Keep this build's attachment (and its source's digest) for the next."""
        self._keep(self._path(address, ".bin"), attachment.key + attachment.blob)
        if source_digest:
            self._keep(self._path(address, ".src"), source_digest)

    def unchanged_attachment(
        self, address: str, source_digest: bytes
    ) -> Attachment | None:
        """Last build's attachment for `address` if it was sealed from a
        source file with these very bytes (their SHA-256), else None."""
        if self._load(self._path(address, ".src")) != source_digest:
            return None
        return self.attachment(address)

    def save(self) -> None:
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
            replace_owner_only(path, data)
        self._new = {}


def seal(
    data: bytes, address: str, cache: EnvelopeCache, source_digest: bytes = b""
) -> Attachment:
    """Encrypt one attachment for `address`, reusing last build's if unchanged
    (kept in `cache` with its source's digest, if given)."""
    sealed = envelope.encrypt_attachment(
        data, address, previous=cache.attachment(address)
    )
    cache.keep_attachment(address, sealed, source_digest)
    return sealed


# --- who may read what ------------------------------------------------------


def check_settings(settings: Mapping[str, Any]) -> None:
    """Stop the build on any setting about who may read what that is unclear."""
    audiences = settings["HEARTH_AUDIENCES"]
    if not isinstance(audiences, dict):
        raise PrivateError(
            "HEARTH_AUDIENCES must be a dict of audience name -> label, like "
            '{"friends": "Close friends"}; fix it in pelicanconf.py.'
        )
    for name, label in audiences.items():
        try:
            frontmatter.audience_names(name, audiences, "HEARTH_AUDIENCES")
        except frontmatter.FrontMatterError as err:
            raise PrivateError(f"{err} Fix it in pelicanconf.py.") from None
        if name == frontmatter.PUBLIC or not isinstance(label, str) or not label:
            raise PrivateError(
                f"HEARTH_AUDIENCES: audience {name!r} needs a label the reader "
                f'sees, like "{name}": "Close friends" (and "public" is not '
                "an audience name). Fix it in pelicanconf.py."
            )
    iterations = settings["HEARTH_PBKDF2_ITERATIONS"]
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise PrivateError(
            f"HEARTH_PBKDF2_ITERATIONS is {iterations!r}, not a whole number. "
            f"Set it to {envelope.ITERATION_FLOOR} or more."
        )
    if iterations < envelope.ITERATION_FLOOR:
        raise PrivateError(
            f"HEARTH_PBKDF2_ITERATIONS is {iterations}, below the floor of "
            f"{envelope.ITERATION_FLOOR} that keeps passphrases hard to guess. "
            f"Set it to {envelope.ITERATION_FLOOR} or more."
        )
    for key in ("HEARTH_PUBLISH", "HEARTH_SHOW_PRIVATE_TITLES"):
        if not isinstance(settings[key], bool):
            raise PrivateError(f"{key} is {settings[key]!r}: set it to True or False.")
    for key in settings:
        if key.startswith("HEARTH_PASSPHRASE"):
            raise PrivateError(
                f"{key} is a Pelican setting, and Pelican copies every setting "
                "into the pages' template context. Remove it from the settings "
                "file; set it as an environment variable or in secrets.toml."
            )
    state_file = settings["HEARTH_STATE_FILE"]
    if state_file is not None and not isinstance(state_file, (str, os.PathLike)):
        raise PrivateError(
            f"HEARTH_STATE_FILE is {state_file!r}: set it to a path, or None "
            f"for {STATE_FILE_NAME} beside the content folder."
        )


def is_held(
    metadata: Mapping[str, Any], labels: Mapping[str, str], publish: bool
) -> bool:
    """Whether a post with this metadata is kept out of sight (fail closed):
    private, or in a publish build a draft or hidden post; an audience that
    cannot be read counts as private."""
    if publish and metadata.get("status") in UNPUBLISHED:
        return True
    try:
        return bool(frontmatter.audience_names(metadata.get("audience"), labels))
    except frontmatter.FrontMatterError:
        return True


class Keyring(NamedTuple):
    """An audience's keyring: where it goes and whom it admits."""

    path: str  # p/k/<salt id>
    recipients: list[envelope.Recipient]  # per reader passphrase and open link
    readers: int


class _StrengthMemo:
    """secrets.StrengthMemo over the derived-key cache: a passphrase that
    passed zxcvbn once is marked beside its key (tagged with the key, under
    readers.strength_rule), and the next build skips the estimate for it."""

    def __init__(self, keys: Keys, state: State, iterations: int) -> None:
        self.keys, self.state, self.iterations = keys, state, iterations

    def known(self, passphrase: str, audience: str) -> bool:
        salt = self.state.known_audience(audience)
        return (
            salt is not None
            and salt[1] == self.iterations
            and self.keys.strong(passphrase, *salt)
        )

    def passed(self, passphrase: str, audience: str) -> None:
        self.keys.mark_strong(
            passphrase, *self.state.audience(audience, self.iterations)
        )


def recipients(
    used: Collection[str],
    audiences: Iterable[str],
    *,
    publish: bool,
    secrets_file: str | os.PathLike[str] | None,
    state: State,
    iterations: int,
    keys: Keys,
    store: readers.AudienceKeys,
    today: dt.date,
) -> tuple[dict[str, list[envelope.Recipient]], dict[str, Keyring]]:
    """({audience: [Recipient]}, {audience: Keyring}) for this build.

    Posts and lists are encrypted for each audience's random audience key
    (the first Recipient) and, if the audience has one, for the key of its
    shared passphrase too, so that links and remembered keys made before
    readers existed keep working (docs/format.md, "Readers"). The keyring
    wraps the audience key for every reader's passphrase and every link not
    past its expiry on `today` (hearth/readers.py).

    `used` are the audiences private posts name; every other audience with
    a reader gets a key too (its list of posts is written, empty, so that a
    list's presence never says "there are hidden posts for this audience").
    A passphrase's key is derived once and kept by `keys` (owner-only);
    `store` keeps the audience keys.
    """
    try:
        found = secrets.audience_readers(
            used,
            audiences,
            publish=publish,
            secrets_file=secrets_file,
            memo=_StrengthMemo(keys, state, iterations),
        )
    except secrets.SecretsError as err:
        raise PrivateError(
            f"Hearth stopped the build before writing anything:\n  {err}"
        ) from None
    result: dict[str, list[envelope.Recipient]] = {}
    rings: dict[str, Keyring] = {}
    # {audience: ((salt, work), its keyring's members)}, worked out once.
    planned = {
        audience: (
            state.audience(audience, iterations),
            readers.keyring_members(found[audience], today),
        )
        for audience in found
    }
    # Every reader passphrase the cache lacks is derived at once, in threads.
    keys.start(
        (secret, *salted)
        for salted, members_ in planned.values()
        for _, _kind, secret in members_
        if isinstance(secret, str)  # a passphrase (a link key is its own key)
    )
    for audience in sorted(found):
        (salt, work), keyring = planned[audience]
        members: list[bytes] = []
        shared = None
        for reader, _kind, secret in keyring:
            if isinstance(secret, bytes):  # kind "link": the link key itself
                members.append(secret)
                continue
            members.append(keys.key(secret, salt, work))
            if reader.name == readers.SHARED:
                shared = members[-1]
        members = list(dict.fromkeys(members))  # two readers, one passphrase
        if len(members) > envelope.MAX_RECIPIENTS:
            raise PrivateError(
                f"Audience {audience!r} has {len(members)} reader passphrases "
                f"and links; a keyring holds at most {envelope.MAX_RECIPIENTS}. "
                "Remove readers (invoke readers-remove), or split the audience."
            )
        key = store.key_for(audience, members)
        result[audience] = [envelope.Recipient(audience, salt, work, key)]
        if shared is not None:
            result[audience].append(envelope.Recipient(audience, salt, work, shared))
        rings[audience] = Keyring(
            readers.keyring_path(salt),
            [envelope.Recipient(audience, salt, work, m) for m in members],
            len(found[audience]),
        )
    del found
    keys.forget()
    return result, rings


def keyring_payload(recipients_: Sequence[envelope.Recipient]) -> bytes:
    """A keyring's payload: the 32-byte audience key itself."""
    return recipients_[0].key


# --- sealing ----------------------------------------------------------------


def seal_file(
    source: str | os.PathLike[str],
    relative: str,
    *,
    state: State,
    cache: EnvelopeCache,
    siteurl: str | None,
) -> Sealed:
    """Encrypt a file only private posts use, under an opaque name.

    Returns (out path, address, {"key", "type"}, blob). Image metadata goes
    first: hearth_images only sees the sealed blob, and a reader's browser
    gets what is sealed.
    """
    out_path = f"{ATTACHMENT_DIR}/{state.attachment_id(relative)}"
    address = page_address(out_path, siteurl)
    data = Path(source).read_bytes()
    digest = hashlib.sha256(data).digest()
    # A file unchanged since the last build is not cleaned and sealed again.
    sealed = cache.unchanged_attachment(address, digest)
    if sealed is None:
        try:
            data = clean_image(data) or data
        except ImageError as err:
            raise PrivateError(
                f"{relative}: {err}, so its metadata cannot be removed. Re-save "
                "it from an image editor, then build again."
            ) from None
        sealed = seal(data, address, cache, digest)
    else:
        cache.keep_attachment(address, sealed, digest)
    mime = mimetypes.guess_type(str(source))[0] or "application/octet-stream"
    meta = {"key": envelope.b64url(sealed.key), "type": mime}
    return out_path, address, meta, sealed.blob


def point_at_sealed(
    html: str,
    *,
    page_url: str,
    siteurl: str | None,
    page_root: str,
    sealed: Mapping[str, Sealed],
    attachments: dict[str, Meta],
) -> str:
    """Point every reference to a sealed file at its sealed copy, and note
    its key in `attachments` (address -> {"key", "type"})."""

    if not sealed:
        return html
    resolve = _Resolver(page_url, siteurl).site_path

    def swap(value: str) -> str | None:
        path = resolve(value)
        if path is None or path not in sealed:
            return None
        out_path, address, meta, _ = sealed[path]
        attachments[address] = meta
        return f"{page_root}/{out_path}" if page_root else f"/{out_path}"

    return rewrite(html, swap)


def reuse_tag(
    payload: bytes, address: str, recipients_: Sequence[envelope.Recipient]
) -> bytes:
    """What an envelope was made for: HMAC-SHA256 under the first recipient's
    key over the address, every recipient (its key by digest) and the payload.

    It sits in the owner-only cache beside the keys themselves, so it tells
    whoever reads the cache nothing the keys do not.
    """
    mac = hmac.new(bytes(recipients_[0].key), digestmod="sha256")
    mac.update(b"hearth envelope reuse\x00" + address.encode("utf-8") + b"\x00")
    for r in recipients_:
        head = json.dumps([r.audience, envelope.b64url(r.salt), r.iterations]).encode()
        mac.update(head + hashlib.sha256(bytes(r.key)).digest())
    mac.update(bytes(payload))
    return mac.digest()


def encrypt_for(
    payload: bytes,
    address: str,
    recipients_: Sequence[envelope.Recipient],
    cache: EnvelopeCache,
) -> str:
    """The envelope of one page or list, reusing last build's if unchanged.

    An envelope made last build for the same payload and recipients is taken
    as it is (its tag and digest say so); otherwise envelope.encrypt decides,
    opening last build's to compare.
    """
    tag = reuse_tag(payload, address, recipients_) if recipients_ else b""
    text = cache.unchanged_envelope(address, tag) if tag else None
    if text is None:
        text = envelope.encrypt(
            payload, address, recipients_, previous=cache.envelope(address)
        )
    # The envelope goes inside <script type="application/json">: nothing
    # in it may close the element or start markup.
    if "<" in text or "&" in text:
        raise PrivateError(f"{address}: the envelope is not safe to embed in HTML.")
    cache.keep_envelope(address, text, tag)
    return text


def index_entry(
    *,
    url: str,
    title: str,
    date: str,
    locale_date: str,
    summary: str,
    warnings: list[dict[str, str]],
    audiences: list[str],
) -> dict[str, Any]:
    """One post in an audience's list (docs/architecture.md)."""
    return {
        "url": url,
        "title": title,
        "date": date,
        "locale_date": locale_date,
        # Images in a list would need their own keys; lists show text.
        "summary": _IMG.sub("", summary),
        "warnings": warnings,
        "audiences": audiences,
    }
