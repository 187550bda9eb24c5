"""From a phone: the forge workflow (.github/workflows/hearth-phone.yml) run
here, job and all, against local git remotes.

Each run is a fresh "runner": every step of the workflow's job, in order, as
the forge runs it. `run:` steps run verbatim in bash with their `env:` (the
`${{ }}` expressions filled from the run's inputs, secrets and variables);
`uses:` steps and the install step have local stand-ins that say what they
stand for, and a step the test does not know fails it, so that changing the
workflow's steps changes what is tested. The source repository is a bare
repository holding this checkout's files (what the forge holds); the site is
published to another bare repository (the git+ target, as GitHub Pages).
Passphrases come from the test passphrases, as the forge's secret store.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from hearth import envelope, state
from tests.conftest import ROOT, passphrase_env
from tests.targets.cycle import LOCKED_META, NOTICE_META, marker_state
from tests.targets.test_git import branch_reader

pytestmark = pytest.mark.server

WORKFLOW = ROOT / ".github" / "workflows" / "hearth-phone.yml"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
TOKEN = "ghs_not-a-real-token-for-the-tests"
SERVER_URL = "https://github.com"
# What this checkout's own scripts/setup --test made: the stand-in for the
# workflow's install step (no network in tests).
INSTALL = "scripts/setup"
SITEURL = "https://blog.example"
# The tests' state key for the forge's secret store (a public test value).
FORGE_STATE_KEY = envelope.b64url(
    hashlib.sha256(b"hearth-test-forge-state-key").digest()
)
# The forge's repository files that a developer's checkout may hold but that
# belong to that developer's own runs, not to the repository on the forge.
LOCAL_ONLY = {"hearth-schedule.json", "hearth-rules.json"}


def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def job():
    [only] = workflow()["jobs"].values()
    return only


def step(name):
    return next(s for s in job()["steps"] if s.get("name") == name)


def evaluate(expression, context):
    """The expression forms the workflow uses: a.b, and a.b || 'x'."""
    left, _, default = expression.partition("||")
    scope, _, name = left.strip().partition(".")
    assert name and scope in context, f"no stand-in for ${{{{ {expression} }}}}"
    value = context[scope].get(name, "")
    return value or default.strip().strip("'")


def fill(env, context):
    return {
        key: _EXPR.sub(lambda m: evaluate(m.group(1), context), str(value))
        for key, value in (env or {}).items()
    }


def git(*args, cwd=None):
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


# --- The forge: a source repository and a site repository ---------------------


@pytest.fixture(scope="session")
def pristine_source(tmp_path_factory):
    """A bare repository with this checkout's files, as pushed to the forge."""
    folder = tmp_path_factory.mktemp("forge")
    tree = folder / "tree"
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard",
                 cwd=ROOT)  # fmt: skip
    for rel in filter(None, listed.split("\0")):
        source = ROOT / rel
        if rel in LOCAL_ONLY or not source.is_file():
            continue
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, tree / rel)
    git("init", "-q", "-b", "main", cwd=tree)
    git("add", "-A", cwd=tree)
    git("-c", "user.name=Writer", "-c", "user.email=writer@example.org",
        "commit", "-q", "-m", "The blog", cwd=tree)  # fmt: skip
    bare = folder / "source.git"
    git("clone", "-q", "--bare", str(tree), str(bare))
    return bare


class Forge:
    """The forge for one test: the source repository, the site, the runs."""

    def __init__(self, tmp_path, pristine):
        self.tmp = tmp_path
        self.source = tmp_path / "source.git"
        git("clone", "-q", "--bare", str(pristine), str(self.source))
        self.site = tmp_path / "site.git"
        git("init", "-q", "--bare", str(self.site))
        self.read = branch_reader(self.site)
        self.runs = 0
        self.variables = {"HEARTH_TARGET": f"git+{self.site}#gh-pages",
                          "HEARTH_SITEURL": SITEURL}  # fmt: skip
        # The forge's secret store: the passphrases and the state key.
        self.secrets = {**passphrase_env(), "HEARTH_STATE_KEY": FORGE_STATE_KEY}

    def source_file(self, rel):
        done = subprocess.run(
            ["git", "--git-dir", str(self.source), "show", f"main:{rel}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.stdout if done.returncode == 0 else None

    def source_log(self):
        return git("--git-dir", str(self.source), "log", "--format=%s", "main")

    def push_to_source(self, rel, text):
        """The writer adds a file to the source repository from elsewhere."""
        work = self.tmp / f"writer{self.runs}"
        git("clone", "-q", str(self.source), str(work))
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
        git("add", "--", rel, cwd=work)
        git("-c", "user.name=Writer", "-c", "user.email=writer@example.org",
            "commit", "-q", "-m", f"Add {rel}", cwd=work)  # fmt: skip
        git("push", "-q", cwd=work)

    def run(self, inputs=None, *, now):
        """One run of the workflow: by hand with inputs, else the schedule."""
        self.runs += 1
        return Run(self, inputs, now, self.tmp / f"run{self.runs}").go()


class Run:
    """A fresh runner: an empty home, a workspace, the job's steps in order."""

    def __init__(self, forge, inputs, now, folder):
        self.forge = forge
        self.home = folder / "home"
        self.home.mkdir(parents=True)
        self.workspace = folder / "workspace"
        self.context = {
            "inputs": dict(inputs or {}),
            "secrets": forge.secrets,
            "vars": forge.variables,
            "github": {"token": TOKEN,
                       "event_name": "workflow_dispatch" if inputs else "schedule"},
        }  # fmt: skip
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "GIT_"))
        }
        self.env = {
            **clean,
            "HOME": str(self.home),
            "GIT_CONFIG_GLOBAL": str(self.home / ".gitconfig"),
            "GITHUB_SERVER_URL": SERVER_URL,
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "HEARTH_NOW": now,  # the fake clock
        }
        self.results = {}  # step name -> CompletedProcess
        self.ran = []

    def go(self):
        spec = job()
        env = {**fill(workflow().get("env"), self.context),
               **fill(spec.get("env"), self.context)}  # fmt: skip
        for index, found in enumerate(spec["steps"]):
            assert "if" not in found, "a step with `if:` needs a stand-in here"
            name = found.get("name") or found.get("uses") or f"step {index}"
            self.ran.append(name)
            if "uses" in found:
                self.uses(found)
                continue
            done = self.run_script(
                found, {**env, **fill(found.get("env"), self.context)}
            )
            self.results[name] = done
            if done.returncode != 0:
                break  # the runner stops the job at a failed step
        return self

    def uses(self, found):
        action, _, version = found["uses"].partition("@")
        assert version, f"{found['uses']}: pin the action's version"
        if action == "actions/checkout":
            git("clone", "-q", str(self.forge.source), str(self.workspace))
        elif action == "actions/setup-python":
            # The workflow's Python is the one these tests run on.
            wanted = str(found["with"]["python-version"])
            assert wanted == f"{sys.version_info.major}.{sys.version_info.minor}"
        else:
            pytest.fail(f"no local stand-in for the action {action}: add one here")

    def run_script(self, found, env):
        script = found["run"]
        assert "${{" not in script, "inputs pasted into a script can run as code"
        if script.strip() == INSTALL:
            # What scripts/setup makes, this suite's own virtualenv (made by
            # the same script with --test): no downloads in tests.
            (self.workspace / ".venv").symlink_to(ROOT / ".venv")
            return subprocess.CompletedProcess(script, 0, "", "")
        # GitHub's default shell for run steps on Linux.
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace, env={**self.env, **env},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def output(self):
        return "".join(r.stdout + r.stderr for r in self.results.values())

    def ok(self):
        failed = {n: r for n, r in self.results.items() if r.returncode != 0}
        assert not failed, "\n".join(
            f"{n} (exit {r.returncode}):\n{r.stdout}{r.stderr}"
            for n, r in failed.items()
        )
        assert self.ran == [s.get("name") or s["uses"] for s in job()["steps"]]
        return self

    def said(self, name):
        return self.results[name].stdout


@pytest.fixture
def forge(tmp_path, pristine_source):
    return Forge(tmp_path, pristine_source)


COMMAND = "Run the command"


# --- The workflow file --------------------------------------------------------


def test_the_workflow_is_triggered_by_hand_with_command_message_and_for():
    spec = workflow()
    # PyYAML reads the key `on` as True (YAML 1.1).
    triggers = spec.get("on", spec.get(True))
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"command", "message", "for"}
    assert {"withdraw", "lock", "publish"} <= set(inputs["command"]["options"])
    assert triggers["schedule"][0]["cron"] == "*/15 * * * *"
    env = step(COMMAND)["env"]
    passphrases = {k: v for k, v in env.items() if k.startswith("HEARTH_PASSPHRASE_")}
    assert passphrases and all("secrets." in v for v in passphrases.values())
    # The state key too: without it a run cannot find private posts' ids.
    assert env["HEARTH_STATE_KEY"] == "${{ secrets.HEARTH_STATE_KEY }}"
    text = WORKFLOW.read_text()
    assert "hearth-test" not in text and "passphrase:" not in text.lower()


# --- The workflow's steps, run -----------------------------------------------


def test_withdraw_for_3d_from_the_phone_then_the_schedule_reopens_the_site(forge):
    pwned = forge.tmp / "pwned"
    message = f"I need some space. $(touch {pwned}) `touch {pwned}`"
    run = forge.run(
        {"command": "withdraw", "message": message, "for": "3d"},
        now="2026-12-01T09:00:00Z",
    ).ok()
    assert "withdrawn until 2026-12-04 09:00 UTC" in run.said(COMMAND)
    page = forge.read("index.html")
    assert NOTICE_META in page and b"I need some space. $(touch" in page
    assert not pwned.exists()  # the message stayed words
    # The token step: git on the runner pushes with this run's token ...
    config = (run.home / ".gitconfig").read_text()
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert f"AUTHORIZATION: basic {basic}" in config
    assert f'[http "{SERVER_URL}/"]' in config
    assert TOKEN not in run.output() and basic not in run.output()
    # ... and the schedule is committed to the source repository for `due`.
    [plan] = json.loads(forge.source_file("hearth-schedule.json"))["plans"]
    assert (plan["state"], plan["until"]) == ("withdrawn", "2026-12-04T09:00:00Z")
    assert forge.source_log().startswith("Hearth: schedule and state after withdraw")

    # The schedule's runs (no inputs: the command is `due`), each on a fresh
    # runner that sees only what the source repository holds.
    commits = forge.source_log()
    early = forge.run(now="2026-12-02T09:00:00Z").ok()
    assert "Nothing is due yet" in early.said(COMMAND)
    assert marker_state(forge.read) == "withdrawn"
    assert forge.source_log() == commits  # nothing to commit

    later = forge.run(now="2026-12-04T09:30:00Z").ok()
    assert "Due: the site was withdrawn" in later.said(COMMAND)
    assert marker_state(forge.read) == "published"
    assert forge.source_file("hearth-schedule.json") is None  # its removal committed
    assert forge.source_log().startswith("Hearth: schedule and state after due")

    # Idempotent: the next run finds nothing due and publishes nothing again.
    head = git("--git-dir", str(forge.site), "rev-parse", "gh-pages")
    again = forge.run(now="2026-12-04T09:45:00Z").ok()
    assert "Nothing is due: no withdraw or lock" in again.said(COMMAND)
    assert git("--git-dir", str(forge.site), "rev-parse", "gh-pages") == head


PRIVATE_POST = """---
title: A new private post
date: 2026-11-30
audience: friends
---

Written on the phone's editor and pushed without building.
"""


def test_lock_status_and_publish_from_the_phone_keep_the_state_file(forge):
    locked = forge.run(
        {"command": "lock", "message": "Private for a few days.", "for": "2d"},
        now="2026-12-01T09:00:00Z",
    ).ok()
    assert "locked until 2026-12-03 09:00 UTC" in locked.said(COMMAND)
    page = forge.read("index.html")
    assert LOCKED_META in page and b"Private for a few days." in page
    [plan] = json.loads(forge.source_file("hearth-schedule.json"))["plans"]
    assert plan["state"] == "locked"

    status = forge.run({"command": "status"}, now="2026-12-01T10:00:00Z").ok()
    assert "locked since" in status.said(COMMAND)
    assert "until 2026-12-03 09:00 UTC" in status.said(COMMAND)

    # A private post pushed without a build: the publish gives it an address,
    # which the state file must keep for the next run.
    forge.push_to_source("content/posts/2026-11-30-phone.md", PRIVATE_POST)
    before = json.loads(forge.source_file("hearth-state.json"))["posts"]
    published = forge.run({"command": "publish"}, now="2026-12-01T11:00:00Z").ok()
    assert marker_state(forge.read) == "published"
    assert forge.source_file("hearth-schedule.json") is None  # publish ends it
    text = forge.source_file("hearth-state.json")
    assert "2026-11-30-phone" not in text  # entries are keyed, not named
    posts = json.loads(text)["posts"]
    forge_key = envelope.unb64url(FORGE_STATE_KEY)
    # Every entry is under the key from the forge's secrets (the sample's
    # demo-key entries move to it), so the next run, or the laptop with the
    # same secrets.toml, finds the same addresses; the old ids are kept and
    # the new post has one more.
    assert all(tag.startswith(state.key_id(forge_key) + ".") for tag in posts)
    assert set(before.values()) < set(posts.values())
    assert len(posts) == len(before) + 1
    assert "Hearth: schedule and state after publish" in forge.source_log()
    assert "the schedule in hearth-schedule.json is done" in published.said(COMMAND)


def test_an_unknown_command_stops_the_run_before_anything_is_committed(forge):
    commits = forge.source_log()
    run = forge.run({"command": "delete"}, now="2026-12-01T09:00:00Z")
    done = run.results[COMMAND]
    assert done.returncode == 2
    assert "choose publish, withdraw, lock, status or due" in done.stderr
    assert run.ran[-1] == COMMAND  # the job stopped there
    assert forge.source_log() == commits
    assert forge.read("index.html") is None
