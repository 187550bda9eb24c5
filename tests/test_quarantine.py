"""Quarantine: hearth/private.py on its own, and what a build does with it."""

import base64
import gzip
import io
import logging
import os
import stat
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.settings import read_settings
from PIL import Image

from hearth import envelope, private
from tests.conftest import ROOT, build, environ, passphrase_env

# --- references, parsed ----------------------------------------------------


def test_every_attribute_that_names_a_file_is_found():
    html = (
        '<picture><source srcset="a.jpg 1x, b.jpg 2x"><img src="c.jpg" '
        "srcset='d.jpg 640w,e.jpg 1280w' alt=x></picture>"
        '<object data="f.pdf"></object><embed src=g.svg>'
        '<video poster="h.png"><source src="i.webm"></video>'
        '<a href="j.html">j</a><svg><image xlink:href="k.png"/></svg>'
    )
    assert private.references(html) == [
        "a.jpg",
        "b.jpg",
        "c.jpg",
        "d.jpg",
        "e.jpg",
        "f.pdf",
        "g.svg",
        "h.png",
        "i.webm",
        "j.html",
        "k.png",
    ]


def test_entities_and_odd_quoting_do_not_hide_a_reference():
    html = "<IMG\nSRC = '/images/a&amp;b.png'><img src=\"/images/c&#46;png\">"
    assert private.references(html) == ["/images/a&b.png", "/images/c.png"]


def test_srcset_splits_as_the_html_standard_does():
    assert private.srcset_urls("a.jpg 1x,b.jpg 2x, c,d.jpg 100w ,e.jpg") == [
        "a.jpg",
        "b.jpg",
        "c,d.jpg",
        "e.jpg",
    ]
    assert private.srcset_urls("a.jpg,, b.jpg") == ["a.jpg", "b.jpg"]


def test_site_paths_are_url_decoded_and_resolved_against_the_page():
    assert private.site_path("../images/a%20b.png", "2026/post/", "") == (
        "2026/images/a b.png"
    )
    assert private.site_path("/images/a%20b.png", "p/x/", "") == "images/a b.png"
    site = "https://example.org/blog"
    assert private.site_path("https://example.org/blog/images/a.png", "", site) == (
        "images/a.png"
    )
    assert private.site_path("https://elsewhere.example/a.png", "", site) is None
    assert private.site_path("#top", "2026/post/", "") is None
    assert private.site_path("{static}/images/a.png", "2026/post/", "") == (
        "images/a.png"
    )


def test_metadata_values_name_files_whatever_their_key():
    meta = {
        "image": "{static}/images/a.png",
        "og_image": "/images/b.png",
        "cover": "images/c.png",
        "gallery": ["/images/d.png", "/images/e.png"],
        "date": object(),
    }
    assert private.metadata_references(meta) == [
        "/images/a.png",
        "/images/b.png",
        "images/c.png",
        "/images/d.png",
        "/images/e.png",
    ]


def test_rewrite_changes_only_the_references_it_is_asked_to():
    html = (
        '<p title="src=x.png">x.png</p><img src="x.png" alt="a &amp; b">'
        '<source srcset="x.png 1x, y.png 2x">'
    )
    out = private.rewrite(html, lambda v: "/p/f/1" if v == "x.png" else None)
    assert out == (
        '<p title="src=x.png">x.png</p><img src="/p/f/1" alt="a &amp; b">'
        '<source srcset="/p/f/1 1x, y.png 2x">'
    )


def test_a_file_used_publicly_and_privately_stays_public():
    fates = private.fates(["a", "b", "c", "d"], {"a"}, {"a", "b"}, publish=True)
    assert fates == {
        "a": private.PUBLIC,
        "b": private.SEALED,
        "c": private.LEFT_OUT,
        "d": private.LEFT_OUT,
    }
    # The preview keeps what nobody uses (it lists those files instead).
    assert private.fates(["c"], set(), set(), publish=False) == {"c": private.PUBLIC}


# --- schemas, keys, envelope reuse -------------------------------------------


def test_the_payload_and_index_schemas():
    payload = private.post_payload(
        title="T",
        date="2026-01-01T10:00:00",
        locale_date="1 January 2026",
        content="<p>x</p>",
        summary="",
        tags=("a",),
        category=None,
        warnings=[],
        attachments={},
    )
    assert payload.startswith(b'{"attachments": {}, "category": null, "content"')
    index = private.index_payload([{"date": "2026-01-01"}, {"date": "2026-02-01"}])
    assert index == b'{"entries": [{"date": "2026-02-01"}, {"date": "2026-01-01"}]}'


def test_an_early_key_is_used_only_if_its_inputs_still_match(monkeypatch):
    calls = []
    real = envelope.derive_key
    monkeypatch.setattr(
        envelope, "derive_key", lambda *a: calls.append(a[0]) or real(*a)
    )
    keys = private.Keys()  # no file: nothing cached between builds
    salt = b"s" * 16
    keys.start([("one passphrase", salt, envelope.ITERATION_FLOOR)])
    first = keys.key("one passphrase", salt, envelope.ITERATION_FLOOR)
    assert calls == ["one passphrase"]
    keys = private.Keys()
    keys.start([("one passphrase", salt, envelope.ITERATION_FLOOR)])
    second = keys.key("changed", salt, envelope.ITERATION_FLOOR)
    assert calls == ["one passphrase", "one passphrase", "changed"]
    assert first != second


def test_the_envelope_cache_reuses_and_is_owner_only(tmp_path):
    owned = tmp_path / "cache" / "hearth"
    cache = private.EnvelopeCache(owned / "envelopes" / "publish", owned=owned)
    sealed = private.seal(b"photo bytes", "/p/f/1", cache)
    cache.keep_envelope("/p/1/", "ENVELOPE")
    cache.save()
    again = private.EnvelopeCache(owned / "envelopes" / "publish", owned=owned)
    assert again.envelope("/p/1/") == "ENVELOPE"
    assert private.seal(b"photo bytes", "/p/f/1", again) == sealed
    assert private.seal(b"other bytes", "/p/f/1", again).blob != sealed.blob
    for path in [owned, *owned.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_an_envelope_made_for_the_same_payload_is_reused_without_opening_it(
    tmp_path, monkeypatch
):
    owned = tmp_path / "cache"
    key, other = bytes(range(32)), bytes(range(1, 33))
    friends = [envelope.Recipient("friends", b"s" * 16, envelope.ITERATION_FLOOR, key)]

    def made(payload, recipients):
        cache = private.EnvelopeCache(owned)
        text = private.encrypt_for(payload, "/p/1/", recipients, cache)
        cache.save()
        return text

    first = made(b'{"a": 1}', friends)
    opened = []
    real = envelope.encrypt
    monkeypatch.setattr(
        envelope, "encrypt", lambda *a, **k: opened.append(1) or real(*a, **k)
    )
    assert made(b'{"a": 1}', friends) == first
    assert opened == []  # the tag said so: not opened, not encrypted again
    # Another payload, another key: a new envelope, for what it now holds.
    changed = made(b'{"a": 2}', friends)
    assert envelope.decrypt(changed, "/p/1/", key, "friends") == b'{"a": 2}'
    rekeyed = made(b'{"a": 2}', [friends[0]._replace(key=other)])
    assert envelope.decrypt(rekeyed, "/p/1/", other, "friends") == b'{"a": 2}'
    # A damaged envelope in the cache is not handed on, even with its tag.
    (text_file,) = owned.glob("*.txt")
    text_file.write_text(text_file.read_text().replace("A", "B", 1))
    again = made(b'{"a": 2}', [friends[0]._replace(key=other)])
    assert envelope.decrypt(again, "/p/1/", other, "friends") == b'{"a": 2}'
    assert len(opened) == 3


def test_what_is_held_fails_closed():
    labels = {"friends": "Close friends"}
    assert not private.is_held({"status": "published"}, labels, publish=True)
    assert private.is_held({"audience": "friends"}, labels, publish=False)
    # An audience that cannot be read is private until the writer fixes it.
    assert private.is_held({"audience": "[friends"}, labels, publish=False)
    assert private.is_held({"status": "hidden"}, labels, publish=True)
    assert not private.is_held({"status": "draft"}, labels, publish=False)


def test_a_sealed_file_loses_its_metadata_and_its_name(tmp_path):
    from hearth.state import State
    from tests import imagefactory

    photo = tmp_path / "walk.jpg"
    photo.write_bytes(imagefactory.jpeg())
    state = State(tmp_path / "state.json")
    cache = private.EnvelopeCache(tmp_path / "cache")
    out_path, address, meta, blob = private.seal_file(
        photo, "images/walk.jpg", state=state, cache=cache, siteurl=""
    )
    assert out_path == f"p/f/{state.attachment_id('images/walk.jpg')}"
    assert address == "/" + out_path
    assert meta["type"] == "image/jpeg"
    key = base64.urlsafe_b64decode(meta["key"] + "=")
    clear = envelope.decrypt_attachment(blob, address, key)
    with Image.open(io.BytesIO(clear)) as im:
        assert len(im.getexif()) == 0


def test_a_sealed_file_unchanged_since_the_last_build_is_not_cleaned_again(
    tmp_path, monkeypatch
):
    from hearth.state import State
    from tests import imagefactory

    photo = tmp_path / "walk.jpg"
    photo.write_bytes(imagefactory.jpeg())
    state = State(tmp_path / "state.json")
    owned = tmp_path / "cache"

    def sealed_now():
        cache = private.EnvelopeCache(owned)
        result = private.seal_file(
            photo, "images/walk.jpg", state=state, cache=cache, siteurl=""
        )
        cache.save()
        return result

    cleaned = []
    real = private.clean_image
    monkeypatch.setattr(private, "clean_image", lambda d: cleaned.append(1) or real(d))
    first = sealed_now()
    second = sealed_now()
    assert len(cleaned) == 1
    assert second == first  # the same key and blob: nothing to publish again
    photo.write_bytes(imagefactory.jpeg(orientation=3))  # another picture
    third = sealed_now()
    assert len(cleaned) == 2
    assert third[3] != first[3]
    key = base64.urlsafe_b64decode(third[2]["key"] + "=")
    assert envelope.decrypt_attachment(third[3], third[1], key)


def test_references_to_sealed_files_point_at_the_sealed_copy():
    sealed = {"images/a b.png": ("p/f/1", "/p/f/1", {"key": "k", "type": "t"}, b"")}
    attachments = {}
    html = '<img src="/images/a%20b.png" srcset="/images/a%20b.png 2x, /x.png 1x">'
    out = private.point_at_sealed(
        html,
        page_url="p/9/",
        siteurl="",
        page_root="",
        sealed=sealed,
        attachments=attachments,
    )
    assert out == '<img src="/p/f/1" srcset="/p/f/1 2x, /x.png 1x">'
    assert attachments == {"/p/f/1": {"key": "k", "type": "t"}}


# --- builds ----------------------------------------------------------------


def png(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def site(root, posts, images=("shared.png",)):
    content = Path(root) / "content"
    for folder in ("posts", "pages", "images"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    for name, text in posts.items():
        (content / "posts" / name).write_text(text)
    for i, name in enumerate(images):
        (content / "images" / name).write_bytes(png((i * 40 % 255, 0, 0)))
    return content


def publish(root, **override):
    with environ(**passphrase_env()):
        return build(
            Path(root) / "out",
            "publishconf.py",
            content=Path(root) / "content",
            CACHE_PATH=str(Path(root) / "cache"),
            HEARTH_STATE_FILE=str(Path(root) / "hearth-state.json"),
            **override,
        )


PUBLIC = "Title: Open notes\nDate: 2026-05-01 10:00\n\n{body}\n"
DRAFT = "Title: Foxglove draft\nDate: 2026-05-02 10:00\nStatus: {status}\n\nBody.\n"
PRIVATE = (
    "Title: Heron private\nDate: 2026-05-03 10:00\nAudience: friends\n{extra}\n"
    "The heron body. ![x]({{static}}/images/private%20photo.png)\n"
)


@pytest.mark.parametrize("status", ["draft", "hidden"])
def test_a_filename_link_to_a_left_out_post_stops_the_publish_build(tmp_path, status):
    site(
        tmp_path,
        {
            "open.md": PUBLIC.format(body="See [this]({filename}left.md)."),
            "left.md": DRAFT.format(status=status),
        },
    )
    with pytest.raises(Exception, match=r"posts/open\.md links to posts/left\.md"):
        publish(tmp_path)
    assert not list((tmp_path / "out").rglob("*.html"))


def test_a_file_with_a_space_that_a_public_post_uses_is_published(tmp_path):
    site(
        tmp_path,
        {"open.md": PUBLIC.format(body="![x]({static}/images/my%20photo.png)")},
        images=("my photo.png", "unused.png"),
    )
    out = publish(tmp_path)
    assert (out / "images" / "my photo.png").is_file()
    # Nobody uses unused.png: a publish build leaves it out.
    assert not (out / "images" / "unused.png").exists()


def test_a_file_a_setting_or_the_theme_names_stays_public(tmp_path):
    site(
        tmp_path,
        {"open.md": PUBLIC.format(body="Text.")},
        images=("logo.png", "favicon.png"),
    )
    overrides = ROOT / "theme" / "templates"
    theme = tmp_path / "theme-overrides"
    theme.mkdir()
    (theme / "nav_logo.html").write_text('<img src="/images/logo.png">')
    (tmp_path / "content" / "extra").mkdir()
    (tmp_path / "content" / "extra" / "CNAME").write_text("blog.example.org\n")
    out = publish(
        tmp_path,
        SITELOGO="images/favicon.png",
        THEME_TEMPLATES_OVERRIDES=[str(theme)],
        STATIC_PATHS=["images", "extra/CNAME"],
        EXTRA_PATH_METADATA={"extra/CNAME": {"path": "CNAME"}},
    )
    assert overrides.is_dir()
    assert (out / "images" / "favicon.png").is_file()
    assert (out / "images" / "logo.png").is_file()
    assert (out / "CNAME").read_text() == "blog.example.org\n"


def test_the_preview_lists_files_nobody_uses_once(tmp_path, caplog):
    site(tmp_path, {"open.md": PUBLIC.format(body="Text.")}, images=("spare.png",))
    with caplog.at_level(logging.WARNING):
        out = build(
            tmp_path / "out",
            content=tmp_path / "content",
            CACHE_PATH=str(tmp_path / "cache"),
            HEARTH_STATE_FILE=str(tmp_path / "hearth-state.json"),
        )
    lines = [r.getMessage() for r in caplog.records if "spare.png" in r.getMessage()]
    assert len(lines) == 1
    assert "publish build leaves them out" in lines[0]
    assert (out / "images" / "spare.png").is_file()  # the preview still has it


def settings(root, **override):
    return read_settings(
        str(ROOT / "pelicanconf.py"),
        override={
            "PATH": str(Path(root) / "content"),
            "OUTPUT_PATH": str(Path(root) / "out"),
            "CACHE_PATH": str(Path(root) / "cache"),
            "THEME": str(ROOT / "theme"),
            "PLUGIN_PATHS": [str(ROOT / "plugins")],
            "HEARTH_STATE_FILE": str(Path(root) / "hearth-state.json"),
            **override,
        },
    )


def test_each_autoreload_run_reports_its_own_warnings(tmp_path, caplog):
    site(
        tmp_path,
        {"p.md": PRIVATE.format(extra="Slug: heron-notes")},
        images=("private photo.png",),
    )
    pelican = Pelican(settings(tmp_path, CACHE_CONTENT=False))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with caplog.at_level(logging.WARNING):
            pelican.run()
            pelican.run()
    finally:
        os.chdir(cwd)
    slug_warnings = [r for r in caplog.records if "explicit slug" in r.getMessage()]
    assert len(slug_warnings) == 2


@pytest.mark.parametrize("layer", ["reader", "generator"])
def test_ten_cached_builds_equal_a_cold_one(tmp_path, layer):
    site(
        tmp_path / "cold",
        {
            "open.md": PUBLIC.format(body="![x]({static}/images/shared.png)"),
            "p.md": PRIVATE.format(extra=""),
            "d.md": DRAFT.format(status="draft") + "![y]({static}/images/d.png)\n",
        },
        images=("shared.png", "private photo.png", "d.png"),
    )
    cold = publish(tmp_path / "cold", CACHE_CONTENT=False, LOAD_CONTENT_CACHE=False)
    expected = {
        p.relative_to(cold): p.read_bytes() for p in cold.rglob("*") if p.is_file()
    }
    warm = tmp_path / "warm"
    (warm).mkdir()
    os.replace(tmp_path / "cold" / "content", warm / "content")
    os.replace(tmp_path / "cold" / "hearth-state.json", warm / "hearth-state.json")
    # The state key that names the private posts in the state file goes along.
    os.replace(tmp_path / "cold" / "secrets.toml", warm / "secrets.toml")
    # Hearth's own envelope cache (byte-identical envelopes), not Pelican's.
    (warm / "cache").mkdir()
    os.replace(tmp_path / "cold" / "cache" / "hearth", warm / "cache" / "hearth")
    for run in range(10):
        out = publish(
            warm,
            CACHE_CONTENT=True,
            LOAD_CONTENT_CACHE=True,
            CONTENT_CACHING_LAYER=layer,
        )
        got = {
            p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        changed = sorted(
            str(p) for p in set(got) | set(expected) if got.get(p) != expected.get(p)
        )
        assert changed == [], f"build {run + 1}"
    # Pelican's own cache holds what it read, private posts included.
    pelican_caches = [p for p in (warm / "cache").iterdir() if p.is_file()]
    assert pelican_caches
    for path in pelican_caches:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        if layer == "generator":
            # Pelican pickles the objects it read: Hearth's are stripped.
            assert b"heron body" not in gzip.decompress(path.read_bytes())
    for path in (warm / "cache" / "hearth").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
        if path.is_file():
            assert b"heron body" not in path.read_bytes()


def test_an_autoreload_run_lets_the_earlier_runs_renderings_go(tmp_path):
    # Pelican memoises renderings per object for the whole process; without
    # this every run of `invoke preview` would keep all earlier runs' text
    # and make each held post's cleanup walk it all.
    from pelican.contents import Content

    site(
        tmp_path,
        {"o.md": PUBLIC.format(body="Plain."), "p.md": PRIVATE.format(extra="")},
        ("private photo.png",),
    )
    with environ(**passphrase_env()):
        pelican = Pelican(settings(tmp_path))
        pelican.run()
        first = [k[0] for k in Content.get_content.cache]
        assert first  # the first run rendered its posts
        pelican.run()
    kept = {id(k[0]) for k in Content.get_content.cache}
    kept |= {id(k[0]) for k in Content.get_summary.cache}
    assert not kept & {id(c) for c in first}


def test_a_build_that_leaves_hearth_out_is_not_touched(tmp_path):
    # Pelican's signals are process-wide: Hearth's receivers stay connected
    # after a Hearth build, and must leave a later plain build alone.
    site(tmp_path / "a", {"p.md": PRIVATE.format(extra="")}, ("private photo.png",))
    publish(tmp_path / "a")
    site(tmp_path / "b", {"o.md": PUBLIC.format(body="Text.")}, images=("x.png",))
    plain = read_settings(
        None,
        override={
            "PATH": str(tmp_path / "b" / "content"),
            "OUTPUT_PATH": str(tmp_path / "b" / "out"),
            "CACHE_PATH": str(tmp_path / "b" / "cache"),
            "STATIC_PATHS": ["images"],
            "PLUGINS": [],
            "HEARTH_PUBLISH": True,
        },
    )
    Pelican(plain).run()
    out = tmp_path / "b" / "out"
    assert (out / "open-notes.html").is_file()
    # Pelican copies every static file; Hearth would leave this unused one out.
    assert (out / "images" / "x.png").is_file()
    assert not (tmp_path / "b" / "cache" / "hearth").exists()


def test_a_private_post_using_a_missing_file_stops_the_build(tmp_path):
    site(tmp_path, {"p.md": PRIVATE.format(extra="")}, images=())
    with pytest.raises(Exception, match=r"posts/p\.md uses images/private photo\.png"):
        publish(tmp_path)


def test_each_autoreload_run_reports_a_warning_typo(tmp_path, caplog):
    site(tmp_path, {"o.md": "Title: Open\nDate: 2026-05-01\nWarnings: anxeity\n\nx\n"})
    pelican = Pelican(settings(tmp_path, CACHE_CONTENT=False))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with caplog.at_level(logging.WARNING):
            pelican.run()
            pelican.run()
    finally:
        os.chdir(cwd)
    assert len([r for r in caplog.records if "'anxeity'" in r.getMessage()]) == 2


def test_a_locked_posts_translation_is_not_listed_twice(tmp_path):
    locked = (
        "Title: Heron private\nDate: 2026-05-03 10:00\nAudience: friends\n"
        "Listing: locked\nSlug: heron\n{lang}\nThe heron body.\n"
    )
    site(
        tmp_path,
        {"l.md": locked.format(lang=""), "l-fr.md": locked.format(lang="Lang: fr")},
        images=(),
    )
    out = publish(tmp_path)
    index = (out / "index.html").read_text()
    assert index.count('class="entry entry-locked"') == 1


def test_an_object_another_plugin_holds_ends_up_neutral(tmp_path):
    # A plugin may keep every object it meets on content_object_init, or
    # meet them in the lists on page_generator_finalized before Hearth takes
    # them off: whatever it holds says nothing private, and names no source.
    from pelican import signals

    seen = []

    def keep(content):
        seen.append(content)

    signals.content_object_init.connect(keep)
    try:
        site(
            tmp_path,
            {"p.md": PRIVATE.format(extra="Slug: heron-notes")},
            ("private photo.png",),
        )
        page = tmp_path / "content" / "pages" / "page.md"
        page.write_text("Title: Heron page\nAudience: friends\n\nThe heron page.\n")
        (tmp_path / "content" / "posts" / "d.md").write_text(
            DRAFT.format(status="draft").replace("Foxglove", "Heron")
        )
        publish(tmp_path)
    finally:
        signals.content_object_init.disconnect(keep)
    held = [c for c in seen if getattr(c, "hearth_quarantined", False)]
    assert len(held) == 3
    for content in held:
        shown = {
            k: v for k, v in vars(content).items() if k not in ("settings", "_context")
        }
        assert "heron" not in repr(shown).lower(), shown
        if content.date is not None:  # pages have none
            assert content.date.hour == content.date.minute == 0


def test_attach_links_move_public_files_and_seal_private_ones(tmp_path):
    content = site(
        tmp_path,
        {
            "p.md": PRIVATE.format(extra="").replace(
                "{static}/images/private%20photo.png", "{attach}heron.png"
            ),
            "o.md": PUBLIC.format(body="![y]({attach}open.png)"),
        },
        images=(),
    )
    (content / "posts" / "heron.png").write_bytes(png((1, 2, 3)))
    (content / "posts" / "open.png").write_bytes(png((4, 5, 6)))
    out = publish(tmp_path, STATIC_PATHS=["images", "posts"])
    # Beside the public post, as Pelican puts an {attach} file.
    assert (out / "2026" / "open-notes" / "open.png").is_file()
    assert (
        'src="/2026/open-notes/open.png"'
        in (out / "2026" / "open-notes" / "index.html").read_text()
    )
    assert [p.name for p in out.rglob("*.png")] == ["open.png"]
    assert len(list((out / "p" / "f").iterdir())) == 1
