"""Content warnings: a vocabulary, a gate on posts and lists, feeds and meta."""

import html
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from pelican import Pelican, signals
from pelican.contents import Content
from pelican.generators import Generator
from pelican.log import LimitFilter
from pelican.utils import truncate_html_paragraphs, truncate_html_words
from pelican.writers import Writer

from hearth import contents, frontmatter, warnings
from hearth.warnings import (
    CHOSE_NOT_TO_WARN_ALSO,
    CHOSE_NOT_TO_WARN_CHOICE,
    CHOSE_NOT_TO_WARN_KEY,
    CHOSE_NOT_TO_WARN_LABEL,
    CHOSE_NOT_TO_WARN_TEXT,
    DEFAULT_ALIASES,
    DEFAULT_VOCABULARY,
    NOTE_KEY,
    WARNING_PREFIX,
    WarningsError,
    label_key,
    nearest_label,
    warning_line,
)

from .passages import PassageExtension, find_passages, without_passages

logger = logging.getLogger(__name__)

DEFAULTS = {
    # label -> short description the reader sees (hearth/warnings.py).
    "HEARTH_WARNINGS": DEFAULT_VOCABULARY,
    # other spelling -> label: `sh` is `self-harm` for the build and readers.
    "HEARTH_WARNING_ALIASES": DEFAULT_ALIASES,
    # A private post's warnings are inside its envelope and show after
    # unlocking; True shows them on the locked panel (in the clear) instead.
    "HEARTH_WARNINGS_ON_LOCKED_PANEL": False,
    # A warned post's feed entry carries its warnings and a link, not its
    # text; True puts the text after the warning, as in the post's gate.
    "HEARTH_WARNINGS_FEED_FULL_TEXT": False,
    # Where the reader preferences page is written ("" writes none).
    "HEARTH_WARNINGS_PREFERENCES_SAVE_AS": "preferences/index.html",
    "HEARTH_WARNINGS_PREFERENCES_URL": "preferences/",
    # The quick exit on every page leaves for this neutral site ("" for none).
    "HEARTH_QUICK_EXIT_URL": "https://www.bbc.co.uk/weather",
}

# Labels already reported as unknown in this build: one warning per label.
_REPORTED: set[str] = set()
# (source, label) of every unknown label this build: a publish build stops.
_UNKNOWN: list[tuple[str, str]] = []
UNKNOWN_MARK = "is not in HEARTH_WARNINGS"
UNKNOWN_LIMIT_MSG = (
    "More content warnings are not in HEARTH_WARNINGS; add them in pelicanconf.py."
)
PASSAGE_FEED_LINE = "Content warning for a part of this post: "


def _is_private(content: Content) -> bool:
    """True unless the post is clearly public: a bad `audience` counts as private."""
    known = content.settings.get("HEARTH_AUDIENCES", {})
    try:
        return bool(frontmatter.audience_names(content.metadata.get("audience"), known))
    except frontmatter.FrontMatterError:
        return True  # hearth_frontmatter stops the build; show nothing meanwhile


def _check_quick_exit(url: object) -> str:
    if url == "":
        return ""
    parts = urlsplit(url) if isinstance(url, str) else None
    if not parts or parts.scheme not in ("https", "http") or not parts.netloc:
        raise WarningsError(
            f"HEARTH_QUICK_EXIT_URL must be the full address of a neutral site, "
            f"like 'https://www.bbc.co.uk/weather', or '' for no quick exit; "
            f"it is {url!r}."
        )
    return str(url)


def _passage_line(labels: Sequence[str]) -> str:
    return (
        WARNING_PREFIX.rstrip(": ")
        + " for this part"
        + (": " + ", ".join(labels) if labels else "")
    )


# Signal handlers


def check_settings(pelican: Pelican) -> None:
    """Check the settings once, before any content is read."""
    settings = pelican.settings
    for name, default in DEFAULTS.items():
        settings.setdefault(name, default)
    vocabulary, duplicates = warnings.check_vocabulary(settings["HEARTH_WARNINGS"])
    for kept, dropped in duplicates:
        logger.warning(
            "HEARTH_WARNINGS: labels %r and %r differ only in case or spacing; "
            "keeping %r. Remove one of them from pelicanconf.py.",
            kept,
            dropped,
            kept,
        )
    settings["HEARTH_WARNINGS"] = vocabulary
    settings["HEARTH_WARNING_ALIASES"] = warnings.check_aliases(
        settings["HEARTH_WARNING_ALIASES"], vocabulary
    )
    for name in ("HEARTH_WARNINGS_ON_LOCKED_PANEL", "HEARTH_WARNINGS_FEED_FULL_TEXT"):
        value = settings[name]
        if not isinstance(value, bool):
            # These decide what appears in the clear: no guessing.
            raise WarningsError(f"{name} must be True or False, not {value!r}.")
    settings["HEARTH_QUICK_EXIT_URL"] = _check_quick_exit(
        settings["HEARTH_QUICK_EXIT_URL"]
    )
    _add_passage_syntax(settings)
    _REPORTED.clear()
    _UNKNOWN.clear()
    _forget_earlier_builds()


def _add_passage_syntax(settings: dict[str, Any]) -> None:
    """Put the `::: warning:` block into Pelican's Markdown reader."""
    markdown = dict(settings.get("MARKDOWN") or {})
    extensions = [
        e
        for e in markdown.get("extensions", [])
        if type(e).__name__ != PassageExtension.__name__  # autoreload: replace
    ]
    extensions.append(
        PassageExtension(
            vocabulary=settings["HEARTH_WARNINGS"],
            aliases=settings["HEARTH_WARNING_ALIASES"],
        )
    )
    markdown["extensions"] = extensions
    settings["MARKDOWN"] = markdown


def _forget_earlier_builds() -> None:
    """Let this build warn again about labels an earlier build warned about.

    Pelican's LimitFilter drops repeated messages for the whole process, so
    under autoreload (or several builds in one test run) a typo the writer
    has not fixed would be reported once and then never again.
    """
    LimitFilter._group_count.pop((logging.WARNING, UNKNOWN_LIMIT_MSG), None)
    LimitFilter._raised_messages.difference_update(
        [key for key in LimitFilter._raised_messages if UNKNOWN_MARK in key[1]]
    )


@contents.read_first(1)  # before hearth_private takes a private post's text
def attach_warnings(content: Content) -> None:
    """Give every article, page and draft its warnings, note and passages."""
    settings = content.settings
    vocabulary, aliases = warnings.vocabulary_in(settings)
    source = content.source_path
    labels = frontmatter.as_list(content.metadata.get("warnings"))
    details, unknown = warnings.resolve(labels, vocabulary, aliases)
    try:
        note = warnings.warnings_note(content.metadata.get(NOTE_KEY), source)
        withheld = warnings.chose_not_to_warn(
            content.metadata.get(CHOSE_NOT_TO_WARN_KEY), source
        )
    except WarningsError as err:
        # Cosmetic: say so and gate the post honestly rather than guess.
        logger.warning("%s", err)
        note, withheld = "", True
    if withheld:
        details.append(
            {
                "label": CHOSE_NOT_TO_WARN_LABEL,
                "description": CHOSE_NOT_TO_WARN_ALSO
                if details
                else CHOSE_NOT_TO_WARN_TEXT,
            }
        )
    raw = getattr(content, "_content", "") or ""
    passages = find_passages(raw)
    for _, passage in passages:
        unknown += [
            label
            for label in passage
            if warnings.canonical_label(label, vocabulary, aliases) is None
        ]
    if 'data-cw-unclosed=""' in raw:
        logger.warning(
            "%s: a `::: warning:` passage has no closing `:::` line, so it runs to "
            "the end of the post. Add a line with only `:::` where it ends.",
            source,
        )
    if 'data-cw-unlabelled=""' in raw:
        logger.warning(
            "%s: a `::: warning:` passage names no labels; write them after "
            "the colon, like `::: warning: grief`.",
            source,
        )
    # Labels shown in the clear must be known: a typo escapes readers'
    # choices. A private post's label may stay private (the vocabulary is
    # public, on the preferences page), so there it is only reported.
    shown = not _is_private(content) or settings.get("HEARTH_WARNINGS_ON_LOCKED_PANEL")
    for label in dict.fromkeys(unknown):
        if shown:
            _UNKNOWN.append((str(content.relative_source_path or source), label))
        _report_unknown(label, source, vocabulary, aliases)
    if passages and "summary" not in content.metadata:
        _summary_without_passages(content, raw)
    # The full list: templates of public posts, and a private post's payload.
    content.warning_details = details
    content.warning_note = note
    # What may be shown in the clear (pages, lists, feeds, meta, locked panel).
    if shown:
        content.public_warning_details = details
        content.public_warning_note = note
    else:
        content.public_warning_details = []
        content.public_warning_note = ""


def _summary_without_passages(content: Content, raw: str) -> None:
    """Pelican's summary, cut from the text with each passage left out.

    A summary cut from the whole text could end inside a passage, past its
    warning; this one names the passage's warning instead.
    """
    text = without_passages(
        raw,
        lambda n, labels: (
            f'<p class="cw-line">{html.escape(_passage_line(labels))}.</p>'
        ),
    )
    settings = content.settings
    if settings.get("SUMMARY_MAX_PARAGRAPHS") is not None:
        text = truncate_html_paragraphs(text, settings["SUMMARY_MAX_PARAGRAPHS"])
    if settings.get("SUMMARY_MAX_LENGTH") is not None:
        text = truncate_html_words(
            text,
            settings["SUMMARY_MAX_LENGTH"],
            settings.get("SUMMARY_END_SUFFIX", "…"),
        )
    content.metadata["summary"] = text
    content._summary = text


def _report_unknown(
    label: str, source: str, vocabulary: warnings.Vocabulary, aliases: warnings.Aliases
) -> None:
    key = label_key(label)
    if key in _REPORTED:
        return
    _REPORTED.add(key)
    suggestion = nearest_label(label, vocabulary, aliases)
    hint = f"did you mean {suggestion!r}? " if suggestion else ""
    logger.warning(
        # The text must contain UNKNOWN_MARK (see _forget_earlier_builds).
        "%s: content warning %r is not in HEARTH_WARNINGS; %sIt is shown as "
        "written, without a description, and readers' choices for other "
        "labels miss it. Fix the label, or add it to HEARTH_WARNINGS (or "
        "HEARTH_WARNING_ALIASES) in pelicanconf.py.",
        source,
        label,
        hint,
        extra={"limit_msg": UNKNOWN_LIMIT_MSG},
    )


def stop_publish_on_unknown_labels(generators: Sequence[Generator]) -> None:
    """A publish build stops on a label the vocabulary does not know.

    A typo escapes every reader's "hide" choice for the label meant; the
    preview only warns, so the writer sees the post while fixing it.
    all_generators_finalized is the last signal before any file is written.
    """
    if not generators or not generators[0].settings.get("HEARTH_PUBLISH"):
        return
    found = sorted(set(_UNKNOWN))
    _UNKNOWN.clear()
    if not found:
        return
    vocabulary = generators[0].settings["HEARTH_WARNINGS"]
    aliases = generators[0].settings["HEARTH_WARNING_ALIASES"]
    lines: list[str] = []
    for source, label in found:
        suggestion = nearest_label(label, vocabulary, aliases)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        lines.append(f"{source}: {label!r}{hint}")
    listed = "\n  ".join(lines)
    raise WarningsError(
        "Hearth stopped the publish build before writing anything: these content "
        f"warnings are not in HEARTH_WARNINGS, so readers' choices would miss "
        f"them:\n  {listed}\nFix the label in the post, or add it to "
        "HEARTH_WARNINGS (a new label) or HEARTH_WARNING_ALIASES (another "
        "spelling of a label) in pelicanconf.py."
    )


def _feed_path(link: str) -> str:
    return unquote(link.split("?", 1)[0])


def _absolute(link: str, context: dict[str, Any]) -> str:
    """An entry's address for links inside its text, which feed readers show
    without the feed's base (Pelican's links are relative when SITEURL is "")."""
    if urlsplit(link).scheme:
        return link
    base = context.get("SITEURL") or context.get("FEED_DOMAIN") or ""
    return base.rstrip("/") + "/" + link.lstrip("/")


def _feed_lines(details: Iterable[warnings.Detail], note: str) -> str:
    """The paragraphs a feed entry of a warned post begins (or consists) with."""
    lines = [note] if note else []
    line = warning_line(details)
    if line:
        lines.append(line)
    for detail in details:
        if detail["label"] == CHOSE_NOT_TO_WARN_LABEL:
            lines.append(detail["description"])
    return "".join(f"<p>{html.escape(text)}</p>" for text in lines)


def _feed_passages(text: str, link: str) -> str:
    """Each passage with its own warning becomes that warning and a link."""
    base = html.escape(link.split("#", 1)[0], quote=True)
    return without_passages(
        text,
        lambda n, labels: (
            f"<p><strong>{html.escape(PASSAGE_FEED_LINE.rstrip())}</strong> "
            f"{html.escape(', '.join(labels))}. "
            f'<a href="{base}#cw-passage-{n}">Read it on the site</a>.</p>'
        ),
    )


def warn_in_feeds(context: dict[str, Any], feed: Any) -> None:
    """A warned entry carries its warnings and a link instead of its text.

    Feed readers show <content> at once, so the text would skip the gate.
    Passages with their own warning become that warning in every entry.
    `feed` is the feedgenerator feed Pelican is about to write.
    feed_generated fires after Pelican has added every item and before the
    file is written, so templates keep the original content and summary.
    """
    full_text = context.get("HEARTH_WARNINGS_FEED_FULL_TEXT", False)
    by_url: dict[str, tuple[list[warnings.Detail], str]] = {}
    for article in context.get("articles", []):
        for item in (article, *getattr(article, "translations", [])):
            details = getattr(item, "public_warning_details", None)
            if details:
                by_url[item.url.lstrip("/")] = (
                    details,
                    getattr(item, "public_warning_note", ""),
                )
    for item in feed.items:
        link = _absolute(item["link"], context)
        for field in ("content", "description"):
            if item.get(field):
                item[field] = _feed_passages(item[field], link)
        path = _feed_path(link)
        matches = [u for u in by_url if path == u or path.endswith("/" + u)]
        if not matches:
            continue
        details, note = by_url[max(matches, key=len)]
        lines = _feed_lines(details, note)
        read_on = (
            f'<p><a href="{html.escape(link, quote=True)}">Read it on the site</a>, '
            "where it begins with the warning.</p>"
        )
        if item.get("content") is not None:  # Atom: content and summary
            item["content"] = lines + (item["content"] if full_text else read_on)
            item["description"] = lines
        elif context.get("RSS_FEED_SUMMARY_ONLY") or not full_text:
            item["description"] = lines + read_on  # RSS: one description
        else:
            item["description"] = lines + (item.get("description") or "")


class PreferencesGenerator(Generator):
    """Writes the reader preferences page: one choice per warning label."""

    def generate_context(self) -> None:
        vocabulary = self.settings["HEARTH_WARNINGS"]
        choices = [{"label": k, "description": v} for k, v in vocabulary.items()]
        known = {label_key(k) for k in vocabulary} | {CHOSE_NOT_TO_WARN_LABEL}
        warned = 0
        for content in self._public_content():
            details = getattr(content, "public_warning_details", [])
            warned += bool(details)
            for detail in details:
                if label_key(detail["label"]) not in known:
                    known.add(label_key(detail["label"]))
                    choices.append(detail)
        # Last, and worded as what it is: not a label but the writer's choice.
        choices.append(
            {"label": CHOSE_NOT_TO_WARN_LABEL, "description": CHOSE_NOT_TO_WARN_CHOICE}
        )
        self.context["warning_choices"] = choices
        logger.info(
            "Content warnings: %d posts and pages carry warnings; %d labels "
            "offered on the preferences page",
            warned,
            len(choices),
        )

    def _public_content(self) -> Iterator[Content]:
        for name in (
            "articles",
            "hidden_articles",
            "drafts",
            "pages",
            "hidden_pages",
            "draft_pages",
        ):
            for content in self.context.get(name, []):
                yield content
                yield from getattr(content, "translations", [])

    def generate_output(self, writer: Writer) -> None:
        save_as = self.settings["HEARTH_WARNINGS_PREFERENCES_SAVE_AS"]
        if not save_as:
            return
        writer.write_file(
            save_as,
            self.get_template("preferences"),
            self.context,
            relative_urls=self.settings["RELATIVE_URLS"],
            template_name="preferences",
            page_name=save_as.rsplit(".", 1)[0],
            url=self.settings["HEARTH_WARNINGS_PREFERENCES_URL"],
        )


def add_preferences_generator(pelican: Pelican) -> type[Generator] | None:
    """Each run (autoreload's too) reports its own unknown labels; a build
    whose PLUGINS leave this plugin out gets no preferences page.

    Connected to get_generators, the first signal of every run.
    """
    _REPORTED.clear()
    _forget_earlier_builds()
    if "hearth_warnings" in contents.plugin_names(pelican.settings):
        return PreferencesGenerator
    return None


def register() -> None:
    """Connect the handlers (Pelican calls this once per plugin load)."""
    # initialized: check settings once, before anything is read or written.
    signals.initialized.connect(check_settings)
    # content_object_init: every article, page and draft passes through here,
    # so other plugins (hearth_private's payload) find warning_details early.
    signals.content_object_init.connect(attach_warnings)
    # all_generators_finalized: everything is read, nothing is written yet.
    signals.all_generators_finalized.connect(stop_publish_on_unknown_labels)
    # feed_generated: items are built but not written; templates keep originals.
    signals.feed_generated.connect(warn_in_feeds)
    # get_generators: the preferences page is a page of its own.
    signals.get_generators.connect(add_preferences_generator)
