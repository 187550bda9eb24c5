"""Shared fixtures: build a real site, serve it on 127.0.0.1, drive Chromium."""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.log import LimitFilter
from pelican.settings import read_settings

from tests.support.localweb import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
# The test passphrases README documents ("Passphrases"). A publish build
# refuses the preview's demo passphrases, so publish builds in tests use these.
TEST_PASSPHRASES = {
    "friends": "hearth-test-friends-passphrase",
    "family": "hearth-test-family-passphrase",
    "site": "hearth-test-site-passphrase",
}


# A publish build stops while the site's address is unset or loopback
# (hearth/guard.py): the suite's publish builds, including the `invoke`
# processes tests start, use this placeholder domain (RFC 2606 .example).
TEST_SITEURL = "https://blog.example"
os.environ.setdefault("HEARTH_SITEURL", TEST_SITEURL)

# Hearth shows times in the computer's zone (hearth.localtime); the suite's
# expected texts are in UTC, whatever zone the machine running it is in
# (tests/test_localtime.py sets other zones itself).
os.environ["TZ"] = "UTC"
time.tzset()

# A build on a CI runner refuses to make a state key (hearth/state.py): the
# suite's builds are the developer's, wherever the suite runs;
# tests/test_state.py sets these itself.
for _variable in ("CI", "GITHUB_ACTIONS"):
    os.environ.pop(_variable, None)


def build(output, settings_file="pelicanconf.py", content=None, **override):
    """Build a site with Hearth's settings and plugins; return the output Path.

    `content` replaces the sample site's content folder; `override` replaces
    settings as `pelican -e` would.
    """
    output = Path(output)
    settings = read_settings(
        str(ROOT / settings_file),
        override={
            "PATH": str(content or CONTENT),
            "OUTPUT_PATH": str(output),
            "THEME": str(ROOT / "theme"),
            "PLUGIN_PATHS": [str(ROOT / "plugins")],
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            **override,
        },
    )
    cwd = os.getcwd()
    os.chdir(ROOT)  # settings files may name paths relative to the repository
    try:
        Pelican(settings).run()
    finally:
        os.chdir(cwd)
    return output


@contextlib.contextmanager
def kept_log_limits():
    """Pelican's process-wide log limits (LimitFilter) put back as found."""
    raised = set(LimitFilter._raised_messages)
    counts = dict(LimitFilter._group_count)
    try:
        yield
    finally:
        LimitFilter._raised_messages.clear()
        LimitFilter._raised_messages.update(raised)
        LimitFilter._group_count.clear()
        LimitFilter._group_count.update(counts)


@pytest.fixture(autouse=True)
def isolated_log_limits():
    """Give every test Pelican's process-wide log limits as it found them.

    Pelican drops repeated messages and caps each limit_msg group for the
    whole process, and Hearth resets them at each build: without this, one
    test's builds could silence a warning a later test waits for.
    """
    with kept_log_limits():
        yield


@pytest.fixture
def build_site(tmp_path):
    """Build into a fresh folder under tmp_path: build_site(**overrides)."""
    counter = iter(range(1000))

    def _build(settings_file="pelicanconf.py", content=None, **override):
        return build(
            tmp_path / f"out{next(counter)}", settings_file, content, **override
        )

    return _build


@pytest.fixture(scope="session")
def sample_preview(tmp_path_factory):
    """The sample site, built once per session with the preview settings."""
    return build(tmp_path_factory.mktemp("preview"), "pelicanconf.py")


@pytest.fixture(scope="session")
def sample_publish(tmp_path_factory):
    """The sample site, built once per session with the publish settings."""
    with environ(**passphrase_env()):
        return build(tmp_path_factory.mktemp("publish"), "publishconf.py")


def passphrase_env(**passphrases):
    """Environment variables for the test passphrases (plus any given)."""
    values = {**TEST_PASSPHRASES, **passphrases}
    return {
        f"HEARTH_PASSPHRASE_{k.upper().replace('-', '_')}": v for k, v in values.items()
    }


@contextlib.contextmanager
def environ(**values):
    """Set environment variables for the duration of a with block."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def http_serve():
    """http_serve(folder) -> base URL; stopped at the end of the test."""
    with contextlib.ExitStack() as stack:
        yield lambda directory: stack.enter_context(serve(directory))


def chromium_args():
    return list(CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/run (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=chromium_args()
    )
    yield browser
    browser.close()


class PageWatch:
    """Records every request a page makes and every console error it logs."""

    def __init__(self, page):
        self.page = page
        self.requests = []
        self.errors = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def foreign_requests(self):
        return [
            u
            for u in self.requests
            if not u.startswith(("http://127.0.0.1", "blob:", "data:", "about:"))
        ]


@pytest.fixture
def page(browser):
    """A fresh browser context and page, with its requests and errors watched."""
    context = browser.new_context()
    pg = context.new_page()
    pg.watch = PageWatch(pg)
    yield pg
    context.close()


def copy_sample(dest):
    """Copy the sample content to dest and return it (for tests that edit it)."""
    shutil.copytree(CONTENT, dest)
    return Path(dest)


def site_build(root, settings="publishconf.py", **override):
    """Build root/content into root/out (cache in root/cache) with the test
    passphrases set: a small site made in a test's tmp_path."""
    root = Path(root)
    with environ(**passphrase_env()):
        return build(
            root / "out",
            settings,
            content=root / "content",
            CACHE_PATH=str(root / "cache"),
            **override,
        )


def stop_group(proc):
    """Stop a task started in its own process group: Ctrl-C, then a kill."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
