"""`invoke preview`: rebuilds on change, reloads real Chromium, shows errors.

The real `invoke preview` runs in a copy of the repository on a free port;
Chromium (Playwright) looks at it as the writer's browser would.
"""

import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import stop_group
from tests.test_tasks import INVOKE, fetch, free_port, repo  # noqa: F401

pytestmark = pytest.mark.server

POST = "content/posts/2026-10-05-sunday-walk.md"


@pytest.fixture
def preview(repo, tmp_path):  # noqa: F811 - the fixture imported above
    """Start `invoke preview` in the copy; return (port, log file)."""
    started = []

    def _start(port=None):
        port = port or free_port()
        log = tmp_path / f"preview-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(INVOKE), "-r", str(repo), "preview", "--port", str(port)],
                cwd=repo,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(proc)
        return port, log, proc

    yield _start
    for proc in started:
        stop_group(proc)


def body_text(page):
    # Polled from outside: the theme's CSP refuses wait_for_function's eval.
    try:
        return page.inner_text("body")
    except Exception:  # noqa: BLE001 - the page is between two loads
        return ""


def listen_for_hello(page):
    """A list that gets an item once livereload.js has shaken hands."""
    greeted = []

    def on_socket(socket):
        socket.on(
            "framereceived",
            lambda frame: greeted.append(1) if "hello" in str(frame) else None,
        )

    page.on("websocket", on_socket)
    return greeted


def wait_for(predicate, timeout=30, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.browser
def test_saving_a_post_reloads_the_open_page_in_chromium(repo, preview, page):  # noqa: F811
    port, log, _ = preview()
    url = f"http://127.0.0.1:{port}/2026/a-sunday-walk-with-the-dog/"
    fetch(url, until="the canal path, and")
    greeted = listen_for_hello(page)
    page.goto(url)
    assert "the canal path, and" in page.content()
    # Set on this page load only: gone after a reload.
    page.evaluate("window.hearthTestMarker = 1")
    wait_for(lambda: greeted, 15, "livereload's handshake")
    post = repo / POST
    post.write_text(
        post.read_text().replace("the canal path, and", "the river path, and")
    )
    try:
        wait_for(lambda: "the river path, and" in body_text(page), 30, "the river")
    except BaseException:
        print(log.read_text())
        raise
    assert page.evaluate("window.hearthTestMarker") is None
    # The reload script runs under the theme's CSP: nothing was refused.
    assert not [e for e in page.watch.errors if "Content Security Policy" in e]
    assert not page.watch.foreign_requests()
    assert "Traceback" not in log.read_text()


@pytest.mark.browser
def test_a_broken_post_shows_an_error_page_once_then_the_site_again(
    repo,  # noqa: F811
    preview,
    page,
):
    port, log, _ = preview()
    url = f"http://127.0.0.1:{port}/2026/a-sunday-walk-with-the-dog/"
    fetch(url, until="the canal path, and")
    greeted = listen_for_hello(page)
    page.goto(url)
    wait_for(lambda: greeted, 15, "livereload's handshake")
    post = repo / POST
    good = post.read_text()
    post.write_text(good.replace("title:", "title: [unclosed", 1))
    wait_for(lambda: "waiting for a fix" in body_text(page), 30, "waiting for a fix")
    text = page.inner_text("body")
    assert "2026-10-05-sunday-walk.md" in text
    assert "the canal path, and" not in text  # not the old page
    # Any other page of the site shows the error too, not a stale copy.
    with pytest.raises(urllib.error.HTTPError) as home:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
    assert home.value.code == 500
    assert "waiting for a fix" in home.value.read().decode()
    time.sleep(3)  # the old preview repeated its error several times a second
    printed = log.read_text()
    assert printed.count("2026-10-05-sunday-walk.md") == 1, printed
    assert "Traceback" not in printed
    post.write_text(good)
    wait_for(
        lambda: "the canal path, and" in body_text(page), 30, "the canal path, and"
    )


def test_a_busy_port_names_a_port_to_try_without_a_traceback(repo, preview):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _, log, proc = preview(port)
        assert proc.wait(60) != 0
    printed = log.read_text()
    assert f"Port {port} on 127.0.0.1 is already in use" in printed
    assert "invoke preview --port " in printed
    assert "Traceback" not in printed
    assert printed.count("already in use") == 1
