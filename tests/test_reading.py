"""One reading: read_site, `invoke posts` and the build agree on every post.

tests/sites/mixed mixes Markdown (both header styles), reStructuredText and
HTML posts, a byte-order mark and CRLF line ends, path metadata and a
symlinked folder. The build's view is taken from Pelican itself, as each
content object is made (content_object_init), and compared field by field
with read_site's; `invoke posts` is run on the same site.
"""

import importlib.util
import random
import shutil
from pathlib import Path

import pytest
from invoke import Context, Exit
from markdown import Markdown
from pelican import signals
from pelican.settings import read_settings

from hearth import frontmatter, reading
from tests.conftest import ROOT, build, environ, passphrase_env

MIXED = Path(__file__).parent / "sites" / "mixed"
SEEN = []


FIELDS = ("slug", "status", "date", "category", "tags", "authors", "source_path")


def _record(content):
    # A snapshot taken as Pelican sends content_object_init, before any
    # receiver runs: hearth_private strips a private post in place on that
    # signal, and receivers run in no fixed order.
    seen = {name: getattr(content, name) for name in FIELDS if hasattr(content, name)}
    seen["relative_source_path"] = content.relative_source_path
    seen["type"] = type(content).__name__
    SEEN.append((seen, dict(content.metadata)))


@pytest.fixture
def mixed(tmp_path):
    """The mixed site, copied, with its BOM, CRLF and symlink made here."""
    site = tmp_path / "site"
    shutil.copytree(MIXED, site)
    posts = site / "content" / "posts"
    bom = posts / "bom.md"
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes())
    crlf = posts / "crlf.md"
    crlf.write_bytes(crlf.read_bytes().replace(b"\n", b"\r\n"))
    (posts / "linked").symlink_to(site / "elsewhere", target_is_directory=True)
    return site


def mixed_settings(site, settings_file="pelicanconf.py"):
    namespace = {}
    exec((site / "settings.py").read_text(), namespace)
    extra = {k: v for k, v in namespace.items() if k.isupper()}
    return extra, read_settings(
        str(ROOT / settings_file),
        override={"PATH": str(site / "content"), **extra},
    )


def build_view(site, settings_file, extra):
    """{relative path: (content object, metadata)} of what Pelican read."""
    SEEN.clear()
    signal = signals.content_object_init
    send = signal.send

    def recording_send(sender, **kwargs):
        _record(sender)
        return send(sender, **kwargs)

    signal.send = recording_send
    try:
        with environ(**passphrase_env()):
            build(
                site / f"out-{settings_file}",
                settings_file,
                content=site / "content",
                CACHE_PATH=str(site / "cache"),
                **extra,
            )
    finally:
        del signal.send
    return {
        seen["relative_source_path"]: (seen, meta)
        for seen, meta in SEEN
        if seen["type"] in ("Article", "Page")
    }


def as_text(values):
    return tuple(str(v) for v in values or ())


@pytest.mark.parametrize("settings_file", ["pelicanconf.py", "publishconf.py"])
def test_read_site_agrees_with_the_build_on_every_post(mixed, settings_file):
    extra, settings = mixed_settings(mixed, settings_file)
    readings = {r.relative_path: r for r in reading.read_site(settings)}
    built = build_view(mixed, settings_file, extra)
    assert set(readings) == set(built)
    assert {
        "posts/bom.md",
        "posts/crlf.md",
        "posts/notes.rst",
        "posts/webpage.html",
        "posts/linked/linked-post.md",
        "pages/about.rst",
    } <= set(readings)
    known = settings["HEARTH_AUDIENCES"]
    for path, (content, meta) in built.items():
        r = readings[path]
        assert not r.error, r.error
        assert r.title == str(meta["title"]), path
        assert r.slug == content["slug"], path
        assert r.date == content.get("date"), path
        assert r.status == content["status"], path
        assert r.audience == tuple(
            frontmatter.audience_names(meta.get("audience"), known)
        ), path
        assert r.listing == frontmatter.listing_mode(meta.get("listing")), path
        assert r.warnings == tuple(frontmatter.as_list(meta.get("warnings"))), path
        assert r.tags == as_text(content.get("tags")), path
        assert r.category == (
            str(content["category"]) if "category" in content else None
        ), path
        assert r.authors == as_text(content.get("authors")), path
        assert r.summary == (str(meta["summary"]) if "summary" in meta else None)
        assert r.source_path == Path(content["source_path"]), path
        assert r.metadata.keys() == meta.keys(), path


def test_the_mixed_site_is_read_as_its_files_say(mixed):
    """What each file means, spelled out: the comparison above is not vacuous."""
    _extra, settings = mixed_settings(mixed)
    r = {x.relative_path: x for x in reading.read_site(settings)}
    assert r["posts/yaml.md"].audience == ("friends", "family")
    assert r["posts/yaml.md"].title == "YAML: front-matter"
    assert r["posts/yaml.md"].listing == "locked"
    assert r["posts/notes.rst"].audience == ("family",)
    assert r["posts/notes.rst"].category == "Family"
    assert r["posts/webpage.html"].status == "hidden"
    assert r["posts/webpage.html"].tags == ("html", "old posts")
    assert r["posts/bom.md"].title == "Byte-order mark"  # the BOM is not in it
    assert r["posts/bom.md"].audience == ("friends",)
    assert r["posts/crlf.md"].status == "draft"
    assert r["posts/crlf.md"].title == "Windows line ends"
    assert r["posts/private/folder-private.md"].audience == ("friends",)
    assert r["posts/private/folder-but-public.md"].audience == ()
    assert r["posts/linked/linked-post.md"].audience == ("family",)
    assert str(r["posts/linked/linked-post.md"].source_path).startswith(
        str(mixed / "content")  # as Pelican saw it: the link is not resolved
    )
    dated = r["posts/Diary/2026-03-09-dated-by-name.md"]
    assert (dated.date.year, dated.date.month, dated.date.day) == (2026, 3, 9)
    assert dated.category == "Diary"
    assert r["posts/native.md"].summary == "<p>A short <em>summary</em>.</p>"
    assert r["pages/contact.md"].kind == "page"
    assert r["pages/contact.md"].status == "hidden"
    assert all(
        x.is_secret == (x.is_private or x.status != "published") for x in r.values()
    )


def load_tasks(repo):
    spec = importlib.util.spec_from_file_location(
        "hearth_tasks_mixed", repo / "tasks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def repo(mixed, tmp_path):
    """A copy of the repository whose content is the mixed site."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("tasks.py", "publishconf.py"):
        shutil.copy(ROOT / name, repo / name)
    (repo / "pelicanconf.py").write_text(
        (ROOT / "pelicanconf.py").read_text()
        + "\n"
        + (mixed / "settings.py").read_text()
    )
    (repo / "content").symlink_to(mixed / "content", target_is_directory=True)
    for name in ("theme", "plugins"):
        (repo / name).symlink_to(ROOT / name, target_is_directory=True)
    return repo


def test_invoke_posts_agrees_with_read_site(mixed, repo, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line
    load_tasks(repo).posts(Context())
    rows = [line for line in capsys.readouterr().out.splitlines() if "│" in line]
    _extra, settings = mixed_settings(mixed)
    readings = reading.read_site(settings)
    assert len(rows) == len(readings)
    for r in readings:
        (row,) = [line for line in rows if f"│ {r.title} " in line]
        cells = [cell.strip() for cell in row.split("│")[1:-1]]
        assert cells[2] == r.status, r.relative_path
        if r.is_private:
            assert cells[3].startswith(f"PRIVATE: {', '.join(r.audience)}")
        else:
            assert cells[3] == "public", r.relative_path


def test_invoke_posts_repeats_the_preview_warnings_and_names_every_error(
    mixed, repo, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "250")
    posts = mixed / "content" / "posts"
    (posts / "moody.md").write_text("Title: Moody\nDate: 2026-04-01\nMood: calm\n\nB\n")
    (posts / "gap.rst").write_text(
        "Gap\n###\n\n:date: 2026-04-02\n\nIntro.\n\n:audience: friends\n\nB\n"
    )
    with pytest.raises(Exit, match="1 file"):
        load_tasks(repo).posts(Context())
    out = " ".join(capsys.readouterr().out.split())
    assert "moody.md, line 3: 'Mood' is not a header key" in out
    assert "A publish build stops on it." in out
    assert "gap.rst, line 8: ':audience:' is not in the header" in out


def test_unlock_link_refuses_a_post_the_audience_cannot_open(repo):
    tasks = load_tasks(repo)
    phone = "content/posts/yaml.md"  # for friends and family
    with pytest.raises(Exit, match="for friends, family, not 'strangers'"):
        tasks.unlock_link(Context(), "strangers", phone, preview=True)
    with pytest.raises(Exit, match="is public: it needs no link"):
        tasks.unlock_link(Context(), "friends", "content/posts/native.md", preview=True)
    with pytest.raises(Exit, match="no address yet: build the site once"):
        tasks.unlock_link(Context(), "family", phone, preview=True)


def _markdown_files(mixed):
    roots = [ROOT / "content", mixed / "content", mixed / "elsewhere"]
    files = sorted(p for root in roots for p in root.rglob("*.md"))
    # A YAML summary (a formatted field) and a body whose first line reads
    # like a header key, each right after a native file on the same reader.
    extra = mixed / "extra"
    extra.mkdir()
    (extra / "yaml-summary.md").write_text(
        "---\ntitle: Summed\ndate: 2026-01-02\nsummary: Some *words*\n---\n\n"
        "Key: not a header\n\nBody [a link](https://example.org).\n"
    )
    (extra / "native-summary.md").write_text(
        "Title: Native\nDate: 2026-01-03 10:00\nSummary: Other *words*\n"
        "Tags: a, b\n\nText with a footnote[^1].\n\n[^1]: The note.\n"
    )
    files += sorted(extra.iterdir())
    return [f for pair in zip(files, reversed(files), strict=True) for f in pair]


def test_the_strict_markdown_reader_reads_as_pelican_yaml_metadata_does(mixed):
    """Hearth's reader converts the text it checked (one read of the file):
    what it gives is what pelican-yaml-metadata's own reader gives, for each
    Markdown file of the sample and the test sites, native and YAML headers
    read in turns by one reader (a reader keeps a Markdown between files)."""
    from pelican.plugins.yaml_metadata.yaml_metadata import YAMLMetadataReader

    _, settings = mixed_settings(mixed)
    files = _markdown_files(mixed)
    ours = reading.HearthMarkdownReader(settings)
    ours.log_notes = False
    compared = 0
    for path in files:
        # A fresh plain reader each time: its answer cannot depend on order.
        theirs = YAMLMetadataReader(settings).read(str(path))
        try:
            mine = ours.read(str(path))
        except reading.ReadingError:
            continue  # a file the strict reader refuses on purpose
        assert mine == theirs, path
        compared += 1
    assert compared >= 20


_EVERY_EXTENSION = [
    "markdown.extensions.extra",
    "markdown.extensions.toc",
    "markdown.extensions.admonition",
    "markdown.extensions.smarty",
    "markdown.extensions.sane_lists",
    "markdown.extensions.wikilinks",
    "markdown.extensions.codehilite",
]
# Each leaves something in a Markdown that reset() must clear: abbreviations,
# footnotes, heading ids, a passage count, raw HTML in the stash, references.
# abbr.md and plain.md come one after the other (both native headers).
_STATEFUL_POSTS = {
    "abbr.md": "Title: Abbr\nDate: 2026-02-01\n\n*[ZORB]: private meaning\n\n"
    "The ZORB word, and a [ref][r].\n\n[r]: https://example.org/private\n",
    "plain.md": "Title: Plain\nDate: 2026-02-04\n\n# Same\n\nZORB, [ref][r], a "
    "note[^n], ::: not a passage, [[Wiki Link]].\n\n"
    '<div markdown="1">*in html*</div>\n',
    "notes.md": "---\ntitle: Notes\ndate: 2026-02-02\n---\n\n# Same\n\n# Same\n\n"
    "A note[^n] and <span>raw</span>.\n\n[^n]: Private note.\n",
    "passage.md": "Title: Passage\nDate: 2026-02-03\nSummary: A *summary*[^s]\n\n"
    "::: warning: grief\nHidden words.\n:::\n\n!!! note\n    Inside.\n\n"
    "Term\n:   Definition\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "[^s]: In the summary.\n",
}


def _stateful_settings(mixed, tmp_path):
    from plugins.hearth_warnings.passages import PassageExtension

    _, settings = mixed_settings(mixed)
    settings["MARKDOWN"] = {
        "extensions": [
            *_EVERY_EXTENSION,
            PassageExtension(vocabulary={"grief": "Grief."}, aliases={}),
        ],
        "extension_configs": {},
        "output_format": "html5",
    }
    folder = tmp_path / "stateful"
    folder.mkdir()
    files = []
    for name, text in _STATEFUL_POSTS.items():
        (folder / name).write_text(text)
        files.append(folder / name)
    return settings, files


def _read_fresh(settings, path):
    reader = reading.HearthMarkdownReader(settings)  # a new Markdown
    reader.log_notes = False
    return reader.read(str(path))


def test_one_markdown_kept_between_files_converts_as_a_new_one_per_file(
    mixed, tmp_path
):
    """Pelican makes a Markdown per file; Hearth's reader keeps one (a build
    is 5% faster) only with extensions whose reset() clears what a file
    left: with every one of Markdown's that Hearth trusts, and the passage
    syntax, each file of the sample and test sites converts to the same bytes
    as with a new Markdown, in two orders, after files full of state."""
    settings, stateful = _stateful_settings(mixed, tmp_path)
    files = [*stateful, *_markdown_files(mixed), *stateful]
    # _markdown_files pairs each file with its mirror: reversed reads alike.
    shuffled = random.Random(11).sample(files, len(files))
    for order in (files, shuffled):
        ours = reading.HearthMarkdownReader(settings)
        ours.log_notes = False
        compared = 0
        for path in order:
            try:
                fresh = _read_fresh(settings, path)
            except reading.ReadingError:
                continue  # a file the strict reader refuses on purpose
            assert ours.read(str(path)) == fresh, path
            compared += 1
        assert compared >= 28
        # It was kept, for both header styles, its steps in a new one's order.
        assert ours._native_md is not None and ours._yaml_md is not None
        new = Markdown(**settings["MARKDOWN"])
        for registry in ("preprocessors", "treeprocessors", "postprocessors"):
            kept = getattr(ours._native_md, registry)
            assert [type(p) for p in kept] == [type(p) for p in getattr(new, registry)]
    # And the test can fail: the abbreviation is gone in the file after.
    assert "private meaning" in _read_fresh(settings, stateful[0])[0]
    assert "private meaning" not in _read_fresh(settings, stateful[1])[0]


class _Remembers:
    """A third-party extension that keeps each document's words (a bug
    that reset() would not clear; Hearth cannot know it has none)."""

    @staticmethod
    def extension():
        from markdown.extensions import Extension
        from markdown.postprocessors import Postprocessor

        class Remember(Postprocessor):
            def __init__(self, md):
                super().__init__(md)
                self.seen = []  # one per Markdown: a new one forgets

            def run(self, text):
                shown = text + "".join(f"<!-- {s} -->" for s in self.seen)
                self.seen.append(text)
                return shown

        class RememberExtension(Extension):
            def extendMarkdown(self, md):
                md.postprocessors.register(Remember(md), "remember", 1)

        return RememberExtension()


@pytest.mark.parametrize(
    "markdown",
    [
        {"extensions": [_Remembers.extension()]},
        {"extension_configs": {"markdown.extensions.footnotes": {"UNIQUE_IDS": True}}},
    ],
    ids=["unknown-extension", "footnotes-unique-ids"],
)
def test_an_extension_hearth_cannot_vouch_for_gets_a_new_markdown_per_file(
    mixed, tmp_path, markdown
):
    """An extension Hearth does not know, or footnotes numbered by resets:
    a new Markdown per file, as Pelican does, so that nothing of one post
    (a private one) reaches the next."""
    settings, stateful = _stateful_settings(mixed, tmp_path)
    settings["MARKDOWN"]["extensions"] += markdown.get("extensions", [])
    settings["MARKDOWN"]["extension_configs"] = markdown.get("extension_configs", {})
    ours = reading.HearthMarkdownReader(settings)
    ours.log_notes = False
    first = ours.read(str(stateful[0]))
    ours.read(str(stateful[1]))
    again = ours.read(str(stateful[0]))
    assert again == first
    assert "private meaning" not in ours.read(str(stateful[1]))[0]
    assert ours._native_md is None and ours._yaml_md is None
    assert not reading.reusable_markdown(ours._md)


def test_shown_path_names_a_file_as_relpath_would():
    """The quick cut of a normalised absolute path gives what os.path.relpath
    gives (relative below the folder, else the path as it is), on paths
    with dots, double slashes, trailing slashes and the folder itself."""
    import os

    def by_relpath(text, here):
        relative = os.path.relpath(text, here)
        outside = relative == ".." or relative.startswith("../")
        return text if outside else relative

    parts = ["a", "b", ".", "..", "", ".x", "..y", "c.d", "é"]
    rng = random.Random(7)
    for _ in range(5000):
        text = "/" + "/".join(rng.choice(parts) for _ in range(rng.randint(0, 5)))
        here = "/" + "/".join(rng.choice(parts) for _ in range(rng.randint(0, 3)))
        assert reading._shown_from(text, here) == by_relpath(text, here), (text, here)
    assert reading._shown_from("/site/content/a.md", "/site") == "content/a.md"
    assert reading._shown_from("/elsewhere/a.md", "/site") == "/elsewhere/a.md"
