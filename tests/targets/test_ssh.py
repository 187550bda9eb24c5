"""ssh:// target: rsync over a real, throwaway sshd; checked on disk."""

import shutil

import pytest

from hearth.targets import MARKER, Interrupted, TargetError, open_target, ops
from tests.targets.conftest import StopAfter, free_port
from tests.targets.cycle import (
    MESSAGE,
    assert_locked,
    assert_published,
    assert_withdrawn,
    lock,
    marker_state,
)

pytestmark = pytest.mark.server


def withdraw(target, **kw):
    return ops.withdraw(
        [target], sitename="Hearth", site_url="http://127.0.0.1",
        message=MESSAGE, feeds=["feeds/all.atom.xml"], **kw,
    )  # fmt: skip


def ssh_target(sshd, root, port=None):
    url = (
        f"ssh://{sshd['user']}@127.0.0.1:{port or sshd['port']}{root}"
        f"?identity={sshd['key']}"
    )
    return open_target(url, ssh_options=sshd["options"])


def disk_reader(root):
    def read(rel):
        path = root / rel
        return path.read_bytes() if path.is_file() else None

    return read


def test_publish_withdraw_publish_lock_publish_over_ssh_checked_on_disk(
    sample_publish, sshd, tmp_path, site_recipients
):
    root = tmp_path / "srv" / "blog"
    root.parent.mkdir()
    target = ssh_target(sshd, root)
    read = disk_reader(root)

    ops.publish(sample_publish, [target])
    assert root.is_symlink()
    assert_published(read, sample_publish)
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("published", True), status.problems

    withdraw(target)
    assert_withdrawn(read, sample_publish)
    # Withdraw keeps no old release beside the document root.
    releases = tmp_path / "srv" / ".blog.releases"
    assert [p.name for p in releases.iterdir()] == [root.resolve().name]
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("withdrawn", True), status.problems

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    assert marker_state(read) == "published"

    lock(sample_publish, target, site_recipients)
    assert_locked(read, sample_publish, site_recipients)
    assert [p.name for p in releases.iterdir()] == [root.resolve().name]
    [status] = ops.status([target])
    assert (status.state, status.ok) == ("locked", True), status.problems

    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)


def test_only_changed_files_travel(sample_publish, sshd, tmp_path):
    root = tmp_path / "blog"
    target = ssh_target(sshd, root)
    ops.publish(sample_publish, [target])
    first = root.resolve()
    [again] = ops.publish(sample_publish, [target])
    assert not again.plan.changed
    assert root.resolve() == first  # nothing changed: no new release

    edited = tmp_path / "edited"
    shutil.copytree(sample_publish, edited)
    (edited / "about" / "index.html").write_text("<p>An edited about page</p>")
    [outcome] = ops.publish(edited, [target])
    assert sorted(outcome.plan.upload) == [MARKER, "about/index.html"]
    assert root.resolve() != first
    # The unchanged files of the new release are hard links to the previous
    # release's (rsync --link-dest): they were not sent over the wire.
    css = "theme/css/hearth.css"
    assert (root / css).stat().st_ino == (first / css).stat().st_ino
    assert (root / "about/index.html").read_text() == "<p>An edited about page</p>"


def test_interrupted_publish_never_serves_rsync_temporaries_then_converges(
    sample_publish, sshd, tmp_path
):
    root = tmp_path / "blog"
    target = ssh_target(sshd, root)
    ops.publish(sample_publish, [target])
    withdraw(target)
    with pytest.raises(Interrupted):
        ops.publish(sample_publish, [target], reporter=StopAfter(3))
    # rsync stopped part-way: its files sit in the staging folder, outside
    # the document root, which still serves the whole notice.
    read = disk_reader(root)
    assert marker_state(read) == "withdrawn"
    assert_withdrawn(read, sample_publish)
    [staging] = (tmp_path / ".blog.releases").glob("staging-*")
    assert staging.is_dir()
    ops.publish(sample_publish, [target])
    assert_published(read, sample_publish)
    assert not list((tmp_path / ".blog.releases").glob("staging*"))
    [status] = ops.status([target])
    assert status.ok, status.problems


def test_unreachable_host_fails_clearly_and_changes_nothing(
    sample_publish, sshd, tmp_path
):
    root = tmp_path / "blog"
    ops.publish(sample_publish, [ssh_target(sshd, root)])
    before = root.resolve()
    dead = ssh_target(sshd, root, port=free_port())
    with pytest.raises(TargetError, match=r"Cannot reach .* over SSH.*live site"):
        withdraw(dead)
    assert root.resolve() == before
    assert_published(disk_reader(root), sample_publish)


def test_wrong_key_fails_clearly(sample_publish, sshd, tmp_path):
    import subprocess

    other = tmp_path / "other_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True
    )
    target = ssh_target({**sshd, "key": other}, tmp_path / "blog")
    with pytest.raises(TargetError, match=r"Permission denied.*identity"):
        ops.publish(sample_publish, [target])
    assert not (tmp_path / "blog").exists()
