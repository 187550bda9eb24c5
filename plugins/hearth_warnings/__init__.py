from .hearth_warnings import register  # noqa: F401
