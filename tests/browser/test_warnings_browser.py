"""Content warnings in real Chromium: the gate, reader preferences, renderGate."""

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, PageWatch

pytestmark = pytest.mark.browser

BAD_WEEK = "/2026/a-bad-week-written-down/"
BAD_WEEK_TEXT = "This week was hard."
WAITING_ROOM = "/2026/the-waiting-room/"
WAITING_ROOM_TEXT = "The chairs were the blue plastic kind"
WAITING_ROOM_SUMMARY = "An afternoon in a clinic waiting room"
STORAGE_KEY = "hearth.warnings"
FIXTURES = Path(__file__).parent / "fixtures"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def accessible_text(page):
    """Every name in Chromium's own accessibility tree (not Playwright's model)."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return " ".join(
        str(node.get("name", {}).get("value", ""))
        for node in nodes
        if not node.get("ignored")
    )


def quiet_favicon(page):
    # The theme links favicon.svg; answer Chromium's automatic /favicon.ico
    # request too, so that the console only carries the site's own errors.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))


def open_page(page, url):
    quiet_favicon(page)
    page.goto(url)
    return page


def assert_clean(page):
    assert page.watch.foreign_requests() == []
    assert page.watch.errors == []


def show_post(page):
    return page.get_by_text("Show the post", exact=True)


def choose(page, label, choice):
    """On the preferences page, pick a choice for one label, as a reader does."""
    group = page.get_by_role("group", name=re.compile(rf"^{re.escape(label)}\b"))
    group.get_by_label(choice).check()


@pytest.fixture
def site(sample_publish, http_serve):
    return http_serve(sample_publish)


def test_post_text_is_hidden_and_out_of_the_accessibility_tree_until_shown(page, site):
    open_page(page, site + BAD_WEEK)
    text = page.get_by_text(BAD_WEEK_TEXT)
    assert page.get_by_role("heading", name="Content warning").is_visible()
    assert page.get_by_text("Hurting oneself, or thoughts of it.").is_visible()
    assert not text.is_visible()
    assert BAD_WEEK_TEXT not in accessible_text(page)
    assert BAD_WEEK_TEXT not in page.locator("main").aria_snapshot()

    show_post(page).click()
    assert text.is_visible()
    assert BAD_WEEK_TEXT in accessible_text(page)
    # The choices are gone once made; the warning itself stays above the text.
    assert show_post(page).count() == 0
    assert page.get_by_role("link", name="Go back to the home page").count() == 0
    assert page.get_by_role("heading", name="Content warning").is_visible()
    assert_clean(page)


def test_keyboard_reveal_moves_focus_to_the_start_of_the_post(page, site):
    open_page(page, site + BAD_WEEK)
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Show the post":
            break
    else:
        pytest.fail("'Show the post' cannot be reached with the Tab key")
    page.keyboard.press("Enter")
    assert page.get_by_text(BAD_WEEK_TEXT).is_visible()
    focused = page.evaluate(
        "[document.activeElement.className,"
        " document.activeElement.textContent.trim().slice(0, 19)]"
    )
    assert focused == ["cw-content", BAD_WEEK_TEXT]
    assert_clean(page)


def test_go_back_leaves_for_the_home_page_without_showing_the_post(page, site):
    open_page(page, site + BAD_WEEK)
    page.get_by_role("link", name="Go back to the home page").click()
    page.wait_for_url(site + "/")
    assert page.get_by_role("link", name="A bad week, written down").is_visible()
    assert_clean(page)


def test_without_javascript_the_native_gate_hides_and_reveals(browser, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.watch = PageWatch(page)
        open_page(page, site + BAD_WEEK)
        text = page.get_by_text(BAD_WEEK_TEXT)
        assert not text.is_visible()
        assert BAD_WEEK_TEXT not in accessible_text(page)
        show_post(page).click()
        assert text.is_visible()
        assert BAD_WEEK_TEXT in accessible_text(page)

        open_page(page, site + "/")
        summary = page.get_by_text(WAITING_ROOM_SUMMARY)
        assert page.get_by_text(
            "Content warning: medical settings, anxiety"
        ).is_visible()
        assert not summary.is_visible()
        assert WAITING_ROOM_SUMMARY not in accessible_text(page)
        entry = page.locator("article", has_text="The waiting room")
        entry.get_by_text("Show the summary").click()
        assert summary.is_visible()

        # The preferences need JavaScript, and say so instead of pretending.
        open_page(page, site + "/preferences/")
        assert page.get_by_text("These choices need JavaScript").is_visible()
        assert page.get_by_role("radio", name="Show without asking").first.is_disabled()
        assert page.get_by_role(
            "checkbox", name=re.compile("^Always show")
        ).is_disabled()
        assert page.watch.foreign_requests() == []
    finally:
        context.close()


def test_list_summary_stays_behind_the_gate_until_asked(page, site):
    open_page(page, site + "/")
    summary = page.get_by_text(WAITING_ROOM_SUMMARY)
    assert page.get_by_text("Content warning: medical settings, anxiety").is_visible()
    assert page.get_by_role("link", name="The waiting room").is_visible()
    assert not summary.is_visible()
    assert WAITING_ROOM_SUMMARY not in accessible_text(page)
    entry = page.locator("article", has_text="The waiting room")
    entry.get_by_text("Show the summary").click()
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.className") == "cw-content"
    assert_clean(page)


def test_show_without_asking_opens_such_posts_directly_on_the_next_visit(page, site):
    open_page(page, site + "/")
    page.get_by_role("link", name="Reading preferences").click()
    page.wait_for_url(site + "/preferences/")
    choose(page, "medical settings", "Show without asking")
    assert "will open without asking" in page.get_by_role("status").inner_text()

    # One of two labels shown is not enough: the post still asks.
    open_page(page, site + WAITING_ROOM)
    assert not page.get_by_text(WAITING_ROOM_TEXT).is_visible()

    open_page(page, site + "/preferences/")
    choose(page, "anxiety", "Show without asking")
    open_page(page, site + WAITING_ROOM)
    assert page.get_by_text(WAITING_ROOM_TEXT).is_visible()
    assert page.get_by_text("Panic, dread and the body's alarm.").is_visible()
    assert show_post(page).count() == 0
    # Other labels still ask.
    open_page(page, site + BAD_WEEK)
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()
    # On lists, the summary opens directly too.
    open_page(page, site + "/")
    assert page.get_by_text(WAITING_ROOM_SUMMARY).is_visible()
    assert_clean(page)


def test_preferences_stay_in_this_browser_only(page, site):
    open_page(page, site + "/preferences/")
    # Chromium fetches the favicon after load: let the page settle first.
    page.wait_for_load_state("networkidle")
    requests_before = len(page.watch.requests)
    choose(page, "grief", "Hide these posts from lists")
    stored = page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')")
    assert stored == '{"grief":"hide"}'
    assert len(page.watch.requests) == requests_before
    assert page.context.cookies() == []
    assert not page.get_by_text("These choices need JavaScript").is_visible()
    assert_clean(page)


def test_hide_from_lists_removes_posts_from_the_home_page(page, site):
    open_page(page, site + "/preferences/")
    choose(page, "anxiety", "Hide these posts from lists")
    open_page(page, site + "/")
    assert not page.get_by_role("link", name="The waiting room").is_visible()
    assert page.get_by_role("link", name="A bad week, written down").is_visible()
    assert page.get_by_text(
        "1 post is hidden here by your reading preferences"
    ).is_visible()
    open_page(page, site + "/archives.html")
    assert not page.get_by_role("link", name="The waiting room").is_visible()
    assert page.get_by_role("link", name="The kettle list").is_visible()
    # Opened directly, the post still asks first.
    open_page(page, site + WAITING_ROOM)
    assert not page.get_by_text(WAITING_ROOM_TEXT).is_visible()
    assert show_post(page).is_visible()
    assert_clean(page)


def test_reset_restores_the_defaults(page, site):
    open_page(page, site + "/preferences/")
    for label in ("self-harm", "suicidal thoughts"):
        choose(page, label, "Show without asking")
    choose(page, "anxiety", "Hide these posts from lists")
    page.get_by_role("button", name="Reset to the defaults").click()
    assert "Back to the defaults" in page.get_by_role("status").inner_text()
    assert page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')") is None
    asked = page.get_by_role("radio", name="Ask me")
    assert asked.count() > 10
    assert all(asked.nth(i).is_checked() for i in range(asked.count()))
    page.reload()
    assert (
        page.get_by_role("group", name=re.compile("^anxiety"))
        .get_by_label("Ask me")
        .is_checked()
    )

    open_page(page, site + BAD_WEEK)
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()
    open_page(page, site + "/")
    assert page.get_by_role("link", name="The waiting room").is_visible()
    assert_clean(page)


@pytest.fixture
def fixture_site(tmp_path, http_serve):
    """The fixture page beside a copy of the theme's scripts."""
    shutil.copytree(ROOT / "theme" / "static" / "js", tmp_path / "js")
    for source in FIXTURES.iterdir():
        shutil.copy(source, tmp_path / source.name)
    return http_serve(tmp_path) + "/render_gate.html"


def test_render_gate_wraps_a_containers_children_behind_the_same_gate(
    page, fixture_site
):
    open_page(page, fixture_site)
    page.wait_for_selector("body[data-rendered=yes]")
    text = page.get_by_text("The fixture's private text.")
    assert not text.is_visible()
    assert "The fixture's private text." not in accessible_text(page)
    assert "A link inside the text" not in accessible_text(page)
    assert page.get_by_role("heading", name="Content warning").is_visible()
    assert page.get_by_text("grief — Death, loss and mourning.").is_visible()
    # Labels from a payload are text, never markup.
    assert page.locator("[data-injected]").count() == 0
    assert page.get_by_text('<img src="x" data-injected>').is_visible()
    assert page.get_by_text("— <b>not bold</b>").is_visible()
    back = page.get_by_role("link", name="Go back to the home page")
    assert back.get_attribute("href") == "./home.html"
    prefs = page.get_by_role("link", name="reading preferences", exact=True)
    assert prefs.get_attribute("href") == "./preferences.html"
    assert page.get_by_text("Text with no warnings stays as it is.").is_visible()

    show_post(page).click()
    assert text.is_visible()
    assert page.get_by_role("link", name="A link inside the text").is_visible()
    assert page.evaluate("document.activeElement.className") == "cw-content"
    assert_clean(page)


def test_render_gate_opens_directly_when_the_reader_chose_so(page, fixture_site):
    open_page(page, fixture_site)
    page.evaluate(
        f"localStorage.setItem('{STORAGE_KEY}',"
        " JSON.stringify({grief: 'show', '<img src=\"x\" data-injected>': 'show'}))"
    )
    page.reload()
    page.wait_for_selector("body[data-rendered=yes]")
    assert page.get_by_text("The fixture's private text.").is_visible()
    assert page.get_by_role("heading", name="Content warning").is_visible()
    assert_clean(page)


@pytest.mark.parametrize(
    ("path", "reveal"),
    [(BAD_WEEK, False), (BAD_WEEK, True), ("/", False), ("/preferences/", False)],
)
def test_warned_pages_pass_axe_checks(browser, site, path, reveal):
    # axe is injected as a script, which the site's CSP would rightly refuse.
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        open_page(page, site + path)
        if reveal:
            show_post(page).click()
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document)")
        violations = [
            (v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
        ]
        assert violations == []
    finally:
        context.close()


def test_render_gate_says_honestly_when_the_writer_chose_not_to_warn(
    page, fixture_site
):
    open_page(page, fixture_site.replace("render_gate", "render_gate_withheld"))
    page.wait_for_selector("body[data-rendered=yes]")
    assert page.get_by_text(
        "The writer has chosen not to list warnings for this post."
    ).is_visible()
    assert page.get_by_text("talks about").count() == 0
    assert page.get_by_text("A note in the writer's words.").is_visible()
    assert not page.get_by_text("The fixture's unlisted text.").is_visible()
    show_post(page).click()
    assert page.get_by_text("The fixture's unlisted text.").is_visible()
    # A passage inside the decrypted text is enhanced too: focus follows.
    assert not page.get_by_text("The fixture's passage.").is_visible()
    page.get_by_text("Show this part", exact=True).click()
    assert page.get_by_text("The fixture's passage.").is_visible()
    assert (
        page.evaluate("document.activeElement.textContent") == "The fixture's passage."
    )
    assert_clean(page)


# Passages with their own warning

FOGGY = "/2026/foggy-days/"
PASSAGE_TEXT = "The worst foggy day I remember was on a ward"
AFTER_PASSAGE = "Most foggy days lift by the evening."
SUMMER = "/2026/the-summer-i-dont-describe/"
SUMMER_TEXT = "Some things I can write about but not sort into labels."


def test_a_passage_waits_behind_its_warning_and_skip_moves_past_it(page, site):
    open_page(page, site + FOGGY)
    passage = page.get_by_role(
        "group", name="Content warning for this part: hospitalisation, dissociation"
    )
    assert passage.is_visible()
    assert page.get_by_text(
        "Some days arrive with the volume turned down."
    ).is_visible()
    assert not page.get_by_text(PASSAGE_TEXT).is_visible()
    assert PASSAGE_TEXT not in accessible_text(page)

    passage.get_by_role("link", name="Skip past this part").click()
    assert page.evaluate("document.activeElement.id") == "cw-after-1"
    # The next Tab goes on from just after the passage, not back into it.
    assert page.evaluate(
        "document.activeElement.nextElementSibling.textContent.trim()"
    ).startswith(AFTER_PASSAGE)
    assert not page.get_by_text(PASSAGE_TEXT).is_visible()

    passage.get_by_text("Show this part", exact=True).click()
    assert page.get_by_text(PASSAGE_TEXT).is_visible()
    assert page.evaluate("document.activeElement.className") == "cw-content"
    assert PASSAGE_TEXT in accessible_text(page)
    assert_clean(page)


def test_without_javascript_a_passage_gate_and_its_skip_link_work(browser, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.watch = PageWatch(page)
        open_page(page, site + FOGGY)
        assert not page.get_by_text(PASSAGE_TEXT).is_visible()
        assert PASSAGE_TEXT not in accessible_text(page)
        page.get_by_role("link", name="Skip past this part").click()
        assert page.url.endswith("#cw-after-1")
        assert page.evaluate("document.activeElement.id") == "cw-after-1"
        page.get_by_text("Show this part", exact=True).click()
        assert page.get_by_text(PASSAGE_TEXT).is_visible()
        # Lists say which posts have warnings, without JavaScript too.
        open_page(page, site + "/archives.html")
        assert page.get_by_text(
            "Content warning: the writer chose not to list warnings"
        ).is_visible()
        assert page.watch.foreign_requests() == []
    finally:
        context.close()


# Reader's choices for every post


def option(page, name):
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)}"))


def test_always_show_opens_every_gate_but_hidden_labels_stay_hidden(page, site):
    open_page(page, site + "/preferences/")
    choose(page, "anxiety", "Hide these posts from lists")
    option(page, "Always show").check()
    assert "every post and passage opens without asking" in (
        page.get_by_role("status").inner_text()
    )
    for path, text in ((BAD_WEEK, BAD_WEEK_TEXT), (SUMMER, SUMMER_TEXT)):
        open_page(page, site + path)
        assert page.get_by_text(text).is_visible()
        # The warning itself is still there, above the text.
        assert page.get_by_role("heading", name="Content warning").is_visible()
        assert show_post(page).count() == 0
    open_page(page, site + FOGGY)
    assert page.get_by_text(PASSAGE_TEXT).is_visible()
    open_page(page, site + "/")
    assert not page.get_by_role("link", name="The waiting room").is_visible()

    open_page(page, site + "/preferences/")
    assert option(page, "Always show").is_checked()
    option(page, "Always show").uncheck()
    open_page(page, site + BAD_WEEK)
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()
    assert_clean(page)


def test_hide_warning_text_until_asked(page, site):
    open_page(page, site + "/preferences/")
    option(page, "Hide warning text until I ask").check()
    assert "until you ask to see them" in page.get_by_role("status").inner_text()

    open_page(page, site + BAD_WEEK)
    assert page.get_by_role("heading", name="Content warning").is_visible()
    for hidden in ("suicidal thoughts", "Written in the middle of a bad week"):
        assert not page.get_by_text(hidden).first.is_visible()
        assert hidden not in accessible_text(page)
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()
    page.get_by_role("button", name="Show the warnings").click()
    assert page.get_by_text("Thoughts of suicide or of not wanting").is_visible()
    assert page.evaluate("document.activeElement.className") == "cw-text"
    assert page.get_by_role("button", name="Show the warnings").count() == 0
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()

    # The passage and lists say there is a warning, not what it is.
    open_page(page, site + FOGGY)
    assert page.get_by_text("Content warning for this part").is_visible()
    assert "hospitalisation" not in accessible_text(page)
    open_page(page, site + "/archives.html")
    assert page.locator(".cw-tag").first.inner_text() == "Content warning"
    assert "medical settings" not in accessible_text(page)
    assert_clean(page)


def test_choices_for_posts_where_the_writer_chose_not_to_warn(page, site):
    open_page(page, site + "/preferences/")
    choose(page, "chose not to warn", "Show without asking")
    open_page(page, site + SUMMER)
    assert page.get_by_text(SUMMER_TEXT).is_visible()
    assert page.get_by_text(
        "The writer has chosen not to list warnings for this post."
    ).is_visible()
    open_page(page, site + BAD_WEEK)
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()
    assert_clean(page)


BLOCK_STORAGE = """
for (const name of ["getItem", "setItem", "removeItem"]) {
  Storage.prototype[name] = () => {
    throw new DOMException("The operation is insecure.", "SecurityError");
  };
}
"""


def test_blocked_storage_says_choices_are_not_kept_and_every_gate_asks(page, site):
    page.add_init_script(BLOCK_STORAGE)
    open_page(page, site + "/preferences/")
    status = page.get_by_role("status")
    assert "keeps no choices for this site" in status.inner_text()
    choose(page, "self-harm", "Show without asking")
    assert "would not save your choice" in status.inner_text()
    option(page, "Always show").check()
    assert "would not save your choice" in status.inner_text()
    open_page(page, site + BAD_WEEK)
    assert not page.get_by_text(BAD_WEEK_TEXT).is_visible()
    show_post(page).click()
    assert page.get_by_text(BAD_WEEK_TEXT).is_visible()
    assert_clean(page)


@pytest.mark.parametrize(
    ("path", "screen", "options"),
    [
        (FOGGY, ("light", 1280), None),
        (FOGGY, ("dark", 375), None),
        (SUMMER, ("dark", 1280), None),
        ("/preferences/", ("light", 375), None),
        ("/preferences/", ("dark", 375), None),
        (BAD_WEEK, ("dark", 375), {"hideText": True}),
        ("/", ("dark", 375), {"hideText": True}),
        (BAD_WEEK, ("light", 375), {"always": True}),
    ],
)
def test_new_controls_pass_axe_in_light_and_dark_and_at_phone_width(
    browser, site, path, screen, options
):
    scheme, width = screen
    context = browser.new_context(
        bypass_csp=True,
        color_scheme=scheme,
        viewport={"width": width, "height": 800},
    )
    try:
        page = context.new_page()
        if options:
            stored = json.dumps(options)
            page.add_init_script(
                f"localStorage.setItem('hearth.warnings.options', '{stored}')"
            )
        open_page(page, site + path)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document)")
        violations = [
            (v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
        ]
        assert violations == []
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
            scheme == "dark"
        )
    finally:
        context.close()
