"""Keep drafts, hidden posts and the files only they use out of a publish build."""

import logging
import os
from pathlib import Path

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator, StaticGenerator

logger = logging.getLogger(__name__)

# What never goes public: Pelican writes `status: hidden` posts and pages at
# their URL (only unlisted), and copies every static file, including a photo
# that only a draft shows. The lists are cleared in place because Pelican's
# context holds the same list objects.
_UNPUBLISHED = {
    ArticlesGenerator: (
        "drafts",
        "drafts_translations",
        "hidden_articles",
        "hidden_translations",
    ),
    PagesGenerator: (
        "draft_pages",
        "draft_translations",
        "hidden_pages",
        "hidden_translations",
    ),
}
_PUBLISHED = {
    ArticlesGenerator: ("articles", "translations"),
    PagesGenerator: ("pages", "translations"),
}


def _source_text(content):
    try:
        return Path(content.source_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _refers_to(static, content_dir, text):
    """Whether a source text links a static file ({static}, {attach} or /path)."""
    relative = static.relative_source_path.replace(os.sep, "/")
    if relative in text:
        return True
    # {attach}photo.jpg beside the post names only the file.
    same_dir = os.path.dirname(static.source_path) == content_dir
    return same_dir and os.path.basename(relative) in text


def _collect(generators, table):
    found = []
    for generator in generators:
        for cls, names in table.items():
            if isinstance(generator, cls):
                for name in names:
                    found.extend(getattr(generator, name))
    return found


def leave_out_unpublished(generators):
    if not generators or not generators[0].settings.get("HEARTH_PUBLISH"):
        return  # the preview shows drafts and hidden posts, marked as such
    unpublished = _collect(generators, _UNPUBLISHED)
    published = _collect(generators, _PUBLISHED)
    unpublished_texts = [
        (os.path.dirname(c.source_path), _source_text(c)) for c in unpublished
    ]
    published_texts = [
        (os.path.dirname(c.source_path), _source_text(c)) for c in published
    ]
    dropped = []
    for generator in generators:
        if not isinstance(generator, StaticGenerator):
            continue
        keep = []
        for static in generator.staticfiles:
            used_unpublished = any(
                _refers_to(static, d, t) for d, t in unpublished_texts
            )
            used_published = any(_refers_to(static, d, t) for d, t in published_texts)
            if used_unpublished and not used_published:
                dropped.append(static)
            else:
                keep.append(static)
        generator.staticfiles[:] = keep
    for generator in generators:
        for cls, names in _UNPUBLISHED.items():
            if isinstance(generator, cls):
                for name in names:
                    getattr(generator, name).clear()
    for item in [*unpublished, *dropped]:
        logger.debug("Left %s out of the publish build", item.relative_source_path)
    logger.info(
        "Left %d drafts and hidden posts, and %d files only they use, out of "
        "the publish build",
        len(unpublished),
        len(dropped),
    )


def register():
    # all_generators_finalized: every post and static file is known, and
    # nothing has been written yet.
    signals.all_generators_finalized.connect(leave_out_unpublished)
