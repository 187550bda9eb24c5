"""Encrypt private posts; keep them, drafts and hidden posts out of sight."""

import datetime as dt
import hashlib
import json
import logging
import os
import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from pelican import Pelican, signals
from pelican.contents import Content, Static
from pelican.generators import Generator
from pelican.writers import Writer

from hearth import (
    contents,
    envelope,
    frontmatter,
    padding,
    private,
    readers,
    reading,
    secrets,
    warnings,
)
from hearth.state import State, StateError, state_path

from . import glue

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
PRIVATE_DIR = private.PRIVATE_DIR
UNPUBLISHED = private.UNPUBLISHED


PrivateError = private.PrivateError


@dataclass
class _Held:
    """A post or page taken out of Pelican's sight as soon as it was read."""

    content: Any  # the read object, stripped of everything the writer wrote
    private: bool  # True: encrypted for `audiences`; False: left out
    source: str  # relative to the content folder
    source_path: str  # the file itself
    status: str
    audiences: list[str]
    listing: str
    title: str
    raw_content: str
    raw_summary: object
    metadata: dict[str, Any]  # the writer's metadata, for the files it names
    tags: list[str]
    category: Any
    warnings: list[dict[str, str]]  # [{label, description}]
    warnings_note: str  # the writer's own words before the labels
    date: Any  # a datetime, or None
    locale_date: str
    lang: str
    translation: object  # the value Pelican pairs translations by
    public_save_as: str  # where Pelican would have written it
    url_id: str = ""
    listed_in: str = ""  # the generator list Pelican sorted it into
    stand_in: Any = None  # what templates and plugins may see
    rendered: tuple[str, ...] = ()  # (content html, summary html, siteurl)


@dataclass
class _Build:
    """Everything the plugin knows during one build of one Pelican object."""

    settings: dict[str, Any]
    state: State
    root: Path
    publish: bool
    cache: private.EnvelopeCache
    keys: private.Keys  # derived keys, cached across builds
    store: readers.AudienceKeys  # the audience keys of this kind of build
    held: dict[int, _Held] = field(default_factory=dict)  # id(content) -> _Held
    errors: list[str] = field(default_factory=list)
    stand_ins: dict[int, _Held] = field(default_factory=dict)  # id(stand-in) -> _Held
    # site path -> (Static, (out path, address, meta, blob)) of sealed files
    sealed: dict[str, tuple[Static, private.Sealed]] = field(default_factory=dict)
    left_out: list[Static] = field(default_factory=list)  # not published
    context: dict[str, Any] = field(default_factory=dict)
    counter: int = 0
    indexes: dict[str, str] = field(default_factory=dict)  # out path -> envelope
    stand_in_source: Path | None = None  # the empty file, once made


# One _Build per running build, by its settings dict (content objects and
# generators carry that dict, not the Pelican object). The build holds the
# dict, so its id cannot be reused while the entry exists.
_BUILDS: dict[int, "_Build"] = {}
# Pelican objects whose settings passed the checks on `initialized`.
_CHECKED: weakref.WeakSet[Pelican] = weakref.WeakSet()


def _build_for(settings: dict[str, Any]) -> "_Build | None":
    build = _BUILDS.get(id(settings))
    return build if build is not None and build.settings is settings else None


class _Unpublished:
    """What a `{filename}` link to a left-out post finds. Rendering it
    records the link, and the build stops before anything is written.

    It sits in Pelican's shared context, which the content cache pickles
    with every object: it holds nothing but the post's source path.
    """

    linking = ""  # the public post being rendered (class-wide, one build at a time)
    found: list[tuple[str, str]] = []  # (linking, target)

    def __init__(self, source: str) -> None:
        self.source = source

    @property
    def url(self) -> str:
        _Unpublished.found.append((_Unpublished.linking, self.source))
        return ""


# --- reading what Pelican read ----------------------------------------------


def _warnings_of(content: Content, settings: dict[str, Any]) -> list[dict[str, str]]:
    """[{label, description}]: hearth_warnings' details, else the vocabulary's."""
    details = getattr(content, "warning_details", None)
    if details is None:
        details, _ = warnings.resolve(
            frontmatter.as_list(content.metadata.get("warnings")),
            *warnings.vocabulary_in(settings),
        )
    return [
        {
            "label": str(d.get("label", "")),
            "description": str(d.get("description", "")),
        }
        if isinstance(d, dict)
        else {"label": str(d), "description": ""}
        for d in details
    ]


def _translation_names(content: Content) -> list[str]:
    kind = "ARTICLE" if glue.is_article(content) else "PAGE"
    names = content.settings.get(f"{kind}_TRANSLATION_ID", "slug")
    if not names:
        return []
    return [names] if isinstance(names, str) else list(names)


def _translation_attrs(content: Content) -> dict[str, object]:
    return {
        n: getattr(content, n)
        for n in _translation_names(content)
        if hasattr(content, n)
    }


def _digest(text: str) -> str:
    return "hearth-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _translation_key(content: Content) -> tuple[str, ...] | None:
    names = _translation_names(content)
    if not names:
        return None
    return tuple(str(getattr(content, n, "")) for n in names)


def _shown_title(audiences: Sequence[str], labels: dict[str, str]) -> str:
    """The title other code sees on a held post: neutral, or 'left out'."""
    return private.neutral_title(audiences, labels) if audiences else "A post left out"


def _hold(content: Content, build: "_Build") -> None:
    """Take a private, draft or hidden post out of sight, if it is one.

    Called on content_object_init, the moment Pelican has made the object,
    and again on the generators' lists for objects that did not pass there
    (Pelican's generator cache loads them without reading). Errors are
    collected, so the writer sees every faulty post at once.
    """
    if getattr(content, "hearth_quarantined", False) or id(content) in build.held:
        return
    settings = build.settings
    labels = settings["HEARTH_AUDIENCES"]
    source = content.relative_source_path or content.source_path
    try:
        audiences = frontmatter.audience_names(
            content.metadata.get("audience"), labels, source
        )
        listing = frontmatter.listing_mode(content.metadata.get("listing"), source)
    except frontmatter.FrontMatterError as err:
        build.errors.append(str(err))
        audiences, listing = None, "hidden"  # unreadable: out of sight too
    status = getattr(content, "status", "published")
    unpublished = build.publish and status in UNPUBLISHED
    if not audiences and not unpublished and audiences is not None:
        return
    held = _Held(
        content=content,
        private=bool(audiences) and not unpublished,
        source=str(source),
        source_path=content.source_path,
        status=status,
        audiences=list(audiences or []),
        listing=listing,
        title=str(getattr(content, "title", "")),
        raw_content=glue.raw_text(content),
        raw_summary=content.metadata.get("summary"),
        metadata=dict(content.metadata),
        tags=[str(t) for t in getattr(content, "tags", None) or []],
        category=(
            str(content.category) if getattr(content, "category", None) else None
        ),
        warnings=_warnings_of(content, settings),
        warnings_note=str(getattr(content, "warning_note", "") or ""),
        date=getattr(content, "date", None),
        locale_date=getattr(content, "locale_date", ""),
        lang=getattr(content, "lang", settings["DEFAULT_LANG"]),
        translation=_translation_key(content),
        public_save_as=content.save_as or "",
    )
    glue.note_static_links(content)
    build.counter += 1
    # Pelican still pairs the held object with its translations (so that a
    # translation is not listed as a post of its own), by what it pairs on.
    # The values are hashed: a plugin that meets the object sees no slug.
    pairing: dict[str, object] = {"slug": f"hearth-held-{build.counter}"}
    pairing.update(
        {
            name: _digest(value) if isinstance(value, str) else value
            for name, value in _translation_attrs(content).items()
        }
    )
    glue.strip(
        content,
        title=_shown_title(held.audiences, labels),
        source=_empty_source(build),
        keep={
            "date": glue.day_of(held.date),
            "status": status,
            "lang": held.lang,
            "in_default_lang": held.lang == settings["DEFAULT_LANG"],
            **pairing,
            "translations": [],
            "is_private": bool(held.audiences),
            "audience": held.audiences,
            "listing": listing,
            # hearth_frontmatter stops the build on private content without it.
            "hearth_sealed": True,
            "hearth_quarantined": True,
        },
    )
    build.held[id(content)] = held


def _url_id(held: _Held, build: "_Build", paired: bool) -> str:
    """The opaque id of a private post's address (its explicit slug, if any).

    A translation names its original's slug only to be paired with it (the
    slug is often the private title's): translated posts get opaque ids.
    """
    slug = held.metadata.get("slug")
    if slug and not paired:
        url_id = glue.slugify(str(slug), build.settings)
        logger.warning(
            "%s: this private post has an explicit slug, so its URL is p/%s/ "
            "and the address says what the slug says. Remove 'slug:' for an "
            "opaque URL.",
            held.source,
            url_id,
        )
        return url_id
    for key in ("save_as", "url"):
        if key in held.metadata:
            logger.warning(
                "%s: '%s' is ignored on a private post; it is written at p/<id>/.",
                held.source,
                key,
            )
    return str(build.state.post_id(held.source))


def _make_stand_in(held: _Held, kind: type[Content], build: "_Build") -> Any:
    settings = build.settings
    labels = settings["HEARTH_AUDIENCES"]
    title = private.neutral_title(held.audiences, labels)
    if settings["HEARTH_SHOW_PRIVATE_TITLES"]:
        title = held.title
    shown = held.warnings if settings.get("HEARTH_WARNINGS_ON_LOCKED_PANEL") else []
    stand_in = glue.stand_in(
        kind,
        settings=settings,
        context=glue.context_of(held.content),
        url=f"{PRIVATE_DIR}/{held.url_id}/",
        date=held.date,
        title=title,
        lang=held.lang,
        source=_empty_source(build),
        attrs={
            "is_private": True,
            "status": held.status,  # the preview marks a private draft
            "audience": held.audiences,
            "listing": held.listing,
            "hearth_sealed": True,
            "hearth_label": title,
            "hearth_audiences": [
                {"name": a, "label": labels[a]} for a in held.audiences
            ],
            "warnings": [],
            "warning_details": [],
            "public_warning_details": shown,
            "hearth_envelope": Markup(""),
        },
    )
    held.stand_in = stand_in
    build.stand_ins[id(stand_in)] = held
    return stand_in


def _empty_source(build: "_Build") -> Path:
    """The empty file stand-ins name as their source (in the cache folder)."""
    if build.stand_in_source is None:
        path = Path(build.settings["CACHE_PATH"]) / "hearth" / "stand-in.txt"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
            path.chmod(0o600)
        build.stand_in_source = path
    return build.stand_in_source


def _check_translations(
    generator: Generator, names: Iterable[str], build: "_Build"
) -> None:
    """A translation is the same post in another language, for the same readers.

    Pelican writes each translation at its own URL and in its language's
    feed: a public translation of a private post would be the private post,
    in the clear.
    """
    groups: dict[object, list[tuple[str, list[str], str]]] = {}
    for held in build.held.values():
        if held.translation and (held.private or held.audiences):
            groups.setdefault(held.translation, []).append(
                (held.source, held.audiences, held.lang)
            )
    if not groups:
        return
    for name in names:
        for content in getattr(generator, name, None) or []:
            key = _translation_key(content) if content.source_path else None
            if key in groups:
                groups[key].append(
                    (
                        content.relative_source_path,
                        list(getattr(content, "audience", []) or []),
                        content.lang,
                    )
                )
    for members in groups.values():
        for i, (src_a, aud_a, lang_a) in enumerate(members):
            for src_b, aud_b, lang_b in members[i + 1 :]:
                if lang_a == lang_b or sorted(aud_a) == sorted(aud_b):
                    continue
                first, second = sorted([(src_a, aud_a), (src_b, aud_b)])
                build.errors.append(
                    f"{first[0]} (audience: {', '.join(first[1]) or 'public'}) and "
                    f"{second[0]} (audience: {', '.join(second[1]) or 'public'}) are "
                    "translations of each other: give them the same audience."
                )


def _raise_errors(build: "_Build") -> None:
    if build.errors:
        messages = "\n  ".join(dict.fromkeys(build.errors))
        build.errors = []
        raise PrivateError(
            "Hearth stopped the build before writing anything, because some "
            f"private posts could not be kept private:\n  {messages}"
        )


def _quarantine(
    generator: Generator, names: Sequence[str], kind: type[Content]
) -> None:
    """Take every held object off the generator's lists and the shared
    context, leaving stand-ins for private posts (listed if `listing: locked`)."""
    build = _build_for(generator.settings)
    if build is None:
        return
    glue.adopt_context(generator, names)
    for name in names:
        for content in list(getattr(generator, name, None) or []):
            _hold(content, build)
    _check_translations(generator, names, build)
    _raise_errors(build)

    def held(content: Content) -> bool:
        return id(content) in build.held

    listed = []
    for name in names:
        items = getattr(generator, name, None)
        if items is None:
            continue
        for content in items:
            if held(content):
                build.held[id(content)].listed_in = name
                continue
            if getattr(content, "translations", None):
                content.translations = [t for t in content.translations if not held(t)]
        items[:] = [c for c in items if not held(c)]  # in place: the context holds them
    links = generator.context.setdefault(glue.GENERATED, {})
    for key in [k for k, v in links.items() if held(v)]:
        del links[key]  # Pelican filed stripped objects under their empty source
    keys = Counter(
        h.translation for h in build.held.values() if isinstance(h.content, kind)
    )
    for name in names:
        keys.update(_translation_key(c) for c in getattr(generator, name, None) or [])
    for record in build.held.values():
        if record.stand_in is not None or not isinstance(record.content, kind):
            continue
        if record.private:
            paired = record.translation is not None and keys[record.translation] > 1
            record.url_id = _url_id(record, build, paired)
            stand_in = _make_stand_in(record, kind, build)
            links[record.source] = stand_in
            # Only where Pelican would have listed it: `articles` holds the
            # published posts in the default language, not translations.
            if record.listing == "locked" and record.listed_in == "articles":
                listed.append(stand_in)
        else:
            links[record.source] = _Unpublished(record.source)
    if listed:
        generator.articles.extend(listed)
        glue.order(generator.articles, build.settings["ARTICLE_ORDER_BY"])


# --- signal handlers ------------------------------------------------------


def check_settings(pelican: Pelican) -> None:
    """Check the settings once, before anything is read or written."""
    settings = pelican.settings
    _CHECKED.discard(pelican)
    _BUILDS.pop(id(settings), None)
    # Receivers stay connected for the rest of the process; a later build in
    # the same process without this plugin must not be touched by it.
    plugins = contents.plugin_names(settings)
    if PLUGIN_NAME not in plugins:
        return
    if FRONTMATTER not in plugins:
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
    private.check_settings(settings)
    _load_state(settings)  # a broken state file stops the build here, early
    _CHECKED.add(pelican)


def start_run(pelican: Pelican) -> None:
    """Fresh per-build state: autoreload runs one Pelican object many times.

    Connected to get_generators, it adds no generator (returns None).
    """
    settings = pelican.settings
    _BUILDS.pop(id(settings), None)
    if pelican not in _CHECKED:
        return
    glue.reset_log_limits()
    glue.forget_earlier_renderings()
    publish = settings["HEARTH_PUBLISH"]
    # Preview and publish builds use different passphrases; each keeps its
    # own envelopes, so that a preview between two publishes does not make
    # every private post look changed to the second publish.
    owned = Path(settings["CACHE_PATH"]) / "hearth"
    folder = owned / "envelopes" / ("publish" if publish else "preview")
    build = _Build(
        settings=settings,
        state=_load_state(settings),
        root=_root(settings),
        publish=publish,
        cache=private.EnvelopeCache(folder, owned=owned),
        store=readers.AudienceKeys(
            owned / "keys" / ("publish.json" if publish else "preview.json")
        ),
        # One file for both kinds of build: a key is named by its passphrase,
        # salt and work, so a preview never gets a publish build's key.
        keys=private.Keys(owned / "keys" / "derived.json"),
    )
    _BUILDS[id(settings)] = build
    _start_derivations(build)


def _start_derivations(build: "_Build") -> None:
    """Derive the keys of the audiences we can already name, in threads,
    if the cache of derived keys does not hold them.

    Only audiences with a passphrase set and a salt already in the state
    file: nothing is created or warned about here.
    """
    settings = build.settings
    iterations = settings["HEARTH_PBKDF2_ITERATIONS"]
    jobs = []
    path = secrets.secrets_file_path(build.root / secrets.SECRETS_FILE_NAME)
    audiences = settings["HEARTH_AUDIENCES"]
    try:
        # Read once for every audience, as secrets.passphrases does.
        needs_file = any(
            frontmatter.passphrase_variable(a) not in os.environ for a in audiences
        )
        table = secrets.read_secrets_file(path) if needs_file else {}
        for audience in audiences:
            phrase = secrets.configured_passphrase(
                audience, secrets_file=path, _table=table
            )
            known = build.state.known_audience(audience)
            if phrase is None and not build.publish:
                phrase = secrets.demo_passphrase(audience)
            if phrase is not None and known is not None and known[1] == iterations:
                jobs.append((phrase, known[0], iterations))
    except secrets.SecretsError:
        return  # seal_private reads the secrets again and says what is wrong
    build.keys.start(jobs)


def _root(settings: dict[str, Any]) -> Path:
    """The repository root: the folder that holds the content folder."""
    return Path(settings["PATH"]).resolve().parent


def _load_state(settings: dict[str, Any]) -> State:
    state_file = state_path(settings, _root(settings))
    try:
        # The state key sits with the passphrases, in the root's secrets file.
        state: State = State.load(
            state_file, secrets_file=_root(settings) / secrets.SECRETS_FILE_NAME
        )
        return state
    except StateError as err:
        raise PrivateError(str(err)) from None


def prepare_generator(generator: Generator) -> None:
    """Before a generator reads: its cache must not hand back a stripped
    object, and its context signal must not hand held metadata around."""
    build = _build_for(generator.settings)
    if build is None:
        return
    glue.purge_cache(generator, lambda obj: getattr(obj, "hearth_quarantined", False))
    glue.read_hearth_first(generator, lambda meta: _neutral_metadata(meta, build))


def _neutral_metadata(
    metadata: dict[str, Any], build: "_Build"
) -> dict[str, Any] | None:
    """What other plugins may see of a held post's metadata before it is an
    object (None: not held): a neutral title, the day, the status."""
    labels = build.settings["HEARTH_AUDIENCES"]
    if not private.is_held(metadata, labels, build.publish):
        return None
    try:
        audiences = frontmatter.audience_names(metadata.get("audience"), labels)
    except frontmatter.FrontMatterError:
        audiences = []
    neutral = {
        "title": _shown_title(audiences, labels),
        "status": metadata.get("status", "published"),
    }
    if isinstance(metadata.get("date"), dt.datetime):
        neutral["date"] = glue.day_of(metadata["date"])
    return neutral


@contents.read_first(2)  # after the header check and the warnings, then others
def hold_on_read(content: Content) -> None:
    build = _build_for(getattr(content, "settings", {}))
    if build is not None and glue.is_content(content):
        _hold(content, build)


def quarantine_articles(generator: Generator) -> None:
    """Every article is listed, nothing counted yet: take the held ones off."""
    _quarantine(generator, glue.ARTICLE_LISTS, glue.Article)


def quarantine_pages(generator: Generator) -> None:
    """Every page is listed: take the held ones off."""
    _quarantine(generator, glue.PAGE_LISTS, glue.Page)


def seal_private(generators: Sequence[Generator]) -> None:
    """Every file and link is known and nothing is written: decide which
    content files are public, sealed or left out, and encrypt the posts."""
    build = _build_for(generators[0].settings) if generators else None
    if build is None:
        return
    _raise_errors(build)
    settings = build.settings
    build.context = generators[0].context
    glue.owner_only_caches(generators)
    records = [h for h in build.held.values() if h.private and h.public_save_as]
    recipients, keyrings = _recipients(build, records)

    static = next((g for g in generators if isinstance(g, glue.StaticGenerator)), None)
    staticfiles = static.staticfiles if static else []
    siteurl = settings["SITEURL"]
    _Unpublished.found = []
    written = _written_in_the_clear(generators, build)
    _check_file_names(written)
    public = _public_references(written, build) if staticfiles else set()
    bad_links, _Unpublished.found = _Unpublished.found, []
    if bad_links:
        links = "\n  ".join(
            f"{linking} links to {target} with {{filename}}, but {target} is a "
            "draft or hidden post, which a publish build leaves out"
            for linking, target in dict.fromkeys(bad_links)
        )
        raise PrivateError(
            "Hearth stopped the publish build before writing anything:\n  "
            f"{links}\nRemove the link, or publish that post (status: published)."
        )
    private_paths: dict[str, list[_Held]] = {}
    for record in records:
        content = record.content
        page_root = glue.site_root_for(record.stand_in.url + "index.html", settings)
        body = glue.render(content, record.raw_content, page_root, record.source_path)
        summary = _summary_html(record, body, page_root)
        record.rendered = (body, summary, page_root)
        for path in private.site_paths(
            [
                *private.references(body + summary),
                *private.metadata_references(record.metadata),
            ],
            record.stand_in.url,
            siteurl,
        ):
            private_paths.setdefault(path, []).append(record)
    # Only now: rendering moved the files `{attach}` links name, and asking a
    # static file its address first would have pinned it where it was.
    by_path: dict[str, Static] = {}
    for sf in staticfiles:
        by_path.setdefault(sf.url, sf)
        by_path.setdefault(sf.save_as, sf)
    # The theme's templates may name a content file.
    theme = glue.theme_text(settings) if staticfiles else ""
    public |= {p for p in by_path if p and p in theme}
    used_privately: dict[Static, list[_Held]] = {}
    for path, users in private_paths.items():
        if path in by_path:
            used_privately.setdefault(by_path[path], []).extend(users)
    public_files = {by_path[p] for p in public if p in by_path}
    named = {v.strip("/") for v in glue.setting_strings(settings)}
    public_files |= {sf for sf in staticfiles if _named_in_settings(sf, named)}
    fates = private.fates(
        list(dict.fromkeys(by_path.values())),
        public_files,
        set(used_privately),
        build.publish,
    )
    for sf, fate in fates.items():
        if fate == private.SEALED:
            _seal_attachment(build, sf, used_privately[sf])
        elif fate == private.LEFT_OUT:
            build.left_out.append(sf)
    gone = {id(sf) for sf in build.left_out} | {
        id(sf) for sf, _ in build.sealed.values()
    }
    staticfiles[:] = [sf for sf in staticfiles if id(sf) not in gone]
    if not build.publish:
        unused = sorted(
            sf.relative_source_path
            for sf in fates
            if sf not in used_privately and sf not in public_files
        )
        if unused:
            logger.warning(
                "No public page, feed or the theme uses these files under the "
                "content folder, so a publish build leaves them out:\n  %s",
                "\n  ".join(unused),
            )

    sealed = {path: entry[1] for path, entry in build.sealed.items()}
    for record in records:
        _encrypt_post(build, record, recipients, sealed)
    _encrypt_indexes(build, records, recipients)
    _encrypt_keyrings(build, recipients, keyrings)
    _remove_stale_plaintext(build)
    for generator in generators:
        if isinstance(generator, glue.SourceFileGenerator):
            glue.sources_context(generator, lambda c: id(c) in build.stand_ins)
    logger.info(
        "Hearth: %d private posts encrypted for %d audiences, %d private files; "
        "%d posts and %d files left out",
        len(records),
        len({a for r in records for a in r.audiences}),
        len(build.sealed),
        len([h for h in build.held.values() if not h.private]),
        len(build.left_out),
    )


def _recipients(
    build: "_Build", records: Iterable[_Held]
) -> tuple[dict[str, list[envelope.Recipient]], dict[str, private.Keyring]]:
    settings = build.settings
    return private.recipients(
        {a for r in records for a in r.audiences},
        settings["HEARTH_AUDIENCES"],
        publish=build.publish,
        secrets_file=build.root / secrets.SECRETS_FILE_NAME,
        state=build.state,
        iterations=settings["HEARTH_PBKDF2_ITERATIONS"],
        keys=build.keys,
        store=build.store,
        today=dt.date.today(),
    )


def _encrypt_keyrings(
    build: "_Build",
    recipients: dict[str, list[envelope.Recipient]],
    keyrings: dict[str, private.Keyring],
) -> None:
    """Each audience's keyring: its audience key for every reader secret."""
    siteurl = build.settings["SITEURL"]
    for audience, ring in sorted(keyrings.items()):
        address = private.page_address(ring.path, siteurl)
        build.indexes[ring.path] = private.encrypt_for(
            private.keyring_payload(recipients[audience]),
            address,
            ring.recipients,
            build.cache,
        )
    for audience in build.store.rotated:
        logger.info(
            "Hearth: a new audience key for %r: readers removed since the last "
            "build (or links past their expiry) open nothing built from now on",
            audience,
        )


def _written_in_the_clear(
    generators: Sequence[Generator], build: "_Build"
) -> list[tuple[Content, str]]:
    """(content, save_as) for every post and page Pelican will write itself:
    every one left on the lists (public, or a preview's draft), not a
    stand-in. Where each is written is asked once, here."""
    written = []
    seen = set()
    for generator in generators:
        for name in glue.CONTENT_LISTS:
            for content in getattr(generator, name, None) or []:
                if id(content) in seen or id(content) in build.stand_ins:
                    continue
                seen.add(id(content))
                save_as = content.save_as
                if save_as:
                    written.append((content, str(save_as)))
    return written


def _check_file_names(written: Iterable[tuple[Content, str]]) -> None:
    """Stop before anything is written if a page's file name is too long.

    Checked where Pelican will write each page, once every plugin has had
    its say; a private post is written at p/<id>/, whatever its title.
    """
    problems = [
        problem
        for content, save_as in written
        if (
            problem := reading.file_name_problem(
                reading.shown_path(content.source_path), save_as
            )
        )
    ]
    if problems:
        raise PrivateError(
            "Hearth stopped the build before writing anything:\n  "
            + "\n  ".join(problems)
        )


def _public_references(
    written: Iterable[tuple[Content, str]], build: "_Build"
) -> set[str]:
    """Site paths that public content or the settings name.

    Once per build, over every post and page Pelican writes as its page
    renders it (body, summary, metadata), parsed as HTML.
    """
    settings = build.settings
    siteurl = settings["SITEURL"]
    paths = set()
    for content, save_as in written:
        _Unpublished.linking = content.relative_source_path
        body, summary = glue.render_public(
            content, glue.site_root_for(save_as, settings)
        )
        values = private.references(body + summary)
        values += private.metadata_references(content.metadata)
        paths |= private.site_paths(values, content.url, siteurl)
    return paths


def _named_in_settings(sf: Static, values: set[str]) -> bool:
    """A setting names this file (a logo, a favicon, EXTRA_PATH_METADATA's
    source path or its `path:`, like CNAME): the writer asked for it."""
    names = (sf.relative_source_path, sf.save_as, sf.url)
    return any(n and n.replace(os.sep, "/").strip("/") in values for n in names)


def _summary_html(record: _Held, content_html: str, settings_root: str) -> str:
    """The summary Pelican would have made: the writer's, or the opening words."""
    settings = record.content.settings
    if record.raw_summary is not None:
        return glue.render(
            record.content, str(record.raw_summary), settings_root, record.source_path
        )
    return glue.truncated_summary(content_html, settings)


def _seal_attachment(build: "_Build", sf: Static, users: Sequence[_Held]) -> None:
    """Encrypt a file only private posts use, under an opaque name."""
    source = Path(build.settings["PATH"]) / sf.source_path
    if not source.is_file():
        raise PrivateError(
            f"{users[0].source} uses {sf.relative_source_path}, which is not in "
            "the content folder: add the file, or fix the link."
        )
    sealed = private.seal_file(
        source,
        sf.relative_source_path,
        state=build.state,
        cache=build.cache,
        siteurl=build.settings["SITEURL"],
    )
    build.sealed[sf.url] = (sf, sealed)
    if sf.save_as != sf.url:
        build.sealed[sf.save_as] = build.sealed[sf.url]


def _encrypt_post(
    build: "_Build",
    record: _Held,
    recipients: dict[str, list[envelope.Recipient]],
    sealed: dict[str, private.Sealed],
) -> None:
    """One private post's envelope; `sealed`: {site path: sealed file}."""
    settings = build.settings
    body, summary, page_root = record.rendered
    attachments: dict[str, private.Meta] = {}
    page = {
        "page_url": record.stand_in.url,
        "siteurl": settings["SITEURL"],
        "page_root": page_root,
        "sealed": sealed,
        "attachments": attachments,
    }
    body = private.point_at_sealed(body, **page)
    summary = private.point_at_sealed(summary, **page)
    record.rendered = (body, summary, page_root)
    payload = private.post_payload(
        title=record.title,
        date=record.date.isoformat() if record.date else "",
        locale_date=record.locale_date,
        content=body,
        summary=summary,
        tags=record.tags,
        category=record.category,
        warnings=[]
        if settings.get("HEARTH_WARNINGS_ON_LOCKED_PANEL")
        else record.warnings,
        warnings_note=""
        if settings.get("HEARTH_WARNINGS_ON_LOCKED_PANEL")
        else record.warnings_note,
        attachments=attachments,
    )
    address = private.page_address(record.stand_in.url, settings["SITEURL"])
    text = private.encrypt_for(
        payload,
        address,
        [r for a in record.audiences for r in recipients[a]],
        build.cache,
    )
    record.stand_in.hearth_envelope = Markup(text)


def _encrypt_indexes(
    build: "_Build",
    records: Sequence[_Held],
    recipients: dict[str, list[envelope.Recipient]],
) -> None:
    """Encrypt, per audience, the list of its posts for the home page and
    archives, and tell the templates where each list is."""
    settings = build.settings
    # Lists are shown on pages at any depth: links from the site root.
    root = (settings["SITEURL"] if not settings["RELATIVE_URLS"] else "") or "/"
    siteurl = settings["SITEURL"]
    described = []
    for audience in sorted(recipients):
        entries = []
        for record in records:
            if audience not in record.audiences or not glue.is_article(record.content):
                continue
            if record.status != "published":
                continue
            if record.raw_summary is not None:
                summary = glue.render(
                    record.content, str(record.raw_summary), root, record.source_path
                )
            else:
                summary = record.rendered[1]
            entries.append(
                private.index_entry(
                    url=private.page_address(record.stand_in.url, settings["SITEURL"]),
                    title=record.title,
                    date=record.date.isoformat() if record.date else "",
                    locale_date=record.locale_date,
                    summary=summary,
                    warnings=record.warnings,
                    audiences=record.audiences,
                )
            )
        out_path = f"{private.INDEX_DIR}/{build.state.index_id(audience)}"
        address = private.page_address(out_path, settings["SITEURL"])
        # Padded to a bucket: its length must not count the posts, hidden
        # ones included (hearth.padding).
        build.indexes[out_path] = private.encrypt_for(
            padding.pad_list(private.index_payload(entries)),
            address,
            recipients[audience],
            build.cache,
        )
        # The keyring's address too: the browser finds it from the salt id
        # alone, but a page that names it lets `invoke lock` keep its bytes.
        ring = readers.keyring_path(recipients[audience][0].salt)
        # Public pages name an audience only if a `listing: locked` entry
        # names it anyway. An audience with only hidden posts is on no public
        # page, not even by opaque address: its list's and keyring's
        # envelopes name it, and the browser opens no list it cannot name.
        if not any(
            audience in r.audiences
            and r.listing == "locked"
            and r.status == "published"
            and glue.is_article(r.content)
            for r in records
        ):
            continue
        described.append(
            {
                "audience": audience,
                "url": address,
                "keyring": private.page_address(ring, siteurl),
            }
        )
    described.sort(key=lambda d: d["url"])  # opaque: the order names nothing
    # The shared context: index and archive templates hand it to unlock.js.
    build.context["HEARTH_INDEXES"] = Markup(
        json.dumps(described).replace("<", "\\u003c")
    )


def write_private_articles(generator: Generator, writer: Writer) -> None:
    """Hearth writes private pages itself: no writer signal names them."""
    build = _build_for(generator.settings)
    if build is None:
        return
    out_root = Path(build.settings["OUTPUT_PATH"])
    for out_path, text in getattr(build, "indexes", {}).items():
        dest = out_root / out_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="ascii")
    for _, (out_path, _, _, blob) in {
        id(v[0]): v for v in build.sealed.values()
    }.values():
        dest = out_root / out_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(blob)
    _write_pages(build, generator, glue.Article, "article")


def write_private_pages(generator: Generator, writer: Writer) -> None:
    """Hearth writes private pages itself, as it does articles."""
    build = _build_for(generator.settings)
    if build is not None:
        _write_pages(build, generator, glue.Page, "page")


def _write_pages(
    build: "_Build", generator: Generator, kind: type[Content], name: str
) -> None:
    for record in build.held.values():
        if (
            record.private
            and record.public_save_as
            and isinstance(record.content, kind)
        ):
            save_as = f"{record.stand_in.url}index.html"
            glue.write_page(generator, record.stand_in, save_as, name)


def _remove_stale_plaintext(build: "_Build") -> None:
    """Remove what an earlier build wrote in the clear at an old location."""
    out_root = Path(build.settings["OUTPUT_PATH"])
    stale = [h.public_save_as for h in build.held.values()]
    stale += [sf.save_as for sf in build.left_out]
    stale += [sf.save_as for sf, _ in build.sealed.values()]
    for save_as in dict.fromkeys(stale):
        target = out_root / save_as if save_as else None
        if target is not None and target.is_file():
            target.unlink()
            logger.debug("Removed stale plaintext %s", save_as)


def drop_private_feed_items(context: dict[str, Any], feed: Any) -> None:
    """Remove stand-ins from every feed, whichever generator wrote it."""
    build = next((b for b in _BUILDS.values() if b.context is context), None)
    if build is None or not build.stand_ins:
        return
    urls = {s.stand_in.url for s in build.stand_ins.values()}
    kept = []
    for item in feed.items:
        path = urlsplit(item.get("link", "")).path.lstrip("/")
        if any(path == u or path.endswith("/" + u) for u in urls):
            continue
        kept.append(item)
    feed.items[:] = kept


def save_state(pelican: Pelican) -> None:
    build = _BUILDS.pop(id(pelican.settings), None)
    if build is None or build.settings is not pelican.settings:
        return
    build.cache.save()
    build.store.save()
    build.keys.save()
    if build.state.save():
        logger.info("Hearth: updated %s (commit it)", build.state.path)


def register() -> None:
    """Connect the handlers (Pelican calls this once per plugin load)."""
    # initialized: check settings and load the state file before any content
    # is read, so a bad setting stops the build with nothing written.
    signals.initialized.connect(check_settings)
    # get_generators: the first signal of every run, so each build (also each
    # autoreload rebuild of one Pelican object) starts afresh.
    signals.get_generators.connect(start_run)
    # article/page_generator_init: the generators' caches are loaded, nothing
    # read yet: a stripped object must not come back from the cache, and
    # other plugins must not get a held post's metadata while it is read.
    signals.article_generator_init.connect(prepare_generator)
    signals.page_generator_init.connect(prepare_generator)
    # content_object_init: the moment Pelican has made a post or page object,
    # before it is in any list: private, draft and hidden ones are stripped.
    signals.content_object_init.connect(hold_on_read)
    # article_generator_pretaxonomy: every article is in the lists, before
    # tags, categories, authors, dates and archives are counted from them.
    signals.article_generator_pretaxonomy.connect(quarantine_articles)
    # page_generator_finalized: the first signal after pages are listed.
    signals.page_generator_finalized.connect(quarantine_pages)
    # all_generators_finalized: every file and link is known, nothing written.
    signals.all_generators_finalized.connect(seal_private)
    # article/page_writer_finalized: the output folder is ready; Hearth
    # writes its pages, lists and files itself.
    signals.article_writer_finalized.connect(write_private_articles)
    signals.page_writer_finalized.connect(write_private_pages)
    # feed_generated: each feed just before it is written, whoever wrote it.
    signals.feed_generated.connect(drop_private_feed_items)
    # finalized: the build succeeded; keep salts, ids and envelopes for next time.
    signals.finalized.connect(save_state)
