"""One command at a time per target (hearth.targets.lease), on a file:// target.

The same lease runs on ssh, S3 and git through each target's four record
primitives; tests/targets/test_faults.py drives it there, with real kills
and overlapping processes.
"""

import json
import subprocess
import sys
import time

import pytest

from hearth.targets import TargetError, open_target, ops
from hearth.targets import lease as lease_module
from hearth.targets.lease import Lease, Preempted, host_id
from tests.targets.cycle import MESSAGE, assert_published, marker_state

pytestmark = pytest.mark.server


def withdraw(target, **kw):
    return ops.withdraw(
        [target], sitename="Hearth", site_url="http://127.0.0.1",
        message=MESSAGE, feeds=["feeds/all.atom.xml"], **kw,
    )  # fmt: skip


class Notes(ops.Reporter):
    def __init__(self):
        self.notes = []

    def note(self, message):
        self.notes.append(message)

    def warn(self, message):
        self.notes.append(message)


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def record(command, *, pid, host=None, beat=None):
    now = time.time()
    return json.dumps({
        "command": command, "pid": pid, "host": host or host_id(),
        "started": now - 5, "heartbeat": now if beat is None else beat,
        "token": "f00d" * 4,
    }).encode()  # fmt: skip


@pytest.fixture
def target(tmp_path):
    return open_target((tmp_path / "blog").as_uri())


def test_a_second_command_waits_a_bounded_time_then_stops_changing_nothing(
    sample_publish, target, monkeypatch
):
    withdraw(target)
    monkeypatch.setenv("HEARTH_LOCK_WAIT", "1")
    reporter = Notes()
    with Lease(target, "publish"):  # another publish, alive (this process)
        start = time.monotonic()
        with pytest.raises(TargetError) as caught:
            ops.publish(sample_publish, [target], reporter=reporter)
        assert time.monotonic() - start < 10
    message = str(caught.value)
    assert "a publish (pid" in message and "still holds the target after 1 s" in message
    assert "live site was not changed" in message
    assert any("waiting for a publish" in n for n in reporter.notes)
    assert marker_state(target.read_file) == "withdrawn"
    # Released: the same command now runs.
    ops.publish(sample_publish, [target])
    assert_published(target.read_file, sample_publish)
    assert target.lease_read("lock") is None


def test_a_lock_left_by_a_killed_command_is_taken_over(sample_publish, target):
    ops.publish(sample_publish, [target])
    assert target.lease_create("lock", record("withdraw", pid=dead_pid()))
    [status] = ops.status([target])
    assert not status.ok
    assert any("a withdraw (pid" in p and "stopped before it finished" in p
               for p in status.problems)  # fmt: skip
    reporter = Notes()
    withdraw(target, reporter=reporter)
    assert any("taking over its lock" in n for n in reporter.notes)
    assert marker_state(target.read_file) == "withdrawn"
    [status] = ops.status([target])
    assert status.ok, status.problems


def test_a_lock_from_another_computer_expires_with_its_heartbeat(
    sample_publish, target, monkeypatch
):
    monkeypatch.setenv("HEARTH_LOCK_WAIT", "1")
    ops.publish(sample_publish, [target])
    # Alive elsewhere (a fresh heartbeat): waited for, not taken.
    target.lease_write("lock", record("publish", pid=1, host="elsewhere"))
    with pytest.raises(TargetError, match="on another computer"):
        withdraw(target)
    [status] = ops.status([target])
    assert any("is in progress" in p for p in status.problems)
    # Silent for longer than the lease: taken over.
    old = time.time() - lease_module.LEASE - 1
    target.lease_write("lock", record("publish", pid=1, host="elsewhere", beat=old))
    withdraw(target)
    assert marker_state(target.read_file) == "withdrawn"


def test_a_withdraw_takes_precedence_over_a_running_publish(sample_publish, target):
    """The publish sees the withdraw's mark while it copies, and stops unswitched."""
    withdraw(target)
    before = target.root.resolve()

    class TypedMidway(ops.Reporter):
        def progress(self, t, total):
            import contextlib

            def advance(path):
                # A withdraw typed now, in another process still running.
                target.lease_write("preempt", record("withdraw", pid=pid))

            return contextlib.nullcontext(advance)

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pid = sleeper.pid
    try:
        with pytest.raises(Preempted) as caught:
            ops.publish(sample_publish, [target], reporter=TypedMidway())
    finally:
        sleeper.kill()
        sleeper.wait()
    message = str(caught.value)
    assert "a withdraw was typed while this publish ran and takes precedence" in message
    assert "The live site is unchanged (checked after the failure)." in message
    assert target.root.resolve() == before
    assert marker_state(target.read_file) == "withdrawn"
    assert target.lease_read("lock") is None  # the publish let go


def test_a_publish_does_not_start_while_a_withdraw_waits(sample_publish, target):
    withdraw(target)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        target.lease_write("preempt", record("withdraw", pid=sleeper.pid))
        with pytest.raises(Preempted, match="live site was not changed"):
            ops.publish(sample_publish, [target])
    finally:
        sleeper.kill()
        sleeper.wait()
    assert target.lease_read("lock") is None
    # Once the waiting withdraw is gone (killed), its mark no longer holds.
    ops.publish(sample_publish, [target])
    assert marker_state(target.read_file) == "published"


def test_the_lease_files_sit_beside_the_site_never_in_it(sample_publish, target):
    with Lease(target, "publish"):
        assert target._lease_path("lock").is_file()
        assert target._lease_path("lock").parent == target.root.parent
    assert not target._lease_path("lock").exists()
    ops.publish(sample_publish, [target])
    assert not list(target.root.resolve().rglob("*hearth-lock*"))
