from .hearth_private import register  # noqa: F401
