"""Where Pelican's generators keep content objects, named once for every plugin.

A post can sit in any of these lists (published, hidden, draft, and each one's
translations); a plugin that misses one misses posts, so they are listed here
rather than in each plugin.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

# A signal receiver, returned as it came.
Receiver = TypeVar("Receiver", bound=Callable[..., object])

ARTICLE_LISTS = (
    "articles",
    "translations",
    "hidden_articles",
    "hidden_translations",
    "drafts",
    "drafts_translations",
)
PAGE_LISTS = (
    "pages",
    "translations",
    "hidden_pages",
    "hidden_translations",
    "draft_pages",
    "draft_translations",
)
# Both, each name once (the two generators share some list names).
CONTENT_LISTS = tuple(dict.fromkeys(ARTICLE_LISTS + PAGE_LISTS))


def listed(generators: Iterable[object]) -> dict[int, Any]:
    """Every content object in any list of the generators, by id.

    Walks every list attribute, not only the names above, so content a
    future Pelican keeps elsewhere is not missed by the checks that use it.
    """
    found: dict[int, Any] = {}
    for generator in generators:
        for value in vars(generator).values():
            if isinstance(value, list):
                found.update(
                    {id(item): item for item in value if hasattr(item, "source_path")}
                )
    return found


def plugin_names(settings: Mapping[str, Any]) -> list[str]:
    """The plugins a build's settings load, by their short names.

    Pelican's signals are process-wide: a receiver connected by one build stays
    connected for every later build in the process (tests, autoreload, the
    benchmark), so each plugin asks whether this build's PLUGINS name it.
    """
    return [
        (getattr(plugin, "__name__", None) or str(plugin)).split(".")[-1]
        for plugin in settings.get("PLUGINS") or []
    ]


# Hearth's own receivers of content_object_init carry this attribute, a rank.
# Blinker calls a signal's receivers in no set order, so another plugin's
# could meet a private post before Hearth has taken it out of sight: on
# every post and page Pelican reads, hearth_private calls the marked ones
# first, in rank order (the front-matter check, the warnings, then the
# hold), and only then the others.
READ_FIRST = "hearth_read_first"


def read_first(rank: int) -> Callable[[Receiver], Receiver]:
    """Mark a content_object_init receiver to run before other plugins' ones."""

    def mark(receiver: Receiver) -> Receiver:
        setattr(receiver, READ_FIRST, rank)
        return receiver

    return mark
