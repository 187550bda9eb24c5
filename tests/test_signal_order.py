"""Another plugin's receivers meet nothing private, whatever order they run in.

Blinker calls a signal's receivers in no set order (a set of ids), so a
plugin listed before Hearth in PLUGINS may well be called before Hearth's
own receivers. A probe plugin, listed first and made to run first on every
signal it hears, records every object and value it is handed while the site
of tests/test_plugins_matrix.py builds for publishing (twice on one Pelican
object, as autoreload does, with the generator cache on): it must meet no
private, draft or hidden title, text, tag, category, author, series, source
path, time of day or modified date, only neutral objects dated to the day.
"""

import os
import re
import sys

import pytest
from pelican import Pelican, signals

from tests.conftest import ROOT, environ, passphrase_env
from tests.test_plugins_matrix import (
    AUTHOR,
    HEARTH,
    MODIFIED,
    SECRETS,
    SERIES,
    TIME,
    make_site,
    settings_for,
)

PROBE = "hearth_probe_recorder"
# The signals a plugin gets content on before anything is written.
SIGNALS = {
    "content_object_init": "(content)",
    "article_generator_context": "(generator, metadata)",
    "page_generator_context": "(generator, metadata)",
    "article_generator_pretaxonomy": "(generator)",
    "article_generator_finalized": "(generator)",
    "page_generator_finalized": "(generator)",
    "all_generators_finalized": "(generators)",
    "article_generator_write_article": "(generator, content)",
    "page_generator_write_page": "(generator, content)",
}
PROBE_SOURCE = '''"""What other plugins are handed (tests/test_signal_order.py)."""

from pelican import signals
from pelican.contents import Static
from pelican.generators import StaticGenerator

from hearth.contents import listed

SEEN = []


def _shown(obj):
    values = {
        k: v for k, v in vars(obj).items() if k not in ("settings", "_context")
    }
    return repr(values)


def _generator(generator):
    if isinstance(generator, StaticGenerator):
        return ""  # files: see the module docstring
    parts = [_shown(c) for c in listed([generator]).values()]
    for name in ("tags", "categories", "authors", "dates", "series"):
        parts.append(repr(getattr(generator, name, None)))
    generated = generator.context.get("generated_content", {})
    parts += [
        repr(k) + _shown(v) for k, v in generated.items() if not isinstance(v, Static)
    ]
    return " ".join(parts)


def content_object_init(content):
    if not isinstance(content, Static):
        SEEN.append(("content_object_init", _shown(content)))


def article_generator_context(generator, metadata):
    SEEN.append(("article_generator_context", repr(metadata)))


def page_generator_context(generator, metadata):
    SEEN.append(("page_generator_context", repr(metadata)))


def article_generator_pretaxonomy(generator):
    SEEN.append(("article_generator_pretaxonomy", _generator(generator)))


def article_generator_finalized(generator):
    SEEN.append(("article_generator_finalized", _generator(generator)))


def page_generator_finalized(generator):
    SEEN.append(("page_generator_finalized", _generator(generator)))


def all_generators_finalized(generators):
    SEEN.append(
        ("all_generators_finalized", " ".join(_generator(g) for g in generators))
    )


def article_generator_write_article(generator, content):
    SEEN.append(("article_generator_write_article", _shown(content)))


def page_generator_write_page(generator, content):
    SEEN.append(("page_generator_write_page", _shown(content)))


def register():
    for name in {names}:
        getattr(signals, name).connect(globals()[name])
'''


def _probe_first(monkeypatch, signal):
    """Make `signal` call the probe's receiver before every other one (as
    blinker may do for any plugin), the rest in the order it had."""
    original = signal.receivers_for

    def receivers_for(sender):
        found = list(original(sender))
        return iter(sorted(found, key=lambda r: getattr(r, "__module__", "") != PROBE))

    monkeypatch.setattr(signal, "receivers_for", receivers_for)


@pytest.fixture
def probe(tmp_path, monkeypatch):
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / f"{PROBE}.py").write_text(
        PROBE_SOURCE.replace("{names}", repr(sorted(SIGNALS)))
    )
    for name in SIGNALS:
        _probe_first(monkeypatch, getattr(signals, name))
    yield folder
    module = sys.modules.pop(PROBE, None)
    if module is not None:  # receivers stay connected for the whole process
        for name in SIGNALS:
            getattr(signals, name).disconnect(getattr(module, name))


def _build(root, probe):
    cwd = os.getcwd()
    os.chdir(ROOT)  # publishconf.py imports pelicanconf.py from here
    try:
        settings = settings_for(root, "hearth first", "generator")
    finally:
        os.chdir(cwd)
    settings["PLUGINS"] = [PROBE, *HEARTH]  # the probe listed before Hearth
    settings["PLUGIN_PATHS"] = [str(probe), *settings["PLUGIN_PATHS"]]
    with environ(**passphrase_env()):
        pelican = Pelican(settings)
        pelican.run()
        pelican.run()  # autoreload: public posts now come from the cache
    return sys.modules[PROBE].SEEN


def _leaks(text):
    needles = [*SECRETS.values(), AUTHOR, SERIES]
    found = [n for n in needles if n.lower() in text.lower()]
    # Times of day and modified dates, as datetime's repr spells them.
    hour, minute, second = (int(x) for x in TIME.split(":"))
    if re.search(rf"\b{hour}, {minute}, {second}\b", text):
        found.append(TIME)
    year, month, day = (int(x) for x in MODIFIED.split("-"))
    if re.search(rf"datetime\({year}, {month}, {day}\b", text):
        found.append(MODIFIED)
    return found


def test_a_plugin_called_before_hearth_meets_nothing_private(tmp_path, probe):
    make_site(tmp_path)
    seen = _build(tmp_path, probe)
    assert {name for name, _ in seen} == set(SIGNALS)
    leaks = [(name, _leaks(text)) for name, text in seen if _leaks(text)]
    assert leaks == []
    # It did meet the held posts, as neutral objects dated to the day ...
    held = [
        t
        for n, t in seen
        if n == "content_object_init" and "'hearth_quarantined': True" in t
    ]
    assert len(held) >= 2 * len(SECRETS)
    assert all("A post " in t for t in held)
    # ... and the public ones as they are (the probe does record).
    assert any("An ordinary week" in t for n, t in seen if n == "content_object_init")
    metadata = [t for n, t in seen if n == "article_generator_context"]
    assert any("An ordinary week" in t for t in metadata)
    assert any("A post for" in t for t in metadata)  # a held post, neutral
