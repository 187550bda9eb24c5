"""The bad week (issue 14) against real servers: a notice post while the
blog is down, for a while, and what stays elsewhere."""

import hashlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from invoke import Exit, MockContext

import tasks
from hearth.targets import open_target, ops
from tests.conftest import ROOT, environ, passphrase_env
from tests.targets.conftest import get
from tests.targets.cycle import LOCKED_META, NOTICE_META, marker_state
from tests.targets.test_file import http_reader

pytestmark = pytest.mark.server

ATOM = "{http://www.w3.org/2005/Atom}"
NOTICE_FILE = "content/notices/resting.md"


def content_digest():
    digest = hashlib.sha256()
    for path in sorted((ROOT / "content").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(autouse=True)
def in_repository(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tasks, "LOCK_CACHE", str(tmp_path / "lock-cache"))
    monkeypatch.delenv("HEARTH_TARGET", raising=False)


@pytest.fixture
def served(tmp_path, nginx, sample_publish):
    """A file target nginx serves, holding the published sample site."""
    root = tmp_path / "www" / "blog"
    root.parent.mkdir()
    base = nginx(root)
    url = f"{root.as_uri()}?url={base}"
    ops.publish(sample_publish, [open_target(url)])
    return url, base, http_reader(base)


def feed_entries(body):
    return ET.fromstring(body).findall(ATOM + "entry")


def test_withdraw_with_a_notice_post_puts_it_at_every_old_address_and_in_the_feed(
    served, sample_publish
):
    url, base, read = served
    before = content_digest()
    tasks.withdraw(MockContext(), message="notices/resting.md", target=[url])
    assert content_digest() == before  # nothing in content/ was edited
    pages = [p.relative_to(sample_publish).as_posix()
             for p in sample_publish.rglob("*.html")]  # fmt: skip
    assert len(pages) > 10
    for rel in pages:
        body = read(rel)
        assert NOTICE_META in body, rel
        assert b"<h2>Taking some time</h2>" in body, rel
        assert b"I just need some quiet for a few days." in body, rel
    status, _headers, feed = get(base + "/feeds/all.atom.xml")
    assert status == 200
    [entry] = feed_entries(feed)
    assert entry.find(ATOM + "title").text == "Taking some time"
    assert "quiet for a few days" in entry.find(ATOM + "content").text
    [result] = ops.status([open_target(url)])
    assert (result.state, result.ok) == ("withdrawn", True), result.problems


def test_withdraw_takes_a_positional_message_on_the_command_line(served):
    url, base, read = served
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "withdraw", "I need some space",
         "--target", url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No idea what" not in done.stderr
    body = read("2026/the-kettle-list/index.html")
    assert NOTICE_META in body and b"<p>I need some space</p>" in body
    [entry] = feed_entries(get(base + "/feeds/all.atom.xml")[2])
    assert "I need some space" in entry.find(ATOM + "content").text


def test_a_message_file_anywhere_and_its_markdown_is_rendered_safely(served, tmp_path):
    url, _base, read = served
    note = tmp_path / "note.md"
    note.write_text(
        "Back *soon*.\n\n<script>alert('x')</script>\n\n"
        "[a link](javascript:alert(1)) and [help](https://www.samaritans.org/)\n\n"
        '![secret photo](/images/bramble.jpg) <img src=x onerror="alert(1)">\n'
    )
    tasks.withdraw(MockContext(), message_file=str(note), target=[url])
    body = read("index.html").decode()
    assert "<em>soon</em>" in body
    assert "<script" not in body and "javascript:" not in body
    assert "<img" not in body and "onerror=" not in body.replace("onerror=&quot;", "")
    assert "&lt;script&gt;" in body  # shown as text, not run
    assert 'href="https://www.samaritans.org/"' in body


def test_a_notice_post_for_an_audience_is_refused_and_the_site_stays(served, tmp_path):
    url, _base, read = served
    note = tmp_path / "private-note.md"
    note.write_text("---\ntitle: Just for you\naudience: friends\n---\n\nHello.\n")
    with pytest.raises(
        Exit, match=r"private-note.md is for friends.*a notice is public"
    ):
        tasks.withdraw(MockContext(), message_file=str(note), target=[url])
    assert marker_state(read) == "published"


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"message": "notices/missing.md"}, r"looks like a file name.*no such file"),
        ({"message_file": "nowhere.md"}, r"nowhere.md does not exist"),
        ({"message": "   "}, r"notice message is empty"),
        ({"message": "x", "message_file": NOTICE_FILE}, r"Give the notice once"),
    ],
)
def test_notice_mistakes_are_told_and_nothing_changes(served, kw, error):
    url, _base, read = served
    with pytest.raises(Exit, match=error):
        tasks.withdraw(MockContext(), target=[url], **kw)
    assert marker_state(read) == "published"


def test_lock_with_a_notice_shows_it_in_the_clear_beside_the_unlock_form(served):
    url, base, read = served
    with environ(**passphrase_env()):
        tasks.lock(MockContext(), message="I'm keeping things private for a bit.",
                   target=[url])  # fmt: skip
    body = read("2026/the-kettle-list/index.html")
    assert LOCKED_META in body
    assert b"<p>I'm keeping things private for a bit.</p>" in body
    assert b"lockshell-form" in body
    assert b"kettle" not in body.lower().replace(b"the-kettle-list", b"")
    [entry] = feed_entries(get(base + "/feeds/all.atom.xml")[2])
    assert "private for a bit" in entry.find(ATOM + "content").text
    [result] = ops.status([open_target(url)])
    assert (result.state, result.ok) == ("locked", True), result.problems
