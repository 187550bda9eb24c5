"""Content warnings at build time: post pages, lists, feeds, meta, settings."""

import html
import json
import logging
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from pelican import signals
from pelican.settings import read_settings

from hearth import envelope, warnings
from hearth.state import State
from plugins.hearth_warnings import hearth_warnings
from tests.conftest import ROOT, build, environ, passphrase_env

ATOM = "{http://www.w3.org/2005/Atom}"
BAD_WEEK = "2026/a-bad-week-written-down/index.html"
BAD_WEEK_TEXT = "This week was hard."
BAD_WEEK_SUMMARY = "A week when things got dark, and how I got through it."
BAD_WEEK_NOTE = "Written in the middle of a bad week; it ends somewhere steadier."
FOGGY = "2026/foggy-days/index.html"
PASSAGE_TEXT = "The worst foggy day I remember was on a ward"
SUMMER = "2026/the-summer-i-dont-describe/index.html"
WAITING_ROOM_SUMMARY = "An afternoon in a clinic waiting room"


class Elements(HTMLParser):
    """Collects the text inside every element matching a tag and class ("": any)."""

    def __init__(self, tag, cls):
        super().__init__()
        self.tag, self.cls = tag, cls
        self.found, self._depth, self._buffer = [], 0, []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._depth:
            self._depth += tag == self.tag
        elif tag == self.tag and (not self.cls or self.cls in classes):
            self._depth, self._buffer = 1, []

    def handle_endtag(self, tag):
        if self._depth and tag == self.tag:
            self._depth -= 1
            if not self._depth:
                self.found.append(" ".join("".join(self._buffer).split()))

    def handle_data(self, data):
        if self._depth:
            self._buffer.append(data)


def texts(path_or_text, tag, cls):
    """The whitespace-normalised text of each <tag class="cls"> element."""
    text = path_or_text if isinstance(path_or_text, str) else path_or_text.read_text()
    parser = Elements(tag, cls)
    parser.feed(text)
    return parser.found


def meta(path, attribute, name):
    match = re.search(
        rf'<meta {attribute}="{name}" content="([^"]*)">', path.read_text()
    )
    return html.unescape(match.group(1)) if match else None


def write_site(root, posts, pages=()):
    """A small site: posts and pages as (file name, text) pairs."""
    content = root / "content"
    (content / "posts").mkdir(parents=True)
    (content / "pages").mkdir()
    for name, text in posts:
        (content / "posts" / name).write_text(text)
    for name, text in pages:
        (content / "pages" / name).write_text(text)
    return content


def collect_content():
    """Connect a receiver that records every article and page by title."""
    seen = {}

    def receiver(generator):
        for name in ("articles", "pages", "drafts", "hidden_pages"):
            for content in getattr(generator, name, []):
                seen[content.title] = content

    signals.article_generator_finalized.connect(receiver)
    signals.page_generator_finalized.connect(receiver)
    return seen, receiver


def disconnect(receiver):
    signals.article_generator_finalized.disconnect(receiver)
    signals.page_generator_finalized.disconnect(receiver)


# The sample site


def test_post_page_lists_labels_with_descriptions(sample_publish):
    page = sample_publish / BAD_WEEK
    (panel,) = texts(page, "section", "cw-panel")
    assert "self-harm — Hurting oneself, or thoughts of it." in panel
    assert "suicidal thoughts — Thoughts of suicide" in panel
    assert texts(page, "summary", "cw-show") == ["Show the post"]
    assert "Go back to the home page" in texts(page, "p", "cw-back")[0]


def test_post_text_is_only_inside_the_closed_gate(sample_publish):
    text = (sample_publish / BAD_WEEK).read_text()
    (gated,) = texts(text, "details", "cw-details")
    assert BAD_WEEK_TEXT in gated
    assert text.count(BAD_WEEK_TEXT) == 1
    # Closed by default: "open" would show the text before the reader chose.
    assert '<details class="cw-details">' in text
    assert '<details class="cw-details" open' not in text


def test_unwarned_post_has_no_gate(sample_publish):
    text = (sample_publish / "2026/the-kettle-list/index.html").read_text()
    assert "cw-gate" not in text
    assert "When everything is too big" in texts(text, "div", "entry-content")[0]


@pytest.mark.parametrize(
    "listing",
    [
        "index.html",
        "tag/therapy.html",
        "category/therapy.html",
        "author/robin.html",
    ],
)
def test_lists_show_labels_and_keep_the_summary_behind_the_gate(
    sample_publish, listing
):
    text = (sample_publish / listing).read_text()
    assert "The waiting room" in text
    lines = texts(text, "p", "cw-line")
    assert "Content warning: medical settings, anxiety" in lines
    gated = texts(text, "details", "cw-details")
    assert any(WAITING_ROOM_SUMMARY in g for g in gated)
    assert text.count(WAITING_ROOM_SUMMARY) == 1


@pytest.mark.parametrize("listing", ["archives.html", "2026/index.html"])
def test_archives_show_the_labels_beside_the_title(sample_publish, listing):
    tags = texts(sample_publish / listing, "span", "cw-tag")
    assert "Content warning: self-harm, suicidal thoughts" in tags
    assert "Content warning: medical settings, anxiety" in tags


def test_feed_entries_of_warned_posts_carry_the_warnings_and_a_link_not_the_text(
    sample_publish,
):
    feed_text = (sample_publish / "feeds/all.atom.xml").read_text()
    feed = ET.fromstring(feed_text)
    entries = {e.findtext(f"{ATOM}title"): e for e in feed.iter(f"{ATOM}entry")}
    entry = entries["A bad week, written down"]
    lines = (
        f"<p>{BAD_WEEK_NOTE}</p><p>Content warning: self-harm, suicidal thoughts.</p>"
    )
    content = entry.findtext(f"{ATOM}content")
    assert content.startswith(lines)
    assert '<a href="https://blog.example/2026/a-bad-week-written-down/">' in content
    assert entry.findtext(f"{ATOM}summary") == lines
    # Feed readers show <content> at once: the text is nowhere in the feed.
    for text in (BAD_WEEK_TEXT, "Samaritans", BAD_WEEK_SUMMARY, WAITING_ROOM_SUMMARY):
        assert text not in feed_text
    summer = entries["The summer I don't describe"].findtext(f"{ATOM}content")
    assert summer.startswith(
        "<p>The writer has chosen not to list warnings for this post.</p>"
    )
    assert "mostly indoors" not in feed_text
    kettle = entries["The kettle list"]
    assert "Content warning" not in kettle.findtext(f"{ATOM}content")
    assert "Ten things I can do" in kettle.findtext(f"{ATOM}summary")


def test_a_passage_with_its_own_warning_is_only_its_warning_in_feeds(sample_publish):
    feed_text = (sample_publish / "feeds/all.atom.xml").read_text()
    feed = ET.fromstring(feed_text)
    entries = {e.findtext(f"{ATOM}title"): e for e in feed.iter(f"{ATOM}entry")}
    foggy = entries["Foggy days"].findtext(f"{ATOM}content")
    assert "Some days arrive with the volume turned down." in foggy
    assert (
        "<p><strong>Content warning for a part of this post:</strong> "
        "hospitalisation, dissociation. "
        '<a href="https://blog.example/2026/foggy-days/#cw-passage-1">'
        "Read it on the site</a>.</p>"
    ) in foggy
    assert PASSAGE_TEXT not in feed_text
    assert "Show this part" not in feed_text
    assert "Most foggy days lift by the evening." in foggy


def test_a_setting_restores_full_text_in_feeds_after_the_warning(tmp_path):
    content = write_site(
        tmp_path,
        [
            (
                "a.md",
                (
                    "Title: Hard\nDate: 2026-01-01\nWarnings: grief\n"
                    "Warnings_note: About my gran.\n\nThe hard body.\n\n"
                    "::: warning: sh\nThe passage body.\n:::\n"
                ),
            )
        ],
    )
    out = build(tmp_path / "out", content=content, HEARTH_WARNINGS_FEED_FULL_TEXT=True)
    feed = ET.parse(out / "feeds/all.atom.xml").getroot()
    entry = feed.find(f"{ATOM}entry")
    text = entry.findtext(f"{ATOM}content")
    assert text.startswith(
        "<p>About my gran.</p><p>Content warning: grief.</p><p>The hard body.</p>"
    )
    # Full text still leaves a passage's own warning to the site.
    assert "The passage body." not in text
    assert "Content warning for a part of this post:</strong> self-harm." in text
    assert entry.findtext(f"{ATOM}summary").endswith("<p>Content warning: grief.</p>")


def test_templates_keep_the_original_text_and_summary(sample_publish):
    # The feed edit happens on the feed's items, never on the content objects.
    post = sample_publish / BAD_WEEK
    assert texts(post, "div", "entry-content")[0].startswith(BAD_WEEK_TEXT)
    index = (sample_publish / "index.html").read_text()
    assert BAD_WEEK_SUMMARY in texts(index, "div", "entry-summary")[0]
    assert "<p>Content warning:" not in post.read_text()


def test_meta_and_open_graph_show_the_warning_instead_of_the_summary(
    sample_publish,
):
    post = sample_publish / BAD_WEEK
    line = BAD_WEEK_NOTE + " Content warning: self-harm, suicidal thoughts."
    assert meta(post, "name", "description") == line
    assert meta(post, "property", "og:description") == line
    head = post.read_text().split("</head>")[0]
    assert "things got dark" not in head
    kettle = sample_publish / "2026/the-kettle-list/index.html"
    assert "Ten things" in meta(kettle, "name", "description")


def test_preferences_page_offers_every_label_and_is_linked_from_every_page(
    sample_publish,
):
    prefs = sample_publish / "preferences/index.html"
    legends = texts(prefs, "legend", "")
    assert legends[0] == "Every post"
    legends = legends[1:]
    assert "self-harm — Hurting oneself, or thoughts of it." in legends
    assert legends[-1] == (
        "chose not to warn — Posts where the writer chose not to list warnings."
    )
    assert any(legend.startswith("eating disorders") for legend in legends)
    text = prefs.read_text()
    for choice in ("Ask me", "Show without asking", "Hide these posts from lists"):
        assert text.count(f"> {choice}</label>") == len(legends)
    assert "Reset to the defaults" in text
    for page in sample_publish.rglob("*.html"):
        assert 'href="/preferences/" data-cw-prefs-link' in page.read_text(), page


def test_no_inline_scripts_or_styles_anywhere(sample_publish):
    # The CSP allows only 'self': an inline script or style would be refused.
    # A private post's envelope is data (application/json), which CSP allows.
    for page in sample_publish.rglob("*.html"):
        text = page.read_text()
        assert not re.search(
            r'<script(?![^>]*\b(?:src=|type="application/json"))[^>]*>', text
        ), page
        assert "<style" not in text, page
        assert not re.search(r"\sstyle=", text), page
        assert not re.search(r"\son[a-z]+=", text), page


# Small sites


def test_unknown_label_still_shows_and_warns_once_with_the_nearest_label(
    tmp_path, caplog
):
    content = write_site(
        tmp_path,
        [
            ("a.md", "Title: A\nDate: 2026-01-01\nWarnings: sucidal thougts\n\nAaa\n"),
            ("b.md", "Title: B\nDate: 2026-01-02\nWarnings: sucidal thougts\n\nBbb\n"),
            ("c.md", "Title: C\nDate: 2026-01-03\nWarnings: zqxj-wobble\n\nCcc\n"),
        ],
    )
    with caplog.at_level(logging.WARNING):
        out = build(tmp_path / "out", content=content)
    typo = [
        r.getMessage() for r in caplog.records if "sucidal thougts" in r.getMessage()
    ]
    assert len(typo) == 1, typo
    assert "did you mean 'suicidal thoughts'?" in typo[0]
    assert "add it to HEARTH_WARNINGS (or HEARTH_WARNING_ALIASES)" in typo[0]
    assert re.search(r"[ab]\.md", typo[0])
    (odd,) = [r.getMessage() for r in caplog.records if "zqxj-wobble" in r.getMessage()]
    assert "did you mean" not in odd
    page = out / "2026/a/index.html"
    assert texts(page, "section", "cw-panel")[0].count("sucidal thougts") == 1
    assert "zqxj-wobble" in (out / "preferences/index.html").read_text()


def test_yaml_list_and_comma_list_give_the_same_gate(tmp_path):
    content = write_site(
        tmp_path,
        [
            (
                "yaml.md",
                (
                    "---\ntitle: Same\ndate: 2026-01-01\nslug: same-yaml\n"
                    "warnings: [Grief, therapy rupture]\n---\nBody\n"
                ),
            ),
            (
                "comma.md",
                (
                    "Title: Same\nDate: 2026-01-01\nSlug: same-comma\n"
                    "Warnings: grief,  Therapy Rupture\n\nBody\n"
                ),
            ),
        ],
    )
    seen, receiver = collect_content()
    try:
        out = build(tmp_path / "out", content=content)
    finally:
        disconnect(receiver)
    yaml_page = (out / "2026/same-yaml/index.html").read_text()
    comma_page = (out / "2026/same-comma/index.html").read_text()
    assert yaml_page.replace("same-yaml", "X") == comma_page.replace("same-comma", "X")
    (panel,) = texts(yaml_page, "section", "cw-panel")
    assert "grief — Death, loss and mourning." in panel
    assert "therapy rupture — A painful break" in panel
    assert seen["Same"].warning_details == [
        {"label": "grief", "description": "Death, loss and mourning."},
        {
            "label": "therapy rupture",
            "description": "A painful break or conflict with a therapist.",
        },
    ]


def test_pages_take_warnings_too(tmp_path):
    content = write_site(
        tmp_path,
        [],
        pages=[("hard.md", "Title: Hard things\nWarnings: grief\n\nPage body text\n")],
    )
    out = build(tmp_path / "out", content=content)
    page = out / "hard-things/index.html"
    assert texts(page, "summary", "cw-show") == ["Show the page"]
    assert "Page body text" in texts(page, "details", "cw-details")[0]
    assert "grief — Death, loss and mourning." in texts(page, "section", "cw-panel")[0]


def test_rss_feeds_and_category_feeds_carry_the_warning(tmp_path):
    content = write_site(
        tmp_path,
        [
            (
                "a.md",
                (
                    "Title: Hard\nDate: 2026-01-01\nCategory: Notes\nWarnings: grief\n"
                    "Summary: The summary of a hard post.\n\nThe hard body.\n"
                ),
            )
        ],
    )
    out = build(
        tmp_path / "out",
        content=content,
        FEED_ALL_RSS="feeds/all.rss.xml",
        CATEGORY_FEED_ATOM="feeds/{slug}.atom.xml",
        RSS_FEED_SUMMARY_ONLY=False,
    )
    line = "<p>Content warning: grief.</p>"
    link = '<p><a href="http://127.0.0.1:8000/2026/hard/">Read it on the site</a>'
    rss = ET.parse(out / "feeds/all.rss.xml").getroot()
    assert rss.find("channel/item/description").text.startswith(line + link)
    category = ET.parse(out / "feeds/notes.atom.xml").getroot()
    assert category.find(f"{ATOM}entry/{ATOM}summary").text == line
    assert category.find(f"{ATOM}entry/{ATOM}content").text.startswith(line + link)
    for feed in ("all.rss.xml", "notes.atom.xml"):
        assert "The hard body" not in (out / "feeds" / feed).read_text()
        assert "The summary of a hard post" not in (out / "feeds" / feed).read_text()
    full = build(
        tmp_path / "out1",
        content=content,
        FEED_ALL_RSS="feeds/all.rss.xml",
        RSS_FEED_SUMMARY_ONLY=False,
        HEARTH_WARNINGS_FEED_FULL_TEXT=True,
    )
    rss = ET.parse(full / "feeds/all.rss.xml").getroot()
    assert rss.find("channel/item/description").text.startswith(line + "<p>The hard")
    summary_only = build(
        tmp_path / "out2",
        content=content,
        FEED_ALL_RSS="feeds/all.rss.xml",
        RSS_FEED_SUMMARY_ONLY=True,
    )
    rss = ET.parse(summary_only / "feeds/all.rss.xml").getroot()
    assert rss.find("channel/item/description").text.startswith(line + link)
    assert "The summary of a hard post" not in rss.find("channel/item/description").text


PRIVATE_POST = (
    "Title: Quiet\nDate: 2026-01-01\nAudience: friends\nListing: locked\n"
    "Warnings: grief, zqxj-private-canary\n\nQuiet body\n"
)


def built_private_post(tmp_path, post):
    """Build a site of one private post: its page's HTML and its open payload."""
    content = write_site(tmp_path, [("quiet.md", post)])
    out = build(tmp_path / "out", content=content)
    state = State.load(tmp_path / "hearth-state.json")
    url = f"p/{state.post_id('posts/quiet.md')}/"
    key = envelope.derive_key("hearth-demo-friends", *state.known_audience("friends"))
    page = (out / url / "index.html").read_text()
    text = re.search(r'id="hearth-envelope">(.*?)</script>', page, re.S).group(1)
    return page, json.loads(envelope.decrypt(text, "/" + url, key, "friends"))


def test_a_private_posts_choice_not_to_warn_travels_in_its_payload(tmp_path):
    post = PRIVATE_POST.replace("Warnings: grief, zqxj-private-canary", "")
    post = post.replace(
        "Listing: locked\n", "Listing: locked\nChose_not_to_warn: yes\n"
    )
    page, payload = built_private_post(tmp_path, post)
    assert payload["warnings"] == [
        {
            "label": "chose not to warn",
            "description": "The writer has chosen not to list warnings for this post.",
        }
    ]
    assert "chose not to" not in page


def test_a_private_posts_note_travels_in_its_payload_not_in_the_clear(tmp_path):
    post = PRIVATE_POST.replace(
        "Listing: locked\n", "Listing: locked\nWarnings_note: zqxj about a call\n"
    )
    page, payload = built_private_post(tmp_path, post)
    assert payload["warnings_note"] == "zqxj about a call"
    assert "zqxj" not in page


@pytest.mark.parametrize("on_panel", [False, True])
def test_private_post_warnings_are_public_only_when_the_writer_says_so(
    tmp_path, on_panel
):
    content = write_site(tmp_path, [("quiet.md", PRIVATE_POST)])
    out = build(
        tmp_path / "out", content=content, HEARTH_WARNINGS_ON_LOCKED_PANEL=on_panel
    )
    # The payload carries them, and the reader sees them after unlocking,
    # unless the locked panel showed them already (no asking twice).
    # (hearth_private leaves the templates only neutral values, so the
    # warnings are read back from the envelope, with the preview's demo key.)
    state = State.load(tmp_path / "hearth-state.json")
    url = f"p/{state.post_id('posts/quiet.md')}/"
    key = envelope.derive_key("hearth-demo-friends", *state.known_audience("friends"))
    page = (out / url / "index.html").read_text()
    text = re.search(r'id="hearth-envelope">(.*?)</script>', page, re.S).group(1)
    payload = json.loads(envelope.decrypt(text, "/" + url, key, "friends"))
    in_payload = [w["label"] for w in payload["warnings"]]
    assert in_payload == ([] if on_panel else ["grief", "zqxj-private-canary"])
    public = [
        path.read_text()
        for path in out.rglob("*")
        if path.is_file() and path.suffix in {".html", ".xml"}
    ]
    if on_panel:
        assert "Content warning: grief, zqxj-private-canary" in page
    else:
        # A label used only by a private post appears on no public surface,
        # not even the preferences page.
        assert not [t for t in public if "zqxj-private-canary" in t]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"HEARTH_WARNINGS": ["grief"]},
            r"HEARTH_WARNINGS in pelicanconf\.py must be a dict of label -> short",
        ),
        (
            {"HEARTH_WARNINGS": {"grief, loss": "x"}},
            r"label 'grief, loss' is not usable.*without commas",
        ),
        (
            {"HEARTH_WARNINGS_ON_LOCKED_PANEL": "yes"},
            r"HEARTH_WARNINGS_ON_LOCKED_PANEL must be True or False, not 'yes'",
        ),
    ],
)
def test_bad_settings_stop_the_build_saying_how_to_fix_them(
    tmp_path, override, message
):
    content = write_site(tmp_path, [("a.md", "Title: A\nDate: 2026-01-01\n\nA\n")])
    with pytest.raises(Exception, match=message):
        build(tmp_path / "out", content=content, **override)
    assert not list((tmp_path / "out").rglob("*.html"))


# Writer's words: a note, "chose not to warn", aliases


def test_the_writers_note_comes_before_the_labels(sample_publish):
    (panel,) = texts(sample_publish / BAD_WEEK, "section", "cw-panel")
    assert panel.index(BAD_WEEK_NOTE) < panel.index("This post talks about:")
    assert panel.index("This post talks about:") < panel.index("self-harm")


def test_chose_not_to_warn_is_said_honestly_and_gates_the_post(sample_publish):
    page = sample_publish / SUMMER
    (panel,) = texts(page, "section", "cw-panel")
    assert "The writer has chosen not to list warnings for this post." in panel
    assert "talks about" not in panel
    assert "mostly indoors" in texts(page, "details", "cw-details")[0]
    assert (
        "mostly indoors"
        not in page.read_text().split('<details class="cw-details">')[0]
    )
    assert "Content warning: the writer chose not to list warnings" in texts(
        sample_publish / "archives.html", "span", "cw-tag"
    )
    assert meta(page, "property", "og:description") == (
        "Content warning: the writer chose not to list warnings."
    )


def test_chose_not_to_warn_beside_labels_says_not_every_warning(tmp_path, caplog):
    content = write_site(
        tmp_path,
        [
            (
                "a.md",
                (
                    "Title: A\nDate: 2026-01-01\nWarnings: grief\n"
                    "Chose_not_to_warn: yes\n\nAaa\n"
                ),
            ),
            ("b.md", "Title: B\nDate: 2026-01-02\nChose_not_to_warn: perhaps\n\nBbb\n"),
            ("c.md", "Title: C\nDate: 2026-01-03\nChose_not_to_warn: no\n\nCcc\n"),
        ],
    )
    with caplog.at_level(logging.WARNING):
        out = build(tmp_path / "out", content=content)
    (panel,) = texts(out / "2026/a/index.html", "section", "cw-panel")
    assert "grief — Death, loss and mourning." in panel
    assert "The writer has chosen not to list every warning for this post." in panel
    # Unclear: the build says so and gates the post honestly rather than guess.
    assert any(
        "b.md: `chose_not_to_warn: perhaps` is not yes or no" in r.getMessage()
        for r in caplog.records
    )
    (panel,) = texts(out / "2026/b/index.html", "section", "cw-panel")
    assert "The writer has chosen not to list warnings for this post." in panel
    assert "cw-gate" not in (out / "2026/c/index.html").read_text()


def test_aliases_become_the_label_for_pages_lists_and_readers_choices(tmp_path):
    content = write_site(
        tmp_path,
        [
            (
                "a.md",
                (
                    "Title: A\nDate: 2026-01-01\n"
                    "Warnings: sh, Self Harm, self-injury\n\nA\n"
                ),
            ),
        ],
    )
    out = build(tmp_path / "out", content=content)
    page = (out / "2026/a/index.html").read_text()
    (panel,) = texts(page, "section", "cw-panel")
    assert panel.count("self-harm — Hurting oneself, or thoughts of it.") == 1
    assert "data-cw-labels='[\"self-harm\"]'" in page
    assert "Content warning: self-harm" in texts(
        out / "archives.html", "span", "cw-tag"
    )
    # The preferences page offers the label once, not each spelling.
    prefs = (out / "preferences/index.html").read_text()
    assert 'data-cw-label="self-harm"' in prefs
    assert 'data-cw-label="sh"' not in prefs


def test_canonical_label_resolves_labels_and_aliases_for_other_tools():
    vocabulary, aliases = warnings.DEFAULT_VOCABULARY, warnings.DEFAULT_ALIASES
    assert warnings.canonical_label("SH", vocabulary, aliases) == "self-harm"
    assert warnings.canonical_label(" self  harm ", vocabulary, aliases) == "self-harm"
    assert warnings.canonical_label("Grief", vocabulary, aliases) == "grief"
    assert warnings.canonical_label("sh", vocabulary) is None
    assert warnings.canonical_label("zqxj", vocabulary, aliases) is None
    assert warnings.canonical_labels(
        ["sh", "Self Harm", "grief", "zqxj"], vocabulary, aliases
    ) == ["self-harm", "grief", "zqxj"]
    # The writer's own aliases, as written in settings, work the same way.
    assert warnings.canonical_label("loss", vocabulary, {"Loss": "grief"}) == "grief"
    assert set(warnings.WARNING_KEYS) == {
        "warnings",
        "warnings_note",
        "chose_not_to_warn",
    }


def test_settings_take_the_vocabulary_from_one_place():
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    assert settings["HEARTH_WARNINGS"] == warnings.DEFAULT_VOCABULARY
    assert settings["HEARTH_WARNING_ALIASES"] == warnings.DEFAULT_ALIASES
    assert hearth_warnings.DEFAULTS["HEARTH_WARNINGS"] is warnings.DEFAULT_VOCABULARY


PUBLIC_TYPO = "Title: A\nDate: 2026-01-01\nWarnings: sucidal thougts, grief\n\nAaa\n"


def test_unknown_label_stops_a_publish_build_saying_where_and_how_to_fix(tmp_path):
    content = write_site(
        tmp_path,
        [
            ("a.md", PUBLIC_TYPO),
            (
                "b.md",
                (
                    "Title: B\nDate: 2026-01-02\n\nBbb\n\n"
                    "::: warning: zqxj-wobble\nX\n:::\n"
                ),
            ),
        ],
    )
    # A private post's own label may stay private: reported, not stopped.
    (content / "posts" / "c.md").write_text(PRIVATE_POST)
    with (
        environ(**passphrase_env()),
        pytest.raises(
            warnings.WarningsError,
            match=r"(?s)stopped the publish build before writing anything.*"
            r"a\.md: 'sucidal thougts' \(did you mean 'suicidal thoughts'\?\).*"
            r"b\.md: 'zqxj-wobble'.*add it to HEARTH_WARNINGS .*HEARTH_WARNING_ALIASES",
        ) as stopped,
    ):
        build(tmp_path / "out", content=content, HEARTH_PUBLISH=True)
    assert "zqxj-private-canary" not in str(stopped.value)
    assert not list((tmp_path / "out").rglob("*.html"))
    # Added to the vocabulary (or as an alias), the same posts publish.
    with environ(**passphrase_env()):
        out = build(
            tmp_path / "out2",
            content=content,
            HEARTH_PUBLISH=True,
            HEARTH_WARNINGS={**warnings.DEFAULT_VOCABULARY, "zqxj-wobble": "Odd."},
            HEARTH_WARNING_ALIASES={"sucidal thougts": "suicidal thoughts"},
        )
    assert (
        "suicidal thoughts — Thoughts of suicide"
        in (texts(out / "2026/a/index.html", "section", "cw-panel")[0])
    )


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ({"sh": "self harm injury"}, r"alias 'sh' points to 'self harm injury'"),
        (
            {"grief": "anxiety"},
            r"'grief' is a label in HEARTH_WARNINGS and also an alias",
        ),
        (["sh"], r"HEARTH_WARNING_ALIASES in pelicanconf\.py must be a dict"),
    ],
)
def test_bad_aliases_stop_the_build(tmp_path, aliases, message):
    content = write_site(tmp_path, [("a.md", "Title: A\nDate: 2026-01-01\n\nA\n")])
    with pytest.raises(warnings.WarningsError, match=message):
        build(tmp_path / "out", content=content, HEARTH_WARNING_ALIASES=aliases)


# Passages with their own warning


def test_a_passage_is_gated_with_a_skip_link_to_just_after_it(sample_publish):
    page = (sample_publish / FOGGY).read_text()
    (gate,) = re.findall(
        r'<div aria-labelledby="cw-passage-1-line" class="cw-passage".*?'
        r'<div class="cw-after" id="cw-after-1" tabindex="-1"></div>',
        page,
        re.S,
    )
    # The sample writes the alias `hospitalization`; the page shows the label.
    source = (ROOT / "content/posts/2026-08-27-foggy-days.md").read_text()
    assert "::: warning: hospitalization, dissociation\n" in source
    assert (
        'data-cw-labels="[&quot;hospitalisation&quot;, &quot;dissociation&quot;]"'
        in gate
    )
    assert "Content warning for this part: hospitalisation, dissociation" in texts(
        gate, "p", "cw-line"
    )
    (hidden,) = texts(gate, "details", "cw-details")
    assert hidden.startswith("Show this part " + PASSAGE_TEXT)
    assert page.count(PASSAGE_TEXT) == 1
    assert '<a href="#cw-after-1">Skip past this part</a>' in gate
    # The text goes on right after the target.
    after = page.split('id="cw-after-1" tabindex="-1"></div>')[1]
    assert after.lstrip().startswith("<p>Most foggy days lift by the evening.")


def test_a_summary_cut_from_the_text_leaves_a_passage_out(tmp_path):
    words = " ".join(["word"] * 10)
    content = write_site(
        tmp_path,
        [
            (
                "a.md",
                (
                    f"Title: A\nDate: 2026-01-01\n\nFirst {words}.\n\n"
                    "::: warning: grief\nThe hidden passage canary.\n\n"
                    "Second paragraph.\n:::\n\n"
                    f"After {words}.\n"
                ),
            ),
            (
                "b.md",
                "Title: B\nDate: 2026-01-02\n\n::: warning grief\nUnclosed canary.\n",
            ),
        ],
    )
    out = build(tmp_path / "out", content=content, SUMMARY_MAX_LENGTH=15)
    index = (out / "index.html").read_text()
    assert "The hidden passage canary" not in index
    assert "Unclosed canary" not in index
    assert "Content warning for this part: grief." in index
    assert "The hidden passage canary" not in meta(
        out / "2026/a/index.html", "name", "description"
    )
    # Both paragraphs of the passage are inside its gate.
    (hidden,) = texts(out / "2026/a/index.html", "details", "cw-details")
    assert "The hidden passage canary. Second paragraph." in hidden


def test_an_unclosed_passage_runs_to_the_end_and_the_build_says_so(tmp_path, caplog):
    content = write_site(
        tmp_path,
        [
            (
                "b.md",
                (
                    "Title: B\nDate: 2026-01-02\n\nOpen.\n\n"
                    "::: warning: grief\nTo the end.\n"
                ),
            )
        ],
    )
    with caplog.at_level(logging.WARNING):
        out = build(tmp_path / "out", content=content)
    (hidden,) = texts(out / "2026/b/index.html", "details", "cw-details")
    assert "To the end." in hidden
    assert any(
        "b.md: a `::: warning:` passage has no closing `:::` line" in r.getMessage()
        for r in caplog.records
    )


# Quick exit


def test_every_page_has_a_quick_exit_link_without_a_referrer(sample_publish):
    link = (
        '<a class="quick-exit-link" href="https://www.bbc.co.uk/weather" '
        'rel="noreferrer" referrerpolicy="no-referrer" data-quick-exit>'
        "Exit this page</a>"
    )
    for page in sample_publish.rglob("*.html"):
        text = page.read_text()
        assert link in text, page
        # Right after the skip link: the first or second stop for the Tab key.
        assert text.index(link) < text.index('class="site-header"'), page
    (help_text,) = texts(
        sample_publish / "preferences/index.html", "section", "quick-exit-help"
    )
    assert "www.bbc.co.uk" in help_text
    assert "cannot clear your browser" in help_text


@pytest.mark.parametrize(
    ("url", "shown"), [("", False), ("https://weather.example.net/", True)]
)
def test_the_writer_chooses_the_quick_exit_site_or_none(tmp_path, url, shown):
    content = write_site(tmp_path, [("a.md", "Title: A\nDate: 2026-01-01\n\nA\n")])
    out = build(tmp_path / "out", content=content, HEARTH_QUICK_EXIT_URL=url)
    text = (out / "2026/a/index.html").read_text()
    assert ("data-quick-exit" in text) is shown
    assert ("quickexit.js" in text) is shown
    if shown:
        assert f'href="{url}" rel="noreferrer"' in text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"HEARTH_QUICK_EXIT_URL": "www.bbc.co.uk"},
            r"HEARTH_QUICK_EXIT_URL must be the full address of a neutral site",
        ),
        (
            {"HEARTH_QUICK_EXIT_URL": "javascript:alert(1)"},
            r"HEARTH_QUICK_EXIT_URL must be the full address",
        ),
        (
            {"HEARTH_WARNINGS_FEED_FULL_TEXT": "no"},
            r"HEARTH_WARNINGS_FEED_FULL_TEXT must be True or False, not 'no'",
        ),
        (
            {"HEARTH_WARNINGS": {"chose not to warn": "x"}},
            r"'chose not to warn' is not a label.*chose_not_to_warn: true",
        ),
    ],
)
def test_bad_new_settings_stop_the_build(tmp_path, override, message):
    content = write_site(tmp_path, [("a.md", "Title: A\nDate: 2026-01-01\n\nA\n")])
    with pytest.raises(warnings.WarningsError, match=message):
        build(tmp_path / "out", content=content, **override)
    assert not list((tmp_path / "out").rglob("*.html"))
