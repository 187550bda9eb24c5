"""Fault injection against the real servers: kills, overlapping commands.

For each target kind (file, ssh, s3, git) every command (publish, withdraw,
lock) runs in a child process that is killed (SIGKILL, its whole process
group) at a spread of points of its transfer and right after it, then
re-run; and pairs of commands overlap (withdraw during publish, lock during
publish, publish during publish, publish during withdraw). All the while a
reader polls what the target serves and names each view: old (site A),
new (site B), notice, locked, empty or MIXED.

It fails on any mixed view of a target that switches whole (file, ssh,
git). S3 cannot switch whole, so readers there see pages of both sites
while a command runs; after a kill, a mixed bucket must be reported by
`status` as a command half done, and the re-run must converge. It fails on any re-run
that did not converge (the command's state, `status` all clear), and on an
overlap that did not end in the state of the command that must win.

HEARTH_FAULT_TRIALS=10 runs ten times the kill points and overlaps.
The figures are printed (pytest -s) and kept in FIGURES for the summary.
"""

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from hearth import envelope
from hearth.release import MARKER, is_feed, is_page
from hearth.targets import open_target, ops
from tests.targets.conftest import S3_KEY, S3_SECRET, free_port, s3_client
from tests.targets.cycle import LOCKED_META, MESSAGE, NOTICE_META, build_files

pytestmark = pytest.mark.server

SCALE = int(os.environ.get("HEARTH_FAULT_TRIALS", "1"))
# Kill points per command and target: KILLS spread over the transfer, plus
# one by time from the start and one past the transfer's end.
KILLS = SCALE
OVERLAPS = SCALE  # runs of each overlapping pair per target
STEP = 0.01  # seconds the child sleeps per file moved, so kills land mid-way
OVERLAP_STEP = 0.06  # slower: the second command starts while the first runs
FIGURES = {}
ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import contextlib, json, sys, time
sys.path.insert(0, {root!r})
from hearth import envelope
from hearth.targets import open_target, ops

url, command, build, step, extra = sys.argv[1:6]
extra = json.loads(extra)

class Slow(ops.Reporter):
    def progress(self, target, total):
        def advance(path):
            print("P", flush=True)
            time.sleep(float(step))
        return contextlib.nullcontext(advance)
    def note(self, message):
        print("NOTE", message, flush=True)
    def warn(self, message):
        pass

target = open_target(url, ssh_options=extra["ssh_options"])
site = dict(sitename="Hearth", site_url="http://127.0.0.1")
print("START", flush=True)
if command == "publish":
    ops.publish(build, [target], reporter=Slow())
elif command == "withdraw":
    ops.withdraw([target], message=extra["message"], feeds=["feeds/all.atom.xml"],
                 reporter=Slow(), **site)
else:
    key = bytes.fromhex(extra["key"])
    salt = bytes.fromhex(extra["salt"])
    recipients = [envelope.Recipient("site", salt, extra["iterations"], key)]
    ops.lock(build, [target], recipients=recipients, reporter=Slow(), **site)
print("DONE", flush=True)
"""


# --- the sites, and naming what a reader sees --------------------------------


@pytest.fixture(scope="module")
def sites(sample_publish, tmp_path_factory):
    """(A, B): the sample build, and an edit of it with a new post."""
    new = tmp_path_factory.mktemp("site-b") / "b"
    shutil.copytree(sample_publish, new)
    (new / "about" / "index.html").write_text("<p>An edited about page</p>")
    (new / "2026" / "a-new-post").mkdir(parents=True)
    (new / "2026" / "a-new-post" / "index.html").write_text("<p>A new post</p>")
    home = (new / "index.html").read_text()
    (new / "index.html").write_text(home.replace("</body>", "<p>new</p></body>"))
    return Path(sample_publish), new


def name_view(view, a, b):
    """old, new, notice, locked, empty or mixed: what `view` ({path: bytes}) is."""
    paths = sorted(set(a) | set(b))
    seen = {p: view.get(p) for p in paths if p != "robots.txt"}
    if all(v is None for v in seen.values()):
        return "empty"
    for name, site in (("old", a), ("new", b)):
        if all(seen[p] == site.get(p) for p in seen):
            return name
    pages = [p for p in seen if is_page(p)]
    rest = [p for p in seen if not is_page(p) and not is_feed(p)]
    if all(seen[p] is None or NOTICE_META in seen[p] for p in pages) and all(
        seen[p] is None for p in rest
    ):
        return "notice"
    if all(seen[p] is None or LOCKED_META in seen[p] for p in pages) and all(
        seen[p] is None or p.startswith("theme/") or envelope.is_ciphertext(seen[p])
        for p in rest
    ):
        return "locked"
    return "mixed"


class Reader(threading.Thread):
    """Polls the target's served view while a trial runs; counts what it saw."""

    def __init__(self, world, a, b):
        super().__init__(daemon=True)
        self.world, self.a, self.b = world, a, b
        self.seen = Counter()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            view = self.world.view()
            if view is None:
                continue  # raced a switch: not one view
            name = name_view(view, self.a, self.b)
            self.seen[name] += 1
            time.sleep(0.02)

    def stop(self):
        self._halt.set()
        self.join(30)


# --- the worlds: one target kind each, with its own view -----------------------


class World:
    atomic = True
    ssh_options = ()

    def __init__(self, a, b, recipients, tmp):
        self.a, self.b = build_files(a), build_files(b)
        self.dirs = a, b
        self.recipients = recipients
        self.tmp = tmp
        self.count = 0

    def target(self):
        return open_target(self.url, ssh_options=list(self.ssh_options))

    def env(self):
        return {**os.environ}

    def view(self):
        raise NotImplementedError

    def name(self):
        return name_view(self.view() or {}, self.a, self.b)

    # the three commands, run here (set-up and re-runs)
    def run(self, command, site=None):
        target = self.target()
        if command == "publish":
            ops.publish(site or self.dirs[1], [target])
        elif command == "withdraw":
            ops.withdraw(
                [target], sitename="Hearth", site_url="http://127.0.0.1",
                message=MESSAGE, feeds=["feeds/all.atom.xml"],
            )  # fmt: skip
        else:
            ops.lock(
                site or self.dirs[0], [target], recipients=self.recipients,
                sitename="Hearth", site_url="http://127.0.0.1",
            )  # fmt: skip

    def child(self, command, site, step=STEP):
        [r] = self.recipients
        extra = {
            "ssh_options": list(self.ssh_options), "message": MESSAGE,
            "key": r.key.hex(), "salt": r.salt.hex(), "iterations": r.iterations,
        }  # fmt: skip
        return subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT)), self.url, command,
             str(site), str(step), json.dumps(extra)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**self.env(), "HEARTH_LOCK_WAIT": "60"}, start_new_session=True,
        )  # fmt: skip


def _tree_view(root):
    """What a reader of a symlink-switched root gets: one release, read whole."""
    try:
        link = os.readlink(root)
    except OSError:
        return {} if not os.path.lexists(root) else None
    release = (Path(root).parent / link).resolve()
    view = {}
    for base, _dirs, files in os.walk(release):
        for name in files:
            path = Path(base) / name
            try:
                view[path.relative_to(release).as_posix()] = path.read_bytes()
            except OSError:
                return None
    try:
        if os.readlink(root) != link or not release.is_dir():
            return None  # switched or pruned while read
    except OSError:
        return None
    return view


class FileWorld(World):
    def __init__(self, *args):
        super().__init__(*args)
        self.root = self.tmp / "www" / "blog"
        self.root.parent.mkdir(parents=True)
        self.url = self.root.as_uri()

    def view(self):
        return _tree_view(self.root)


class SshWorld(FileWorld):
    def __init__(self, sshd, *args):
        super().__init__(*args)
        self.ssh_options = sshd["options"]
        self.url = (
            f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{self.root}"
            f"?identity={sshd['key']}"
        )


class GitWorld(World):
    def __init__(self, *args):
        super().__init__(*args)
        self.remote = self.tmp / "site.git"
        subprocess.run(["git", "init", "-q", "--bare", str(self.remote)], check=True)
        self.url = f"git+{self.remote}#gh-pages"

    def _git(self, *args, input=None):
        return subprocess.run(
            ["git", "--git-dir", str(self.remote), *args], input=input,
            capture_output=True, check=False,
        )  # fmt: skip

    def view(self):
        head = self._git("rev-parse", "-q", "--verify", "refs/heads/gh-pages")
        if head.returncode:
            return {}
        sha = head.stdout.decode().strip()
        listing = self._git("ls-tree", "-r", "-z", sha).stdout.split(b"\0")
        entries = [e.split(b"\t", 1) for e in listing if e]
        shas = [meta.split()[2] for meta, _ in entries]
        out = self._git("cat-file", "--batch", input=b"\n".join(shas) + b"\n").stdout
        view, pos = {}, 0
        for (_meta, path), _sha in zip(entries, shas, strict=True):
            end = out.index(b"\n", pos)
            size = int(out[pos:end].split()[2])
            view[path.decode()] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return view


class S3World(World):
    atomic = False

    def __init__(self, endpoint, *args):
        super().__init__(*args)
        self.client = s3_client(endpoint)
        self.bucket = f"faults-{free_port()}"
        self.client.create_bucket(Bucket=self.bucket)
        self.client.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.url = f"s3://{self.bucket}/blog?endpoint={endpoint}"

    def env(self):
        return {
            **os.environ, "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        }  # fmt: skip

    def view(self):
        # Object storage has no snapshot: this reads object after object.
        view = {}
        for rel in sorted(set(self.a) | set(self.b)):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=f"blog/{rel}")
                view[rel] = body["Body"].read()
            except self.client.exceptions.NoSuchKey:
                view[rel] = None
        return view


@pytest.fixture(params=["file", "ssh", "s3", "git"])
def world(request, sites, site_recipients, tmp_path, s3_env):
    a, b = sites
    kind = request.param
    if kind == "file":
        made = FileWorld(a, b, site_recipients, tmp_path)
    elif kind == "ssh":
        made = SshWorld(request.getfixturevalue("sshd"), a, b, site_recipients,
                        tmp_path)  # fmt: skip
    elif kind == "s3":
        made = S3World(request.getfixturevalue("seaweed"), a, b, site_recipients,
                       tmp_path)  # fmt: skip
    else:
        made = GitWorld(a, b, site_recipients, tmp_path)
    made.kind = kind
    return made


# --- the trials ---------------------------------------------------------------

STATE_OF = {"publish": "new", "withdraw": "notice", "lock": "locked"}
START = {"publish": "withdraw", "withdraw": "publish-old", "lock": "publish-old"}
STATE_NAME = {"new": "published", "notice": "withdrawn", "locked": "locked"}


def set_up(world, how):
    if how == "publish-old":
        world.run("publish", world.dirs[0])
    else:
        world.run(how)


def kill_group(proc):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def wait_events(proc, count, timeout=60):
    """Read the child's lines until `count` progress events (or its end)."""
    deadline = time.monotonic() + timeout
    seen = 0
    lines = []
    while seen < count and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("P"):
            seen += 1
    return seen, lines


def wait_started(proc):
    while True:
        line = proc.stdout.readline()
        if not line or line.startswith("START"):
            return


def converged(world, command, figures, what):
    name = world.name()
    [status] = ops.status([world.target()])
    expected = STATE_OF[command]
    if name != expected or not status.ok or status.state != STATE_NAME[expected]:
        figures["not converged"] += 1
        return f"{what}: readers see {name}, status {status.state} {status.problems}"
    return None


def test_kill_each_command_at_a_spread_of_points_then_rerun(world):
    figures = Counter()
    failures = []
    rng = random.Random(17)
    for command in ("publish", "withdraw", "lock"):
        total = len(world.b) + 2
        # Kill points: after k files moved, spread over the transfer, and
        # past its end (the switch and the pruning).
        points = sorted({
            int(total * (i + 0.5) / KILLS) for i in range(KILLS)
        } | {0, total + 50})  # fmt: skip
        for k in points:
            set_up(world, START[command])
            reader = Reader(world, world.a, world.b)
            reader.start()
            proc = world.child(command, world.dirs[0 if command == "lock" else 1])
            if k == 0:  # by time, from its start: the lock, the reading, the tree
                wait_started(proc)
                time.sleep(rng.uniform(0, 0.6))
                moved = 0
            else:
                moved, _ = wait_events(proc, k)
                time.sleep(rng.uniform(0, 0.03))
            kill_group(proc)
            figures["trials"] += 1
            after = world.name()
            figures[f"after kill: {after}"] += 1
            [status] = ops.status([world.target()])
            if after == "mixed":
                if world.atomic:
                    failures.append(f"{command} killed after {moved}: mixed site")
                elif status.ok:
                    failures.append(
                        f"{command} killed after {moved}: mixed, status all clear"
                    )
            world.run(command)
            reader.stop()
            figures.update({f"seen: {k}": v for k, v in reader.seen.items()})
            if world.atomic and reader.seen["mixed"]:
                failures.append(f"{command} killed after {moved}: a reader saw mixed")
            problem = converged(world, command, figures, f"{command} re-run")
            if problem:
                failures.append(problem)
    record(world, "kills", figures)
    report(failures)
    assert not failures, failures


OVERLAP_PAIRS = [
    # (first, second, start state, the state it must end in)
    ("publish", "withdraw", "withdraw", "notice"),
    ("publish", "lock", "withdraw", "locked"),
    ("publish", "publish", "withdraw", "old"),
    ("withdraw", "publish", "publish-new", "old"),
]


def test_overlapping_commands_never_interleave_and_the_take_down_wins(world):
    figures = Counter()
    failures = []
    for _ in range(OVERLAPS):
        for first, second, start, final in OVERLAP_PAIRS:
            if start == "publish-new":
                world.run("publish", world.dirs[1])
            else:
                set_up(world, start)
            reader = Reader(world, world.a, world.b)
            reader.start()
            # The first publishes B; a second publish publishes A (it must
            # win, being the later one); lock locks A.
            one = world.child(first, world.dirs[1] if first == "publish" else
                              world.dirs[0], step=OVERLAP_STEP)  # fmt: skip
            wait_events(one, 3)
            two = world.child(second, world.dirs[0])
            out_two, err_two = two.communicate(timeout=180)
            _out_one, err_one = one.communicate(timeout=180)
            reader.stop()
            figures["trials"] += 1
            label = f"{second} during {first}"
            if one.returncode == 0 and "waiting for" not in out_two:
                figures[f"{label}: did not overlap"] += 1
            if "takes precedence" in err_one:
                figures[f"{label}: first stopped, pre-empted"] += 1
            if "waiting for" in out_two:
                figures[f"{label}: second waited"] += 1
            if two.returncode:
                failures.append(f"{label}: the second failed: {err_two[-500:]}")
            name = world.name()
            [status] = ops.status([world.target()])
            if name != final or not status.ok:
                figures["not converged"] += 1
                failures.append(
                    f"{label}: ends {name} (want {final}), status {status.problems}"
                )
            if final == "notice":
                # The notice covers every page either site had, once live.
                view = world.view() or {}
                for rel, body in view.items():
                    if is_page(rel) and body and NOTICE_META not in body:
                        failures.append(f"{label}: /{rel} is not the notice")
            figures.update({f"seen: {k}": v for k, v in reader.seen.items()})
            if world.atomic and reader.seen["mixed"]:
                failures.append(f"{label}: a reader saw a mixed site")
    record(world, "overlaps", figures)
    report(failures)
    assert not failures, failures


def report(failures):
    for failure in failures:
        print(f"\nFAULT SUITE FAILURE: {failure}")


def record(world, what, figures):
    FIGURES[(world.kind, what)] = dict(figures)
    line = ", ".join(f"{k} {v}" for k, v in sorted(figures.items()))
    print(f"\n[faults x{SCALE}] {world.kind} {what}: {line}")


# Make sure a marker is in every tree the views compare (it is not a page).
assert not is_page(MARKER)
