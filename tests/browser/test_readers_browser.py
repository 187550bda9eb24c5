"""Named readers unlock in real Chromium through their audience's keyring.

A small publish build in tmp_path with two readers of `friends`; served on
127.0.0.1. Removing a reader and publishing again shuts them out while the
other reader's remembered key keeps opening the new build.
"""

import os
import shutil

import pytest
from pelican.log import LimitFilter

from hearth import envelope, secrets
from tests.conftest import build

pytestmark = pytest.mark.browser

POST = """---
title: Keyring post
date: 2026-03-02 10:00
audience: friends
listing: locked
---

Opened through the keyring.
"""


@pytest.fixture(autouse=True)
def no_outside_secrets(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HEARTH_PASSPHRASE") or name == "HEARTH_SECRETS_FILE":
            monkeypatch.delenv(name)
    raised = set(LimitFilter._raised_messages)
    yield
    LimitFilter._raised_messages.clear()
    LimitFilter._raised_messages.update(raised)


def publish(root, out):
    output = build(
        root / out,
        "publishconf.py",
        content=root / "content",
        CACHE_PATH=str(root / "cache"),
    )
    (output / "favicon.ico").write_bytes(b"")
    return output


@pytest.fixture
def two_readers(tmp_path):
    posts = tmp_path / "content" / "posts"
    posts.mkdir(parents=True)
    (posts / "post.md").write_text(POST)
    file = tmp_path / "secrets.toml"
    sam = secrets.add_reader("friends", "sam", secrets_file=file)
    jo = secrets.add_reader("friends", "jo", secrets_file=file)
    output = publish(tmp_path, "first")
    (page_path,) = output.glob("p/[0-9a-f]*/index.html")
    url = "/" + page_path.parent.relative_to(output).as_posix() + "/"
    return tmp_path, output, url, sam, jo


def unlock(page, passphrase):
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_label("Passphrase").press("Enter")


def test_a_reader_opens_with_their_passphrase_and_their_link(
    page, two_readers, http_serve
):
    _, output, url, sam, jo = two_readers
    base = http_serve(output)
    page.goto(base + url)
    unlock(page, sam.passphrase)
    page.get_by_text("Opened through the keyring.").wait_for()
    assert page.watch.errors == []
    other = page.context.new_page()
    other.goto(base + url + "#k=" + envelope.b64url(jo.link))
    other.get_by_text("Opened through the keyring.").wait_for()
    assert "#" not in other.evaluate("location.href")


def test_a_removed_reader_is_shut_out_and_the_other_notices_nothing(
    page, browser, two_readers, http_serve
):
    root, output, url, sam, jo = two_readers
    # jo unlocks and ticks "Remember on this device" in their own browser.
    jo_context = browser.new_context()
    jo_page = jo_context.new_page()
    base = http_serve(output)
    jo_page.goto(base + url)
    jo_page.get_by_label("Passphrase").fill(jo.passphrase)
    jo_page.get_by_label("Remember on this device").check()
    jo_page.get_by_label("Passphrase").press("Enter")
    jo_page.get_by_text("Opened through the keyring.").wait_for()

    secrets.remove_reader("friends", "sam", secrets_file=root / "secrets.toml")
    after = publish(root, "after")
    # The same address now serves the new build.
    shutil.rmtree(output)
    shutil.copytree(after, output)

    page.goto(base + url)
    unlock(page, sam.passphrase)
    page.wait_for_function(
        "w => document.querySelector('.unlock-status').textContent.includes(w)",
        arg="didn",
    )
    assert "Opened through the keyring." not in page.content()
    jo_page.goto(base + url)
    jo_page.get_by_text("Opened through the keyring.").wait_for()
    jo_context.close()
