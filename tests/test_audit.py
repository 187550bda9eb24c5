"""The leak audit names every file that carries a private post's text."""

import io
import json
import re
import shutil

import pytest
from invoke import Context, Exit
from pelican.settings import read_settings
from PIL import PngImagePlugin

import tasks
from hearth.audit import AuditError, Finding, audit, audit_settings, audit_site
from tests import imagefactory
from tests.conftest import ROOT, build, copy_sample, environ, passphrase_env

PRIVATE = "posts/2026-09-21-after-the-phone-call.md"
PRIVATE_TITLE = "After the phone call"
PRIVATE_PHRASE = (
    "I sat on the kitchen floor afterwards for a long time, holding the phone"
)
PRIVATE_IMAGE = "kitchen-floor-at-night.jpg"


def _audit(content, output):
    """The audit with the sample site's publish settings, for `content`."""
    settings = read_settings(
        str(ROOT / "publishconf.py"),
        override={"PATH": str(content), "THEME": str(ROOT / "theme")},
    )
    return audit_settings(settings, output)


def _has(findings, path, surface, kind, source=PRIVATE):
    wanted = (path, surface, kind, source)
    return any((f.path, f.surface, f.kind, f.source) == wanted for f in findings)


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    """The sample site, with a photo that only the private post shows."""
    content = copy_sample(tmp_path_factory.mktemp("audit") / "content")
    (content / "images" / PRIVATE_IMAGE).write_bytes(imagefactory.jpeg())
    post = content / PRIVATE
    post.write_text(
        post.read_text() + f"\n![The kitchen at night](/images/{PRIVATE_IMAGE})\n"
    )
    return content


@pytest.fixture(scope="module")
def clean(content, tmp_path_factory):
    """What `invoke build --publish` writes for that site."""
    with environ(**passphrase_env()):
        return build(tmp_path_factory.mktemp("clean"), "publishconf.py", content)


@pytest.fixture
def leaky(clean, tmp_path):
    """A copy of the clean build, to plant a leak in."""
    return shutil.copytree(clean, tmp_path / "leaky")


def test_clean_sample_site_passes_the_audit(content, clean):
    assert _audit(content, clean) == []


def test_drafts_never_reach_the_clean_build(content, clean):
    draft = "posts/2026-11-20-unfinished.md"
    assert not [f for f in _audit(content, clean) if f.source == draft]


def test_template_printing_a_private_title_in_the_footer_is_caught(content, tmp_path):
    theme = shutil.copytree(ROOT / "theme", tmp_path / "theme")
    base = theme / "templates" / "base.html"
    base.write_text(
        base.read_text().replace(
            "Made with Hearth.", f"Made with Hearth. Latest: {PRIVATE_TITLE}."
        )
    )
    with environ(**passphrase_env()):
        output = build(tmp_path / "out", "publishconf.py", content, THEME=str(theme))
    findings = _audit(content, output)
    # Neither page lists posts: only the footer can have put the title there.
    assert _has(findings, "404.html", "page", "title")
    assert _has(findings, "about/index.html", "page", "title")


def test_hand_written_feed_with_a_private_post_is_caught(content, leaky):
    (leaky / "feeds" / "private.atom.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Hearth</title>'
        f"<entry><title>{PRIVATE_TITLE}</title>"
        '<content type="html">&lt;p&gt;I sat on the &lt;em&gt;kitchen floor'
        "&lt;/em&gt; afterwards for a long time, holding the phone&lt;/p&gt;"
        "</content></entry></feed>"
    )
    findings = _audit(content, leaky)
    assert _has(findings, "feeds/private.atom.xml", "feed", "title")
    assert _has(findings, "feeds/private.atom.xml", "feed", "phrase")


def test_private_phrase_inside_a_json_file_is_caught(content, leaky):
    index = json.dumps({"pages": [{"text": f"<p>{PRIVATE_PHRASE}</p>"}]})
    # JavaScript-safe JSON escapes markup, as search-index writers do.
    index = index.replace("<", "\\u003c").replace(">", "\\u003e")
    (leaky / "search.json").write_text(index)
    findings = _audit(content, leaky)
    assert _has(findings, "search.json", "data file", "phrase")


def test_file_name_of_an_image_only_a_private_post_uses_is_caught(content, leaky):
    shutil.copy(content / "images" / PRIVATE_IMAGE, leaky / "images" / "x.jpg")
    shutil.copy(content / "images" / PRIVATE_IMAGE, leaky / "images" / PRIVATE_IMAGE)
    findings = _audit(content, leaky)
    path = f"images/{PRIVATE_IMAGE}"
    assert _has(findings, path, "file name", "attachment")
    # A copy under another name is still that attachment.
    assert _has(findings, "images/x.jpg", "image", "attachment")


def test_private_title_in_image_metadata_is_caught(content, leaky):
    exif = imagefactory.exif_with(gps=False)
    exif[0x9C9B] = PRIVATE_TITLE.encode("utf-16-le")  # XPTitle: UTF-16 text
    buffer = io.BytesIO()
    imagefactory.picture().save(buffer, "JPEG", exif=exif)
    (leaky / "images" / "holiday.jpg").write_bytes(buffer.getvalue())
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", PRIVATE_TITLE, zip=True)  # compressed zTXt
    imagefactory.picture().save(leaky / "images" / "chart.png", pnginfo=info)
    findings = _audit(content, leaky)
    assert _has(findings, "images/holiday.jpg", "image metadata", "title")
    assert _has(findings, "images/chart.png", "image metadata", "title")


def test_published_photo_with_a_gps_location_is_caught(content, leaky):
    (leaky / "images" / "dog.jpg").write_bytes(imagefactory.jpeg())
    findings = _audit(content, leaky)
    assert Finding("images/dog.jpg", "image metadata", "GPS location", "", "") in (
        findings
    )


def test_private_slug_in_a_link_is_caught(content, leaky):
    page = leaky / "404.html"
    page.write_text(
        page.read_text().replace(
            "</main>", '<a href="/2026/after-the-phone-call/">more</a></main>'
        )
    )
    assert _has(_audit(content, leaky), "404.html", "page", "title")


def test_text_public_posts_share_is_not_a_finding(content, tmp_path):
    # "Therapy" is a category and tag of public posts as well, and the
    # sentence below is a public post's: none of it gives a secret away.
    output = tmp_path / "out"
    output.mkdir()
    (output / "index.html").write_text(
        "<p>Therapy · therapy · Family · Close friends</p><p>The chairs were the "
        "blue plastic kind that stick to your legs.</p>"
    )
    (output / "category").mkdir()
    (output / "category" / "therapy.html").write_text("<h1>Therapy</h1>")
    assert _audit(content, output) == []


def test_findings_never_print_the_secret_text(content, leaky, capsys):
    (leaky / "note.txt").write_text(f"{PRIVATE_TITLE}: {PRIVATE_PHRASE}")
    # A file whose very name is the leak: printing the path would repeat it.
    (leaky / "after-the-phone-call.html").write_text("<p>Hello</p>")
    with pytest.raises(Exit) as raised:
        tasks.audit(Context(), output=str(leaky))
    assert raised.value.code == 1
    assert "Do not publish this build" in str(raised.value)
    out = capsys.readouterr().out
    assert "note.txt: text carries the title of " + PRIVATE in out
    assert "note.txt: text carries the phrase of " + PRIVATE in out
    assert "[secret #" in out and ".html: file name carries the title of" in out
    # The source path may be printed (the writer's own file name); the rest
    # of what is printed carries none of the secret words.
    printed = re.sub(r"[\W_]+", " ", out.replace(PRIVATE, "").lower())
    for words in ("phone call", "kitchen floor", "sat on the"):
        assert words not in printed


def test_audit_task_passes_a_site_without_private_text(tmp_path, capsys):
    (tmp_path / "index.html").write_text("<p>Hello</p>")
    tasks.audit(Context(), output=str(tmp_path))
    assert "found no private text" in capsys.readouterr().out


def test_audit_refuses_a_missing_build_saying_how_to_make_one(tmp_path):
    with pytest.raises(Exit, match=r"no built site in .*nothing.*invoke build"):
        tasks.audit(Context(), output=str(tmp_path / "nothing"))


def test_unreadable_front_matter_stops_the_audit_naming_the_file(tmp_path):
    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts" / "broken.md").write_text("---\ntitle: [x\n---\nBody\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "index.html").write_text("x")
    with pytest.raises(AuditError, match=r"posts/broken\.md.*malformed.*Fix"):
        audit(content, tmp_path / "out")


def test_native_and_yaml_headers_private_draft_and_hidden_are_all_secret(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    posts = {
        "a.md": "Title: Alpha quokka marmalade\nAudience: friends\n\nB\n",
        "b.md": "---\ntitle: Bravo quokka marmalade\nstatus: draft\n---\nB\n",
        "c.md": "Title: Charlie quokka marmalade\nStatus: hidden\n\nB\n",
        "d.md": "---\ntitle: Delta quokka marmalade\naudience: [family]\n---\n",
        "e.md": "Title: Echo quokka marmalade\nAudience: public\n\nB\n",
    }
    # Pelican skips an article without a date: give each one.
    posts = {
        name: text.replace("\n", "\nDate: 2026-05-01 10:00\n", 1)
        for name, text in posts.items()
    }
    for name, text in posts.items():
        (content / name).write_text(text)
    output = tmp_path / "out"
    output.mkdir()
    titles = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    (output / "index.html").write_text(
        "".join(f"<h2>{t} quokka marmalade</h2>" for t in titles)
    )
    sources = {f.source for f in audit(content, output) if f.kind == "title"}
    assert sources == {"a.md", "b.md", "c.md", "d.md"}


def test_titles_the_writer_chose_to_show_are_not_findings_drafts_still_are(
    tmp_path,
):
    content = tmp_path / "content"
    content.mkdir()
    date = "Date: 2026-05-01 10:00\n"
    (content / "a.md").write_text(
        f"Title: Alpha quokka marmalade\n{date}Audience: friends\n"
    )
    (content / "b.md").write_text(
        f"Title: Bravo quokka marmalade\n{date}Status: draft\n"
    )
    output = tmp_path / "out"
    output.mkdir()
    (output / "index.html").write_text(
        "<h2>Alpha quokka marmalade</h2><h2>Bravo quokka marmalade</h2>"
    )
    settings = {
        "PATH": str(content),
        "THEME": str(ROOT / "theme"),
        "HEARTH_AUDIENCES": {"friends": "Close friends"},
    }
    by_default = {f.source for f in audit_site(settings, output)}
    assert by_default == {"a.md", "b.md"}
    # HEARTH_SHOW_PRIVATE_TITLES puts a private post's title on its locked page.
    shown = {**settings, "HEARTH_SHOW_PRIVATE_TITLES": True}
    assert {f.source for f in audit_site(shown, output)} == {"b.md"}


def test_a_file_is_named_only_by_its_whole_name():
    # "dog.jpg" is not named by a post that shows "hotdog.jpg": a private
    # post's dog.jpg stays private-only however public posts use hotdog.jpg.
    from hearth.audit import _names_in

    text = '![a](/images/hotdog.jpg) <img src="{static}/img/my%20cat.png"> x.gif.'
    assert _names_in(text) == {"hotdog.jpg", "my cat.png", "x.gif"}


@pytest.mark.parametrize("listing", ["locked", "hidden"])
def test_an_explicit_slug_on_a_private_post_is_public_only_as_its_address(
    tmp_path, listing
):
    # README allows `slug:` on a private post (with a warning): the address
    # p/<slug>/ is then the writer's choice, not a leak. Under `listing:
    # hidden` that address is still secret everywhere but its own page.
    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts" / "slugged.md").write_text(
        "Title: Marmalade quokka evening\nDate: 2026-05-01 10:00\n"
        f"Audience: friends\nListing: {listing}\nSlug: kept-on-purpose\n\n"
        "A private body about the kitchen floor and the long phone call.\n"
    )
    with environ(**passphrase_env()):
        output = build(tmp_path / "out", "publishconf.py", content)
    assert (output / "p" / "kept-on-purpose" / "index.html").is_file()
    assert _audit(content, output) == []
    # The title is still a secret, wherever it turns up.
    page = output / "index.html"
    page.write_text(page.read_text() + "<p>Marmalade quokka evening</p>")
    assert {f.kind for f in _audit(content, output)} == {"title"}
    page.write_text(page.read_text().replace("<p>Marmalade quokka evening</p>", ""))
    # A link to the address elsewhere is a finding only when it is hidden.
    (output / "about.html").write_text('<a href="/p/kept-on-purpose/">x</a>')
    found = {f.kind for f in _audit(content, output)}
    assert found == ({"hidden address"} if listing == "hidden" else set())
