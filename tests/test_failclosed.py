"""A mistake in configuration never publishes private text.

Pelican only logs a plugin it cannot load, and a writer may edit PLUGINS or
override it on the command line. Whatever the plugin list, a build that would
write a post or page with an audience in the clear must stop, writing nothing.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, passphrase_env, site_build

SECRET = "Quokkasecret"
PUBLIC_POST = "Title: A public walk\nDate: 2026-05-01 10:00\n\nOut with the dog.\n"
PRIVATE = {
    "post": ("posts", f"Title: {SECRET} notes\nDate: 2026-05-02 10:00\n"),
    "locked post": (
        "posts",
        f"Title: {SECRET} notes\nDate: 2026-05-02 10:00\nListing: locked\n",
    ),
    "hidden post": (
        "posts",
        f"Title: {SECRET} notes\nDate: 2026-05-02 10:00\nStatus: hidden\n",
    ),
    "page": ("pages", f"Title: {SECRET} page\n"),
}
EVERY_PLUGIN = [
    "hearth_frontmatter",
    "hearth_warnings",
    "hearth_images",
    "hearth_private",
]
WITHOUT_PRIVATE = [p for p in EVERY_PLUGIN if p != "hearth_private"]


def make_site(root, kind="post", extra=None):
    content = Path(root) / "content"
    for folder in ("posts", "pages"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    (content / "posts" / "public.md").write_text(PUBLIC_POST)
    folder, header = PRIVATE[kind]
    (content / folder / "private.md").write_text(
        f"{header}Audience: friends\n\nThe {SECRET} body.\n"
    )
    for name, text in (extra or {}).items():
        (content / "posts" / name).write_text(text)
    return content


def written(output):
    return [p for p in Path(output).rglob("*") if p.is_file()]


def secret_in(output):
    return [
        p for p in written(output) if SECRET.lower().encode() in p.read_bytes().lower()
    ]


@pytest.mark.parametrize("kind", sorted(PRIVATE))
@pytest.mark.parametrize(
    "plugins",
    [
        WITHOUT_PRIVATE,
        ["hearth_frontmatter"],
        # A typo is what a wrong PLUGIN_PATHS looks like: Pelican logs that it
        # cannot load the plugin and builds on without it.
        [*WITHOUT_PRIVATE, "hearth_privat"],
    ],
    ids=["private removed", "frontmatter only", "private fails to load"],
)
def test_private_content_without_hearth_private_stops_the_build_writing_nothing(
    tmp_path, kind, plugins
):
    make_site(tmp_path, kind)
    with pytest.raises(Exception, match=r"hearth_private.*PLUGINS") as err:
        site_build(tmp_path, PLUGINS=plugins)
    assert "private.md" in str(err.value)
    assert SECRET not in str(err.value)
    assert not [p for p in written(tmp_path / "out") if p.suffix in (".html", ".xml")]


def test_the_preview_without_hearth_private_stops_too(tmp_path):
    make_site(tmp_path)
    with pytest.raises(Exception, match=r"hearth_private.*PLUGINS"):
        site_build(tmp_path, "pelicanconf.py", PLUGINS=WITHOUT_PRIVATE)
    assert not secret_in(tmp_path / "out")


def test_public_content_builds_without_hearth_private(tmp_path):
    """The check is about private content: a site without any still builds."""
    content = make_site(tmp_path)
    (content / "posts" / "private.md").unlink()
    output = site_build(tmp_path, PLUGINS=WITHOUT_PRIVATE)
    assert (output / "2026" / "a-public-walk" / "index.html").is_file()


@pytest.mark.parametrize(
    "plugins",
    [
        ["hearth_warnings", "hearth_images", "hearth_private"],
        ["hearth_frontmatte", *EVERY_PLUGIN[1:]],
    ],
    ids=["frontmatter removed", "frontmatter fails to load"],
)
def test_hearth_private_without_hearth_frontmatter_stops_the_build(tmp_path, plugins):
    # Without hearth_frontmatter, YAML front-matter is read by the Markdown
    # reader and nothing stops the build on a header it cannot read.
    make_site(tmp_path)
    with pytest.raises(Exception, match=r"hearth_frontmatter.*PLUGINS"):
        site_build(tmp_path, PLUGINS=plugins)
    assert not written(tmp_path / "out")


def test_pelican_command_line_overriding_plugins_stops_the_publish_build(tmp_path):
    make_site(tmp_path)
    output = tmp_path / "public"
    env = {**os.environ, **passphrase_env()}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "pelican"),
            str(tmp_path / "content"),
            "-s",
            "publishconf.py",
            "-o",
            str(output),
            "-e",
            'PLUGINS=["hearth_frontmatter"]',
            f'CACHE_PATH="{tmp_path / "cache"}"',
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "hearth_private" in result.stdout + result.stderr
    assert not secret_in(output)
    assert not [p for p in written(output) if p.suffix == ".html"]


@pytest.mark.parametrize("folder", ["posts", "pages"])
def test_a_publish_build_without_hearth_private_stops_on_a_hidden_post(
    tmp_path, folder
):
    # Plain Pelican publishes a `status: hidden` post at its URL, unlisted;
    # Hearth promises it never goes public.
    content = make_site(tmp_path)
    (content / "posts" / "private.md").unlink()
    (content / folder / "hidden.md").write_text(
        f"Title: {SECRET} notes\nDate: 2026-05-02 10:00\nStatus: hidden\n\n"
        f"The {SECRET} body.\n"
    )
    plugins = [p for p in EVERY_PLUGIN if p != "hearth_private"]
    with pytest.raises(Exception, match=r"hearth_private.*PLUGINS") as err:
        site_build(tmp_path, PLUGINS=plugins)
    assert "hidden.md" in str(err.value)
    assert not written(tmp_path / "out")
    # The preview shows hidden posts, marked: it needs no hearth_private.
    site_build(tmp_path, "pelicanconf.py", PLUGINS=plugins)


def test_a_publish_build_with_no_plugins_at_all_stops_before_writing(tmp_path):
    # With PLUGINS emptied no Hearth plugin runs, so only publishconf.py's
    # guard stands between a private post and the feeds written first.
    out = tmp_path / "out"
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "pelican"),
            "content",
            "-s",
            "publishconf.py",
            "-o",
            str(out),
            "-e",
            "PLUGINS=[]",
        ],
        cwd=ROOT,
        env={**os.environ, **passphrase_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "not encrypted" in result.stdout + result.stderr
    # The message alone: a configuration mistake is not a crash.
    assert "Traceback" not in result.stdout + result.stderr
    assert 'Keep "hearth_frontmatter" and "hearth_private" in PLUGINS' in (
        " ".join((result.stdout + result.stderr).split())
    )
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not written
