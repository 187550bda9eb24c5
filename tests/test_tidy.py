"""Bounded and tidy: what killed runs leave behind is removed at the next run."""

import os
import subprocess
import sys
import time

from hearth.state import State, sweep_temporaries
from hearth.targets.base import scratch_dir, sweep_scratch


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_saves_temporary_is_removed_at_the_next_load(tmp_path):
    path = tmp_path / "hearth-state.json"
    state = State.load(path)
    state.audience("site", 600_000)
    state.save()
    killed = tmp_path / f".hearth-state.json.{dead_pid()}.abcd1234.tmp"
    killed.write_text("{half")
    # An old-style temporary (no pid), an hour old, and a fresh one.
    old = tmp_path / ".hearth-state.json.x7y8z9.tmp"
    old.write_text("{")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / ".hearth-state.json.q1w2e3.tmp"
    fresh.write_text("{")
    # A save in progress in a live process (this one) is left alone.
    running = tmp_path / f".hearth-state.json.{os.getpid()}.r4t5y6.tmp"
    running.write_text("{")
    State.load(path)
    assert not killed.exists() and not old.exists()
    assert fresh.exists() and running.exists()
    assert sweep_temporaries(path) == 0


def test_a_killed_commands_scratch_folder_is_swept(tmp_path):
    mine = scratch_dir("publish")
    try:
        left = tmp_path / f"hearth-build-{dead_pid()}-abc"
        left.mkdir()
        (left / "index.html").write_text("a half build")
        other = tmp_path / "hearth-build-notapid"
        other.mkdir()
        assert sweep_scratch(tmp_path) == 1
        assert not left.exists() and other.exists()
        # The running process's own folder is never swept.
        sweep_scratch()
        assert os.path.isdir(mine)
    finally:
        os.rmdir(mine)


SLOW_BUILD = """
import os, signal, sys, threading, time
sys.path.insert(0, {root!r})
os.chdir({root!r})
import tasks
from invoke import MockContext

real = tasks.pelican_main
def slow(argv):
    out = argv[argv.index("-o") + 1]
    open(os.path.join(out, "index.html"), "w").write("half")
    print("BUILDING", out, flush=True)
    # Pelican catches KeyboardInterrupt itself and returns (tasks must notice).
    try:
        time.sleep(30)
    except KeyboardInterrupt:
        return
tasks.pelican_main = slow
from invoke import Exit
try:
    tasks.publish(MockContext(), target=[sys.argv[1]])
except Exit as e:
    print(e.message, file=sys.stderr)
    sys.exit(e.code)
"""


def test_ctrl_c_during_the_build_says_so_not_that_the_audit_failed(tmp_path):
    from tests.conftest import ROOT, passphrase_env

    root = tmp_path / "blog"
    env = {**os.environ, **passphrase_env(), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILD.format(root=str(ROOT)), root.as_uri()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    assert line.startswith("BUILDING"), proc.stderr.read()
    build = line.split()[1]
    proc.send_signal(2)  # SIGINT, as Ctrl-C sends
    _out, err = proc.communicate(timeout=60)
    assert "Stopped by Ctrl-C: the publish did not finish" in err
    assert "leak audit" not in err and "Traceback" not in err
    assert proc.returncode == 130
    assert not os.path.exists(build)
    assert not root.exists()
