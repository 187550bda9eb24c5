"""No token of a private post, draft or hidden post reaches any output byte.

A canary of each kind carries unique tokens in every field a writer fills:
title, summary, body, tags, category, an image's file name, its alt text and
its EXIF (with a GPS location). The site is built for publishing with every
feed and page type Pelican offers turned on, then every byte of every output
file, and every file name, is searched for every token.
"""

import pytest
from PIL import Image

from hearth.audit import audit, settings_text
from tests import imagefactory
from tests.conftest import ROOT, build, environ, passphrase_env

KINDS = ("private", "draft", "hidden")
FIELDS = ("title", "summary", "body", "tag", "category", "image", "alt", "exif")
# Every output Pelican can write, each with its own file.
EVERYTHING_ON = {
    "FEED_ALL_ATOM": "feeds/all.atom.xml",
    "FEED_ALL_RSS": "feeds/all.rss.xml",
    "FEED_ATOM": "feeds/atom.xml",
    "FEED_RSS": "feeds/rss.xml",
    "CATEGORY_FEED_ATOM": "feeds/category-{slug}.atom.xml",
    "CATEGORY_FEED_RSS": "feeds/category-{slug}.rss.xml",
    "TAG_FEED_ATOM": "feeds/tag-{slug}.atom.xml",
    "TAG_FEED_RSS": "feeds/tag-{slug}.rss.xml",
    "AUTHOR_FEED_ATOM": "feeds/author-{slug}.atom.xml",
    "AUTHOR_FEED_RSS": "feeds/author-{slug}.rss.xml",
    "TRANSLATION_FEED_ATOM": "feeds/all-{lang}.atom.xml",
    "TRANSLATION_FEED_RSS": "feeds/all-{lang}.rss.xml",
    "RSS_FEED_SUMMARY_ONLY": False,
    "OUTPUT_SOURCES": True,
    "YEAR_ARCHIVE_SAVE_AS": "{date:%Y}/index.html",
    "MONTH_ARCHIVE_SAVE_AS": "{date:%Y}/{date:%m}/index.html",
    "DAY_ARCHIVE_SAVE_AS": "{date:%Y}/{date:%m}/{date:%d}/index.html",
    "DEFAULT_PAGINATION": 2,
    "ARCHIVES_SAVE_AS": "archives.html",
    "TAGS_SAVE_AS": "tags.html",
    "CATEGORIES_SAVE_AS": "categories.html",
    "AUTHORS_SAVE_AS": "authors.html",
}


def token(kind, field):
    return f"{kind}{field}canary"


def _canary(kind, day):
    t = {field: token(kind, field) for field in FIELDS}
    status = {"draft": "Status: draft\n", "hidden": "Status: hidden\n"}.get(kind, "")
    audience = "Audience: friends\nListing: locked\n" if kind == "private" else ""
    return (
        f"Title: Notes {t['title']}\nDate: 2026-05-{day:02d} 21:00\n"
        f"Category: {t['category']}\nTags: {t['tag']}, coping\n"
        f"Summary: Only for some, {t['summary']}.\n{status}{audience}\n"
        f"A body that says {t['body']} once.\n\n"
        f"![A photo of {t['alt']}](/images/{t['image']}.jpg)\n"
    )


def _translation(kind, day):
    # A French version, linked to the original by its slug.
    status = "draft" if kind == "draft" else "hidden"
    return (
        f"Title: Notes {token(kind, 'titlefr')}\nDate: 2026-05-{day:02d} 21:00\n"
        f"Slug: {kind}-translated\nLang: fr\nStatus: {status}\n\n"
        f"Un texte {token(kind, 'bodyfr')}.\n"
    )


def _page(kind):
    return (
        f"Title: Page {token(kind, 'pagetitle')}\nStatus: {kind}\n\n"
        f"A page body {token(kind, 'pagebody')}.\n"
    )


@pytest.fixture(scope="module")
def canaries(tmp_path_factory):
    """A small site with a canary post of each kind, plus drafts and hidden pages."""
    content = tmp_path_factory.mktemp("canary") / "content"
    for folder in ("posts", "pages", "images"):
        (content / folder).mkdir(parents=True)
    (content / "posts" / "public.md").write_text(
        "Title: A public walk\nDate: 2026-05-01 10:00\nCategory: Notes\n"
        "Tags: walking, coping\nSummary: Out with the dog.\n\n"
        "The dog and the canal. ![The dog](/images/dog.jpg)\n"
    )
    (content / "posts" / "public-fr.md").write_text(
        "Title: Une promenade\nDate: 2026-05-01 10:00\nSlug: a-public-walk\n"
        "Lang: fr\nCategory: Notes\n\nLe chien et le canal.\n"
    )
    (content / "images" / "dog.jpg").write_bytes(imagefactory.jpeg())
    (content / "pages" / "about.md").write_text("Title: About\n\nHello.\n")
    for day, kind in enumerate(KINDS, start=2):
        (content / "posts" / f"{kind}.md").write_text(_canary(kind, day))
        image = content / "images" / f"{token(kind, 'image')}.jpg"
        image.write_bytes(imagefactory.jpeg(description=token(kind, "exif")))
    for kind in ("draft", "hidden"):
        (content / "posts" / f"{kind}-original.md").write_text(
            _translation(kind, 9).replace("Lang: fr\n", "").replace("fr", "en")
        )
        (content / "posts" / f"{kind}-fr.md").write_text(_translation(kind, 9))
        (content / "pages" / f"{kind}.md").write_text(_page(kind))
    return content


@pytest.fixture(scope="module")
def site(canaries, tmp_path_factory):
    """The canary site built for publishing, with every output turned on."""
    output = tmp_path_factory.mktemp("canary-out")
    with environ(**passphrase_env()):
        build(output, "publishconf.py", canaries, **EVERYTHING_ON)
    return canaries, output


def _output_bytes(output):
    for path in sorted(output.rglob("*")):
        name = path.relative_to(output).as_posix().lower().encode()
        yield (
            path,
            name + b"\n" + (path.read_bytes().lower() if path.is_file() else b""),
        )


def _leaks(output, kind):
    leaks = []
    for path, data in _output_bytes(output):
        for field in (*FIELDS, "titlefr", "bodyfr", "titleen", "bodyen", "pagetitle"):
            needle = token(kind, field)
            if needle.encode() in data or needle.encode("utf-16-le") in data:
                leaks.append(f"{path.relative_to(output)}: {field}")
    return leaks


def test_every_output_type_was_written(site):
    _, output = site
    for name in (
        "feeds/all.rss.xml",
        "feeds/category-notes.atom.xml",
        "feeds/tag-coping.rss.xml",
        "feeds/author-robin.atom.xml",
        "feeds/all-fr.atom.xml",
        "2026/05/01/index.html",
        "2026/a-public-walk/index.text",  # OUTPUT_SOURCES
        "robots.txt",
    ):
        assert (output / name).is_file(), name


@pytest.mark.parametrize(
    "kind",
    ["private", "draft", "hidden"],
)
def test_no_canary_token_reaches_any_output_byte(site, kind):
    _, output = site
    assert _leaks(output, kind) == []


def test_no_published_image_keeps_a_gps_location(site):
    _, output = site
    images = list(output.rglob("*.jpg"))
    assert images
    for path in images:
        with Image.open(path) as im:
            assert not im.getexif().get_ifd(0x8825), path


@pytest.mark.parametrize("kind", ["draft", "hidden"])
def test_the_audit_finds_nothing_of_drafts_and_hidden_posts(site, kind):
    content, output = site
    findings = audit(
        content,
        output,
        theme_path=ROOT / "theme",
        public_text=settings_text({"SITENAME": "Hearth"}),
    )
    assert [f for f in findings if kind in f.source] == []


def test_preview_marks_drafts_and_hidden_posts_and_pages_clearly(canaries, tmp_path):
    output = build(tmp_path / "preview", "pelicanconf.py", canaries)
    badges = {
        "drafts/pages/page-draftpagetitlecanary.html": "Draft",
        "drafts/notes-drafttitlecanary.html": "Draft",
        "2026/notes-hiddentitlecanary/index.html": "Hidden",
        "page-hiddenpagetitlecanary/index.html": "Hidden",
    }
    for name, badge in badges.items():
        text = (output / name).read_text()
        assert f"{badge} — only in the preview, never published" in text, name


def test_robots_txt_keeps_private_posts_out_of_search_engines(sample_publish):
    assert (sample_publish / "robots.txt").read_text() == (
        "User-agent: *\nDisallow: /p/\n"
    )
    assert '<meta name="robots"' not in (sample_publish / "index.html").read_text()


def test_discourage_search_engines_disallows_all_and_marks_every_page(tmp_path):
    with environ(**passphrase_env()):
        output = build(
            tmp_path / "out", "publishconf.py", DISCOURAGE_SEARCH_ENGINES=True
        )
    assert (output / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
    pages = list(output.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        assert '<meta name="robots" content="noindex, nofollow">' in page.read_text()


def test_published_posts_another_plugin_parks_among_hidden_ones_are_still_written(
    tmp_path,
):
    # hearth_private keeps private posts off lists by moving them into
    # Pelican's hidden_articles; only a post's own status may leave it out.
    from pelican import signals

    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts" / "parked.md").write_text(
        "Title: Parked\nDate: 2026-05-01\n\nStill published.\n"
    )

    def park(generator):
        generator.hidden_articles.extend(generator.articles)
        generator.articles.clear()

    signals.article_generator_pretaxonomy.connect(park)
    try:
        with environ(**passphrase_env()):
            output = build(tmp_path / "out", "publishconf.py", content)
    finally:
        signals.article_generator_pretaxonomy.disconnect(park)
    assert (output / "2026" / "parked" / "index.html").is_file()
