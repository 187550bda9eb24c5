"""Read front-matter strictly and stop the build on any content error."""

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pelican import Pelican, signals
from pelican.contents import Content, Static
from pelican.generators import Generator
from pelican.readers import Readers

from hearth import buildlog, contents, reading

logger = logging.getLogger(__name__)

# Pelican logs a file it cannot read and goes on without it. For Hearth a post
# that silently vanished, or was read without its `audience`, is a fault: the
# guard collects errors logged while reading and stops before anything is
# written, printing each once, in that one final message.
_GUARD: "_ErrorGuard | None" = None
# Every content object read in this run. hearth_private marks each private one
# it has taken the text off (`hearth_sealed`); one left unmarked means it did
# not run (left out of PLUGINS, or Pelican could not load it and only logged
# that), and the post would be written in the clear.
_READ: list[Content] = []
# Whether the build now running loads this plugin: receivers stay connected
# for the rest of the process, and a later build whose PLUGINS leave it out
# must not be touched by it (its own guard, hearth/guard.py, still runs).
_ACTIVE = False
# hearth_private is loaded too: it checks file names (check_metadata).
_NAMES_LATER = False
PLUGIN_NAME = "hearth_frontmatter"
# Pelican logs a file its generator could not read with this message.
_COULD_NOT_PROCESS = "Could not process %s"


class ContentError(Exception):
    """The build stopped because some content could not be read safely."""


class _ErrorGuard(logging.Handler):
    """Collects every error logged while content is read, once each."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []
        self.collecting = True
        self.path = settings.get("PATH") or "."

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.CRITICAL or not self.collecting:
            return
        message = self._message(record)
        if message not in self.messages:
            self.messages.append(message)
        # The guard is the first handler: the others see the mark and leave
        # the message to the final one that lists them all (hearth.buildlog).
        buildlog.collected(record)

    def _message(self, record: logging.LogRecord) -> str:
        if record.msg != _COULD_NOT_PROCESS:
            return record.getMessage()
        # Pelican logs this inside its `except` block, without the exception
        # unless DEBUG: the exception being handled is the reason.
        err = sys.exc_info()[1] or (record.exc_info or (None, None))[1]
        if isinstance(err, reading.ReadingError):
            return str(err)
        args = record.args if isinstance(record.args, tuple) else ()
        shown = reading.shown_path(
            os.path.join(self.path, str(args[0] if args else ""))
        )
        what = f" ({type(err).__name__}: {err})" if err else ""
        return f"{shown}: Pelican could not read this file{what}. Check its header."


def add_strict_readers(readers: Readers) -> None:
    """Hearth's strict readers in place of Pelican's (when this build loads us)."""
    if _ACTIVE:
        reading.use_strict_readers(readers)


def start_guard(pelican: Pelican) -> None:
    """Collect reading errors from here on; apply HEARTH_DEFAULT_AUDIENCE."""
    global _GUARD, _ACTIVE, _NAMES_LATER
    root = logging.getLogger()
    if _GUARD is not None:
        root.removeHandler(_GUARD)
        _GUARD = None
    _READ.clear()
    loaded = contents.plugin_names(pelican.settings)
    _ACTIVE = PLUGIN_NAME in loaded
    _NAMES_LATER = "hearth_private" in loaded
    if not _ACTIVE:
        return
    _GUARD = _ErrorGuard(pelican.settings)
    buildlog.install(ContentError, reading.ReadingError)
    # First, so that it marks what it collected before any handler prints it.
    root.handlers.insert(0, _GUARD)
    try:
        # HEARTH_DEFAULT_AUDIENCE becomes DEFAULT_METADATA's audience, which
        # Pelican's readers apply before path metadata and the header.
        reading.apply_default_audience(pelican.settings)
    except reading.ReadingError as err:
        raise ContentError(str(err)) from None


@contents.read_first(0)  # before hearth_private takes a private post's text off
def check_metadata(content: Content) -> None:
    """Normalise `warnings` and `audience`, failing on anything unclear."""
    if not _ACTIVE:
        return
    if isinstance(content, Static):
        # DEFAULT_METADATA reaches images too; an image is sealed by the
        # posts that use it (hearth_images), not by an audience of its own.
        content.audience, content.is_private = [], False
        return
    # A ReadingError raised here reaches Pelican's per-file handler, which
    # logs it; the guard then stops the build.
    # hearth_private checks each page's file name where it is written.
    audiences, listing, warnings = reading.check_content(
        content, names=not _NAMES_LATER
    )
    content.warnings = warnings
    content.audience = audiences
    content.listing = listing
    content.is_private = bool(audiences)
    _READ.append(content)


def forget_earlier_runs(pelican: Pelican) -> None:
    """Autoreload runs one Pelican object many times: check this run's content.

    Connected to get_generators, it adds no generator (returns None).
    """
    _READ.clear()
    if _GUARD is not None:
        _GUARD.collecting = True


def _unsealed(generators: Sequence[Generator]) -> list[str]:
    """Source paths of private content that hearth_private has not sealed."""
    # The generators' lists too: content loaded from Pelican's cache is not
    # read again, so it never passes through content_object_init.
    found = {id(c): c for c in _READ} | contents.listed(generators)
    return sorted(
        {
            str(c.relative_source_path or c.source_path)
            for c in found.values()
            if not isinstance(c, Static)
            and getattr(c, "is_private", False)
            and not getattr(c, "hearth_sealed", False)
        }
    )


def _unpublished(generators: Sequence[Generator]) -> list[str]:
    """Drafts and hidden posts a publish build would still write."""
    if not generators or not generators[0].settings.get("HEARTH_PUBLISH"):
        return []
    # hearth_private takes them off every list; plain Pelican writes a hidden
    # post at its URL (only unlisted).
    return sorted(
        {
            str(c.relative_source_path or c.source_path)
            for c in contents.listed(generators).values()
            if not isinstance(c, Static)
            and getattr(c, "status", None) in ("draft", "hidden")
            and c.save_as
        }
    )


# Settings that change what a post's metadata is, or who may read it.
_READING_SETTINGS = (
    "DEFAULT_METADATA",
    "EXTRA_PATH_METADATA",
    "PATH_METADATA",
    "FILENAME_METADATA",
    "HEARTH_AUDIENCES",
    "HEARTH_DEFAULT_AUDIENCE",
    "HEARTH_EXTRA_KEYS",
)


def _stale_cache(generators: Sequence[Generator]) -> list[str]:
    """Posts Pelican's cache loaded as an earlier build read them, differently.

    A cached object keeps the metadata of the build that read it: with
    another default audience or path metadata it could say "public" now.
    """
    if not generators:
        return []
    settings = generators[0].settings
    read_now = {id(c) for c in _READ}
    stale = sorted(
        reading.shown_path(c.source_path)
        for c in contents.listed(generators).values()
        if not isinstance(c, Static)
        and id(c) not in read_now
        and any(
            c.settings.get(name) != settings.get(name) for name in _READING_SETTINGS
        )
    )
    if not stale:
        return []
    message = (
        f"{', '.join(stale)}: Pelican's content cache holds these as a build "
        "with other settings (DEFAULT_METADATA, path metadata or audiences) "
        "read them. Build again with --ignore-cache (or delete the cache "
        "folder)."
    )
    return [message]


def _unchecked_keys(generators: Sequence[Generator]) -> list[str]:
    """Unknown keys on content Pelican's generator cache loaded unread.

    Such objects never met Hearth's readers in this build; one read by a
    preview (where an unknown key only warns) must still stop a publish.
    """
    if not generators or not generators[0].settings.get("HEARTH_PUBLISH"):
        return []
    settings = generators[0].settings  # a cached object has an old build's
    problems: list[str] = []
    for content in contents.listed(generators).values():
        if isinstance(content, Static):
            continue
        try:
            reading.check_keys(
                reading.shown_path(content.source_path), content.metadata, settings
            )
        except reading.ReadingError as err:
            problems.append(str(err))
    return problems


def stop_on_errors(generators: Sequence[Generator]) -> None:
    """Stop before anything is written on a reading error or unsealed post."""
    # all_generators_finalized is the last signal before any file is written.
    if not _ACTIVE:
        return
    if _GUARD is not None:
        _GUARD.collecting = False
        late = _unchecked_keys(generators) + _stale_cache(generators)
        _GUARD.messages.extend(m for m in late if m not in _GUARD.messages)
    if _GUARD is not None and _GUARD.messages:
        messages = "\n  ".join(m.replace("\n", "\n  ") for m in _GUARD.messages)
        _GUARD.messages = []
        raise ContentError(
            "Hearth stopped the build before writing anything, because some "
            f"content could not be read safely:\n  {messages}"
        )
    unsealed = _unsealed(generators)
    _READ.clear()
    if unsealed:
        names = "\n  ".join(unsealed)
        raise ContentError(
            "Hearth stopped the build before writing anything: the hearth_private "
            "plugin did not run, so these posts with an audience would be "
            f'written in the clear:\n  {names}\nAdd "hearth_private" (last) '
            "to PLUGINS in pelicanconf.py, and check PLUGIN_PATHS if Pelican "
            "said it cannot load it."
        )
    unpublished = _unpublished(generators)
    if unpublished:
        names = "\n  ".join(unpublished)
        raise ContentError(
            "Hearth stopped the publish build before writing anything: the "
            "hearth_private plugin did not run, so these drafts and hidden posts "
            f'would go public:\n  {names}\nAdd "hearth_private" (last) to '
            "PLUGINS in pelicanconf.py, and check PLUGIN_PATHS if Pelican said "
            "it cannot load it."
        )


def register() -> None:
    """Connect the handlers (Pelican calls this once per plugin load)."""
    # readers_init: Hearth's strict readers (hearth/reading.py) in place of
    # Pelican's, so the build reads every header as read_site() does.
    signals.readers_init.connect(add_strict_readers)
    # initialized: start counting errors before any content is read.
    signals.initialized.connect(start_guard)
    # get_generators: the first signal of every run, autoreload's too.
    signals.get_generators.connect(forget_earlier_runs)
    # content_object_init: every article, page and draft passes through here.
    signals.content_object_init.connect(check_metadata)
    # all_generators_finalized: the last moment before output is written;
    # hearth_private has sealed private content by then (pretaxonomy, pages).
    signals.all_generators_finalized.connect(stop_on_errors)
