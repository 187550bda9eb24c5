"""How a build Hearth stops reads on the console: its message, once.

Pelican logs an exception that ends a build as "ClassName: message" with its
traceback, and Hearth's guard repeats every error it collected in that final
message. This filter, on the log handlers, shows a Hearth stop as its message
alone and holds back the records the guard collected (they are in the final
message). With Pelican's -D (the root logger at DEBUG) it changes nothing.
"""

import logging

# Exception classes whose message is the whole story (registered by install).
_MESSAGE_ONLY = set()


def _debugging():
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


class _MessageOnce(logging.Filter):
    def filter(self, record):
        if _debugging():
            return True
        err = record.exc_info[1] if record.exc_info else None
        if err is not None and isinstance(err, tuple(_MESSAGE_ONLY)):
            record.msg, record.args = "%s", (str(err),)
            record.exc_info = record.exc_text = None
            return True
        return not getattr(record, "hearth_collected", False)


_FILTER = _MessageOnce()


def install(*message_only):
    """Show these exceptions as their message alone, on every log handler.

    Adding the one filter again to a handler changes nothing, so this may run
    once per build.
    """
    _MESSAGE_ONLY.update(message_only)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_FILTER)


def collected(record):
    """Mark a record as collected into a final message (held back until then)."""
    record.hearth_collected = True
