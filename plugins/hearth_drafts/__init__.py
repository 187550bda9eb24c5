from .hearth_drafts import register  # noqa: F401
