"""Private posts: encrypted at build, and absent from every public surface."""

import base64
import io
import json
import logging
import re
import shutil
import threading
from pathlib import Path

import pytest
from PIL import Image

from hearth import envelope
from hearth.state import State
from tests.conftest import (
    ROOT,
    TEST_PASSPHRASES,
    build,
    environ,
    kept_log_limits,
    passphrase_env,
)

# Every Pelican output that could carry a post: each feed kind, every archive,
# copied sources. Private posts must reach none of them.
EVERY_OUTPUT = {
    "FEED_ATOM": "feeds/atom.xml",
    "FEED_RSS": "feeds/rss.xml",
    "FEED_ALL_ATOM": "feeds/all.atom.xml",
    "FEED_ALL_RSS": "feeds/all.rss.xml",
    "CATEGORY_FEED_ATOM": "feeds/{slug}.atom.xml",
    "CATEGORY_FEED_RSS": "feeds/{slug}.rss.xml",
    "TAG_FEED_ATOM": "feeds/tag.{slug}.atom.xml",
    "TAG_FEED_RSS": "feeds/tag.{slug}.rss.xml",
    "AUTHOR_FEED_ATOM": "feeds/author.{slug}.atom.xml",
    "AUTHOR_FEED_RSS": "feeds/author.{slug}.rss.xml",
    "TRANSLATION_FEED_ATOM": "feeds/all-{lang}.atom.xml",
    "TRANSLATION_FEED_RSS": "feeds/all-{lang}.rss.xml",
    "OUTPUT_SOURCES": True,
    "DAY_ARCHIVE_SAVE_AS": "{date:%Y}/{date:%m}/{date:%d}/index.html",
}

# One unique token per private field; none may appear in any output byte.
TOKENS = {
    "title": "Quokkatitle",
    "summary": "Xylosummary",
    "body": "Marmabody",
    "tag": "Wombattag",
    "category": "Quincecategory",
    "warning": "Ocelotwarning",
    "image name": "narwhal-image",
    "alt text": "Pangolinalt",
    "locked title": "Lemurtitle",
    "locked body": "Tapirbody",
    "page title": "Okapititle",
    "page body": "Dugongbody",
}

HIDDEN_POST = f"""---
title: {TOKENS["title"]} and more
date: 2026-03-02 10:00
category: {TOKENS["category"]}
tags: [{TOKENS["tag"]}, shared]
warnings: [{TOKENS["warning"]}]
audience: friends
summary: {TOKENS["summary"]} of the hidden post.
---

The {TOKENS["body"]} paragraph of a post for friends.

![{TOKENS["alt text"]}]({{static}}/images/{TOKENS["image name"]}.png)

![A picture everyone may see]({{static}}/images/shared.png)
"""

LOCKED_POST = f"""Title: {TOKENS["locked title"]}
Date: 2026-03-03 10:00
Category: Notes
Tags: shared
Audience: family
Listing: locked

The {TOKENS["locked body"]} paragraph of a locked post.
"""

PUBLIC_POST = """Title: A public post
Date: 2026-03-01 10:00
Category: Notes
Tags: shared

Everyone may read this. ![Shared](/images/shared.png)
"""

PRIVATE_PAGE = f"""Title: {TOKENS["page title"]}
Audience: friends

The {TOKENS["page body"]} of a private page.
"""


@pytest.fixture(autouse=True, scope="module")
def isolated_log_limits():
    """Keep Pelican's process-wide log limits as other test modules find them.

    Pelican drops repeated messages and caps each limit_msg group for the
    whole process; these builds log many, which must not silence warnings
    that later tests (in other modules) wait for.
    """
    with kept_log_limits():
        yield


def png(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def make_site(root, posts=None, pages=None):
    """A small site under root/content; its state file is root/hearth-state.json."""
    content = Path(root) / "content"
    for folder in ("posts", "pages", "images"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    posts = posts or {
        "hidden.md": HIDDEN_POST,
        "locked.md": LOCKED_POST,
        "public.md": PUBLIC_POST,
    }
    for name, text in posts.items():
        (content / "posts" / name).write_text(text)
    for name, text in (pages or {"private.md": PRIVATE_PAGE}).items():
        (content / "pages" / name).write_text(text)
    (content / "images" / f"{TOKENS['image name']}.png").write_bytes(png("red"))
    (content / "images" / "shared.png").write_bytes(png("blue"))
    return content


def build_site(root, out="out", settings="pelicanconf.py", **override):
    root = Path(root)
    return build(
        root / out,
        settings,
        content=root / "content",
        CACHE_PATH=str(root / "cache"),
        **override,
    )


def files(output):
    return sorted(p for p in output.rglob("*") if p.is_file())


def envelope_of(page):
    match = re.search(
        r'<script type="application/json" id="hearth-envelope">(.*?)</script>',
        page.read_text(),
        re.S,
    )
    assert match, f"{page} has no envelope"
    return match.group(1)


def open_envelope(output, url, audience, state_file, passphrase=None):
    """Decrypt a built private page's payload as a reader would."""
    salt, iterations = State.load(state_file).audience(
        audience, envelope.ITERATION_FLOOR
    )
    key = envelope.derive_key(
        passphrase or TEST_PASSPHRASES[audience], salt, iterations
    )
    text = envelope_of(output / url / "index.html")
    return json.loads(envelope.decrypt(text, "/" + url, key, audience))


def private_urls(root):
    """{source path: "p/<id>/"} of the site's private posts (the state file
    names them by keyed tag only, so every content file is asked about)."""
    content = Path(root) / "content"
    sources = [p.relative_to(content).as_posix() for p in content.rglob("*.*")]
    ids = State.load(Path(root) / "hearth-state.json").post_ids(sources)
    return {source: f"p/{pid}/" for source, pid in ids.items()}


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    """The canary site, built for publishing with every output turned on."""
    root = tmp_path_factory.mktemp("canary")
    make_site(root)
    with environ(**passphrase_env()):
        output = build_site(root, settings="publishconf.py", **EVERY_OUTPUT)
    return root, output


def test_no_private_token_reaches_any_output_byte_or_file_name(canary):
    _, output = canary
    for path in files(output):
        data = path.read_bytes().lower()
        name = str(path.relative_to(output)).lower()
        for field, token in TOKENS.items():
            assert token.lower().encode() not in data, f"{field} leaked into {path}"
            assert token.lower() not in name, f"{field} leaked into the name {path}"


def test_the_envelope_holds_the_whole_post_for_its_audience(canary):
    root, output = canary
    url = private_urls(root)["posts/hidden.md"]
    payload = open_envelope(output, url, "friends", root / "hearth-state.json")
    assert payload["title"] == f"{TOKENS['title']} and more"
    assert TOKENS["body"] in payload["content"]
    assert TOKENS["summary"] in payload["summary"]
    assert payload["tags"] == [TOKENS["tag"], "shared"]
    assert payload["category"] == TOKENS["category"]
    assert payload["warnings"][0]["label"] == TOKENS["warning"]


def test_a_private_only_image_is_encrypted_under_an_opaque_name(canary):
    root, output = canary
    url = private_urls(root)["posts/hidden.md"]
    payload = open_envelope(output, url, "friends", root / "hearth-state.json")
    [(address, meta)] = payload["attachments"].items()
    assert re.fullmatch(r"/p/f/[0-9a-f]{16}", address)
    assert f'src="{address}"' in payload["content"]
    blob = (output / address.lstrip("/")).read_bytes()
    original = png("red")
    assert original not in blob
    key = base64.urlsafe_b64decode(meta["key"] + "==")
    assert envelope.decrypt_attachment(blob, address, key) == original
    assert meta["type"] == "image/png"
    assert not list(output.rglob(f"{TOKENS['image name']}*"))


def test_an_image_that_a_public_post_also_uses_stays_public(canary):
    root, output = canary
    assert (output / "images" / "shared.png").read_bytes() == png("blue")
    payload = open_envelope(
        output,
        private_urls(root)["posts/hidden.md"],
        "friends",
        root / "hearth-state.json",
    )
    assert "/images/shared.png" in payload["content"]


def test_private_posts_have_opaque_urls_from_the_state_file(canary):
    root, output = canary
    urls = private_urls(root)
    assert set(urls) == {"posts/hidden.md", "posts/locked.md", "pages/private.md"}
    for url in urls.values():
        assert re.fullmatch(r"p/[0-9a-f]{16}/", url)
        assert (output / url / "index.html").is_file()


def test_a_tag_or_category_used_only_by_private_posts_makes_no_page(canary):
    _, output = canary
    assert (output / "tag" / "shared.html").is_file()
    names = [str(p.relative_to(output)).lower() for p in files(output)]
    assert not [n for n in names if "wombattag" in n or "quincecategory" in n]
    assert "Wombattag" not in (output / "tags.html").read_text()


def test_feeds_of_every_kind_carry_no_private_entry(canary):
    _, output = canary
    feeds = [p for p in files(output) if p.suffix == ".xml"]
    assert len(feeds) >= 8
    for feed in feeds:
        text = feed.read_text()
        assert "/p/" not in text, feed
        assert "A post for" not in text, feed
    assert "A public post" in (output / "feeds" / "all.rss.xml").read_text()


def test_listing_locked_shows_a_neutral_entry_and_hidden_shows_nothing(canary):
    root, output = canary
    urls = private_urls(root)
    locked, hidden = urls["posts/locked.md"], urls["posts/hidden.md"]
    index = (output / "index.html").read_text()
    archives = (output / "archives.html").read_text()
    for page in (index, archives, (output / "2026" / "index.html").read_text()):
        assert f'href="/{locked}"' in page
        assert "A post for Family" in page
        assert hidden not in page
        assert "A post for Close friends" not in page
    entry = re.search(r'<article class="entry entry-locked".*?</article>', index, re.S)
    assert entry and "<time" in entry.group(0) and "entry-summary" not in entry.group(0)
    for path in files(output):
        if path.suffix in (".html", ".xml") and path != output / hidden / "index.html":
            assert hidden not in path.read_text(), (
                f"the hidden post is listed in {path}"
            )


def test_each_audience_gets_an_encrypted_list_of_its_posts(canary):
    root, output = canary
    state = State.load(root / "hearth-state.json")
    urls = private_urls(root)
    listed = {}
    for audience in ("friends", "family"):
        address = f"/p/i/{state.index_id(audience)}"
        text = (output / address.lstrip("/")).read_text()
        salt, iterations = state.known_audience(audience)
        key = envelope.derive_key(TEST_PASSPHRASES[audience], salt, iterations)
        payload = json.loads(envelope.decrypt(text, address, key, audience))
        listed[audience] = {e["url"]: e["title"] for e in payload["entries"]}
        # Only an audience with a `listing: locked` post is on public pages
        # (named, with its list); one with only hidden posts (friends) is on
        # none, not even by the opaque address of its list, whose envelope
        # would name it.
        index = (output / "index.html").read_text()
        named = f'"audience": "{audience}", "url": "{address}"' in index
        assert named == (audience == "family")
        if audience == "friends":
            for path in files(output):
                if path.suffix in (".html", ".xml", ".json", ".txt"):
                    assert address not in path.read_text(), path
    # Posts only (pages are not listed), each in its own audience's list.
    assert listed["friends"] == {
        "/" + urls["posts/hidden.md"]: f"{TOKENS['title']} and more"
    }
    assert listed["family"] == {"/" + urls["posts/locked.md"]: TOKENS["locked title"]}
    assert "hearth-indexes" in (output / "archives.html").read_text()
    assert "hearth-indexes" not in (output / "tag" / "shared.html").read_text()
    # The audience with only hidden posts is named on no public page.
    for page in output.rglob("*.html"):
        if page.parent.parent.name != "p":
            text = page.read_text()
            assert '"audience": "friends"' not in text, page
            assert "Close friends" not in text, page


def test_private_pages_are_not_in_the_navigation_and_carry_noindex(canary):
    root, output = canary
    urls = private_urls(root)
    assert urls["pages/private.md"] not in (output / "index.html").read_text()
    for url in urls.values():
        page = (output / url / "index.html").read_text()
        assert '<meta name="robots" content="noindex, nofollow">' in page
        assert 'id="hearth-envelope"' in page
        assert "<noscript>" in page and "needs JavaScript" in page
    assert '<meta name="robots"' not in (output / "index.html").read_text()


def test_copied_sources_leave_out_private_posts(canary):
    _, output = canary
    sources = [p for p in files(output) if p.suffix == ".text"]
    # OUTPUT_SOURCES is on: the public post's source is copied, and only it.
    assert [str(p.relative_to(output)) for p in sources] == [
        "2026/a-public-post/index.text"
    ]


def test_each_audience_key_is_derived_once_per_build(tmp_path, monkeypatch):
    calls = []
    real = envelope.derive_key

    def counting(passphrase, salt, iterations):
        calls.append(iterations)
        return real(passphrase, salt, iterations)

    monkeypatch.setattr(envelope, "derive_key", counting)
    posts = {
        f"p{i}.md": LOCKED_POST.replace("family", "friends").replace(
            "2026-03-03", f"2026-03-0{i + 1}"
        )
        for i in range(4)
    }
    posts["family.md"] = LOCKED_POST
    make_site(tmp_path, posts=posts)
    build_site(tmp_path)
    # friends (4 posts and a page) and family (1 post): two audiences used.
    assert len(calls) == 2


def test_known_audiences_are_derived_in_threads_while_content_is_read(
    tmp_path, monkeypatch
):
    make_site(tmp_path)
    build_site(tmp_path, "out1")  # writes the salts into the state file
    # Without the cache of derived keys (tests/test_keycache.py), which
    # would leave nothing to derive.
    (tmp_path / "cache" / "hearth" / "keys" / "derived.json").unlink()
    threads = []
    real = envelope.derive_key

    def counting(passphrase, salt, iterations):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(passphrase, salt, iterations)

    monkeypatch.setattr(envelope, "derive_key", counting)
    build_site(tmp_path, "out2")
    # Still once per audience, but away from the main thread: started before
    # the content was read, and used because nothing changed since.
    assert threads and not any(threads)
    assert private_urls(tmp_path)


def test_urls_stay_put_and_unchanged_posts_come_out_byte_identical(tmp_path):
    content = make_site(tmp_path)
    first = build_site(tmp_path, "out1")
    urls = private_urls(tmp_path)
    second = build_site(tmp_path, "out2")
    assert private_urls(tmp_path) == urls
    for url in urls.values():
        assert (first / url / "index.html").read_bytes() == (
            second / url / "index.html"
        ).read_bytes()
    for blob in (first / "p" / "f").iterdir():
        assert blob.read_bytes() == (second / "p" / "f" / blob.name).read_bytes()

    locked = content / "posts" / "locked.md"
    locked.write_text(locked.read_text() + "\nOne more line.\n")
    third = build_site(tmp_path, "out3")
    assert private_urls(tmp_path) == urls
    changed, same = urls["posts/locked.md"], urls["posts/hidden.md"]
    assert (third / changed / "index.html").read_bytes() != (
        second / changed / "index.html"
    ).read_bytes()
    assert (third / same / "index.html").read_bytes() == (
        second / same / "index.html"
    ).read_bytes()


def test_the_preview_warns_about_demo_passphrases_at_every_build(tmp_path, caplog):
    make_site(tmp_path)
    with caplog.at_level(logging.WARNING):
        build_site(tmp_path, "out1")
        build_site(tmp_path, "out2")
    demo = [r for r in caplog.records if "PREVIEW ONLY" in r.getMessage()]
    assert len(demo) == 4  # two audiences, two builds


def test_an_explicit_slug_is_honoured_with_a_warning(tmp_path, caplog):
    posts = {
        "slugged.md": LOCKED_POST.replace("Listing: locked", "Slug: kept-on-purpose")
    }
    make_site(tmp_path, posts=posts, pages={})
    with caplog.at_level(logging.WARNING):
        output = build_site(tmp_path)
    assert (output / "p" / "kept-on-purpose" / "index.html").is_file()
    assert "explicit slug" in caplog.text and "Remove 'slug:'" in caplog.text


def test_show_private_titles_puts_only_the_title_in_the_clear(tmp_path):
    make_site(tmp_path)
    output = build_site(tmp_path, HEARTH_SHOW_PRIVATE_TITLES=True)
    page = (
        output / private_urls(tmp_path)["posts/locked.md"] / "index.html"
    ).read_text()
    assert TOKENS["locked title"] in page
    assert TOKENS["locked body"] not in page


# --- fail closed: each case stops the build with a message, writing nothing ---


def assert_nothing_written(root):
    out = Path(root) / "out"
    assert not (out.exists() and files(out)), files(out)
    assert not (Path(root) / "hearth-state.json").exists()


@pytest.mark.parametrize(
    ("env", "match"),
    [
        (
            {"HEARTH_PASSPHRASE_FAMILY": TEST_PASSPHRASES["family"]},
            (
                r"No passphrase for audience 'friends': "
                r"set HEARTH_PASSPHRASE_FRIENDS or add"
            ),
        ),
        (
            {**passphrase_env(), "HEARTH_PASSPHRASE_FAMILY": ""},
            (
                r"audience 'family' in HEARTH_PASSPHRASE_FAMILY is empty\. "
                r"Set HEARTH_PASSPHRASE_FAMILY"
            ),
        ),
        (
            {**passphrase_env(), "HEARTH_PASSPHRASE_FRIENDS": "hearth-demo-friends"},
            r"public demo passphrase.*Set HEARTH_PASSPHRASE_FRIENDS",
        ),
    ],
    ids=["missing", "empty", "demo"],
)
def test_a_publish_build_without_a_real_passphrase_stops_before_writing(
    tmp_path, monkeypatch, env, match
):
    monkeypatch.delenv("HEARTH_PASSPHRASE_FRIENDS", raising=False)
    monkeypatch.delenv("HEARTH_PASSPHRASE_FAMILY", raising=False)
    monkeypatch.setenv("HEARTH_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    make_site(tmp_path)
    with environ(**env), pytest.raises(Exception, match=match):
        build_site(tmp_path, settings="publishconf.py")
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        (
            {"HEARTH_PBKDF2_ITERATIONS": 100_000},
            (
                r"HEARTH_PBKDF2_ITERATIONS is 100000, below the floor of 600000"
                r".*Set it to 600000 or more"
            ),
        ),
        (
            {"HEARTH_SHOW_PRIVATE_TITLES": "no"},
            r"HEARTH_SHOW_PRIVATE_TITLES is 'no': set it to True or False",
        ),
        (
            {"HEARTH_PASSPHRASE_FRIENDS": "in the settings"},
            (
                r"HEARTH_PASSPHRASE_FRIENDS is a Pelican setting"
                r".*Remove it from the settings file"
            ),
        ),
        (
            {"HEARTH_AUDIENCES": {"friends": ""}},
            (
                r"audience 'friends' needs a label the reader sees"
                r".*Fix it in pelicanconf\.py"
            ),
        ),
    ],
    ids=["iterations", "show-titles", "passphrase-setting", "audience-label"],
)
def test_a_setting_about_who_may_read_what_stops_the_build(tmp_path, override, match):
    make_site(tmp_path)
    with pytest.raises(Exception, match=match):
        build_site(tmp_path, **override)
    assert_nothing_written(tmp_path)


def test_a_malformed_audience_value_stops_the_build(tmp_path):
    posts = {
        "bad.md": HIDDEN_POST.replace("audience: friends", "audience: {friends: 1}")
    }
    make_site(tmp_path, posts=posts, pages={})
    with pytest.raises(
        Exception,
        match=r"bad\.md, line 7: 'audience' must be 'public' or audience names",
    ):
        build_site(tmp_path)
    assert_nothing_written(tmp_path)


def test_a_broken_state_file_stops_the_build_with_the_fix(tmp_path):
    make_site(tmp_path)
    (tmp_path / "hearth-state.json").write_text("{")
    with pytest.raises(
        Exception, match=r"not valid JSON.*git checkout -- hearth-state\.json"
    ):
        build_site(tmp_path)
    assert not (tmp_path / "out").exists() or not files(tmp_path / "out")


# --- the sample site ---


SAMPLE_PRIVATE_PHRASES = [
    "After the phone call",
    "sat on the kitchen floor",
    "What happened when a session ended early",
    "A letter I didn",
    "Thank you for coming on the Tuesday",
    "Something I wrote for my family",
    "letter-on-the-table",
    "The unsent letter",
    # The sample post's warning labels (therapy rupture, abandonment) are in
    # the public vocabulary, listed on the preferences page by design.
]


@pytest.mark.parametrize("which", ["sample_publish", "sample_preview"])
def test_the_sample_sites_private_posts_are_ciphertext(request, which):
    output = request.getfixturevalue(which)
    for path in files(output):
        data = path.read_bytes()
        for phrase in SAMPLE_PRIVATE_PHRASES:
            assert phrase.encode() not in data, f"{phrase!r} in {path}"
    state = State.load(ROOT / "hearth-state.json")
    sources = [
        "posts/2026-09-21-after-the-phone-call.md",
        "posts/2026-10-18-letter-home.md",
    ]
    for post_id in state.post_ids(sources).values():
        assert (output / "p" / post_id / "index.html").is_file()
    assert len(state.post_ids(sources)) == 2
    image = state.attachment_id("images/letter-on-the-table.jpg")
    assert (output / "p" / "f" / image).is_file()


def test_the_committed_state_file_covers_the_sample_site(tmp_path):
    """A fresh clone's preview build must not need to change the state file."""
    before = (ROOT / "hearth-state.json").read_text()
    copy = tmp_path / "site"
    shutil.copytree(ROOT / "content", copy / "content")
    shutil.copy(ROOT / "hearth-state.json", copy / "hearth-state.json")
    build_site(copy)
    assert (copy / "hearth-state.json").read_text() == before


def test_a_private_draft_is_encrypted_in_the_preview_and_absent_from_publish(
    tmp_path,
):
    draft = LOCKED_POST.replace("Listing: locked", "Status: draft").replace(
        TOKENS["locked body"], "Gibbondraft"
    )
    make_site(tmp_path, posts={"draft.md": draft}, pages={})
    preview = build_site(tmp_path, "preview")
    draft_id = State.load(tmp_path / "hearth-state.json").post_id("posts/draft.md")
    page = preview / "p" / draft_id / "index.html"
    assert 'id="hearth-envelope"' in page.read_text()
    assert "Draft — only in the preview" in page.read_text()
    for path in files(preview):
        data = path.read_bytes()
        assert (
            b"Gibbondraft" not in data and TOKENS["locked title"].encode() not in data
        )
    with environ(**passphrase_env()):
        public = build_site(tmp_path, "public", settings="publishconf.py")
    assert not [p for p in files(public) if draft_id in str(p) or "drafts" in str(p)]
