"""Hearth: the parts of the blog that are not Pelican plugins.

Publish targets, the leak audit, the envelope format and the benchmark harness
live here so that plugins, tasks and tests share one tested code path.
"""

__version__ = "0.1.0"
