"""Hearth beside popular pelican-plugins packages: nothing private gets out.

The site has a private post listed `hidden` and one `locked`, a private page,
a draft and a hidden post and page, in Markdown and reStructuredText, each
carrying canaries in its title, body, tags, category, author, series and
the files it uses (every reference form). The plugins below read content at
many points (sitemap on content_written, seo's JSON-LD, show-source's copy
of source_path, related posts and series from tags and metadata...). The
build runs with Pelican's content caching on, twice on one Pelican object
as autoreload does; every output byte and file name is checked.

By default one plugin order runs (Hearth first); HEARTH_MATRIX=full also
runs the other plugins first, and each caching layer.
"""

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.settings import read_settings

from hearth import audit, envelope
from hearth.state import State
from tests.conftest import ROOT, TEST_PASSPHRASES, environ, passphrase_env
from tests.imagefactory import png

# Packages from PyPI (requirements-test.txt), by the names PLUGINS takes.
OTHERS = [
    "pelican.plugins.sitemap",
    "pelican.plugins.neighbors",
    "pelican.plugins.related_posts",
    "pelican.plugins.series",
    "pelican.plugins.seo",
    "pelican.plugins.show_source",
    "pelican.plugins.image_process",
    "pelican.plugins.readtime",
    "pelican.plugins.statistics",
    "pelican.plugins.jinja2content",
]
HEARTH = ["hearth_frontmatter", "hearth_warnings", "hearth_images", "hearth_private"]
FULL = os.environ.get("HEARTH_MATRIX") == "full"
ORDERS = ["hearth first", "others first"] if FULL else ["hearth first"]
LAYERS = ["reader", "generator"] if FULL else ["generator"]

# Canaries: none may reach any output byte or file name.
SECRETS = {
    "hidden post": "Quokkahidden",
    "locked post": "Lemurlocked",
    "private page": "Okapipage",
    "draft post": "Dugongdraft",
    "hidden status post": "Tapirhidden",
    "hidden page": "Gibbonpage",
    "draft page": "Ibexdraftpage",
}
AUTHOR = "Guestcanary"
SERIES = "Serieswombat"
# Times of day and modified dates: no stand-in carries more than the day.
TIME = "03:47:29"  # with seconds: a build at 03:47 cannot match it
MODIFIED = "2026-04-09"

PUBLIC_POST = """Title: An ordinary week
Date: 2026-03-01 09:00
Tags: shared, walking
Category: Notes

A public post, with a picture everyone may see.

![A shared picture]({static}/images/shared.png)
"""


def md_post(word, *, status="published", audience=None, listing=None, folder="posts"):
    """A Markdown post holding `word` everywhere, using files by every form."""
    head = [
        f"Title: {word} title",
        f"Date: 2026-03-02 {TIME}",
        f"Modified: {MODIFIED} 11:23",
        f"Author: {AUTHOR}",
        f"Tags: {word}tag, shared",
        f"Category: {word}category",
        f"Series: {SERIES}",
        f"Summary: {word} summary.",
        f"Image: {{static}}/images/{word}-meta.png",
        f"Og_image: /images/{word}-og.png",
        f"Cover: images/{word}-cover.png",
        f"Status: {status}",
    ]
    if audience:
        head.append(f"Audience: {audience}")
    if listing:
        head.append(f"Listing: {listing}")
    body = f"""
The {word} body, in a post for few.

<picture><source srcset="{{static}}/images/{word}-source.png 1x,
  /images/{word}-source2x.png 2x"><img src="{{static}}/images/{word}-img.png"
  srcset="/images/{word}-srcset.png 640w" alt="{word} alt"></picture>

<object data="{{static}}/images/{word}-object.png"></object>
<embed src="{{static}}/images/{word}-embed.png">
<video poster="{{static}}/images/{word}-poster.png"></video>

![spaced]({{static}}/images/{word}%20spaced.png)

![shared]({{static}}/images/shared.png)
"""
    return "\n".join(head) + "\n" + body


def rst_post(word, *, status="published", audience=None, listing=None):
    head = [
        f"{word} title",
        "#" * (len(word) + 6),
        "",
        f":date: 2026-03-03 {TIME}",
        f":modified: {MODIFIED} 11:23",
        f":author: {AUTHOR}",
        f":tags: {word}tag, shared",
        f":category: {word}category",
        f":series: {SERIES}",
        f":summary: {word} summary.",
        f":status: {status}",
    ]
    if audience:
        head.append(f":audience: {audience}")
    if listing:
        head.append(f":listing: {listing}")
    body = f"""
The {word} body, in a post for few.

.. image:: {{static}}/images/{word}-rst.png
   :alt: {word} alt
"""
    return "\n".join(head) + "\n" + body


def make_site(root):
    content = root / "content"
    for folder in ("posts", "pages", "images"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    posts, pages = content / "posts", content / "pages"
    (posts / "public.md").write_text(PUBLIC_POST)
    (posts / "public-two.rst").write_text(
        "Another ordinary week\n#####################\n\n:date: 2026-03-05 09:00\n"
        ":tags: shared\n:series: Walks\n\nA second public post.\n"
    )
    (posts / "hidden.md").write_text(
        md_post(SECRETS["hidden post"], audience="friends", listing="hidden")
    )
    (posts / "locked.rst").write_text(
        rst_post(SECRETS["locked post"], audience="family", listing="locked")
    )
    (posts / "draft.rst").write_text(rst_post(SECRETS["draft post"], status="draft"))
    (posts / "hiddenstatus.md").write_text(
        md_post(SECRETS["hidden status post"], status="hidden")
    )
    (pages / "about.md").write_text("Title: About\n\nA public page.\n")
    (pages / "private.md").write_text(
        md_post(SECRETS["private page"], audience="friends")
    )
    (pages / "hidden.rst").write_text(rst_post(SECRETS["hidden page"], status="hidden"))
    (pages / "draft.md").write_text(md_post(SECRETS["draft page"], status="draft"))
    names = {"shared.png"}
    for word in SECRETS.values():
        for kind in (
            "meta", "og", "cover", "source", "source2x", "img", "srcset",
            "object", "embed", "poster", "rst",
        ):  # fmt: skip
            names.add(f"{word}-{kind}.png")
        names.add(f"{word} spaced.png")
    for i, name in enumerate(sorted(names)):
        (content / "images" / name).write_bytes(png(text={"Comment": f"picture {i}"}))
    (content / "images" / "unused-photo.png").write_bytes(png())
    return content


def settings_for(root, order, layer):
    plugins = HEARTH + OTHERS if order == "hearth first" else OTHERS + HEARTH
    return read_settings(
        str(ROOT / "publishconf.py"),
        override={
            "PATH": str(root / "content"),
            "OUTPUT_PATH": str(root / "out"),
            "CACHE_PATH": str(root / "cache"),
            "THEME": str(ROOT / "theme"),
            "PLUGIN_PATHS": [str(ROOT / "plugins")],
            "PLUGINS": plugins,
            "SITEURL": "https://blog.example",
            # The other plugins' header keys, as a writer adding them lists
            # them (a key Hearth does not know stops a publish build).
            "HEARTH_EXTRA_KEYS": ["series", "cover", "image", "og_image"],
            "FEED_DOMAIN": "https://blog.example",
            "CACHE_CONTENT": True,
            "LOAD_CONTENT_CACHE": True,
            "CONTENT_CACHING_LAYER": layer,
            "HEARTH_STATE_FILE": str(root / "hearth-state.json"),
            # Every feed kind, copied sources and day archives.
            "FEED_ALL_RSS": "feeds/all.rss.xml",
            "CATEGORY_FEED_ATOM": "feeds/{slug}.atom.xml",
            "TAG_FEED_ATOM": "feeds/tag.{slug}.atom.xml",
            "AUTHOR_FEED_ATOM": "feeds/author.{slug}.atom.xml",
            "OUTPUT_SOURCES": True,
            "DAY_ARCHIVE_SAVE_AS": "{date:%Y}/{date:%m}/{date:%d}/index.html",
            # The plugins, each asked to do the most it can.
            "SITEMAP": {"format": "xml"},
            "SHOW_SOURCE_ALL_POSTS": True,
            "SEO_REPORT": True,
            "SEO_ENHANCER": True,
            "SEO_ENHANCER_OPEN_GRAPH": True,
            "SEO_ENHANCER_TWITTER_CARDS": True,
            "IMAGE_PROCESS": {"thumb": ["scale_in 20 20 True"]},
            "IMAGE_PROCESS_METADATA": {"og_image": "thumb"},
            "RELATED_POSTS_MAX": 5,
        },
    )


def output_files(out):
    return sorted(p for p in Path(out).rglob("*") if p.is_file())


def build_twice(root, order, layer):
    """Two runs of one Pelican object (autoreload), then a fresh object."""
    cwd = os.getcwd()
    os.chdir(ROOT)  # publishconf.py imports pelicanconf.py from here
    try:
        settings = settings_for(root, order, layer)
        again = settings_for(root, order, layer)
    finally:
        os.chdir(cwd)
    os.chdir(root)  # seo writes its report to the working folder
    try:
        with environ(**passphrase_env()):
            pelican = Pelican(settings)
            pelican.run()
            first = {
                p.relative_to(root / "out"): p.read_bytes()
                for p in output_files(root / "out")
            }
            pelican.run()
            Pelican(again).run()
    finally:
        os.chdir(cwd)
    return first


@pytest.fixture(scope="module", params=[(o, c) for o in ORDERS for c in LAYERS])
def site(request, tmp_path_factory):
    """Build in a fresh interpreter: Pelican's signals are process-wide, and
    the other plugins' receivers (seo refuses an empty SITEURL on every
    `initialized`) would stay connected for the rest of the test run."""
    order, layer = request.param
    root = tmp_path_factory.mktemp("matrix")
    make_site(root)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_plugins_matrix", str(root), order, layer],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = pickle.loads((root / "first.pickle").read_bytes())
    return root, first


def test_no_private_draft_or_hidden_text_reaches_any_output_byte_or_name(site):
    root, _ = site
    needles = [*SECRETS.values(), AUTHOR, SERIES]
    found = []
    for path in output_files(root / "out"):
        name = str(path.relative_to(root / "out"))
        data = path.read_bytes().decode("utf-8", "replace")
        for needle in needles:
            for where, text in (("name", name), ("text", data)):
                if needle.lower() in text.lower():
                    found.append(f"{needle} in the {where} of {name}")
    assert found == []


def test_no_time_of_day_or_modified_date_of_a_private_post_is_published(site):
    root, _ = site
    found = [
        str(p.relative_to(root / "out"))
        for p in output_files(root / "out")
        if p.suffix in (".html", ".xml", ".txt", ".json")
        and (TIME in p.read_text() or MODIFIED in p.read_text())
    ]
    assert found == []


def test_a_hidden_private_posts_address_is_only_at_its_own_page(site):
    root, _ = site
    state = State.load(root / "hearth-state.json")
    hidden_id = state.post_id("posts/hidden.md")
    page = root / "out" / "p" / hidden_id / "index.html"
    assert page.is_file()
    elsewhere = [
        str(p.relative_to(root / "out"))
        for p in output_files(root / "out")
        if p != page and hidden_id.encode() in p.read_bytes()
    ]
    assert elsewhere == []
    # The locked post is listed, by its opaque address only.
    locked_id = state.post_id("posts/locked.rst")
    assert f"p/{locked_id}/" in (root / "out" / "index.html").read_text()


def test_files_only_private_posts_use_are_sealed_and_the_rest_left_out(site):
    root, _ = site
    images = {p.name for p in (root / "out" / "images").rglob("*.png")}
    # shared.png is used by a public post (and private ones): public.
    assert "shared.png" in images
    assert images <= {"shared.png"} | {
        p.name for p in (root / "out" / "images" / "derivatives").rglob("*.png")
    }
    sealed = list((root / "out" / "p" / "f").iterdir())
    # Every form in the hidden post, the locked post's and the private page's.
    assert len(sealed) >= 12
    for blob in sealed:
        assert blob.read_bytes().startswith(b"hearth")


def test_the_envelope_holds_every_reference_form_for_its_audience(site):
    root, _ = site
    state = State.load(root / "hearth-state.json")
    page = root / "out" / "p" / state.post_id("posts/hidden.md") / "index.html"
    text = re.search(r'id="hearth-envelope">([^<]+)<', page.read_text()).group(1)
    salt, iterations = state.known_audience("friends")
    key = envelope.derive_key(TEST_PASSPHRASES["friends"], salt, iterations)
    address = "/p/" + state.post_id("posts/hidden.md") + "/"
    payload = envelope.decrypt(text, address, key, "friends").decode()
    assert "Quokkahidden body" in payload
    # Each private-only reference now points at a sealed file.
    assert payload.count("/p/f/") >= 8
    assert re.findall(r"/images/Quokkahidden[^\"]*", payload) == []


def test_the_autoreload_and_cached_builds_equal_the_first(site):
    root, first = site
    now = {
        p.relative_to(root / "out"): p.read_bytes() for p in output_files(root / "out")
    }
    changed = sorted(
        str(p) for p in set(first) | set(now) if first.get(p) != now.get(p)
    )
    # seo's report and sitemap dates may carry the build time; nothing else.
    assert [p for p in changed if not p.startswith("seo")] == []


def test_the_audit_passes_the_site(site):
    root, _ = site
    findings = audit.audit(root / "content", root / "out", theme_path=ROOT / "theme")
    assert [str(f) for f in findings] == []


def test_the_cache_folder_holds_nothing_secret_world_readable(site):
    root, _ = site
    hearth_cache = root / "cache" / "hearth"
    assert hearth_cache.is_dir()
    for path in [hearth_cache, *hearth_cache.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path
    for path in hearth_cache.rglob("*"):
        if path.is_file():
            assert b"Quokkahidden" not in path.read_bytes()


if __name__ == "__main__":
    folder, plugin_order, caching_layer = sys.argv[1:4]
    snapshot = build_twice(Path(folder), plugin_order, caching_layer)
    (Path(folder) / "first.pickle").write_bytes(pickle.dumps(snapshot))
