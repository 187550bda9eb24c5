from .hearth_frontmatter import register  # noqa: F401
