from .hearth_images import register  # noqa: F401
