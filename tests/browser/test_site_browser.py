"""The published sample site in real Chromium: no foreign requests, no console
errors, the contact address on request, keyboard access, and axe-core."""

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The pages the issue names, by their URL in the publish build.
PAGES = {
    "home": "/",
    "article": "/2026/the-kettle-list/",
    "archives": "/archives.html",
    "404": "/404.html",
    "about": "/about/",
}
ADDRESS = "robin.writes@example.org"


@pytest.fixture
def site(sample_publish, http_serve):
    return http_serve(sample_publish)


def every_page(output):
    for html in sorted(output.rglob("*.html")):
        url = "/" + html.relative_to(output).as_posix()
        yield url.removesuffix("index.html")


def test_every_page_loads_with_no_foreign_request_and_no_console_error(
    site, sample_publish, page
):
    urls = list(every_page(sample_publish))
    assert set(PAGES.values()) <= set(urls)
    for url in urls:
        response = page.goto(site + url)
        assert response.ok, url
        assert page.watch.errors == [], f"console errors on {url}"
    # Images, styles, scripts, the favicon: everything came from 127.0.0.1.
    assert page.watch.foreign_requests() == []
    assert any(u.endswith("/theme/css/hearth.css") for u in page.watch.requests)
    assert any(u.endswith("/images/bramble.jpg") for u in page.watch.requests)
    assert any(u.endswith("/theme/favicon.svg") for u in page.watch.requests)


def test_contact_button_reveals_the_address_only_when_asked(site, page):
    page.goto(site + PAGES["about"])
    # Before the click the page holds no whole address and no mailto: link.
    assert ADDRESS not in page.content()
    assert page.locator("a[href^='mailto:']").count() == 0
    page.get_by_role("button", name="Show the email address").click()
    link = page.get_by_role("link", name=ADDRESS)
    assert link.get_attribute("href") == f"mailto:{ADDRESS}"
    assert link.evaluate("el => el === document.activeElement")
    assert page.watch.errors == []


def test_contact_shows_a_spelled_out_address_without_javascript(
    browser, site, sample_publish
):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site + PAGES["home"])
        assert page.get_by_text("robin.writes (at) example (dot) org").is_visible()
        assert not page.get_by_role("button", name="Show the email address").count()
    finally:
        context.close()


def test_skip_link_is_first_visible_on_focus_and_moves_to_the_text(site, page):
    page.goto(site + PAGES["article"])
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the text")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["x"] >= 0, "skip link off screen on focus"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_focused_links_and_buttons_show_an_outline(site, page):
    page.goto(site + PAGES["about"])
    for locator in (
        page.get_by_role("link", name="Archives"),
        page.get_by_role("button", name="Show the email address"),
    ):
        locator.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
        style = locator.evaluate(
            "el => { const s = getComputedStyle(el);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert style[0] != "none" and style[1] >= 2, style


def test_landmarks_and_labels_are_there(site, page):
    page.goto(site + PAGES["home"])
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("contentinfo").count() == 1
    assert page.get_by_role("navigation", name="Site").count() == 1
    assert page.get_by_role("navigation", name="Pages of posts").count() == 1
    assert page.get_by_role("link", name="Home").get_attribute("aria-current") == (
        "page"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scheme_follows_the_reader(browser, site, scheme):
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(site + PAGES["home"])
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    finally:
        context.close()
    expected = {"light": "rgb(251, 248, 243)", "dark": "rgb(27, 26, 24)"}
    assert background == expected[scheme]


def test_phone_width_needs_no_sideways_scrolling(browser, site):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        for url in (PAGES["home"], PAGES["article"], PAGES["archives"]):
            page.goto(site + url)
            assert page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth"
            ), url
        page.goto(site + "/2026/a-sunday-walk-with-the-dog/")
        width = page.locator("figure img").bounding_box()["width"]
        assert width <= 320
    finally:
        context.close()


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (scripts/setup --test).")
    return AXE.read_text()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", ["home", "article", "archives", "404"])
def test_axe_finds_no_serious_or_critical_violation(
    browser, site, axe_source, name, scheme
):
    context = browser.new_context(color_scheme=scheme)
    try:
        # The CSP allows only the site's own scripts, so a <script> tag
        # injected into the page would be refused. An init script is added
        # through the DevTools protocol, which the page's CSP does not
        # govern: axe runs on the page exactly as readers get it.
        context.add_init_script(script=axe_source)
        page = context.new_page()
        page.goto(site + PAGES[name], wait_until="networkidle")
        results = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
        )
    finally:
        context.close()
    # axe really ran, colour contrast included (it is what dark mode risks).
    checked = {r["id"] for kind in ("passes", "violations") for r in results[kind]}
    assert "color-contrast" in checked
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], "\n".join(bad)
