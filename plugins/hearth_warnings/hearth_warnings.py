"""Content warnings: a vocabulary, a gate on posts and lists, feeds and meta."""

import difflib
import html
import logging
from urllib.parse import unquote

from pelican import signals
from pelican.generators import Generator
from pelican.log import LimitFilter

from hearth import frontmatter

logger = logging.getLogger(__name__)

# The labels a writer of a mental-health blog reaches for most, each with the
# short description a reader sees before choosing to read on. pelicanconf.py
# carries a copy for the writer to edit; this one applies when it is absent.
DEFAULT_VOCABULARY = {
    "self-harm": "Hurting oneself, or thoughts of it.",
    "suicidal thoughts": "Thoughts of suicide or of not wanting to be alive.",
    "therapy rupture": "A painful break or conflict with a therapist.",
    "abandonment": "Being left, or fearing being left, by someone close.",
    "medical settings": "Clinics, hospitals, appointments and procedures.",
    "anxiety": "Panic, dread and the body's alarm.",
    "depression": "Low mood, numbness and exhaustion.",
    "dissociation": "Feeling unreal, far away, or losing time.",
    "trauma": "Memories and after-effects of traumatic events.",
    "eating disorders": "Food, eating, weight and body image.",
    "abuse": "Emotional, physical or sexual abuse, past or present.",
    "grief": "Death, loss and mourning.",
    "substance use": "Alcohol, drugs, craving or relapse.",
    "medication": "Psychiatric medication, side effects and changes.",
    "hospitalisation": "Psychiatric wards and inpatient care.",
    "family conflict": "Arguments and estrangement within a family.",
}

DEFAULTS = {
    # label -> short description the reader sees.
    "HEARTH_WARNINGS": DEFAULT_VOCABULARY,
    # A private post's warnings are inside its envelope and show after
    # unlocking; True shows them on the locked panel (in the clear) instead.
    "HEARTH_WARNINGS_ON_LOCKED_PANEL": False,
    # Where the reader preferences page is written ("" writes none).
    "HEARTH_WARNINGS_PREFERENCES_SAVE_AS": "preferences/index.html",
    "HEARTH_WARNINGS_PREFERENCES_URL": "preferences/",
}

WARNING_PREFIX = "Content warning: "

# Labels already reported as unknown in this build: one warning per label.
_REPORTED = set()
UNKNOWN_MARK = "is not in HEARTH_WARNINGS"
UNKNOWN_LIMIT_MSG = (
    "More content warnings are not in HEARTH_WARNINGS; add them in pelicanconf.py."
)


class WarningsSettingsError(ValueError):
    """A hearth_warnings setting that the build cannot use."""


def label_key(label):
    """The form labels are compared in: case and spacing do not matter."""
    return " ".join(str(label).split()).casefold()


def warning_line(details):
    """'Content warning: a, b.' for a list of {"label", "description"}."""
    return WARNING_PREFIX + ", ".join(d["label"] for d in details) + "."


def nearest_label(label, vocabulary):
    """The known label closest to an unknown one, or None."""
    keys = {label_key(known): known for known in vocabulary}
    match = difflib.get_close_matches(label_key(label), list(keys), n=1, cutoff=0.6)
    return keys[match[0]] if match else None


def warning_details(labels, vocabulary):
    """Resolve front-matter labels against the vocabulary.

    Return (details, unknown): details is a list of {"label", "description"}
    in the writer's order without repeats, using the vocabulary's spelling of a
    known label; unknown lists the labels the vocabulary does not hold (they
    are still in details, with an empty description).
    """
    index = {label_key(known): known for known in vocabulary}
    details, unknown, seen = [], [], set()
    for label in labels:
        key = label_key(label)
        if not key or key in seen:
            continue
        seen.add(key)
        known = index.get(key)
        if known is None:
            unknown.append(label)
            details.append({"label": label, "description": ""})
        else:
            details.append({"label": known, "description": vocabulary[known]})
    return details, unknown


def _is_private(content):
    """True unless the post is clearly public: a bad `audience` counts as private."""
    known = content.settings.get("HEARTH_AUDIENCES", {})
    try:
        return bool(frontmatter.audience_names(content.metadata.get("audience"), known))
    except frontmatter.FrontMatterError:
        return True  # hearth_frontmatter stops the build; show nothing meanwhile


def _check_vocabulary(vocabulary):
    if not isinstance(vocabulary, dict):
        raise WarningsSettingsError(
            "HEARTH_WARNINGS in pelicanconf.py must be a dict of label -> short "
            f"description, like {{'grief': 'Death, loss and mourning.'}}; "
            f"it is a {type(vocabulary).__name__}."
        )
    checked, kept = {}, {}
    for raw, description in vocabulary.items():
        if not isinstance(raw, str) or not raw.strip() or "," in raw:
            raise WarningsSettingsError(
                f"HEARTH_WARNINGS: label {raw!r} is not usable; a label is a "
                "non-empty string without commas (commas separate labels in "
                "front-matter)."
            )
        if not isinstance(description, str):
            raise WarningsSettingsError(
                f"HEARTH_WARNINGS: the description of {raw!r} must be a string, "
                f"not {type(description).__name__} {description!r}."
            )
        label = " ".join(raw.split())
        key = label_key(label)
        if key in kept:
            logger.warning(
                "HEARTH_WARNINGS: labels %r and %r differ only in case or spacing; "
                "keeping %r. Remove one of them from pelicanconf.py.",
                kept[key],
                label,
                kept[key],
            )
            continue
        kept[key] = label
        checked[label] = description.strip()
    return checked


# Signal handlers


def check_settings(pelican):
    """Check the settings once, before any content is read."""
    settings = pelican.settings
    for name, default in DEFAULTS.items():
        settings.setdefault(name, default)
    settings["HEARTH_WARNINGS"] = _check_vocabulary(settings["HEARTH_WARNINGS"])
    on_panel = settings["HEARTH_WARNINGS_ON_LOCKED_PANEL"]
    if not isinstance(on_panel, bool):
        # This decides whether a private post's labels appear in the clear.
        raise WarningsSettingsError(
            f"HEARTH_WARNINGS_ON_LOCKED_PANEL must be True or False, not {on_panel!r}."
        )
    _REPORTED.clear()
    _forget_earlier_builds()


def _forget_earlier_builds():
    """Let this build warn again about labels an earlier build warned about.

    Pelican's LimitFilter drops repeated messages for the whole process, so
    under autoreload (or several builds in one test run) a typo the writer
    has not fixed would be reported once and then never again.
    """
    LimitFilter._group_count.pop((logging.WARNING, UNKNOWN_LIMIT_MSG), None)
    LimitFilter._raised_messages.difference_update(
        [key for key in LimitFilter._raised_messages if UNKNOWN_MARK in key[1]]
    )


def attach_warnings(content):
    """Give every article, page and draft its warning_details."""
    settings = content.settings
    vocabulary = settings.get("HEARTH_WARNINGS", DEFAULT_VOCABULARY)
    labels = frontmatter.as_list(content.metadata.get("warnings"))
    details, unknown = warning_details(labels, vocabulary)
    for label in unknown:
        _report_unknown(label, content.source_path, vocabulary)
    # The full list: templates of public posts, and a private post's payload.
    content.warning_details = details
    # What may be shown in the clear (pages, lists, feeds, meta, locked panel).
    if not _is_private(content) or settings.get("HEARTH_WARNINGS_ON_LOCKED_PANEL"):
        content.public_warning_details = details
    else:
        content.public_warning_details = []


def _report_unknown(label, source, vocabulary):
    key = label_key(label)
    if key in _REPORTED:
        return
    _REPORTED.add(key)
    suggestion = nearest_label(label, vocabulary)
    hint = f"did you mean {suggestion!r}? " if suggestion else ""
    logger.warning(
        # The text must contain UNKNOWN_MARK (see _forget_earlier_builds).
        "%s: content warning %r is not in HEARTH_WARNINGS; %sIt is shown as "
        "written, without a description. Fix the label, or add it to "
        "HEARTH_WARNINGS in pelicanconf.py.",
        source,
        label,
        hint,
        extra={"limit_msg": UNKNOWN_LIMIT_MSG},
    )


def _feed_path(link):
    return unquote(link.split("?", 1)[0])


def warn_in_feeds(context, feed):
    """Begin each warned entry with its warning; its summary becomes that line.

    feed_generated fires after Pelican has added every item and before the
    file is written, so templates keep the original content and summary.
    """
    by_url = {}
    for article in context.get("articles", []):
        for item in (article, *getattr(article, "translations", [])):
            details = getattr(item, "public_warning_details", None)
            if details:
                by_url[item.url.lstrip("/")] = details
    for item in feed.items:
        path = _feed_path(item["link"])
        matches = [u for u in by_url if path == u or path.endswith("/" + u)]
        if not matches:
            continue
        line = f"<p>{html.escape(warning_line(by_url[max(matches, key=len)]))}</p>"
        if item.get("content") is not None:  # Atom: content and summary
            item["content"] = line + item["content"]
            item["description"] = line
        elif context.get("RSS_FEED_SUMMARY_ONLY"):  # RSS: one description
            item["description"] = line
        else:
            item["description"] = line + (item.get("description") or "")


class PreferencesGenerator(Generator):
    """Writes the reader preferences page: one choice per warning label."""

    def generate_context(self):
        vocabulary = self.settings["HEARTH_WARNINGS"]
        choices = [{"label": k, "description": v} for k, v in vocabulary.items()]
        known = {label_key(k) for k in vocabulary}
        warned = 0
        for content in self._public_content():
            details = getattr(content, "public_warning_details", [])
            warned += bool(details)
            for detail in details:
                if label_key(detail["label"]) not in known:
                    known.add(label_key(detail["label"]))
                    choices.append(detail)
        self.context["warning_choices"] = choices
        logger.info(
            "Content warnings: %d posts and pages carry warnings; %d labels "
            "offered on the preferences page",
            warned,
            len(choices),
        )

    def _public_content(self):
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

    def generate_output(self, writer):
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


def add_preferences_generator(pelican):
    """Each run (autoreload's too) reports its own unknown labels; a build
    whose PLUGINS leave this plugin out gets no preferences page.

    Connected to get_generators, the first signal of every run.
    """
    _REPORTED.clear()
    _forget_earlier_builds()
    plugins = [
        (getattr(p, "__name__", None) or str(p)).split(".")[-1]
        for p in pelican.settings.get("PLUGINS") or []
    ]
    if "hearth_warnings" in plugins:
        return PreferencesGenerator
    return None


def register():
    # initialized: check settings once, before anything is read or written.
    signals.initialized.connect(check_settings)
    # content_object_init: every article, page and draft passes through here,
    # so other plugins (hearth_private's payload) find warning_details early.
    signals.content_object_init.connect(attach_warnings)
    # feed_generated: items are built but not written; templates keep originals.
    signals.feed_generated.connect(warn_in_feeds)
    # get_generators: the preferences page is a page of its own.
    signals.get_generators.connect(add_preferences_generator)
