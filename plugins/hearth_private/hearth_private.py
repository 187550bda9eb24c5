"""Encrypt private posts and keep them off every public surface."""

import base64
import hashlib
import html
import json
import logging
import mimetypes
import os
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markupsafe import Markup
from pelican import signals
from pelican.contents import Article, Content
from pelican.generators import (
    SourceFileGenerator,
    StaticGenerator,
)
from pelican.log import LimitFilter
from pelican.urlwrappers import Category
from pelican.utils import (
    get_relative_path,
    order_content,
    path_to_url,
    slugify,
    truncate_html_paragraphs,
    truncate_html_words,
)

from hearth import envelope, frontmatter, secrets
from hearth.contents import ARTICLE_LISTS, CONTENT_LISTS, PAGE_LISTS
from hearth.images import ImageError, clean_image
from hearth.state import STATE_FILE_NAME, State, StateError

logger = logging.getLogger(__name__)

PLUGIN_NAME = "hearth_private"
FRONTMATTER = "hearth_frontmatter"  # reads `audience`; this plugin needs it
DEFAULTS = {
    # name -> label the reader sees ("friends": "Close friends").
    "HEARTH_AUDIENCES": {},
    # publishconf.py sets True: no demo passphrases, no drafts.
    "HEARTH_PUBLISH": False,
    # PBKDF2 work per audience key; never below the envelope's floor.
    "HEARTH_PBKDF2_ITERATIONS": envelope.ITERATION_FLOOR,
    # Show a private post's real title on its locked page and in lists.
    "HEARTH_SHOW_PRIVATE_TITLES": False,
    # None: hearth-state.json beside the content folder (the repository root).
    # A relative path is taken from there too.
    "HEARTH_STATE_FILE": None,
}
# Private pages live under p/; their own ids are 16 hex digits, so the
# attachment folder and the audience indexes cannot collide with them.
PRIVATE_DIR = "p"
ATTACHMENT_DIR = "p/f"
INDEX_DIR = "p/i"
_KEY_BYTES = 32  # an attachment key, as the envelope makes it
# Metadata a private post keeps in the open: nothing the writer wrote about it.
_PUBLIC_METADATA = {
    "date",
    "modified",
    "status",
    "lang",
    "template",
    "author",
    "authors",
    "audience",
    "listing",
    "timezone",
    "translation",
}
# src/href/poster attributes in rendered HTML: where a post points at files.
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_LINK_ATTR = re.compile(r"""(\b(?:src|href|poster)\s*=\s*)(["'])(.*?)\2""", re.S)


class PrivateError(Exception):
    """The build stopped: a private post could not be kept private."""


@dataclass
class _Private:
    """A private post as the writer wrote it, kept away from the templates."""

    content: Content
    audiences: list
    written: bool
    title: str
    raw_content: str
    raw_summary: str | None
    tags: list
    category: str | None
    warnings: list
    date: object
    locale_date: str


class _Build:
    """Everything the plugin knows during one build."""

    def __init__(self, settings, state, root):
        self.settings = settings
        self.state = state
        self.root = root
        self.publish = settings["HEARTH_PUBLISH"]
        self.private = {}  # id(content) -> _Private
        self.locked = []
        self.errors = []
        self.urls = set()
        self.envelopes = {}  # url -> envelope text, cached for the next build
        # Preview and publish builds use different passphrases; each keeps its
        # own envelopes, so that a preview between two publishes does not
        # make every private post look changed to the second publish.
        kind = "publish" if self.publish else "preview"
        self.cache = Path(settings["CACHE_PATH"]) / "hearth" / "envelopes" / kind
        # audience -> (passphrase, salt, iterations, future of the key): the
        # derivations started before the content is read (_start_derivations).
        self.early = {}


_BUILD = None
_CHECKED = None  # the Pelican object whose settings passed the checks


# --- small pure helpers ---------------------------------------------------


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


def page_address(url, settings):
    """The address an envelope is bound to: the path as `location.pathname`
    shows it, from the server root (docs/format.md, "Associated data")."""
    prefix = urlsplit(settings.get("SITEURL") or "").path.rstrip("/")
    return f"{prefix}/{url}"


def site_root_for(save_as, settings):
    """The SITEURL a page at `save_as` is rendered with (as Pelican's writer)."""
    if settings["RELATIVE_URLS"]:
        return path_to_url(get_relative_path(save_as))
    return settings["SITEURL"]


def site_path(value, page_url, settings):
    """The site-relative path an href/src points to, or None if off-site.

    Resolves a relative link against the page's own address, as the browser
    will, and drops SITEURL's path ("/blog") in front.
    """
    parts = urlsplit(html.unescape(value))
    site = urlsplit(settings.get("SITEURL") or "")
    if (parts.scheme or parts.netloc) and (parts.scheme, parts.netloc) != (
        site.scheme,
        site.netloc,
    ):
        return None
    if not parts.path:
        return None
    page = page_address(page_url, settings)
    path = posixpath.normpath(
        posixpath.join(posixpath.dirname(page), unquote(parts.path))
    )
    prefix = site.path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return path.lstrip("/")


def _check_settings(settings):
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


def _audiences_of(content, known):
    """A content object's audiences, normalised even without hearth_frontmatter.

    Pelican sets every metadata key as an attribute, so a raw `audience`
    string is there whether or not it has been checked; `is_private` is the
    sign that hearth_frontmatter normalised it.
    """
    if not hasattr(content, "is_private"):
        names = frontmatter.audience_names(
            content.metadata.get("audience"), known, content.source_path
        )
        content.audience = names
        content.is_private = bool(names)
        content.listing = frontmatter.listing_mode(
            content.metadata.get("listing"), content.source_path
        )
    return list(content.audience) if content.is_private else []


def _warnings_of(content):
    """[{label, description}]: the warnings plugin's details, else the labels.

    Empty when the locked panel shows them already (the writer set
    HEARTH_WARNINGS_ON_LOCKED_PANEL): unlocking does not ask twice.
    """
    if getattr(content, "public_warning_details", None):
        return []
    details = getattr(content, "warning_details", None)
    if details:
        return [
            {
                "label": str(d.get("label", "")),
                "description": str(d.get("description", "")),
            }
            if isinstance(d, dict)
            else {"label": str(d), "description": ""}
            for d in details
        ]
    return [{"label": w, "description": ""} for w in getattr(content, "warnings", [])]


def _forget_rendered(content):
    """Drop Pelican's memoised renderings of this object (they hold plaintext)."""
    for method in (Content.get_content, Content.get_summary):
        for key in [k for k in method.cache if k and k[0] is content]:
            del method.cache[key]


def _neutralise(content, title, settings):
    """Leave nothing of the writer's text on the object the templates see."""
    for key in list(content.metadata):
        attr = key.lower()
        if attr in ("save_as", "url"):
            continue
        if attr in _PUBLIC_METADATA or isinstance(
            getattr(type(content), attr, None), property
        ):
            continue
        if attr in content.__dict__:
            delattr(content, attr)
    content.metadata = {
        k: v for k, v in content.metadata.items() if k.lower() in _PUBLIC_METADATA
    }
    content.metadata["title"] = title
    content.metadata["summary"] = ""
    content.title = title
    content._summary = ""
    content._content = ""
    if "_get_content" in content.__dict__:
        del content._get_content
    if isinstance(content, Article):
        content.tags = []
        content.category = Category(settings["DEFAULT_CATEGORY"], settings)
    content.warnings = []
    content.warning_details = []
    _forget_rendered(content)


def _check_translations(contents, build):
    """A translation is the same post in another language, for the same readers.

    Pelican writes each translation at its own URL and in its language's
    feed, and links the versions from each other: a public translation of a
    private post would be the private post, in the clear.
    """
    labels = build.settings["HEARTH_AUDIENCES"]
    for content in contents:
        for other in getattr(content, "translations", None) or []:
            if other.lang == content.lang:
                continue  # two posts that share a title: Pelican warns itself
            try:
                ours = _audiences_of(content, labels)
                theirs = _audiences_of(other, labels)
            except frontmatter.FrontMatterError:
                continue  # _capture reports the header itself
            if sorted(ours) == sorted(theirs):
                continue
            first, second = sorted(
                [
                    (other.relative_source_path, theirs),
                    (content.relative_source_path, ours),
                ]
            )
            build.errors.append(
                f"{first[0]} (audience: {', '.join(first[1]) or 'public'}) and "
                f"{second[0]} (audience: {', '.join(second[1]) or 'public'}) are "
                "translations of each other: give them the same audience."
            )


def _capture(content, build):
    """Take a private post's text into the plugin and neutralise the object.

    Returns True for a private post. Errors are collected, not raised, so the
    writer sees every faulty post at once.
    """
    if id(content) in build.private:
        return True
    settings = build.settings
    labels = settings["HEARTH_AUDIENCES"]
    try:
        audiences = _audiences_of(content, labels)
    except frontmatter.FrontMatterError as err:
        build.errors.append(str(err))
        return False
    if not audiences:
        return False
    source = content.relative_source_path or content.source_path
    # Where Pelican would have written it: empty for a draft in a publish
    # build (never written), else stale plaintext to remove from the output.
    public_save_as = content.save_as
    # A translation names its original's slug only to be paired with it (the
    # slug is often the private title's): translated posts get opaque ids.
    if "slug" in content.metadata and not getattr(content, "translations", None):
        url_id = slugify(
            str(content.metadata["slug"]),
            regex_subs=settings.get("SLUG_REGEX_SUBSTITUTIONS", []),
        )
        logger.warning(
            "%s: this private post has an explicit slug, so its URL is p/%s/ "
            "and anyone who sees the address can read it. Remove 'slug:' for "
            "an opaque URL.",
            source,
            url_id,
        )
    else:
        url_id = build.state.post_id(source)
    for key in ("save_as", "url"):
        if key in content.metadata:
            logger.warning(
                "%s: '%s' is ignored on a private post; it is written at p/%s/.",
                source,
                key,
                url_id,
            )
    tags = [str(t) for t in getattr(content, "tags", None) or []]
    category = getattr(content, "category", None)
    date = getattr(content, "date", None)
    record = _Private(
        content=content,
        audiences=audiences,
        written=bool(public_save_as),
        title=str(content.title),
        raw_content=(
            content._get_content()
            if hasattr(content, "_get_content")
            else content._content
        )
        or "",
        raw_summary=content.metadata.get("summary"),
        tags=tags,
        category=str(category) if category is not None else None,
        warnings=_warnings_of(content),
        date=date,
        locale_date=getattr(content, "locale_date", ""),
    )
    title = neutral_title(audiences, labels)
    if settings["HEARTH_SHOW_PRIVATE_TITLES"]:
        title = record.title
    content.slug = url_id
    if record.written:
        content.override_url = f"{PRIVATE_DIR}/{url_id}/"
        content.override_save_as = f"{PRIVATE_DIR}/{url_id}/index.html"
        build.urls.add(content.url)
        content.hearth_stale_save_as = public_save_as
    _neutralise(content, title, settings)
    # hearth_frontmatter stops the build on any private content without it.
    content.hearth_sealed = True
    content.hearth_label = title
    content.hearth_audiences = [{"name": a, "label": labels[a]} for a in audiences]
    build.private[id(content)] = record
    return True


def _raise_errors(build):
    if build.errors:
        messages = "\n  ".join(dict.fromkeys(build.errors))
        build.errors = []
        raise PrivateError(
            "Hearth stopped the build before writing anything, because some "
            f"private posts could not be kept private:\n  {messages}"
        )


def _html_of(record, raw, settings):
    """Render a private post's raw HTML with links resolved for its own page."""
    content = record.content
    siteurl = site_root_for(content.save_as, settings)
    return content._update_content(raw, siteurl), siteurl


def _summary_html(record, content_html, settings):
    """The summary Pelican would have made: the writer's, or the opening words."""
    if record.raw_summary is not None:
        return _html_of(record, record.raw_summary, settings)[0]
    summary = content_html
    if settings.get("SUMMARY_MAX_PARAGRAPHS") is not None:
        summary = truncate_html_paragraphs(summary, settings["SUMMARY_MAX_PARAGRAPHS"])
    if settings["SUMMARY_MAX_LENGTH"] is not None:
        summary = truncate_html_words(
            summary, settings["SUMMARY_MAX_LENGTH"], settings["SUMMARY_END_SUFFIX"]
        )
    return summary


def _linked_paths(text, page_url, settings):
    return {
        path
        for _, _, value in _LINK_ATTR.findall(text)
        if (path := site_path(value, page_url, settings))
    }


def _public_references(generators, settings):
    """Site paths that public content or settings point at: they stay public."""
    paths = set()
    for generator in generators:
        for name in CONTENT_LISTS:
            for content in getattr(generator, name, []) or []:
                if getattr(content, "is_private", False) or not content.save_as:
                    continue
                siteurl = site_root_for(content.save_as, settings)
                text = content.get_content(siteurl) + (
                    content.get_summary(siteurl) or ""
                )
                paths |= _linked_paths(text, content.url, settings)
    # A theme or setting may name a content file (a logo, a favicon).
    for value in settings.values():
        if isinstance(value, str) and "/" in value:
            paths.add(value.lstrip("/"))
    return paths


def _cache_path(build, address, suffix):
    return build.cache / (hashlib.sha256(address.encode("utf-8")).hexdigest() + suffix)


def _cached_envelope(build, address):
    """Last build's envelope for this address (None if there is none)."""
    path = _cache_path(build, address, ".txt")
    try:
        return path, path.read_text(encoding="ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return path, None


def _cached_attachment(build, address):
    """Last build's Attachment for this address (None if there is none)."""
    path = _cache_path(build, address, ".bin")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return path, None
    if len(data) <= _KEY_BYTES:
        return path, None
    return path, envelope.Attachment(data[:_KEY_BYTES], data[_KEY_BYTES:])


# --- signal handlers ------------------------------------------------------


def check_settings(pelican):
    global _BUILD, _CHECKED
    _BUILD = _CHECKED = None
    settings = pelican.settings
    # Receivers stay connected for the rest of the process; a later build in
    # the same process without this plugin must not be touched by it.
    if not any(str(p).split(".")[-1] == PLUGIN_NAME for p in settings["PLUGINS"]):
        return
    if not any(str(p).split(".")[-1] == FRONTMATTER for p in settings["PLUGINS"]):
        # Without it YAML headers are read by the Markdown reader and nothing
        # stops the build on a header it cannot read; `audience` may be lost.
        raise PrivateError(
            f"hearth_private needs the {FRONTMATTER} plugin to read who may "
            f'read each post, and it is not loaded: add "{FRONTMATTER}" '
            "first in PLUGINS in pelicanconf.py, and check PLUGIN_PATHS if "
            "Pelican said it cannot load it."
        )
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    _check_settings(settings)
    _load_state(settings)  # a broken state file stops the build here, early
    _CHECKED = pelican


def start_run(pelican):
    """Fresh per-build state: autoreload runs one Pelican object many times.

    Connected to get_generators, it adds no generator (returns None).
    """
    global _BUILD
    _BUILD = None
    if pelican is not _CHECKED:
        return
    # Pelican drops a repeated log message for the rest of the process; the
    # demo passphrase warning must be loud at every build, autoreload too.
    LimitFilter._raised_messages.difference_update(
        [key for key in LimitFilter._raised_messages if secrets.DEMO_WARNING in key[1]]
    )
    settings = pelican.settings
    _BUILD = _Build(settings, _load_state(settings), _root(settings))
    _start_derivations(_BUILD)


def _start_derivations(build):
    """Derive the keys of the audiences we can already name, in threads.

    PBKDF2 releases the GIL, so these run while Pelican reads the content.
    Only audiences with a passphrase set and a salt already in the state
    file: nothing is created or warned about here. encrypt_private uses a
    key only if passphrase, salt and work still match, and derives itself
    otherwise, so a guess here costs time, never correctness.
    """
    settings = build.settings
    iterations = settings["HEARTH_PBKDF2_ITERATIONS"]
    jobs = {}
    try:
        for audience in settings["HEARTH_AUDIENCES"]:
            phrase = secrets.configured_passphrase(
                audience, secrets_file=build.root / secrets.SECRETS_FILE_NAME
            )
            known = build.state.known_audience(audience)
            if phrase is None and not build.publish:
                phrase = secrets.demo_passphrase(audience)
            if phrase is not None and known is not None and known[1] == iterations:
                jobs[audience] = (phrase, known[0], iterations)
    except secrets.SecretsError:
        return  # encrypt_private reads the secrets again and says what is wrong
    if not jobs:
        return
    pool = ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1))
    for audience, (phrase, salt, work) in jobs.items():
        future = pool.submit(envelope.derive_key, phrase, salt, work)
        build.early[audience] = (phrase, salt, work, future)
    pool.shutdown(wait=False)


def _derive(build, audience, phrase, salt, iterations):
    """The audience's key: the early derivation if it used these inputs."""
    early = build.early.pop(audience, None)
    if early is not None and early[:3] == (phrase, salt, iterations):
        try:
            return early[3].result()
        except Exception:  # noqa: BLE001 - derive again below, and fail there
            pass
    return envelope.derive_key(phrase, salt, iterations)


def _root(settings):
    """The repository root: the folder that holds the content folder."""
    return Path(settings["PATH"]).resolve().parent


def _load_state(settings):
    state_file = _root(settings) / (settings["HEARTH_STATE_FILE"] or STATE_FILE_NAME)
    try:
        return State.load(state_file)
    except StateError as err:
        raise PrivateError(str(err)) from None


def hide_private_articles(generator):
    build = _BUILD
    if build is None:
        return
    contents = [
        content for name in ARTICLE_LISTS for content in getattr(generator, name)
    ]
    _check_translations(contents, build)
    for content in contents:
        _capture(content, build)
    _raise_errors(build)

    def private(content):
        return id(content) in build.private

    public = [a for a in generator.articles if not private(a)]
    for article in generator.articles:
        if not private(article):
            continue
        if article.listing == "locked":
            build.locked.append(article)
        else:
            generator.hidden_articles.append(article)
    generator.articles[:] = public
    generator.hidden_translations.extend(
        t for t in generator.translations if private(t)
    )
    generator.translations[:] = [t for t in generator.translations if not private(t)]


def list_locked_articles(generator):
    """Put `listing: locked` posts back into the index and archives only."""
    build = _BUILD
    if build is None or not build.locked:
        return
    settings = generator.settings
    generator.articles.extend(build.locked)
    order_content(generator.articles, settings["ARTICLE_ORDER_BY"])
    generator.dates.extend(build.locked)
    generator.dates.sort(
        key=attrgetter("date"), reverse=generator.context["NEWEST_FIRST_ARCHIVES"]
    )
    generator.period_archives = generator._build_period_archives(
        generator.dates, generator.articles, settings
    )
    generator.context["period_archives"] = generator.period_archives


def hide_private_pages(generator):
    build = _BUILD
    if build is None:
        return
    contents = [
        content for name in PAGE_LISTS for content in getattr(generator, name, [])
    ]
    _check_translations(contents, build)
    for content in contents:
        _capture(content, build)
    _raise_errors(build)
    moved = [p for p in generator.pages if id(p) in build.private]
    generator.pages[:] = [p for p in generator.pages if id(p) not in build.private]
    generator.hidden_pages.extend(moved)


def encrypt_private(generators):
    build = _BUILD
    if build is None:
        return
    _raise_errors(build)
    settings = build.settings
    build.context = generators[0].context if generators else {}
    records = [r for r in build.private.values() if r.written]
    used = sorted({a for r in records for a in r.audiences})
    try:
        phrases = secrets.passphrases(
            used,
            publish=build.publish,
            secrets_file=build.root / secrets.SECRETS_FILE_NAME,
        )
    except secrets.SecretsError as err:
        raise PrivateError(
            f"Hearth stopped the build before writing anything:\n  {err}"
        ) from None
    # An audience no post uses still gets an (empty) list of posts when its
    # passphrase is set, so that a list's presence never says "there are
    # hidden posts for this audience". The preview's demo passphrase is
    # silent for them: there is nothing to protect.
    for audience in settings["HEARTH_AUDIENCES"]:
        if audience in phrases:
            continue
        configured = secrets.configured_passphrase(
            audience, secrets_file=build.root / secrets.SECRETS_FILE_NAME
        )
        if configured is None and not build.publish:
            configured = secrets.demo_passphrase(audience)
        if configured is not None:
            phrases[audience] = configured
    # One derivation per audience per build: PBKDF2 is slow on purpose.
    recipients = {}
    for audience in sorted(phrases):
        salt, iterations = build.state.audience(
            audience, settings["HEARTH_PBKDF2_ITERATIONS"]
        )
        key = _derive(build, audience, phrases[audience], salt, iterations)
        recipients[audience] = envelope.Recipient(audience, salt, iterations, key)
    del phrases
    build.early.clear()  # an unused guess: let its passphrase go

    static = next((g for g in generators if isinstance(g, StaticGenerator)), None)
    staticfiles = static.staticfiles if static else []
    public_paths = _public_references(generators, settings)
    by_url = {sf.url: sf for sf in staticfiles}

    rendered = {}
    private_files = {}
    for record in records:
        content_html, siteurl = _html_of(record, record.raw_content, settings)
        summary_html = _summary_html(record, content_html, settings)
        rendered[id(record)] = (content_html, summary_html, siteurl)
        for path in _linked_paths(
            content_html + summary_html, record.content.url, settings
        ):
            if path in by_url and path not in public_paths:
                private_files.setdefault(path, []).append(record)

    sealed = _seal_attachments(build, private_files, by_url)
    for path in sealed:
        staticfiles.remove(by_url[path])

    for record in records:
        content_html, summary_html, siteurl = rendered[id(record)]
        attachments = {}

        def swap(match, siteurl=siteurl, record=record, attachments=attachments):
            path = site_path(match.group(3), record.content.url, settings)
            if path not in sealed:
                return match.group(0)
            out_path, address, meta = sealed[path]
            attachments[address] = meta
            new = f"{siteurl}/{out_path}" if siteurl else f"/{out_path}"
            return f"{match.group(1)}{match.group(2)}{html.escape(new)}{match.group(2)}"

        content_html = _LINK_ATTR.sub(swap, content_html)
        summary_html = _LINK_ATTR.sub(swap, summary_html)
        payload = {
            "title": record.title,
            "date": record.date.isoformat() if record.date else "",
            "locale_date": record.locale_date,
            "content": content_html,
            "summary": summary_html,
            "tags": record.tags,
            "category": record.category,
            "warnings": record.warnings,
            "attachments": attachments,
        }
        address = page_address(record.content.url, settings)
        cache_path, previous = _cached_envelope(build, address)
        text = envelope.encrypt(
            json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"),
            address,
            [recipients[a] for a in record.audiences],
            previous=previous,
        )
        # The envelope goes inside <script type="application/json">: nothing
        # in it may close the element or start markup.
        if "<" in text or "&" in text:
            raise PrivateError(f"{address}: the envelope is not safe to embed in HTML.")
        record.content.hearth_envelope = Markup(text)
        build.envelopes[cache_path] = text

    _write_indexes(build, records, rendered, recipients)
    _remove_stale_plaintext(build, records, sealed, by_url)
    for generator in generators:
        if isinstance(generator, SourceFileGenerator):
            # OUTPUT_SOURCES copies the Markdown of everything in the context's
            # lists; locked posts are in "articles" for the index, so give this
            # generator lists without any private post.
            generator.context = {
                **generator.context,
                "articles": [
                    a
                    for a in generator.context["articles"]
                    if id(a) not in build.private
                ],
                "pages": [
                    p for p in generator.context["pages"] if id(p) not in build.private
                ],
            }
    logger.info(
        "Hearth: %d private posts encrypted for %d audiences, %d private files",
        len(records),
        len(used),
        len(sealed),
    )


def _write_indexes(build, records, rendered, recipients):
    """Encrypt, per audience, the list of its posts for the home page and
    archives, and tell the templates where each list is."""
    settings = build.settings
    out_root = Path(settings["OUTPUT_PATH"])
    # Lists are shown on pages at any depth: links from the site root.
    root = (settings["SITEURL"] if not settings["RELATIVE_URLS"] else "") or "/"
    indexes = []
    for audience in sorted(recipients):
        entries = []
        for record in records:
            content = record.content
            if audience not in record.audiences or not isinstance(content, Article):
                continue
            if content.status != "published":
                continue
            summary = record.raw_summary
            summary_html = (
                content._update_content(summary, root)
                if summary is not None
                else rendered[id(record)][1]
            )
            entries.append(
                {
                    "url": page_address(content.url, settings),
                    "title": record.title,
                    "date": record.date.isoformat() if record.date else "",
                    "locale_date": record.locale_date,
                    # Images in a list would need their own keys; lists show text.
                    "summary": _IMG.sub("", summary_html),
                    "warnings": record.warnings,
                    "audiences": record.audiences,
                }
            )
        entries.sort(key=lambda e: e["date"], reverse=True)
        out_path = f"{INDEX_DIR}/{build.state.index_id(audience)}"
        address = page_address(out_path, settings)
        cache_path, previous = _cached_envelope(build, address)
        text = envelope.encrypt(
            json.dumps({"entries": entries}, ensure_ascii=False).encode("utf-8"),
            address,
            [recipients[audience]],
            previous=previous,
        )
        dest = out_root / out_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="ascii")
        build.envelopes[cache_path] = text
        indexes.append({"audience": audience, "url": address})
    # The shared context: index and archive templates hand it to unlock.js.
    build.context["HEARTH_INDEXES"] = Markup(
        json.dumps(indexes).replace("<", "\\u003c")
    )


def _seal_attachments(build, private_files, by_url):
    """Encrypt files only private posts use; return {site path: (out, address, meta)}.

    Each blob is written to the output now: every check has passed, and the
    posts' envelopes (written later) carry the keys.
    """
    sealed = {}
    settings = build.settings
    out_root = Path(settings["OUTPUT_PATH"])
    for path in sorted(private_files):
        static = by_url[path]
        source = Path(settings["PATH"]) / static.source_path
        att_id = build.state.attachment_id(static.relative_source_path)
        out_path = f"{ATTACHMENT_DIR}/{att_id}"
        address = page_address(out_path, settings)
        cache_path, previous = _cached_attachment(build, address)
        data = source.read_bytes()
        try:
            # No EXIF or GPS inside the ciphertext either: hearth_images only
            # sees the sealed blob, and a reader's browser gets what is sealed.
            data = clean_image(data) or data
        except ImageError as err:
            raise PrivateError(
                f"{static.relative_source_path}: {err}, so its metadata cannot "
                "be removed. Re-save it from an image editor, then build again."
            ) from None
        sealed_file = envelope.encrypt_attachment(data, address, previous=previous)
        mime = mimetypes.guess_type(static.source_path)[0] or "application/octet-stream"
        meta = {"key": b64url(sealed_file.key), "type": mime}
        sealed[path] = (out_path, address, meta)
        dest = out_root / out_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(sealed_file.blob)
        # The cache keeps key and blob so that an unchanged file is reused
        # byte for byte; it lives beside the plaintext sources, never online.
        build.envelopes[cache_path] = sealed_file.key + sealed_file.blob
    return sealed


def _remove_stale_plaintext(build, records, sealed, by_url):
    """Remove what an earlier build wrote in the clear at an old location."""
    out_root = Path(build.settings["OUTPUT_PATH"])
    stale = [getattr(r.content, "hearth_stale_save_as", "") for r in records]
    stale += [by_url[path].save_as for path in sealed]
    for save_as in stale:
        target = out_root / save_as
        if save_as and target.is_file():
            target.unlink()
            logger.debug("Removed stale plaintext %s", save_as)


def drop_private_feed_items(context, feed):
    """Remove private posts from every feed, whichever generator wrote it."""
    build = _BUILD
    if build is None or not build.urls:
        return
    kept = []
    for item in feed.items:
        path = urlsplit(item.get("link", "")).path.lstrip("/")
        if any(path == u or path.endswith("/" + u) for u in build.urls):
            continue
        kept.append(item)
    feed.items[:] = kept


def save_state(pelican):
    build = _BUILD
    if build is None:
        return
    for path, text in build.envelopes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="ascii")
    if build.state.save():
        logger.info("Hearth: updated %s (commit it)", build.state.path)


def register():
    # initialized: check settings and load the state file before any content
    # is read, so a bad setting stops the build with nothing written.
    signals.initialized.connect(check_settings)
    # get_generators: the first signal of every run, so each build (also each
    # autoreload rebuild of one Pelican object) starts from the state file.
    signals.get_generators.connect(start_run)
    # article_generator_pretaxonomy: after every article is read, before tags,
    # categories, authors, dates and archives are counted from `articles`.
    signals.article_generator_pretaxonomy.connect(hide_private_articles)
    # article_generator_finalized: taxonomies are done; locked posts may now
    # take their place in the index and archives (never in feeds or terms).
    signals.article_generator_finalized.connect(list_locked_articles)
    # page_generator_finalized: pages are read; take private ones off the nav.
    signals.page_generator_finalized.connect(hide_private_pages)
    # all_generators_finalized: every file and link is known, nothing written.
    signals.all_generators_finalized.connect(encrypt_private)
    # feed_generated: each feed just before it is written, whoever wrote it.
    signals.feed_generated.connect(drop_private_feed_items)
    # finalized: the build succeeded; keep salts, ids and envelopes for next time.
    signals.finalized.connect(save_state)
