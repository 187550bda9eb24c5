"""Hearth: the parts of the blog that are not Pelican plugins.

Publish targets, the leak audit, the envelope format and the rest of what a
writer's site runs live here, so that plugins, tasks and tests share one tested
code path. Developer tooling does not: the benchmark harness is benchmarks/,
the servers and browser the tests start are tests/support/.
"""

__version__ = "0.1.0"
