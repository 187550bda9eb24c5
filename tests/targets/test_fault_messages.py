"""Every fault a message: what happened, what the live site is (checked), what to do.

Real faults where the machine allows them: a full and a read-only file
system (a small tmpfs; needs root, skipped otherwise), permission denied
(the command run as `nobody`), a push the remote's hook rejects, a bucket
that does not exist, an sshd killed mid-transfer, a TCP listener that
accepts and never answers (a stalled network), a dangling or mistyped root.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from invoke import Exit, MockContext

from hearth.targets import TargetError, open_target, ops
from tests.targets.conftest import StopAfter, free_port, run_sshd, s3_client
from tests.targets.cycle import (
    MESSAGE,
    assert_published,
    marker_state,
)

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[2]


def withdraw(target, **kw):
    return ops.withdraw(
        [target], sitename="Hearth", site_url="http://127.0.0.1",
        message=MESSAGE, feeds=["feeds/all.atom.xml"], **kw,
    )  # fmt: skip


@contextlib.contextmanager
def tmpfs(where, size):
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# --- disk full, read-only, permission denied -----------------------------------


def test_disk_full_says_so_and_that_the_live_site_is_unchanged(
    sample_publish, tmp_path
):
    with tmpfs(tmp_path / "small", "300k") as disk:
        target = open_target((disk / "blog").as_uri())
        withdraw(target)  # a few kilobytes: fits
        before = (disk / "blog").resolve()
        with pytest.raises(TargetError) as caught:
            ops.publish(sample_publish, [target])
        message = str(caught.value)
        assert "the disk is full (" in message and "Free some space there." in message
        assert message.endswith(
            "The live site is unchanged (checked after the failure)."
        )
        assert (disk / "blog").resolve() == before
        assert marker_state(target.read_file) == "withdrawn"
        assert "Traceback" not in message


def test_read_only_target_says_so_and_changes_nothing(sample_publish, tmp_path):
    with tmpfs(tmp_path / "ro", "2m") as disk:
        target = open_target((disk / "blog").as_uri())
        ops.publish(sample_publish, [target])
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(TargetError) as caught:
            withdraw(target)
        message = str(caught.value)
        assert "the file system is read-only (" in message
        assert "Mount it writable or choose another target." in message
        assert "the live site was not changed by it" in message
        assert_published(target.read_file, sample_publish)
        # The task says it in one message, no traceback.
        import tasks

        with pytest.raises(Exit, match="read-only"):
            tasks.withdraw(MockContext(), target=[target.url])


AS_NOBODY = r"""
import sys
sys.path.insert(0, {root!r})
from hearth.targets import TargetError, open_target, ops
target = open_target(sys.argv[2])
try:
    if sys.argv[1] == "publish":
        ops.publish(sys.argv[3], [target])
    else:
        ops.withdraw([target], sitename="Hearth", site_url="http://127.0.0.1")
except TargetError as e:
    print(e)
    sys.exit(1)
"""


def as_nobody(*args):
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-c", AS_NOBODY.format(root=str(ROOT)), *args],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "TMPDIR": "/tmp"},
    )  # fmt: skip


@pytest.fixture
def open_folder(sample_publish):
    """A folder anyone can read, with a copy of the build in it."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a command as another user")
    folder = Path(tempfile.mkdtemp(prefix="hearth-perm-test-"))
    folder.chmod(0o755)
    shutil.copytree(sample_publish, folder / "build")
    (folder / "build").chmod(0o755)
    for path in (folder / "build").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_permission_denied_says_so_and_what_to_do(open_folder):
    site = open_folder / "srv"
    site.mkdir()  # root's, 0755: `nobody` cannot write here
    done = as_nobody("publish", (site / "blog").as_uri(), str(open_folder / "build"))
    assert done.returncode == 1, done.stderr
    assert f"permission denied ({site}" in done.stdout
    assert "Give your user access to it (to read and to write)." in done.stdout
    assert "the live site was not changed by it" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_old_releases_that_cannot_be_deleted_are_reported_not_hidden(open_folder):
    site = open_folder / "srv"
    site.mkdir()
    os.chown(site, 65534, 65534)
    url = (site / "blog").as_uri()
    done = as_nobody("publish", url, str(open_folder / "build"))
    assert done.returncode == 0, done.stdout + done.stderr
    # An old release `nobody` may not delete (another user's files in it).
    stuck = site / ".blog.releases" / "20250101-000000-abcdef"
    stuck.mkdir()
    (stuck / "index.html").write_text("<p>an old page</p>")
    stuck.chmod(0o755)
    done = as_nobody("withdraw", url)
    assert done.returncode == 1
    assert "the new site is live, but 1 old release folder(s) could not be deleted" in (
        done.stdout
    )
    assert "The live site is the new withdrawn site (checked after the failure)." in (
        done.stdout
    )
    [status] = ops.status([open_target(url)])
    assert status.state == "withdrawn" and not status.ok
    assert any(
        "OLD RELEASES STILL ON DISK: 1 folder(s)" in p and stuck.name in p
        for p in status.problems
    )


# --- git: a rejected push, the right line of git's output -----------------------

REJECT_BRANCHES = """#!/bin/sh
while read old new ref; do
  case "$ref" in refs/heads/*) echo "pushes to $ref are not allowed" >&2; exit 1;; esac
done
"""


def test_a_rejected_push_says_so_and_that_the_branch_is_unchanged(
    sample_publish, tmp_path
):
    remote = tmp_path / "site.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    target = open_target(f"git+{remote}#gh-pages")
    ops.publish(sample_publish, [target])
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(REJECT_BRANCHES)
    hook.chmod(0o755)
    with pytest.raises(TargetError) as caught:
        withdraw(open_target(f"git+{remote}#gh-pages"))
    message = str(caught.value)
    assert "the remote rejected the push" in message
    assert "! [remote rejected]" in message and "pre-receive hook declined" in message
    assert "the remote said: pushes to refs/heads/gh-pages are not allowed" in message
    assert message.endswith("The live site is unchanged (checked after the failure).")


def test_an_unreachable_git_host_quotes_the_line_that_says_why(
    sample_publish, monkeypatch
):
    monkeypatch.setenv("HEARTH_NET_TIMEOUT", "2")
    port = free_port()
    target = open_target(f"git+ssh://git@127.0.0.1:{port}/site.git#gh-pages")
    with pytest.raises(TargetError) as caught:
        ops.publish(sample_publish, [target])
    message = str(caught.value)
    assert f"port {port}: Connection refused" in message
    assert "and the repository exists" not in message
    assert "the live site was not changed by it" in message


# --- S3: a missing bucket, a failure half-way told as such -----------------------


def test_a_missing_bucket_says_so(sample_publish, seaweed, s3_env):
    target = open_target(f"s3://no-such-bucket-{free_port()}/blog?endpoint={seaweed}")
    with pytest.raises(TargetError) as caught:
        ops.publish(sample_publish, [target])
    message = str(caught.value)
    assert "does not exist" in message and "create it, or fix the target" in message
    assert "the live site was not changed by it" in message


def test_s3_failing_half_way_says_the_site_is_part_way_not_unchanged(
    sample_publish, seaweed, s3_env
):
    name = f"halfway-{free_port()}"
    client = s3_client(seaweed)
    client.create_bucket(Bucket=name)
    url = f"s3://{name}/blog?endpoint={seaweed}"
    target = open_target(url)
    withdraw(target)
    real_put, calls = target._put, []

    def refused_at_the_tenth(tree, rel):
        calls.append(rel)
        if len(calls) == 10:  # the server refuses one object (e.g. a quota)
            raise TargetError(
                f"{target.display}: could not upload {rel} (QuotaExceeded)."
            )
        real_put(tree, rel)

    target._put = refused_at_the_tenth
    with pytest.raises(TargetError) as caught:
        ops.publish(sample_publish, [target])
    message = str(caught.value)
    assert "THE LIVE SITE IS PART-WAY" in message
    assert (
        "checked after the failure" in message and "Re-run `invoke publish`" in message
    )
    assert "unchanged" not in message
    [status] = ops.status([open_target(url)])
    assert not status.ok
    assert any("a publish" in p and "stopped before it finished" in p
               for p in status.problems)  # fmt: skip
    ops.publish(sample_publish, [open_target(url)])
    [status] = ops.status([open_target(url)])
    assert status.ok, status.problems


def test_status_counts_old_object_versions_left_after_a_withdraw(
    sample_publish, seaweed, s3_env
):
    name = f"versions-{free_port()}"
    client = s3_client(seaweed)
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(
        Bucket=name, VersioningConfiguration={"Status": "Enabled"}
    )
    url = f"s3://{name}/blog?endpoint={seaweed}"
    ops.publish(sample_publish, [open_target(url)])
    withdraw(open_target(url))
    [status] = ops.status([open_target(url)])
    assert status.ok, status.problems
    # A version of the old site comes back (a tool restoring, a replica lag).
    old = (sample_publish / "about" / "index.html").read_bytes()
    client.put_object(Bucket=name, Key="blog/about/index.html", Body=old)
    notice = (open_target(url)).read_file("index.html")
    client.put_object(Bucket=name, Key="blog/about/index.html", Body=notice)
    [status] = ops.status([open_target(url)])
    assert not status.ok
    assert any("OLD OBJECT VERSIONS STILL IN THE BUCKET" in p for p in status.problems)
    withdraw(open_target(url))
    [status] = ops.status([open_target(url)])
    assert status.ok, status.problems


# --- a server killed mid-transfer; a stalled network ----------------------------


def _descendants(pid):
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split()
            found += [int(c) for c in children]
            todo += [int(c) for c in children]
    return found


def test_sshd_killed_mid_transfer_says_so_and_the_site_stays_whole(
    sample_publish, tmp_path
):
    root = tmp_path / "blog"
    with run_sshd(tmp_path / "sshd") as server:
        url = (
            f"ssh://{server['user']}@127.0.0.1:{server['port']}{root}"
            f"?identity={server['key']}"
        )
        target = open_target(url, ssh_options=server["options"])
        withdraw(target)
        before = root.resolve()
        sshd_pid = int((tmp_path / "sshd" / "sshd.pid").read_text())

        class KillServer(StopAfter):
            def progress(self, t, total):
                def advance(path):
                    self.moved.append(path)
                    if len(self.moved) == 5:  # the server dies, sessions and all
                        for pid in [*_descendants(sshd_pid), sshd_pid]:
                            with contextlib.suppress(ProcessLookupError):
                                os.kill(pid, 9)

                return contextlib.nullcontext(advance)

        with pytest.raises(TargetError) as caught:
            ops.publish(sample_publish, [target], reporter=KillServer(0))
    message = str(caught.value)
    assert "Cannot reach" in message or "connection broke" in message, message
    # The host is gone: the live site cannot be checked, and the message
    # does not pretend it was.
    assert f"Could not check what {target.display} serves now" in message
    assert "unchanged" not in message
    assert marker_state(lambda rel: (root / rel).read_bytes()) == "withdrawn"
    assert root.resolve() == before  # readers still get the whole notice


class Stall:
    """A TCP listener on 127.0.0.1 that accepts and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def stall(monkeypatch):
    monkeypatch.setenv("HEARTH_NET_TIMEOUT", "1")
    listener = Stall()
    yield listener
    listener.close()


def timed(fn):
    start = time.monotonic()
    with pytest.raises(TargetError) as caught:
        fn()
    return str(caught.value), time.monotonic() - start


def test_a_stalled_ssh_host_times_out_with_a_message(sample_publish, stall, sshd):
    target = open_target(
        f"ssh://x@127.0.0.1:{stall.port}/srv/blog", ssh_options=sshd["options"]
    )
    message, took = timed(lambda: ops.publish(sample_publish, [target]))
    assert took < 30
    assert "Cannot reach" in message and "timed out" in message, message
    assert "the live site was not changed by it" in message


def test_a_stalled_git_host_times_out_with_a_message(sample_publish, stall):
    target = open_target(f"git+ssh://git@127.0.0.1:{stall.port}/site.git#gh-pages")
    message, took = timed(lambda: ops.publish(sample_publish, [target]))
    assert took < 30
    assert "timed out" in message, message


def test_a_stalled_s3_endpoint_times_out_with_a_message(sample_publish, stall, s3_env):
    target = open_target(f"s3://b/blog?endpoint=http://127.0.0.1:{stall.port}")
    message, took = timed(lambda: ops.publish(sample_publish, [target]))
    assert took < 30
    assert "stopped answering" in message, message


def test_a_stalled_site_url_bounds_the_status_check(sample_publish, stall, tmp_path):
    root = tmp_path / "blog"
    ops.publish(sample_publish, [open_target(root.as_uri())])
    target = open_target(f"{root.as_uri()}?url=http://127.0.0.1:{stall.port}")
    start = time.monotonic()
    [status] = ops.status([target])
    assert time.monotonic() - start < 15
    assert not status.ok
    assert any("does not answer" in p for p in status.problems)


# --- status that proves --------------------------------------------------------


def test_status_fails_on_a_dangling_root(sample_publish, tmp_path):
    root = tmp_path / "blog"
    target = open_target(root.as_uri())
    ops.publish(sample_publish, [target])
    shutil.rmtree(root.resolve())  # the release is gone; the link stays
    [status] = ops.status([target])
    assert status.state == "empty" and not status.ok
    assert status.problems[0].startswith("THE SITE IS DOWN: ")
    # Publishing again mends it.
    ops.publish(sample_publish, [target])
    [status] = ops.status([target])
    assert status.ok, status.problems


def test_status_fails_on_a_mistyped_target(tmp_path, sshd, sample_publish):
    [status] = ops.status([open_target((tmp_path / "blgo").as_uri())])
    assert not status.ok and "mistyped" in status.problems[0]
    url = (
        f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{tmp_path}/nope/blog"
        f"?identity={sshd['key']}"
    )
    [status] = ops.status([open_target(url, ssh_options=sshd["options"])])
    assert not status.ok and "mistyped" in status.problems[0]


def test_unexpected_errors_are_one_message_unless_debug(tmp_path, monkeypatch):
    import tasks

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", "/tmp/hearth-withdraw-1")

    monkeypatch.setattr(tasks.ops, "withdraw", broken)
    monkeypatch.delenv("HEARTH_DEBUG", raising=False)
    with pytest.raises(Exit) as caught:
        tasks.withdraw(MockContext(), target=[(tmp_path / "b").as_uri()])
    assert "the disk is full" in caught.value.message
    assert "invoke --debug withdraw" in caught.value.message
    monkeypatch.setenv("HEARTH_DEBUG", "1")
    with pytest.raises(OSError):
        tasks.withdraw(MockContext(), target=[(tmp_path / "b").as_uri()])


class Proxy:
    """A TCP proxy on 127.0.0.1 to `port`; kill() drops every connection."""

    def __init__(self, port):
        self.port_to = port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port_to))
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def kill(self):
        self.sock.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


def test_s3_server_killed_mid_transfer_is_told_and_reported_half_done(
    sample_publish, seaweed, s3_env, monkeypatch
):
    monkeypatch.setenv("HEARTH_NET_TIMEOUT", "2")
    name = f"killed-{free_port()}"
    s3_client(seaweed).create_bucket(Bucket=name)
    direct = f"s3://{name}/blog?endpoint={seaweed}"
    withdraw(open_target(direct))
    proxy = Proxy(int(seaweed.rsplit(":", 1)[1]))
    target = open_target(f"s3://{name}/blog?endpoint=http://127.0.0.1:{proxy.port}")

    class KillAfter(StopAfter):
        def progress(self, t, total):
            def advance(path):
                self.moved.append(path)
                if len(self.moved) == 8:
                    proxy.kill()  # the server goes away mid-upload

            return contextlib.nullcontext(advance)

    with pytest.raises(TargetError) as caught:
        ops.publish(sample_publish, [target], reporter=KillAfter(0))
    message = str(caught.value)
    assert "Cannot reach" in message or "stopped answering" in message, message
    # Both are true, depending on whether a connection opened before the kill
    # still answers the check made after the failure; never "unchanged".
    assert (
        f"Could not check what {target.display} serves now" in message
        or "PART-WAY" in message
    ), message
    assert "unchanged" not in message
    # Reached again directly: half done, and said so; a re-run finishes it.
    [status] = ops.status([open_target(direct)])
    assert not status.ok
    assert any("stopped before it finished" in p for p in status.problems)
    ops.publish(sample_publish, [open_target(direct)])
    [status] = ops.status([open_target(direct)])
    assert status.ok, status.problems
