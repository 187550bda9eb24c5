"""file:// target served by a real nginx: the whole cycle, checked over HTTP."""

import os
from pathlib import Path

import pytest

from hearth.deploy import page_url
from hearth.targets import Interrupted, TargetError, open_target, ops
from tests.targets.conftest import StopAfter, get
from tests.targets.cycle import (
    LOCKED_META,
    MESSAGE,
    assert_locked,
    assert_published,
    assert_withdrawn,
    build_files,
    lock,
    marker_state,
)

pytestmark = pytest.mark.server


def http_reader(base):
    def read(rel):
        status, _headers, body = get(base + page_url(rel))
        if status == 404 and not body:
            return None
        return body if status in (200, 404) else None

    return read


def withdraw(target, **kw):
    return ops.withdraw(
        [target], sitename="Hearth", site_url="http://127.0.0.1",
        message=MESSAGE, feeds=["feeds/all.atom.xml"], **kw,
    )  # fmt: skip


@pytest.fixture
def served(tmp_path, nginx):
    """(target, reader over HTTP, base URL) for a fresh folder nginx serves."""
    root = tmp_path / "www" / "blog"
    root.parent.mkdir()
    base = nginx(root)
    target = open_target(f"{root.as_uri()}?url={base}")
    return target, http_reader(base), base


def test_publish_withdraw_publish_lock_publish_over_http(
    sample_publish, served, site_recipients
):
    target, read, _base = served
    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    assert marker_state(read) == "published"
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("published", True), status.problems
    assert status.checked_urls > 1

    withdraw(target)
    # Every URL of the first publish now answers without its old content.
    assert_withdrawn(read, sample_publish, missing_is_notice=True)
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("withdrawn", True), status.problems

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("published", True), status.problems

    lock(sample_publish, target, site_recipients)
    # Every URL, known or not, answers with the unlock page.
    assert_locked(read, sample_publish, site_recipients, missing_is_shell=True)
    assert LOCKED_META in read("no/such/page.html")
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("locked", True), status.problems

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("published", True), status.problems


def test_pages_and_feeds_are_served_no_cache(sample_publish, served):
    target, _read, base = served
    ops.publish(sample_publish, [target])
    for path in ("/", "/feeds/all.atom.xml", "/2026/the-kettle-list/"):
        status, headers, _ = get(base + path)
        assert status == 200
        assert headers["Cache-Control"] == "no-cache", path


def test_document_root_is_switched_by_symlink_and_old_releases_pruned(
    sample_publish, tmp_path
):
    root = tmp_path / "blog"
    target = open_target(root.as_uri())
    ops.publish(sample_publish, [target])
    first = root.resolve()
    ops.publish(sample_publish, [target])  # nothing changed: nothing moves
    assert root.resolve() == first
    withdraw(target)
    assert root.is_symlink()
    releases = target.releases
    # Withdraw prunes every old release: the old site is not kept beside it.
    assert [p.name for p in releases.iterdir()] == [root.resolve().name]


def inodes(folder):
    return {p.stat().st_ino for p in Path(folder).rglob("*") if p.is_file()}


def test_withdraw_notice_is_one_file_linked_at_every_page_never_into_the_build(
    sample_publish, tmp_path
):
    root = tmp_path / "blog"
    target = open_target(root.as_uri())
    ops.publish(sample_publish, [target])
    # A release never shares bytes with the build: a later build writes
    # there in place, and a live release must not change under readers.
    assert not inodes(root.resolve()) & inodes(sample_publish)
    withdraw(target)
    pages = list(root.resolve().rglob("*.html"))
    assert len(pages) > 3
    assert len({p.stat().st_ino for p in pages}) == 1
    assert pages[0].stat().st_nlink == len(pages)
    assert MESSAGE in pages[0].read_text()
    assert not inodes(root.resolve()) & inodes(sample_publish)


def test_republishing_unchanged_site_changes_nothing(sample_publish, tmp_path):
    target = open_target((tmp_path / "blog").as_uri())
    ops.publish(sample_publish, [target])
    [again] = ops.publish(sample_publish, [target])
    assert not again.plan.changed
    withdraw(target)
    [again] = withdraw(target)
    assert not again.plan.changed


def test_dry_run_touches_nothing(sample_publish, tmp_path):
    root = tmp_path / "blog"
    target = open_target(root.as_uri())
    [outcome] = ops.publish(sample_publish, [target], dry_run=True)
    assert len(outcome.plan.upload) == len(build_files(sample_publish)) + 1
    assert not root.exists() and not target.releases.exists()
    ops.publish(sample_publish, [target])
    before = root.resolve()
    [outcome] = withdraw(target, dry_run=True)
    assert outcome.plan.changed
    assert root.resolve() == before
    assert marker_state(target.read_file) == "published"


def test_interrupted_withdraw_leaves_old_site_whole_then_rerun_converges(
    sample_publish, served
):
    target, read, _base = served
    ops.publish(sample_publish, [target])
    with pytest.raises(Interrupted):
        withdraw(target, reporter=StopAfter(5))
    # The switch never happened: readers still get the whole old site.
    assert_published(read, sample_publish)
    withdraw(target)
    assert_withdrawn(read, sample_publish, missing_is_notice=True)
    assert not (target.releases / "staging").exists()
    [status] = ops.status([target])
    assert status.ok, status.problems


SLOW_PUBLISH = """
import contextlib, pathlib, sys, time
from hearth.targets import open_target, ops

class Slow(ops.Reporter):
    def progress(self, target, total):
        def advance(path):
            pathlib.Path(sys.argv[3]).touch()
            time.sleep(0.2)
        return contextlib.nullcontext(advance)

ops.publish(sys.argv[1], [open_target(sys.argv[2])], reporter=Slow())
"""


def test_publish_killed_mid_way_then_rerun_converges(sample_publish, tmp_path):
    """A real kill (SIGKILL) of a publish in another process, then a re-run."""
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "blog"
    target = open_target(root.as_uri())
    withdraw(target)
    started = tmp_path / "started"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_PUBLISH, str(sample_publish), root.as_uri(),
         str(started)],
        env={**os.environ, "TMPDIR": str(tmp_path)},  # what a kill leaves, here
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    # Killed while filling the staging folder: the notice is still live.
    assert marker_state(target.read_file) == "withdrawn"
    assert (target.releases / "staging").exists()
    ops.publish(sample_publish, [target])
    assert_published(target.read_file, sample_publish)
    assert not (target.releases / "staging").exists()


def test_missing_parent_folder_fails_clearly(sample_publish, tmp_path):
    target = open_target((tmp_path / "nope" / "blog").as_uri())
    with pytest.raises(TargetError, match=r"does not exist.*create it or fix"):
        ops.publish(sample_publish, [target])
    assert not (tmp_path / "nope").exists()


def test_status_reports_an_old_page_left_after_withdraw(sample_publish, served):
    target, _read, _base = served
    ops.publish(sample_publish, [target])
    withdraw(target)
    # Someone (or a half-finished tool) puts an old page back on the target.
    live = target.root.resolve()
    (live / "2026" / "the-kettle-list" / "index.html").write_bytes(
        (sample_publish / "2026" / "the-kettle-list" / "index.html").read_bytes()
    )
    [status] = ops.status([target])
    assert not status.ok
    assert any(
        "OLD PAGE STILL" in p and "the-kettle-list" in p for p in status.problems
    )


def test_status_reports_a_cache_still_serving_an_old_page(sample_publish, served):
    """A CDN or nginx's open_file_cache may serve the old page after a withdraw."""
    target, _read, base = served
    ops.publish(sample_publish, [target])
    old = (sample_publish / "2026" / "the-kettle-list" / "index.html").read_bytes()
    withdraw(target)

    def stale_cache(url):
        if url == base + "/2026/the-kettle-list/":
            return 200, old
        return ops.http_get(url)

    [status] = ops.status([target], fetch=stale_cache)
    expected = (
        f"OLD PAGE STILL REACHABLE: {base}/2026/the-kettle-list/ answers 200 "
        "without the withdrawn page. Check caches (docs/hosting.md) and re-run "
        "`invoke withdraw`."
    )
    assert [p for p in status.problems if "OLD PAGE" in p] == [expected]
    [honest] = ops.status([target])
    assert honest.ok, honest.problems
