"""Quick exit in real Chromium: the link, Escape twice, and what Back does.

The neutral site is never fetched: page.route answers for it on this
machine, and each test checks that nothing else left 127.0.0.1.
"""

import pytest

from tests.browser.test_warnings_browser import BAD_WEEK, open_page
from tests.conftest import PageWatch

pytestmark = pytest.mark.browser

NEUTRAL = "https://www.bbc.co.uk/weather"


@pytest.fixture
def site(sample_publish, http_serve):
    return http_serve(sample_publish)


def neutral_site(context):
    """Answer for the neutral site here; return the requests it would have had."""
    visits = []

    def answer(route):
        visits.append(route.request)
        route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><title>Weather</title><p>Sunny spells.</p>",
        )

    context.route("https://www.bbc.co.uk/**", answer)
    return visits


def assert_only_the_neutral_site_was_asked(page, visits):
    foreign = page.watch.foreign_requests()
    assert foreign, "the neutral site was never asked for"
    assert foreign[0] == NEUTRAL
    # Every request off 127.0.0.1 was answered by the route, on this machine.
    assert sorted(foreign) == sorted(r.url for r in visits)
    # rel="noreferrer" and the page's policy: the neutral site learns nothing.
    assert all("referer" not in r.headers for r in visits)


def visit_post_from_home(page, site):
    open_page(page, site + "/")
    page.get_by_role("link", name="A bad week, written down").click()
    page.wait_for_url(site + BAD_WEEK)


def test_exit_this_page_leaves_and_back_does_not_return(page, site):
    visits = neutral_site(page.context)
    visit_post_from_home(page, site)
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(NEUTRAL)
    assert page.get_by_text("Sunny spells.").is_visible()
    page.go_back()
    # The post's history entry was replaced: Back goes to the page before it.
    assert page.url == site + "/"
    assert_only_the_neutral_site_was_asked(page, visits)
    assert page.watch.errors == []


def test_escape_twice_leaves_and_once_does_not(page, site):
    visits = neutral_site(page.context)
    visit_post_from_home(page, site)
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    assert page.url == site + BAD_WEEK
    page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    assert page.url == site + "/"
    assert_only_the_neutral_site_was_asked(page, visits)


def test_quick_exit_is_the_first_control_after_the_skip_link(page, site):
    open_page(page, site + BAD_WEEK)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the text"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Exit this page"
    # It stays in view while the reader scrolls.
    page.mouse.wheel(0, 3000)
    assert page.get_by_role("link", name="Exit this page").is_visible()
    assert page.get_by_role("link", name="Exit this page").bounding_box()["y"] < 60


def test_without_javascript_the_link_still_leaves_without_a_referrer(browser, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        visits = neutral_site(context)
        page = context.new_page()
        page.watch = PageWatch(page)
        visit_post_from_home(page, site)
        page.get_by_role("link", name="Exit this page").click()
        page.wait_for_url(NEUTRAL)
        assert_only_the_neutral_site_was_asked(page, visits)
        # A plain link cannot replace the history entry; the preferences page
        # says what the quick exit cannot do.
        page.go_back()
        assert page.url == site + BAD_WEEK
    finally:
        context.close()
