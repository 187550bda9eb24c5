"""The front-matter contract: list values, audiences and listing modes.

Plugins and tasks read a post's `warnings`, `audience` and `listing` through
these helpers so that a comma list and a YAML list mean the same everywhere.
"""

import re
from collections.abc import Collection

from hearth.warnings import WARNING_KEYS

PUBLIC = "public"
# The audience a locked site is encrypted for (`invoke lock`: one passphrase,
# HEARTH_PASSPHRASE_SITE, no readers; its salt in the state file).
SITE_AUDIENCE = "site"
# Hearth's own header keys, beside Pelican's (hearth/reading.py reads a key
# that is neither as a mistake). A plugin that reads a new key adds it here;
# the warnings keys (labels, the writer's note, chose-not-to-warn) are named
# once, in hearth/warnings.py.
HEARTH_KEYS = ("audience", "listing", *WARNING_KEYS)
LISTING_MODES = ("hidden", "locked")
DEFAULT_LISTING = "hidden"

# An audience name is what becomes HEARTH_PASSPHRASE_<NAME>: keep it to
# letters, digits, '-' and '_' so that the variable name is unambiguous.
_AUDIENCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class FrontMatterError(ValueError):
    """A front-matter value that cannot be read safely."""


def as_list(value: object) -> list[str]:
    """Return a front-matter value as a list of stripped, non-empty strings.

    Accepts a comma-separated string (Pelican's native header) or a list
    (YAML front-matter); both spell the same thing.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items: list[str] = []
        for item in value:
            items.extend(as_list(item))
        return items
    if not isinstance(value, str):
        value = str(value)
    return [part.strip() for part in value.split(",") if part.strip()]


def audience_names(
    value: object, known: Collection[str], source: str = "a post"
) -> list[str]:
    """Return the audience names of a post, or [] for a public post.

    Raise FrontMatterError for anything that is not clearly public or a list
    of declared audiences: a private post must never be read as public.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple, str)):
        names = [name.lower() for name in as_list(value)]
    else:
        raise FrontMatterError(
            f"{source}: 'audience' must be 'public' or audience names, "
            f"not {type(value).__name__} {value!r}."
        )
    if not names:
        raise FrontMatterError(
            f"{source}: 'audience' is empty. Write 'audience: public' or name "
            f"one of the audiences declared in HEARTH_AUDIENCES: "
            f"{', '.join(sorted(known)) or '(none declared)'}."
        )
    if names == [PUBLIC]:
        return []
    if PUBLIC in names:
        raise FrontMatterError(
            f"{source}: 'audience' mixes 'public' with other names. "
            "A post is either public or for named audiences; remove one."
        )
    for name in names:
        if not _AUDIENCE_NAME.match(name):
            raise FrontMatterError(
                f"{source}: audience {name!r} is not a valid name "
                "(use letters, digits, '-' or '_')."
            )
        if name not in known:
            raise FrontMatterError(
                f"{source}: unknown audience {name!r}. Known audiences: "
                f"{', '.join(sorted(known)) or '(none declared)'}; declare new "
                "ones in HEARTH_AUDIENCES in pelicanconf.py."
            )
    # Keep the writer's order, drop repeats.
    return list(dict.fromkeys(names))


def listing_mode(value: object, source: str = "a post") -> str:
    """Return 'hidden' or 'locked' for a private post's `listing` value."""
    if value is None or value == "":
        return DEFAULT_LISTING
    mode = str(value).strip().lower()
    if mode not in LISTING_MODES:
        raise FrontMatterError(
            f"{source}: listing {value!r} is not known; use one of: "
            f"{', '.join(LISTING_MODES)}."
        )
    return mode


def passphrase_variable(audience: str) -> str:
    """The environment variable that holds an audience's passphrase."""
    return "HEARTH_PASSPHRASE_" + audience.upper().replace("-", "_")
