"""A reader unlocks private posts in real Chromium, served on 127.0.0.1.

The site is the sample site's publish build (TEST_PASSPHRASES), copied so
that a test can damage one page without touching the shared build.
"""

import re
import shutil

import pytest

from hearth import envelope, links
from hearth.state import State
from tests.conftest import CHROMIUM, ROOT, TEST_PASSPHRASES, PageWatch, chromium_args

pytestmark = pytest.mark.browser

STATE = State.load(ROOT / "hearth-state.json")
LETTER = f"/p/{STATE.post_id('posts/2026-10-18-letter-home.md')}/"
PHONE_CALL = f"/p/{STATE.post_id('posts/2026-09-21-after-the-phone-call.md')}/"
LETTER_TEXT = "Thank you for coming on the Tuesday"
LETTER_ALT = "The unsent letter on the kitchen table, beside a cold cup of tea"
FRIENDS = TEST_PASSPHRASES["friends"]


@pytest.fixture(scope="session")
def site(sample_publish, tmp_path_factory):
    """A copy of the publish build, with the two damaged pages beside it."""
    root = tmp_path_factory.mktemp("unlock-site")
    good = root / "good"
    shutil.copytree(sample_publish, good)
    # Chromium asks for /favicon.ico by itself; keep its 404 off the console.
    (good / "favicon.ico").write_bytes(b"")
    damaged = root / "damaged"
    shutil.copytree(good, damaged)
    tamper(damaged / PHONE_CALL.strip("/") / "index.html", flip_ciphertext)
    tamper(damaged / LETTER.strip("/") / "index.html", newer_version)
    return {"good": good, "damaged": damaged}


def tamper(page, change):
    html = page.read_text()
    match = re.search(r'(id="hearth-envelope">)(.*?)(</script>)', html, re.S)
    page.write_text(
        html[: match.start(2)] + change(match.group(2)) + html[match.end(2) :]
    )


def flip_ciphertext(text):
    """Change one character in the middle of the ciphertext (still base64url)."""
    start = text.index('"ciphertext":"') + len('"ciphertext":"')
    middle = start + (text.index('"', start) - start) // 2
    new = "A" if text[middle] != "A" else "B"
    return text[:middle] + new + text[middle + 1 :]


def newer_version(text):
    return text.replace('{"hearth":1,', '{"hearth":2,', 1)


@pytest.fixture
def base(site, http_serve):
    return http_serve(site["good"])


def unlock(page, passphrase, remember=False):
    page.get_by_label("Passphrase").fill(passphrase)
    if remember:
        page.get_by_label("Remember on this device").check()
    page.get_by_label("Passphrase").press("Enter")


def wait_for_status(page, words):
    """Wait until the panel's aria-live status says `words`; return its text."""
    page.wait_for_function(
        "w => document.querySelector('.unlock-status').textContent.includes(w)",
        arg=words,
    )
    return page.locator(".unlock-status").inner_text()


def assert_clean(page):
    assert page.watch.foreign_requests() == []
    assert page.watch.errors == []


def test_the_right_passphrase_shows_the_text_and_the_image(page, base):
    page.goto(base + LETTER)
    assert LETTER_TEXT not in page.content()
    unlock(page, FRIENDS)
    page.get_by_text(LETTER_TEXT).wait_for()
    assert page.get_by_role("heading", name="A letter I didn't send").is_visible()
    image = page.get_by_alt_text(LETTER_ALT)
    image.wait_for()
    page.wait_for_function(
        "alt => [...document.images].some(i => i.alt === alt && i.naturalWidth > 0)",
        arg=LETTER_ALT,
    )
    assert image.get_attribute("src").startswith("blob:")
    assert page.get_by_role("button", name="Lock again").is_visible()
    assert page.title().startswith("A letter I didn't send")
    assert_clean(page)


def test_a_wrong_passphrase_says_so_and_keeps_the_field(page, base):
    page.goto(base + LETTER)
    unlock(page, "not the passphrase at all")
    status = page.locator(".unlock-status")
    wait_for_status(page, "didn")
    assert "didn't open this post" in status.inner_text()
    assert status.get_attribute("aria-live") == "polite"
    assert page.get_by_label("Passphrase").input_value() == "not the passphrase at all"
    assert LETTER_TEXT not in page.content()
    assert_clean(page)


def test_another_post_of_the_audience_opens_without_asking(page, base):
    page.goto(base + LETTER)
    unlock(page, FRIENDS)
    page.get_by_text(LETTER_TEXT).wait_for()
    page.goto(base + PHONE_CALL)
    page.get_by_role("heading", name="After the phone call").wait_for()
    assert page.locator(".unlock-form").is_hidden()
    assert_clean(page)


def test_lock_again_relocks_and_forgets_the_key(page, base):
    page.goto(base + LETTER)
    unlock(page, FRIENDS, remember=True)
    page.get_by_role("button", name="Lock again").click()
    page.get_by_label("Passphrase").wait_for()
    assert "Locked again" in page.locator(".unlock-status").inner_text()
    assert LETTER_TEXT not in page.content()
    assert page.get_by_label("Passphrase").input_value() == ""
    # Forgotten everywhere: another post of the audience asks again.
    page.goto(base + PHONE_CALL)
    page.get_by_label("Passphrase").wait_for()
    assert "kitchen floor" not in page.content()
    assert_clean(page)


@pytest.mark.parametrize("remember", [True, False], ids=["remember", "default"])
def test_remember_survives_a_new_browser_over_the_same_profile_and_default_does_not(
    playwright_instance, tmp_path, base, remember
):
    def launch():
        return playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(),
        )

    context = launch()
    page = context.new_page()
    page.watch = PageWatch(page)
    page.goto(base + LETTER)
    unlock(page, FRIENDS, remember=remember)
    page.get_by_text(LETTER_TEXT).wait_for()
    assert_clean(page)
    context.close()

    context = launch()
    try:
        page = context.new_page()
        page.watch = PageWatch(page)
        page.goto(base + PHONE_CALL)
        if remember:
            page.get_by_role("heading", name="After the phone call").wait_for()
        else:
            page.get_by_label("Passphrase").wait_for()
            assert "After the phone call" not in page.content()
        assert_clean(page)
    finally:
        context.close()


def test_a_tampered_payload_says_the_post_could_not_be_opened(page, site, http_serve):
    page.goto(http_serve(site["damaged"]) + PHONE_CALL)
    unlock(page, FRIENDS)
    wait_for_status(page, "could not")
    assert (
        page.locator(".unlock-status")
        .inner_text()
        .startswith("This post could not be opened")
    )
    assert "kitchen floor" not in page.content()
    assert page.get_by_role("heading", name="A post for Close friends").is_visible()
    assert_clean(page)


def test_a_newer_format_version_asks_for_a_newer_page(page, site, http_serve):
    page.goto(http_serve(site["damaged"]) + LETTER)
    wait_for_status(page, "newer")
    assert page.locator(".unlock-form").is_hidden()
    assert_clean(page)


def test_a_link_that_unlocks_opens_the_post_and_leaves_the_address_bar(page, base):
    known = State.load(ROOT / "hearth-state.json").known_audience("friends")
    key = envelope.derive_key(FRIENDS, *known)
    page.goto(links.unlock_link(LETTER, key, base))
    page.get_by_text(LETTER_TEXT).wait_for()
    assert page.url == base + LETTER
    assert "#" not in page.evaluate("location.href")
    assert_clean(page)


def test_a_broken_link_falls_back_to_the_passphrase(page, base):
    page.goto(base + LETTER + "#k=" + "A" * 43)
    page.get_by_label("Passphrase").wait_for()
    # The field shows while the link's key is still being tried (directly,
    # then through the keyring): wait for the verdict, do not race it.
    page.locator(".unlock-status", has_text="didn't unlock").wait_for()
    assert "#" not in page.evaluate("location.href")
    assert_clean(page)


def test_outside_a_secure_context_the_panel_asks_for_https(browser, base):
    context = browser.new_context()
    context.add_init_script(
        "Object.defineProperty(window, 'isSecureContext', {get: () => false})"
    )
    page = context.new_page()
    page.watch = PageWatch(page)
    try:
        page.goto(base + LETTER)
        wait_for_status(page, "https")
        assert page.locator(".unlock-form").is_hidden()
        assert_clean(page)
    finally:
        context.close()


def test_without_javascript_the_page_explains_that_unlocking_needs_it(browser, base):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(base + LETTER)
        # Playwright's text engine skips <noscript>; find the message by class.
        notice = page.locator(".locked-noscript")
        assert notice.is_visible()
        assert "Unlocking this post needs JavaScript" in notice.inner_text()
        assert page.locator(".unlock-form").is_hidden()
    finally:
        context.close()


def test_the_locked_panel_passes_axe(page, base):
    page.goto(base + LETTER)
    page.get_by_label("Passphrase").wait_for()
    # page.evaluate goes through the DevTools protocol, outside the page CSP.
    axe = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
    page.evaluate(axe)
    result = page.evaluate("axe.run(document).then(r => r.violations.map(v => v.id))")
    assert result == []


def test_a_warned_private_post_opens_behind_its_content_warning(page, base):
    page.goto(base + PHONE_CALL)
    unlock(page, FRIENDS)
    page.get_by_role("heading", name="Content warning").wait_for()
    assert page.get_by_text("therapy rupture").is_visible()
    assert not page.get_by_text("sat on the kitchen floor").is_visible()
    page.get_by_text("Show the post").click()
    page.get_by_text("sat on the kitchen floor", exact=False).wait_for()
    assert_clean(page)


def test_after_unlocking_the_home_page_and_archives_show_the_audiences_posts(
    page, base
):
    page.goto(base + "/")
    assert page.get_by_role("link", name="A post for Close friends").is_visible()
    assert "A letter I didn" not in page.content()
    # A reader without a key fetches no private list at all.
    assert not [u for u in page.watch.requests if "/p/i/" in u]

    page.goto(base + LETTER)
    unlock(page, FRIENDS)
    page.get_by_text(LETTER_TEXT).wait_for()
    for where in ("/", "/archives.html"):
        page.goto(base + where)
        # The locked entry takes its real title; the hidden post joins the list.
        page.get_by_role("link", name="After the phone call").wait_for()
        page.get_by_role("link", name="A letter I didn't send").wait_for()
        assert page.get_by_role("link", name="A post for Close friends").count() == 0
    titles = page.locator("ul.archive a").all_inner_texts()
    assert titles.index("A letter I didn't send") < titles.index(
        "A Sunday walk with the dog"
    )
    assert_clean(page)


def _link_fragment():
    known = State.load(ROOT / "hearth-state.json").known_audience("friends")
    key = envelope.derive_key(FRIENDS, *known)
    return "#" + links.unlock_link(LETTER, key).split("#", 1)[1]


@pytest.mark.parametrize(
    "case",
    [
        ("damaged", PHONE_CALL, False),  # the payload fails after the key opens
        ("damaged", LETTER, False),  # a newer version: nothing is parsed
        ("good", LETTER, True),  # an insecure page: no WebCrypto at all
        ("good", "/", False),  # the home page: no panel
    ],
    ids=["damaged payload", "newer version", "insecure page", "home page"],
)
def test_the_fragment_is_gone_from_the_address_bar_on_every_path(
    browser, site, http_serve, case
):
    which, path, insecure = case
    base = http_serve(site[which])
    context = browser.new_context()
    if insecure:
        context.add_init_script(
            "Object.defineProperty(window, 'isSecureContext', {get: () => false})"
        )
    page = context.new_page()
    try:
        page.goto(base + path + _link_fragment())
        page.wait_for_function("() => !location.hash")
        assert "#" not in page.evaluate("location.href")
    finally:
        context.close()


STORED_KEYS = """async () => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open("hearth");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
  const out = {};
  for (const name of db.objectStoreNames) {
    const all = await new Promise((ok) => {
      const r = db.transaction(name).objectStore(name).getAll();
      r.onsuccess = () => ok(r.result);
    });
    out[name] = all.map((k) => [k instanceof CryptoKey, k.extractable, k.usages]);
  }
  db.close();
  const session = Object.keys(sessionStorage);
  return {stores: out, session, local: localStorage.length};
}"""


def test_a_session_key_is_shared_by_a_new_tab_and_never_readable(page, base):
    page.goto(base + LETTER)
    unlock(page, FRIENDS)
    page.get_by_text(LETTER_TEXT).wait_for()
    stored = page.evaluate(STORED_KEYS)
    assert stored["stores"]["session-keys"] == [[True, False, ["unwrapKey"]]]
    assert stored["stores"]["audience-keys"] == []
    assert stored["session"] == [] and stored["local"] == 0
    # A reader tapping a second link opens a new tab of the same session.
    tab = page.context.new_page()
    tab.goto(base + PHONE_CALL)
    tab.get_by_role("heading", name="After the phone call").wait_for()
    assert tab.locator(".unlock-form").is_hidden()


def test_a_new_browser_session_forgets_the_last_sessions_keys(page, base):
    page.goto(base + LETTER)
    unlock(page, FRIENDS)
    page.get_by_text(LETTER_TEXT).wait_for()
    # The browser ends the session: its session cookies are gone.
    page.context.clear_cookies()
    page.goto(base + PHONE_CALL)
    page.get_by_label("Passphrase").wait_for()
    assert page.locator(".unlock-form").is_visible()
    page.wait_for_function(
        "async () => (await (async () => { const db = await new Promise(ok => {"
        " const r = indexedDB.open('hearth'); r.onsuccess = () => ok(r.result); });"
        " const n = await new Promise(ok => { const r = db.transaction('session-keys')"
        ".objectStore('session-keys').count(); r.onsuccess = () => ok(r.result); });"
        " db.close(); return n; })()) === 0"
    )


def test_remember_on_this_device_keeps_a_non_extractable_key(page, base):
    page.goto(base + LETTER)
    unlock(page, FRIENDS, remember=True)
    page.get_by_text(LETTER_TEXT).wait_for()
    stored = page.evaluate(STORED_KEYS)
    assert stored["stores"]["audience-keys"] == [[True, False, ["unwrapKey"]]]
    assert stored["stores"]["session-keys"] == []


def _state(page):
    return page.locator("#hearth-private").get_attribute("data-state")


def test_the_panel_states_its_state_at_every_step(page, site, http_serve, browser):
    base = http_serve(site["good"])
    page.goto(base + LETTER)
    page.get_by_label("Passphrase").wait_for()
    assert _state(page) == "locked"
    unlock(page, "not the passphrase at all")
    wait_for_status(page, "didn")
    assert _state(page) == "wrong"
    unlock(page, FRIENDS)
    page.get_by_text(LETTER_TEXT).wait_for()
    assert _state(page) == "open"
    page.get_by_role("button", name="Lock again").click()
    page.get_by_label("Passphrase").wait_for()
    assert _state(page) == "locked"
    damaged = http_serve(site["damaged"])
    page.goto(damaged + LETTER)
    wait_for_status(page, "newer")
    assert _state(page) == "newer"
    page.goto(damaged + PHONE_CALL)
    unlock(page, FRIENDS)
    wait_for_status(page, "damaged")
    assert _state(page) == "damaged"
    assert page.locator(".unlock-form").is_hidden()
    context = browser.new_context()
    context.add_init_script(
        "Object.defineProperty(window, 'isSecureContext', {get: () => false})"
    )
    insecure = context.new_page()
    try:
        insecure.goto(base + LETTER)
        wait_for_status(insecure, "https")
        assert _state(insecure) == "insecure"
    finally:
        context.close()
