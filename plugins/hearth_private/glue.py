"""Every Pelican internal hearth_private touches, named in this one module.

Signals and settings are Pelican's public interface; keeping read content
out of sight of every template and plugin needs more: the generators' lists
and caches, the shared context, Content's memoised renderings, and the order
in which blinker (1.9) calls content_object_init's receivers. Each is named
here, once, for Pelican 4.12 (.venv/lib/python3.11/site-packages/pelican/):
a new Pelican that moves one breaks here, not silently elsewhere.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pelican.contents import Article, Content, Page, Static
from pelican.generators import SourceFileGenerator, StaticGenerator
from pelican.log import LimitFilter
from pelican.plugins import signals
from pelican.utils import (
    get_relative_path,
    order_content,
    path_to_url,
    sanitised_join,
    truncate_html_paragraphs,
    truncate_html_words,
)
from pelican.utils import slugify as _slugify

from hearth.contents import ARTICLE_LISTS, CONTENT_LISTS, PAGE_LISTS, READ_FIRST

__all__ = [
    "ARTICLE_LISTS",
    "CONTENT_LISTS",
    "PAGE_LISTS",
    "Article",
    "Page",
    "SourceFileGenerator",
    "StaticGenerator",
]

# The context key Pelican.run shares among generators: source path ->
# content object, for `{filename}` links.
GENERATED = "generated_content"


def is_content(obj: object) -> bool:
    """A post or page (not a static file), as content_object_init sends it."""
    return isinstance(obj, Content) and not isinstance(obj, Static)


def is_article(obj: object) -> bool:
    """An article (not a page or a static file)."""
    return isinstance(obj, Article)


def context_of(content: Content) -> dict[str, Any]:
    """The shared context a content object renders its links with."""
    context: dict[str, Any] = content._context
    return context


def raw_text(content: Content) -> str:
    """The HTML the reader made, before Pelican resolves its links."""
    if "_get_content" in vars(content) or hasattr(type(content), "_get_content"):
        return str(content._get_content() or "")
    return str(content._content or "")


def render(
    content: Content, text: str, siteurl: str, source_path: str | None = None
) -> str:
    """Resolve `{filename}`, `{static}`... in text as Pelican does for content.

    `source_path`: the file the text was read from, when the object no longer
    names it (a stripped one): relative links resolve from there.
    """
    if source_path is None:
        return str(content._update_content(text, siteurl))
    shown = content.source_path, content.relative_source_path
    content.source_path = source_path
    content.relative_source_path = content.get_relative_source_path()
    try:
        return str(content._update_content(text, siteurl))
    finally:
        content.source_path, content.relative_source_path = shown


def render_public(content: Content, siteurl: str) -> tuple[str, str]:
    """A public content object's body and summary as its page shows them."""
    body = render(content, raw_text(content), siteurl)
    summary = content.metadata.get("summary")
    if summary is not None:
        return body, render(content, str(summary), siteurl)
    return body, str(content.get_summary(siteurl) or "")


def forget_rendered(content: Content) -> None:
    """Drop Pelican's memoised renderings of this object (they hold plaintext)."""
    for method in (Content.get_content, Content.get_summary):
        for key in [k for k in method.cache if k and k[0] is content]:
            del method.cache[key]


def strip(
    content: Content,
    *,
    title: str,
    keep: Mapping[str, object],
    source: str | os.PathLike[str],
) -> None:
    """Leave nothing of the writer's text on a read object, in place.

    Plugins that ran on content_object_init before Hearth may hold this
    object, and those on the signal Hearth takes it off the lists with
    (page_generator_finalized) may meet it there: from here on they find
    only `keep` (attribute -> value) and `source`, an empty file, as its
    source (show-source copies a listed object's source).
    """
    settings, context = content.settings, content._context
    for name in list(vars(content)):
        delattr(content, name)
    content.settings = settings
    content._context = context
    content.source_path = str(source)
    content.relative_source_path = os.path.basename(source)
    content.metadata = {"title": title}
    content.title = title
    content._content = ""
    content._summary = ""
    content.override_url = ""
    content.override_save_as = ""
    for name, value in keep.items():
        setattr(content, name, value)
    forget_rendered(content)


def forget_earlier_renderings() -> None:
    """Drop every memoised rendering, at the start of a build.

    Pelican memoises get_content and get_summary per object for the whole
    process: each autoreload run keeps every earlier run's objects (and
    their text) alive, and forget_rendered, which looks for one object's
    entries, walks them all for each held post.
    """
    for method in (Content.get_content, Content.get_summary):
        method.cache.clear()


def purge_cache(generator: Any, quarantined: Callable[[object], bool]) -> None:
    """Drop quarantined objects from a generator's content cache.

    With CONTENT_CACHING_LAYER = "generator" Pelican pickles the read
    objects and loads them next time without reading the file again, so
    content_object_init never runs: a stripped object would come back empty.
    Such files are read afresh each build instead.
    """
    for cache in (
        getattr(generator, "_cache", None),
        getattr(generator, "_cache_proxy", None),
    ):
        if not isinstance(cache, dict):
            continue
        for key in [k for k, v in cache.items() if quarantined(_cached_object(v))]:
            del cache[key]


def _cached_object(value: object) -> object:
    if isinstance(value, tuple) and len(value) == 2:
        return value[1]  # (file stamp, object)
    return value


def day_of(date: datetime | None) -> datetime | None:
    """Midnight of a date's day (its time of day is the writer's)."""
    if date is None:
        return None
    return datetime(date.year, date.month, date.day, tzinfo=date.tzinfo)


def stand_in(
    kind: type[Content],
    *,
    settings: Mapping[str, Any],
    context: dict[str, Any],
    url: str,
    date: datetime | None,
    title: str,
    lang: str,
    source: str | os.PathLike[str],
    attrs: Mapping[str, object],
) -> Any:
    """A neutral object of Pelican's own class that templates and plugins
    can list: the day, a label and an address, nothing the writer wrote.

    Made without Content.__init__, so no reader, plugin or signal sees it
    being made, and with nothing to render. `source` is an empty file.
    """
    obj = object.__new__(kind)
    obj.settings = settings
    obj._context = context
    obj.metadata = {"title": title}
    obj.title = title
    day = day_of(date)
    if day is not None:
        obj.metadata["date"] = obj.date = day
        fmt = settings["DATE_FORMATS"].get(lang, settings["DEFAULT_DATE_FORMAT"])
        if isinstance(fmt, tuple):
            fmt = fmt[-1]
        obj.locale_date = day.strftime(fmt)
    obj.status = "published"
    obj.lang = lang
    obj.in_default_lang = lang == settings["DEFAULT_LANG"]
    obj.translations = []
    obj.template = "article" if kind is Article else "page"
    # Plugins open a listed object's source (show-source copies it): they
    # find an empty file that says nothing, never the post's own.
    obj.source_path = str(source)
    obj.relative_source_path = os.path.basename(source)
    obj._content = ""
    obj._summary = ""
    obj.override_url = url
    obj.override_save_as = ""  # nobody writes it; Hearth writes the page
    obj.slug = url.strip("/").rsplit("/", 1)[-1]
    for name, value in attrs.items():
        setattr(obj, name, value)
    return obj


def write_page(generator: Any, obj: Content, save_as: str, name: str) -> None:
    """Render and write one private page as Pelican's writer would, but
    without content_written: no plugin (sitemap, seo...) hears of it."""
    settings = generator.settings
    context = dict(generator.context)
    context["localsiteurl"] = context.get("localsiteurl")
    if settings["RELATIVE_URLS"]:
        context["SITEURL"] = path_to_url(get_relative_path(save_as))
        context["localsiteurl"] = context["SITEURL"]
    context["output_file"] = save_as
    context[name] = obj
    if name == "article":
        context["category"] = None
    html = generator.get_template(obj.template).render(context)
    path = sanitised_join(generator.output_path, save_as)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(html)


def site_root_for(save_as: str, settings: Mapping[str, Any]) -> str:
    """The SITEURL a page at `save_as` is rendered with (as Pelican's writer)."""
    if settings["RELATIVE_URLS"]:
        return str(path_to_url(get_relative_path(save_as)))
    return str(settings["SITEURL"])


def reset_log_limits() -> None:
    """Pelican's LimitFilter drops a repeated message for the rest of the
    process; each build (autoreload's too) reports its own mistakes."""
    LimitFilter._raised_messages.clear()
    LimitFilter._group_count.clear()


def sources_context(generator: Any, hidden: Callable[[Content], bool]) -> None:
    """OUTPUT_SOURCES copies the source of everything in the context's lists:
    give SourceFileGenerator lists without stand-ins."""
    generator.context = {
        **generator.context,
        "articles": [a for a in generator.context["articles"] if not hidden(a)],
        "pages": [p for p in generator.context["pages"] if not hidden(p)],
    }


def note_static_links(content: Content) -> None:
    """Files a post links with {static}, for the static generator to find
    (Pelican asks the object after reading it, when Hearth has stripped it)."""
    content._context.setdefault("static_links", set()).update(
        content.get_static_links()
    )


def slugify(text: str, settings: Mapping[str, Any]) -> str:
    """Pelican's slug of a text, with the site's SLUG_REGEX_SUBSTITUTIONS."""
    subs = settings.get("SLUG_REGEX_SUBSTITUTIONS", [])
    return str(_slugify(text, regex_subs=subs))


def order(contents: list[Content], order_by: object) -> None:
    """Sort a content list in place as Pelican orders it (ARTICLE_ORDER_BY...)."""
    contents[:] = order_content(contents, order_by)


def truncated_summary(html: str, settings: Mapping[str, Any]) -> str:
    """The summary Pelican makes from a body without a `summary:`."""
    summary = html
    if settings.get("SUMMARY_MAX_PARAGRAPHS") is not None:
        summary = truncate_html_paragraphs(summary, settings["SUMMARY_MAX_PARAGRAPHS"])
    if settings["SUMMARY_MAX_LENGTH"] is not None:
        summary = truncate_html_words(
            summary, settings["SUMMARY_MAX_LENGTH"], settings["SUMMARY_END_SUFFIX"]
        )
    return str(summary)


def setting_strings(settings: Mapping[str, Any]) -> Iterator[str]:
    """Every string in the settings, nested ones and dict keys included."""
    stack: list[object] = [settings]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)


def theme_text(settings: Mapping[str, Any]) -> str:
    """The theme's templates, as one text (they may name a content file)."""
    texts: list[str] = []
    folders = [os.path.join(settings["THEME"], "templates")]
    folders += list(settings.get("THEME_TEMPLATES_OVERRIDES") or [])
    for folder in folders:
        for dirpath, _, files in os.walk(folder):
            for name in files:
                try:
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        texts.append(f.read())
                except (OSError, UnicodeDecodeError):
                    continue
    return "\n".join(texts)


class _QuietContextSignal:
    """article/page_generator_context as other plugins hear it: for a post
    that `neutral(metadata)` says is held, they get only what it returns
    (a neutral title and the day).

    Readers.read_file sends this signal with the metadata before the object
    exists (pelican-image-process makes a resized copy of a post's og_image
    there); Hearth's own decision comes later, on content_object_init.
    """

    def __init__(
        self, signal: Any, neutral: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> None:
        self._signal = signal
        self._neutral = neutral
        self.name = signal.name

    def send(self, sender: object, *, metadata: dict[str, Any]) -> Any:
        shown = self._neutral(metadata)
        return self._signal.send(sender, metadata=metadata if shown is None else shown)


# The order to call a set of receivers in, by the receivers themselves (held,
# so that no other function can take one's place under the same key).
_ORDERS: dict[tuple[Any, ...], list[int]] = {}


def _rank(receivers: Sequence[Any]) -> list[int]:
    ranked = [(getattr(r, READ_FIRST, None), i) for i, r in enumerate(receivers)]
    first = [i for _, i in sorted((k, i) for k, i in ranked if k is not None)]
    return first + [i for i in range(len(receivers)) if i not in first]


def _send_hearth_first(signal: Any, content: Content) -> None:
    """content_object_init as Pelican sends it, but Hearth's receivers first
    (those marked with hearth.contents.read_first, in rank order)."""
    receivers = tuple(signal.receivers_for(content))
    try:
        order = _ORDERS.get(receivers)
    except TypeError:  # a receiver that cannot be a key: ranked every time
        order = _rank(receivers)
    if order is None:
        order = _rank(receivers)
        if len(_ORDERS) > 32:
            _ORDERS.clear()
        _ORDERS[receivers] = order
    for i in order:
        receivers[i](content)


def read_hearth_first(
    generator: Any, neutral: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> None:
    """Wrap the generator's Readers.read_file, which makes every post and page.

    Content.__init__ sends content_object_init as its last step, to every
    receiver in no set order: the signal is held back while the object is
    made and sent right after, Hearth's receivers first. Its context signal
    is quiet about held posts (`neutral`).
    """
    readers = generator.readers
    read_file = readers.read_file
    if getattr(read_file, "hearth_first", False):
        return

    def hearth_read_file(*args: Any, **kwargs: Any) -> Any:
        signal = kwargs.get("context_signal")
        if signal is not None:
            kwargs["context_signal"] = _QuietContextSignal(signal, neutral)
        init = signals.content_object_init
        muted = init.is_muted
        init.is_muted = True
        try:
            content = read_file(*args, **kwargs)
        finally:
            init.is_muted = muted
        if not muted:
            _send_hearth_first(init, content)
        return content

    hearth_read_file.hearth_first = True  # type: ignore[attr-defined]
    readers.read_file = hearth_read_file


def adopt_context(generator: Any, names: Iterable[str]) -> None:
    """Objects from Pelican's generator cache carry the context they were
    pickled with, where `{static}` targets were not known yet: Pelican 4.12
    then leaves `{static}` links unresolved on every build after the first
    (and Hearth would not see the files they use). Give them this build's."""
    for name in names:
        for content in getattr(generator, name, None) or []:
            if getattr(content, "_context", None) is not generator.context:
                content._context = generator.context
                forget_rendered(content)


def owner_only_caches(generators: Iterable[Any]) -> None:
    """Pelican's content cache holds what it read from every source, private
    posts included (its own caching, in the clear): make its files the
    owner's only, as the sources themselves should be."""
    for generator in generators:
        for holder in (generator, getattr(generator, "readers", None)):
            path = getattr(holder, "_cache_path", None)
            if path and os.path.isfile(path):
                os.chmod(path, 0o600)
