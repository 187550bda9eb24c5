"""Read front-matter strictly and stop the build on any content error."""

import logging
import os
import sys

from pelican import signals
from pelican.contents import Static

from hearth import contents, guard, reading

logger = logging.getLogger(__name__)

# Pelican logs a file it cannot read and goes on without it. For Hearth a post
# that silently vanished, or was read without its `audience`, is a fault: the
# guard collects errors logged while reading and stops before anything is
# written, printing each once, in that one final message.
_GUARD = None
# Every content object read in this run. hearth_private marks each private one
# it has taken the text off (`hearth_sealed`); one left unmarked means it did
# not run (left out of PLUGINS, or Pelican could not load it and only logged
# that), and the post would be written in the clear.
_READ = []
# Pelican logs a file its generator could not read with this message.
_COULD_NOT_PROCESS = "Could not process %s"


class ContentError(Exception):
    """The build stopped because some content could not be read safely."""


# Stops whose message is the whole story: shown without a traceback unless
# the writer asked for one (pelican -D).
_MESSAGES_ONLY = (ContentError, reading.ReadingError, guard.UnsealedError)


class _ErrorGuard(logging.Handler):
    """Collects every error logged while content is read, once each."""

    def __init__(self, settings):
        super().__init__(level=logging.ERROR)
        self.messages = []
        self.collecting = True
        self.debug = bool(settings.get("DEBUG"))
        self.path = settings.get("PATH") or "."

    def emit(self, record):
        if record.levelno >= logging.CRITICAL or not self.collecting:
            return
        message = self._message(record)
        if message not in self.messages:
            self.messages.append(message)

    def _message(self, record):
        if record.msg != _COULD_NOT_PROCESS:
            return record.getMessage()
        # Pelican logs this inside its `except` block, without the exception
        # unless DEBUG: the exception being handled is the reason.
        err = sys.exc_info()[1] or (record.exc_info or (None, None))[1]
        if isinstance(err, reading.ReadingError):
            return str(err)
        shown = reading.shown_path(os.path.join(self.path, str(record.args[0])))
        what = f" ({type(err).__name__}: {err})" if err else ""
        return f"{shown}: Pelican could not read this file{what}. Check its header."


class _OnceFilter(logging.Filter):
    """On the log handlers: print each reading error once, with no traceback.

    While the guard collects, errors are held back (the final message lists
    them all); the final stop is shown as its message alone. With pelican -D
    everything is shown as Pelican shows it.
    """

    def filter(self, record):
        if _GUARD is None or _GUARD.debug:
            return True
        err = record.exc_info[1] if record.exc_info else None
        if isinstance(err, _MESSAGES_ONLY):
            record.msg, record.args = "%s", (str(err),)
            record.exc_info = record.exc_text = None
            return True
        return not (
            _GUARD.collecting and logging.ERROR <= record.levelno < logging.CRITICAL
        )


_ONCE = _OnceFilter()


def add_strict_readers(readers):
    reading.use_strict_readers(readers)


def start_guard(pelican):
    global _GUARD
    root = logging.getLogger()
    if _GUARD is not None:
        root.removeHandler(_GUARD)
    _GUARD = _ErrorGuard(pelican.settings)
    for handler in root.handlers:
        handler.addFilter(_ONCE)
    root.addHandler(_GUARD)
    try:
        # HEARTH_DEFAULT_AUDIENCE becomes DEFAULT_METADATA's audience, which
        # Pelican's readers apply before path metadata and the header.
        reading.apply_default_audience(pelican.settings)
    except reading.ReadingError as err:
        raise ContentError(str(err)) from None


def check_metadata(content):
    """Normalise `warnings` and `audience`, failing on anything unclear."""
    if isinstance(content, Static):
        # DEFAULT_METADATA reaches images too; an image is sealed by the
        # posts that use it (hearth_images), not by an audience of its own.
        content.audience, content.is_private = [], False
        return
    # A ReadingError raised here reaches Pelican's per-file handler, which
    # logs it; the guard then stops the build.
    audiences, listing, warnings = reading.check_content(content)
    content.warnings = warnings
    content.audience = audiences
    content.listing = listing
    content.is_private = bool(audiences)
    _READ.append(content)


def forget_earlier_runs(pelican):
    """Autoreload runs one Pelican object many times: check this run's content.

    Connected to get_generators, it adds no generator (returns None).
    """
    _READ.clear()
    if _GUARD is not None:
        _GUARD.collecting = True


def _unsealed(generators):
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


def _unpublished(generators):
    """Drafts and hidden posts a publish build would still write."""
    if not generators or not generators[0].settings.get("HEARTH_PUBLISH"):
        return []
    # hearth_drafts takes them off every list; plain Pelican writes a hidden
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


def stop_on_errors(generators):
    # all_generators_finalized is the last signal before any file is written.
    if _GUARD is not None:
        _GUARD.collecting = False
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
            "hearth_drafts plugin did not run, so these drafts and hidden posts "
            f'would go public:\n  {names}\nAdd "hearth_drafts" to PLUGINS in '
            "pelicanconf.py, and check PLUGIN_PATHS if Pelican said it cannot "
            "load it."
        )


def register():
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
