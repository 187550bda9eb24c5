"""A locked site in real Chromium: unlock once, then browse everything."""

import pytest
from playwright.sync_api import expect

from hearth.targets import open_target, ops
from tests.conftest import TEST_PASSPHRASES
from tests.targets.conftest import (  # noqa: F401 (fixtures)
    nginx,
    site_recipients,
)
from tests.targets.cycle import lock

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture
def locked_site(sample_publish, tmp_path, nginx, site_recipients):  # noqa: F811
    """The sample site, locked, served by nginx: its base URL."""
    root = tmp_path / "blog"
    base = nginx(root)
    target = open_target(root.as_uri())
    ops.publish(sample_publish, [target])
    lock(sample_publish, target, site_recipients)
    return base


def unlock(page, passphrase):
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Unlock").click()


def test_reader_unlocks_once_and_browses_every_page(page, locked_site):
    page.goto(locked_site + "/2026/the-kettle-list/")
    assert page.get_by_role("heading", name="The kettle list").count() == 0
    unlock(page, TEST_PASSPHRASES["site"])
    page.get_by_role("heading", name="The kettle list").wait_for()
    assert page.title().startswith("The kettle list")

    # Another page opens by itself: the derived key is kept for the session.
    page.goto(locked_site + "/about/")
    page.get_by_role("heading", name="About").wait_for()
    assert page.get_by_label("Passphrase").count() == 0

    # Images are decrypted in the browser and shown from blob: URLs.
    page.goto(locked_site + "/2026/a-sunday-walk-with-the-dog/")
    image = page.locator("img[src^='blob:']").first
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")

    # The passphrase itself is never stored, only the derived key.
    stored = page.evaluate("JSON.stringify(Object.entries(sessionStorage))")
    assert TEST_PASSPHRASES["site"] not in stored
    assert page.watch.foreign_requests() == []
    assert page.watch.errors == []


def test_an_unknown_address_shows_the_unlock_page_then_the_404_page(page, locked_site):
    page.goto(locked_site + "/no/such/page/")
    unlock(page, TEST_PASSPHRASES["site"])
    page.get_by_role("heading", name="This page isn't here").wait_for()


def test_a_wrong_passphrase_is_refused_calmly(page, locked_site):
    page.goto(locked_site + "/")
    unlock(page, "not the site passphrase at all")
    # expect() polls from Playwright's side: the page's CSP forbids eval.
    expect(page.locator(".lockshell-status")).to_contain_text("does not open this blog")
    assert page.evaluate("sessionStorage.length") == 0


def test_a_new_browser_session_must_unlock_again(browser, locked_site):
    for _ in range(2):
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(locked_site + "/about/")
        # A fresh session knows no key: the form is shown, not the page.
        pg.get_by_label("Passphrase").wait_for()
        assert pg.get_by_role("heading", name="About").count() == 0
        unlock(pg, TEST_PASSPHRASES["site"])
        pg.get_by_role("heading", name="About").wait_for()
        context.close()


def test_remember_on_this_device_outlives_the_session_and_lock_again_forgets(
    page, locked_site
):
    page.goto(locked_site + "/about/")
    page.get_by_label("Passphrase").fill(TEST_PASSPHRASES["site"])
    page.get_by_label("Remember on this device").check()
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("heading", name="About").wait_for()
    # The browser session ends (its session cookie is gone): the device key
    # still opens the site.
    page.context.clear_cookies()
    page.goto(locked_site + "/2026/the-kettle-list/")
    page.get_by_role("heading", name="The kettle list").wait_for()
    page.get_by_role("button", name="Lock again").click()
    page.get_by_label("Passphrase").wait_for()
    page.goto(locked_site + "/about/")
    page.get_by_label("Passphrase").wait_for()
    assert page.get_by_role("heading", name="About").count() == 0


def test_without_remember_a_new_session_asks_and_a_new_tab_does_not(page, locked_site):
    page.goto(locked_site + "/about/")
    unlock(page, TEST_PASSPHRASES["site"])
    page.get_by_role("heading", name="About").wait_for()
    tab = page.context.new_page()
    tab.goto(locked_site + "/2026/the-kettle-list/")
    tab.get_by_role("heading", name="The kettle list").wait_for()
    page.context.clear_cookies()
    page.goto(locked_site + "/about/")
    page.get_by_label("Passphrase").wait_for()
    assert page.get_by_role("heading", name="About").count() == 0
