"""Keep drafts, hidden posts and the files only they use out of a publish build."""

import logging
import os
from pathlib import Path

from pelican import signals

from hearth.contents import ARTICLE_LISTS, PAGE_LISTS

logger = logging.getLogger(__name__)

# What never goes public: Pelican writes `status: hidden` posts and pages at
# their URL (only unlisted), and copies every static file, including a photo
# that only a draft shows. Membership of these lists is not the test: other
# plugins (hearth_private) park published posts among the hidden ones to keep
# them off lists; only a post's own status says it is not published.
UNPUBLISHED_STATUSES = ("draft", "hidden")


class _Build:
    """What one publish build has left out so far, and what it publishes."""

    def __init__(self):
        self.left_out = []
        self.published = []


_BUILD = None


def _is_publish(generator):
    return bool(generator.settings.get("HEARTH_PUBLISH"))


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


def _leave_out(generator, names):
    for name in names:
        items = getattr(generator, name, None)
        if items is None:
            continue
        keep = []
        for content in items:
            if getattr(content, "status", None) in UNPUBLISHED_STATUSES:
                _BUILD.left_out.append(content)
            else:
                keep.append(content)
                _BUILD.published.append(content)
        # In place: Pelican's context holds these same list objects.
        items[:] = keep


def start_build(pelican):
    global _BUILD
    # Receivers stay connected for the rest of the process; a later build in
    # the same process without this plugin must not be touched by it.
    plugins = [str(p).split(".")[-1] for p in pelican.settings["PLUGINS"]]
    _BUILD = _Build() if "hearth_drafts" in plugins else None


def leave_out_articles(generator):
    if _BUILD is not None and _is_publish(generator):
        _leave_out(generator, ARTICLE_LISTS)


def leave_out_pages(generator):
    if _BUILD is not None and _is_publish(generator):
        _leave_out(generator, PAGE_LISTS)


def leave_out_their_files(generator):
    if _BUILD is None or not _is_publish(generator):
        return  # the preview shows drafts and hidden posts, marked as such

    def texts(contents):
        return [(os.path.dirname(c.source_path), _source_text(c)) for c in contents]

    unpublished, published = texts(_BUILD.left_out), texts(_BUILD.published)
    keep, dropped = [], []
    for static in generator.staticfiles:
        if any(_refers_to(static, d, t) for d, t in unpublished) and not any(
            _refers_to(static, d, t) for d, t in published
        ):
            dropped.append(static)
        else:
            keep.append(static)
    generator.staticfiles[:] = keep
    for item in [*_BUILD.left_out, *dropped]:
        logger.debug("Left %s out of the publish build", item.relative_source_path)
    logger.info(
        "Left %d drafts and hidden posts, and %d files only they use, out of "
        "the publish build",
        len(_BUILD.left_out),
        len(dropped),
    )


def register():
    # initialized: a fresh record for each build (tests build many in a row).
    signals.initialized.connect(start_build)
    # article/page_generator_finalized: every post is read and sorted into
    # Pelican's lists, and nothing is written yet.
    signals.article_generator_finalized.connect(leave_out_articles)
    signals.page_generator_finalized.connect(leave_out_pages)
    # static_generator_finalized: static files are known, before
    # all_generators_finalized, where hearth_private decides which images
    # only private posts use (a draft's links must not count as public).
    signals.static_generator_finalized.connect(leave_out_their_files)
