"""Leaks found by an adversarial review, each kept closed by a test."""

import re
from pathlib import Path

import pytest
from pelican.settings import read_settings

from hearth.audit import audit_settings
from tests import conftest
from tests.conftest import ROOT

# The French version of a private post has to name the original's slug (that
# is how Pelican pairs translations), and that slug is the private title's.
TITLE_SLUG = "quokkatitle-post"
TOKENS = ("quokkatitle", "marmabody", "frtitlecanary", "frbodycanary")
PUBLIC_POST = "Title: A public walk\nDate: 2026-05-01 10:00\n\nOut with the dog.\n"


def original(audience):
    line = f"Audience: {audience}\n" if audience else ""
    return f"Title: Quokkatitle post\nDate: 2026-05-02 10:00\n{line}\nMarmabody.\n"


def translation(audience):
    line = f"Audience: {audience}\n" if audience else ""
    return (
        f"Title: Frtitlecanary\nDate: 2026-05-02 10:00\nSlug: {TITLE_SLUG}\n"
        f"Lang: fr\n{line}\nFrbodycanary.\n"
    )


def make_site(root, posts):
    content = Path(root) / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts" / "public.md").write_text(PUBLIC_POST)
    for name, text in posts.items():
        (content / "posts" / name).write_text(text)
    return content


def site_build(root, settings="publishconf.py", **override):
    # Translation feeds on: a translation of a private post must not reach them.
    override.setdefault("TRANSLATION_FEED_ATOM", "feeds/all-{lang}.atom.xml")
    return conftest.site_build(root, settings, **override)


def audited(root, output):
    """The leak audit's findings, with the settings site_build used."""
    settings = read_settings(
        str(ROOT / "publishconf.py"),
        override={
            "PATH": str(Path(root) / "content"),
            "THEME": str(ROOT / "theme"),
            "TRANSLATION_FEED_ATOM": "feeds/all-{lang}.atom.xml",
        },
    )
    return [str(f) for f in audit_settings(settings, output)]


def leaks(output):
    found = []
    for path in Path(output).rglob("*"):
        name = path.relative_to(output).as_posix().lower()
        data = path.read_bytes().lower() if path.is_file() else b""
        found += [f"{name}: {t}" for t in TOKENS if t in name or t.encode() in data]
    return found


@pytest.mark.parametrize(
    "audiences",
    [("friends", None), (None, "friends"), ("friends", "family")],
    ids=["private original", "private translation", "other audience"],
)
def test_a_translation_with_another_audience_than_its_original_stops_the_build(
    tmp_path, audiences
):
    # Pelican links translations from each other and writes a translation at
    # its own URL and in its language's feed: a public French version of a
    # private post is the private post, in the clear.
    ours, theirs = audiences
    make_site(tmp_path, {"note.md": original(ours), "note-fr.md": translation(theirs)})
    with pytest.raises(Exception, match=r"note-fr\.md.*note\.md.*same audience"):
        site_build(tmp_path)
    assert not list((tmp_path / "out").rglob("*.html"))


def test_private_translations_are_encrypted_at_opaque_addresses(tmp_path):
    # The slug that pairs them is the private title's: it is no address.
    make_site(
        tmp_path, {"note.md": original("friends"), "note-fr.md": translation("friends")}
    )
    output = site_build(tmp_path)
    assert leaks(output) == []
    # The audit reads the translation (its own needles) and passes the build.
    assert audited(tmp_path, output) == []
    pages = sorted(p.parent.name for p in (output / "p").glob("*/index.html"))
    assert len(pages) == 2
    assert TITLE_SLUG not in pages


def test_a_private_draft_pages_translation_is_encrypted_in_the_preview(tmp_path):
    # Pelican keeps draft pages' translations in their own list.
    content = make_site(tmp_path, {})
    (content / "pages").mkdir()
    page = "Title: Quokkatitle page\nSlug: note\nStatus: draft\nAudience: friends\n"
    (content / "pages" / "note.md").write_text(f"{page}\nMarmabody.\n")
    (content / "pages" / "note-fr.md").write_text(
        f"{page.replace('Quokkatitle', 'Frtitlecanary')}Lang: fr\n\nFrbodycanary.\n"
    )
    output = site_build(tmp_path, "pelicanconf.py")
    assert leaks(output) == []
    assert len(list((output / "p").glob("*/index.html"))) == 2
    # Encrypted, but drafts: the audit refuses this preview for publishing,
    # naming both pages and nothing else.
    found = audited(tmp_path, output)
    assert len(found) == 2
    assert all(line.startswith("p/") and "draft post" in line for line in found)


def test_a_public_posts_filename_link_to_a_private_post_uses_its_opaque_address(
    tmp_path,
):
    # Pelican resolves {filename} to the linked post's URL, which would be
    # the slug of the private title but for hearth_private's opaque address.
    make_site(
        tmp_path,
        {
            "note.md": original("friends"),
            "public.md": PUBLIC_POST + "\nSee [this one]({filename}note.md).\n",
        },
    )
    output = site_build(tmp_path)
    assert leaks(output) == []
    page = (output / "2026" / "a-public-walk" / "index.html").read_text()
    [(address, text)] = re.findall(r'<a href="(/p/[0-9a-f]{16}/)">([^<]*)</a>', page)
    assert text == "this one"
    assert (output / address.strip("/") / "index.html").is_file()
    # The post is `listing: hidden` (the default): a public page that links
    # to it gives its address away, and the audit says so.
    found = audited(tmp_path, output)
    wanted = "2026/a-public-walk/index.html: page carries the hidden address of"
    assert f"{wanted} posts/note.md" in "\n".join(found)
    assert all("hidden address of posts/note.md" in line for line in found)
