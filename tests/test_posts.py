"""hearth.posts: reading every post's front-matter and starting new posts."""

import datetime as dt

import pytest
import yaml
from pelican.plugins.yaml_metadata.yaml_metadata import HEADER_RE
from pelican.settings import read_settings
from rich.console import Console

from hearth import posts
from tests.conftest import CONTENT, ROOT, build, copy_sample

AUDIENCES = {"friends": "Close friends", "family": "Family"}
NOW = dt.datetime(2026, 12, 3, 19, 45)


def site_settings(content, **override):
    """The sample site's settings, reading posts from content/posts."""
    return read_settings(
        str(ROOT / "pelicanconf.py"), override={"PATH": str(content), **override}
    )


def write_posts(content, files):
    for name, text in files.items():
        path = content / "posts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def front_matter(path):
    return yaml.safe_load(HEADER_RE.fullmatch(path.read_text())["metadata"])


def test_new_post_writes_yaml_front_matter_that_reads_back(tmp_path):
    path = posts.new_post(
        tmp_path,
        'Yes: "no", and #3',
        known_audiences=AUDIENCES,
        audience="friends, family",
        warnings="grief, anxiety",
        listing="locked",
        now=NOW,
    )
    assert path == tmp_path / "2026-12-03-yes-no-and-3.md"
    assert front_matter(path) == {
        "title": 'Yes: "no", and #3',
        "date": "2026-12-03 19:45",  # Pelican reads it; YAML leaves it a string
        "tags": [],
        "warnings": ["grief", "anxiety"],
        "audience": ["friends", "family"],
        "listing": "locked",
        "status": "draft",
    }


def test_new_post_defaults_to_a_public_draft_without_warnings(tmp_path):
    path = posts.new_post(tmp_path, "Plain", known_audiences=AUDIENCES, now=NOW)
    meta = front_matter(path)
    assert meta["audience"] == "public"
    assert meta["warnings"] == []
    assert meta["listing"] == "hidden"
    assert meta["status"] == "draft"


def test_new_post_refuses_to_overwrite_and_leaves_the_file_untouched(tmp_path):
    path = posts.new_post(tmp_path, "Same title", known_audiences=AUDIENCES, now=NOW)
    path.write_text("the writer's words\n")
    with pytest.raises(posts.NewPostError, match="already has the slug"):
        posts.new_post(tmp_path, "Same title", known_audiences=AUDIENCES, now=NOW)
    assert path.read_text() == "the writer's words\n"


def test_new_post_refuses_a_slug_an_older_post_already_has(tmp_path):
    older = tmp_path / "2025-01-01-same-title.md"
    older.write_text("Title: Same title\n\nOld words\n")
    with pytest.raises(posts.NewPostError, match=r"2025-01-01-same-title\.md"):
        posts.new_post(tmp_path, "Same Title!", known_audiences=AUDIENCES, now=NOW)
    assert older.read_text() == "Title: Same title\n\nOld words\n"
    assert list(tmp_path.iterdir()) == [older]


def test_new_post_slug_is_the_one_pelican_gives_the_title(tmp_path):
    path = posts.new_post(
        tmp_path, "  Café   au lait — again ", known_audiences=AUDIENCES, now=NOW
    )
    assert path.name == "2026-12-03-cafe-au-lait-again.md"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audience": "freinds"}, r"unknown audience 'freinds'.*family, friends"),
        ({"audience": "public, friends"}, "mixes 'public'"),
        ({"listing": "locked"}, "--listing only applies to a private post"),
        ({"audience": "friends", "listing": "shown"}, "use one of: hidden, locked"),
    ],
)
def test_new_post_refuses_bad_audience_or_listing_and_writes_nothing(
    tmp_path, kwargs, message
):
    with pytest.raises(ValueError, match=message):
        posts.new_post(tmp_path, "Title", known_audiences=AUDIENCES, now=NOW, **kwargs)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("title", ["", "   ", "!!!"])
def test_new_post_refuses_a_title_without_words(tmp_path, title):
    with pytest.raises(posts.NewPostError, match="title"):
        posts.new_post(tmp_path, title, known_audiences=AUDIENCES, now=NOW)
    assert not list(tmp_path.iterdir())


def test_a_new_post_builds_and_shows_in_the_preview(tmp_path):
    content = copy_sample(tmp_path / "content")
    posts.new_post(
        content / "posts",
        "Notes from the bus",
        known_audiences=AUDIENCES,
        warnings="crowds",
        now=NOW,
    )
    out = build(tmp_path / "out", content=content)
    assert (
        "Notes from the bus" in (out / "drafts" / "notes-from-the-bus.html").read_text()
    )


def test_list_posts_reads_both_header_styles_newest_first(tmp_path):
    write_posts(
        tmp_path,
        {
            "2026-01-02-yaml.md": "---\ntitle: From YAML\ndate: 2026-01-02 10:00\n"
            "audience: [friends]\nlisting: locked\nwarnings: [grief, anxiety]\n"
            "---\nBody\n",
            "2026-01-01-native.md": "Title: From Pelican\nDate: 2026-01-01 09:00\n"
            "Warnings: grief, anxiety\nStatus: draft\n\nBody\n",
            "2026-01-03-dateless.md": "Title: Date from name\n\nB\n",
            "notes.txt": "not a post",
        },
    )
    found = posts.list_posts(site_settings(tmp_path))
    assert [p.title for p in found] == ["Date from name", "From YAML", "From Pelican"]
    dateless, yaml_post, native = found
    assert dateless.date.replace(tzinfo=None) == dt.datetime(2026, 1, 3)
    assert yaml_post.audience == ("friends",)
    assert yaml_post.listing == "locked"
    assert yaml_post.is_private
    assert yaml_post.status == "published"
    assert native.warnings == yaml_post.warnings == ("grief", "anxiety")
    assert native.status == "draft"
    assert not native.is_private
    assert not any(p.error for p in found)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("---\ntitle: A\naudience: [friends\n---\nB\n", "front-matter is malformed"),
        ("---\n- a\n- b\n---\nB\n", "not a list of 'key: value' lines"),
        ("Title: A\nDate: 2026-01-01\nAudience: freinds\n\nB\n", "unknown audience"),
        ("Title: A\nDate: 2026-01-01\nListing: shown\n\nB\n", "listing 'shown'"),
        ("Title: A\nDate: yesterday-ish\n\nB\n", "is not a date"),
        ("Date: 2026-01-01\n\nB\n", "no 'title'"),
    ],
)
def test_list_posts_keeps_a_broken_post_as_an_error_row_naming_it(
    tmp_path, text, error
):
    write_posts(tmp_path, {"broken.md": text})
    (found,) = posts.list_posts(site_settings(tmp_path))
    assert error in found.error
    assert "broken.md" in found.error


def render(table):
    console = Console(record=True, width=200, color_system=None)
    console.print(table)
    return console.export_text()


def test_posts_table_marks_private_rows_and_counts_what_goes_public():
    found = posts.list_posts(site_settings(CONTENT))
    text = render(posts.posts_table(found))
    rows = {
        line.split("│")[2].strip(): line for line in text.splitlines() if "│" in line
    }
    assert "PRIVATE: friends (listed locked)" in rows["After the phone call"]
    assert "PRIVATE: friends, family (not listed)" in rows["A letter I didn't send"]
    assert "public" in rows["The kettle list"]
    assert "self-harm, suicidal thoughts" in rows["A bad week, written down"]
    assert "draft" in rows["Unfinished thoughts about rest"]
    assert (
        "10 posts: 7 public, 2 private (encrypted when published), "
        "1 draft (preview only), 0 hidden (preview only), 1 page."
        in " ".join(text.split())
    )


def test_new_post_without_an_audience_takes_the_default_audience(tmp_path):
    path = posts.new_post(
        tmp_path,
        "Quiet",
        known_audiences=AUDIENCES,
        now=NOW,
        default_audience="friends",
    )
    assert front_matter(path)["audience"] == ["friends"]
    # Asked for, public is still written out: the header says who may read it.
    path = posts.new_post(
        tmp_path,
        "Loud",
        known_audiences=AUDIENCES,
        now=NOW,
        default_audience="friends",
        audience="public",
    )
    assert front_matter(path)["audience"] == "public"


def test_a_new_post_reads_back_without_errors_or_warnings_in_a_publish_build(
    tmp_path,
):
    # The template must pass the strict reading it is checked with.
    posts.new_post(
        tmp_path / "posts",
        'A title: with "quotes"',
        known_audiences=AUDIENCES,
        audience="family",
        warnings="grief",
        listing="locked",
        now=NOW,
    )
    (found,) = posts.list_posts(
        site_settings(tmp_path, HEARTH_PUBLISH=True, DEFAULT_METADATA={})
    )
    assert not found.error and not found.notes
    assert found.title == 'A title: with "quotes"'
    assert (found.status, found.audience, found.listing) == (
        "draft",
        ("family",),
        "locked",
    )


def test_new_post_refuses_a_slug_a_post_elsewhere_in_the_site_has(tmp_path):
    # read_site knows slugs Pelican takes from `slug:` and from other folders.
    write_posts(
        tmp_path,
        {"old/notes.md": "Title: Else\nSlug: bus-notes\nDate: 2025-01-01\n\nB\n"},
    )
    found = posts.list_posts(site_settings(tmp_path))
    with pytest.raises(posts.NewPostError, match=r"notes\.md already has the slug"):
        posts.new_post(
            tmp_path / "posts", "Bus notes", known_audiences=AUDIENCES, readings=found
        )
    assert not list((tmp_path / "posts").glob("*bus-notes*"))


def unlock_site(tmp_path):
    write_posts(
        tmp_path,
        {
            "open.md": "Title: Open\nDate: 2026-01-01\n\nB\n",
            "family.md": "Title: Fam\nDate: 2026-01-01\nAudience: family\n\nB\n",
        },
    )
    return posts.list_posts(site_settings(tmp_path))


def test_unlock_target_refuses_a_post_the_audience_cannot_open(tmp_path):
    found = unlock_site(tmp_path)
    ids = {"posts/family.md": "0123456789abcdef"}
    family = str(tmp_path / "posts" / "family.md")
    with pytest.raises(posts.LinkTargetError, match="for family, not 'friends'"):
        posts.unlock_target(found, ids, "friends", family)
    with pytest.raises(posts.LinkTargetError, match="for family, not 'friends'"):
        posts.unlock_target(found, ids, "friends", "/p/0123456789abcdef/")
    with pytest.raises(posts.LinkTargetError, match="is public: it needs no link"):
        posts.unlock_target(found, ids, "friends", str(tmp_path / "posts" / "open.md"))
    with pytest.raises(posts.LinkTargetError, match="no address yet"):
        posts.unlock_target(found, {}, "family", family)
    assert posts.unlock_target(found, ids, "family", family) == "/p/0123456789abcdef/"
    # An id the state file does not know (an audience's list page) passes.
    assert posts.unlock_target(found, ids, "friends", "/p/fedcba/") == "/p/fedcba/"


def test_posts_table_shows_warnings_as_the_build_resolves_them(tmp_path):
    # A writer who types an alias sees the label readers' choices match on,
    # and a repeat (alias and label both) once.
    write_posts(
        tmp_path,
        {
            "a.md": "Title: A\nDate: 2026-01-02\nWarnings: sh, self-harm, Grief\n\nB\n",
        },
    )
    (found,) = posts.list_posts(site_settings(tmp_path))
    assert found.warnings == ("self-harm", "grief")


# --- addresses, counts, unknown labels, what a publish leaves out ---


def sample_rows(post_ids=None):
    settings = site_settings(CONTENT)
    found = posts.list_posts(settings)
    return settings, found, {p.title: p for p in found}


def test_address_is_the_public_url_the_private_id_or_the_drafts_preview():
    settings, _found, by_title = sample_rows()
    phone = by_title["After the phone call"]
    ids = {phone.relative_path: "0123456789abcdef"}
    assert posts.address(by_title["The kettle list"], settings, ids) == (
        "/2026/the-kettle-list/"
    )
    assert posts.address(phone, settings, ids) == "/p/0123456789abcdef/"
    letter = by_title["A letter I didn't send"]
    assert "after the next build" in posts.address(letter, settings, ids)
    draft = by_title["Unfinished thoughts about rest"]
    assert posts.address(draft, settings, ids) == (
        "/drafts/unfinished-thoughts-about-rest.html"
    )
    assert posts.address(by_title["About"], settings, ids) == "/about/"


def test_the_table_shows_addresses_and_counts_every_status(tmp_path):
    write_posts(
        tmp_path,
        {
            "a.md": "---\ntitle: Out\ndate: 2026-01-01\n---\nx\n",
            "b.md": "---\ntitle: Held\ndate: 2026-01-02\nstatus: hidden\n---\nx\n",
            "c.md": "---\ntitle: Later\ndate: 2026-01-03\nstatus: draft\n---\nx\n",
        },
    )
    settings = site_settings(tmp_path)
    found = posts.list_posts(settings)
    text = render(posts.posts_table(found, settings, {}))
    assert "/2026/out/" in text
    assert "/drafts/later.html" in text
    assert "/2026/held/" in text
    assert (
        "3 posts: 1 public, 0 private (encrypted when published), 1 draft "
        "(preview only), 1 hidden (preview only)." in " ".join(text.split())
    )


def test_unknown_warning_labels_are_named_with_the_nearest_label(tmp_path):
    write_posts(
        tmp_path,
        {
            "a.md": "---\ntitle: A\ndate: 2026-01-01\nwarnings: [grif, sh]\n---\nx\n",
            "b.md": "---\ntitle: B\ndate: 2026-01-02\nwarnings: [grief]\n---\nx\n",
        },
    )
    settings = site_settings(tmp_path)
    lines = posts.unknown_labels(
        posts.list_posts(settings),
        settings["HEARTH_WARNINGS"],
        settings["HEARTH_WARNING_ALIASES"],
    )
    assert len(lines) == 1  # `sh` is an alias of self-harm, `grief` is known
    assert "a.md: the warning label 'grif' is not in the vocabulary" in lines[0]
    assert "Did you mean 'grief'?" in lines[0]
    assert "HEARTH_WARNINGS" in lines[0]


def test_what_a_publish_leaves_out_is_named():
    _settings, found, _ = sample_rows()
    line = posts.left_out(found)
    assert line.startswith("Left out of what goes public (preview only): ")
    assert "content/posts/2026-11-20-unfinished.md (draft)" in line
    published = [p for p in found if p.status == "published"]
    assert posts.left_out(published) is None
