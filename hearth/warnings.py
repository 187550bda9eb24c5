"""The content-warning vocabulary, its aliases, and how front-matter labels resolve.

One place for the labels: pelicanconf.py imports the defaults from here, the
hearth_warnings plugin resolves a post's labels with these functions, and
`invoke posts` can show a post's labels as the build will (canonical_label).
Standard library only; it takes the vocabulary and aliases as arguments.
"""

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

# {label: description} and {alias: label}, as settings give them.
Vocabulary = Mapping[str, str]
Aliases = Mapping[str, str]
# One resolved label: {"label": ..., "description": ...}.
Detail = dict[str, str]

# The labels a writer of a mental-health blog reaches for most, each with the
# short description a reader sees before choosing to read on.
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

# Other spellings writers and readers use -> the vocabulary's label. A post
# tagged `sh` meets a reader's choice for `self-harm`.
DEFAULT_ALIASES = {
    "sh": "self-harm",
    "self harm": "self-harm",
    "self-injury": "self-harm",
    "self injury": "self-harm",
    "suicide": "suicidal thoughts",
    "suicidal ideation": "suicidal thoughts",
    "ed": "eating disorders",
    "eating disorder": "eating disorders",
    "hospitalization": "hospitalisation",
    "drugs": "substance use",
    "alcohol": "substance use",
}

# The front-matter keys this module reads (lowercase words, as Pelican keeps
# them): the labels, the writer's own note shown before them, and the
# writer's explicit choice not to list warnings.
WARNINGS_KEY = "warnings"
NOTE_KEY = "warnings_note"
CHOSE_NOT_TO_WARN_KEY = "chose_not_to_warn"
WARNING_KEYS = (WARNINGS_KEY, NOTE_KEY, CHOSE_NOT_TO_WARN_KEY)

# A post whose writer chose not to warn carries this label in the browser
# (data-cw-labels, a private post's payload), so that readers' preferences
# can treat such posts like any label. It is not a vocabulary label.
CHOSE_NOT_TO_WARN_LABEL = "chose not to warn"
CHOSE_NOT_TO_WARN_TEXT = "The writer has chosen not to list warnings for this post."
CHOSE_NOT_TO_WARN_ALSO = (
    "The writer has chosen not to list every warning for this post."
)
# What the preferences page calls posts with that label.
CHOSE_NOT_TO_WARN_CHOICE = "Posts where the writer chose not to list warnings."

WARNING_PREFIX = "Content warning: "
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


class WarningsError(ValueError):
    """A vocabulary, alias table or front-matter value the build cannot use."""


def vocabulary_in(settings: Mapping[str, Any]) -> tuple[Vocabulary, Aliases]:
    """(vocabulary, aliases) as the build takes them from the settings.

    HEARTH_WARNINGS and HEARTH_WARNING_ALIASES, each the default when the
    settings leave it out, so `invoke posts` resolves labels as the build does.
    """
    return (
        settings.get("HEARTH_WARNINGS", DEFAULT_VOCABULARY),
        settings.get("HEARTH_WARNING_ALIASES", DEFAULT_ALIASES),
    )


def label_key(label: object) -> str:
    """The form labels are compared in: case and spacing do not matter."""
    return " ".join(str(label).split()).casefold()


def check_vocabulary(
    vocabulary: object, setting: str = "HEARTH_WARNINGS"
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The vocabulary, checked: {label: description} with tidy spacing.

    Returns (vocabulary, duplicates): duplicates lists (kept, dropped) pairs
    of labels that differ only in case or spacing, for the caller to report.
    """
    if not isinstance(vocabulary, dict):
        raise WarningsError(
            f"{setting} in pelicanconf.py must be a dict of label -> short "
            f"description, like {{'grief': 'Death, loss and mourning.'}}; "
            f"it is a {type(vocabulary).__name__}."
        )
    checked: dict[str, str] = {}
    kept: dict[str, str] = {}
    duplicates: list[tuple[str, str]] = []
    for raw, description in vocabulary.items():
        _check_label(raw, setting)
        if not isinstance(description, str):
            raise WarningsError(
                f"{setting}: the description of {raw!r} must be a string, "
                f"not {type(description).__name__} {description!r}."
            )
        label = " ".join(raw.split())
        key = label_key(label)
        if key in kept:
            duplicates.append((kept[key], label))
            continue
        kept[key] = label
        checked[label] = description.strip()
    if label_key(CHOSE_NOT_TO_WARN_LABEL) in kept:
        raise WarningsError(
            f"{setting}: {CHOSE_NOT_TO_WARN_LABEL!r} is not a label; remove it and "
            f"write `{CHOSE_NOT_TO_WARN_KEY}: true` in a post's front-matter instead."
        )
    return checked, duplicates


def check_aliases(
    aliases: object, vocabulary: Vocabulary, setting: str = "HEARTH_WARNING_ALIASES"
) -> dict[str, str]:
    """The alias table, checked against the vocabulary: {alias key: label}.

    An alias must name a label of the vocabulary and must not be a label
    itself (two meanings for one word would make readers' choices guess).
    """
    if not isinstance(aliases, dict):
        raise WarningsError(
            f"{setting} in pelicanconf.py must be a dict of alias -> label, "
            f"like {{'sh': 'self-harm'}}; it is a {type(aliases).__name__}."
        )
    labels = {label_key(known): known for known in vocabulary}
    checked: dict[str, str] = {}
    for alias, target in aliases.items():
        _check_label(alias, setting)
        if not isinstance(target, str) or label_key(target) not in labels:
            suggestion = nearest_label(str(target), vocabulary)
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            raise WarningsError(
                f"{setting}: alias {alias!r} points to {target!r}, which is not "
                f"a label in HEARTH_WARNINGS{hint}. Point it at a label, or add "
                "the label to HEARTH_WARNINGS."
            )
        key = label_key(alias)
        if key in labels:
            # An alias equal to its own label is harmless; anything else is two
            # meanings for one word.
            if labels[key] == labels[label_key(target)]:
                continue
            raise WarningsError(
                f"{setting}: {alias!r} is a label in HEARTH_WARNINGS and also an "
                f"alias of {target!r}. Remove one of them."
            )
        checked[key] = labels[label_key(target)]
    return checked


def _check_label(raw: object, setting: str) -> None:
    if not isinstance(raw, str) or not raw.strip() or "," in raw:
        raise WarningsError(
            f"{setting}: label {raw!r} is not usable; a label is a non-empty "
            "string without commas (commas separate labels in front-matter)."
        )


def canonical_label(
    label: str, vocabulary: Vocabulary, aliases: Aliases | None = None
) -> str | None:
    """The vocabulary's spelling of a label or of an alias of one, else None.

    `aliases` is an alias table as written in settings or as check_aliases
    returns it; case and spacing do not matter.
    """
    key = label_key(label)
    for known in vocabulary:
        if label_key(known) == key:
            return known
    for alias, target in (aliases or {}).items():
        if label_key(alias) == key:
            return canonical_label(target, vocabulary)
    return None


def nearest_label(
    label: str, vocabulary: Vocabulary, aliases: Aliases | None = None
) -> str | None:
    """The known label closest to an unknown one (aliases too), or None."""
    keys = {label_key(known): known for known in vocabulary}
    for alias, target in (aliases or {}).items():
        if label_key(target) in keys:
            keys.setdefault(label_key(alias), keys[label_key(target)])
    match = difflib.get_close_matches(label_key(label), list(keys), n=1, cutoff=0.6)
    return keys[match[0]] if match else None


def resolve(
    labels: Iterable[str], vocabulary: Vocabulary, aliases: Aliases | None = None
) -> tuple[list[Detail], list[str]]:
    """Resolve front-matter labels against the vocabulary and its aliases.

    Return (details, unknown): details is a list of {"label", "description"}
    in the writer's order without repeats, using the vocabulary's spelling of
    a known label (an alias counts as its label); unknown lists the labels
    the vocabulary does not hold (they are still in details, with an empty
    description).
    """
    details: list[Detail] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for label in labels:
        if not label_key(label):
            continue
        known = canonical_label(label, vocabulary, aliases)
        key = label_key(known if known is not None else label)
        if key in seen:
            continue
        seen.add(key)
        if known is None:
            unknown.append(label)
            details.append({"label": label, "description": ""})
        else:
            details.append({"label": known, "description": vocabulary[known]})
    return details, unknown


def canonical_labels(
    labels: Iterable[str], vocabulary: Vocabulary, aliases: Aliases | None = None
) -> list[str]:
    """The labels as the build shows them: aliases resolved, repeats dropped,
    unknown labels as written (for `invoke posts` and other tools)."""
    return [detail["label"] for detail in resolve(labels, vocabulary, aliases)[0]]


def chose_not_to_warn(value: object, source: str = "a post") -> bool:
    """The `chose_not_to_warn` value as True or False (YAML bool or a word)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    word = str(value).strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise WarningsError(
        f"{source}: `{CHOSE_NOT_TO_WARN_KEY}: {value}` is not yes or no. Write "
        f"`{CHOSE_NOT_TO_WARN_KEY}: true` to say you chose not to list warnings, "
        "or remove the line."
    )


def warnings_note(value: object, source: str = "a post") -> str:
    """The writer's note shown before the labels: one line of text, or ""."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    if not isinstance(value, str):
        raise WarningsError(
            f"{source}: `{NOTE_KEY}` must be a short sentence in your own words, "
            f"not {type(value).__name__} {value!r}."
        )
    return " ".join(value.split())


def warning_line(details: Iterable[Detail]) -> str:
    """'Content warning: a, b.' for a list of {"label", "description"}."""
    labels = [d["label"] for d in details if d["label"] != CHOSE_NOT_TO_WARN_LABEL]
    return WARNING_PREFIX + ", ".join(labels) + "." if labels else ""
