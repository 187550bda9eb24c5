"""How a build that stops reads on the console: one plain paragraph, once.

Pelican logs the exception that ends a build as "ClassName: message" with its
traceback, through its rich log handler (a time, a level and a source column,
the text wrapped in between), and Hearth's guard repeats every error it
collected in that final message. This filter, on the log handlers, prints
the stop instead as one paragraph in the terminal's own colours on stderr:
what happened, in which file, what to do. A Hearth stop is its message alone;
any other exception gets the file and line it came from (a template, a
plugin, a settings file) and the way to see the traceback. The records the
guard collected are held back (they are in the final message). With
Pelican's -D (the root logger at DEBUG, `invoke --debug`) it changes nothing.
"""

import logging
import os
import sys
import sysconfig
import textwrap
import traceback

from rich.logging import RichHandler

# An exception class whose message is the whole story.
MessageOnly = type[BaseException]

# Exception classes whose message is the whole story (registered by install).
_MESSAGE_ONLY: set[MessageOnly] = set()
# What Pelican's FatalLogger raises at the first warning under --fatal.
_FATAL_WARNING = "Warning or error encountered"
# Folders of installed code: a stop's "where" is the first frame outside them.
_LIBRARY_DIRS = tuple(
    {
        os.path.realpath(sysconfig.get_paths()[name])
        for name in ("stdlib", "platstdlib", "purelib", "platlib")
    }
)
DEBUG_HINT = "`invoke --debug build` (or pelican -D) shows the whole traceback."


def _debugging() -> bool:
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


def _where(err: BaseException) -> str | None:
    """'theme/templates/article.html, line 12': the innermost frame of the
    writer's own files (templates, plugins, settings), or None."""
    # Only for a build that stops: the guard imports this module, light.
    from hearth.reading import shown_path as _shown

    filename = getattr(err, "filename", None)
    lineno = getattr(err, "lineno", None)
    if filename and lineno:  # jinja2's TemplateSyntaxError, SyntaxError
        return f"{_shown(filename)}, line {lineno}"
    where = None
    for frame in traceback.extract_tb(err.__traceback__):
        real = os.path.realpath(frame.filename)
        if frame.filename.startswith("<") or real.startswith(_LIBRARY_DIRS):
            continue
        where = f"{_shown(frame.filename)}, line {frame.lineno}"
    return where


def stop_message(err: BaseException) -> str:
    """The paragraph a build stopped by `err` prints (without the traceback)."""
    if isinstance(err, tuple(_MESSAGE_ONLY)):
        return str(err)
    if isinstance(err, RuntimeError) and str(err) == _FATAL_WARNING:
        return (
            "The build stopped at the first warning or error above, because it "
            "runs with --fatal (as CI builds do): fix what that message says "
            "and build again."
        )
    where = _where(err)
    place = f" in {where}" if where else ""
    text = str(err).strip() or "(no message)"
    return (
        f"The build stopped{place}: {text} ({type(err).__name__}). Fix it there "
        f"and build again; {DEBUG_HINT}"
    )


def _is_console(handler: logging.Handler) -> bool:
    # Pelican's two handlers ("rich", "plain"); not pytest's caplog handler
    # or the preview's collector, which are StreamHandler subclasses or
    # plain Handlers and keep the record as it is.
    return isinstance(handler, RichHandler) or type(handler) is logging.StreamHandler


def _say(text: str) -> None:
    """Print the paragraph on stderr; on a terminal, wrapped between words
    at its width (an indented line, a file in a list, keeps its indent)."""
    try:
        width = os.get_terminal_size(sys.stderr.fileno()).columns - 1
    except (OSError, ValueError, AttributeError):
        width = None  # a file or a pipe: one line per line of the message
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        if width is None or len(line) <= width:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines.extend(
            textwrap.wrap(
                line.strip(), width, initial_indent=indent,
                subsequent_indent=indent + "  ", break_on_hyphens=False,
            )
        )  # fmt: skip
    print("\n".join(lines), file=sys.stderr, flush=True)


class _MessageOnce(logging.Filter):
    def __init__(self, console: bool) -> None:
        super().__init__()
        self.console = console

    def filter(self, record: logging.LogRecord) -> bool:
        if _debugging():
            return True
        err = record.exc_info[1] if record.exc_info else None
        if err is not None and (
            isinstance(err, tuple(_MESSAGE_ONLY)) or record.levelno >= logging.CRITICAL
        ):
            # Kept on the record: every handler that sees it says the same.
            stop = getattr(record, "hearth_stop", None)
            if stop is None:
                stop = record.hearth_stop = stop_message(err)
                record.hearth_said = False
            record.msg, record.args = "%s", (stop,)
            record.exc_info = record.exc_text = None
            if not self.console:
                return True
            # Printed once however many console handlers see the record.
            if not getattr(record, "hearth_said", False):
                record.hearth_said = True
                _say(stop)
            return False
        return not getattr(record, "hearth_collected", False)


def install(*message_only: MessageOnly) -> None:
    """Show these exceptions as their message alone, on every log handler.

    Each handler gets one filter; installing again (once per build) adds
    none.
    """
    _MESSAGE_ONLY.update(message_only)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _MessageOnce) for f in handler.filters):
            handler.addFilter(_MessageOnce(_is_console(handler)))


def collected(record: logging.LogRecord) -> None:
    """Mark a record as collected into a final message (held back until then)."""
    record.hearth_collected = True
