"""From a phone: the forge workflow (.github/workflows/hearth-phone.yml), its
own steps run here against a local git remote (the git+ target)."""

import os
import re
import subprocess

import pytest
import yaml

from tests.conftest import ROOT, passphrase_env
from tests.targets.cycle import NOTICE_META, marker_state
from tests.targets.test_git import branch_reader

pytestmark = pytest.mark.server

WORKFLOW = ROOT / ".github" / "workflows" / "hearth-phone.yml"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def step(name):
    [job] = workflow()["jobs"].values()
    return next(s for s in job["steps"] if s.get("name") == name)


def evaluate(expression, context):
    """The few expression forms the workflow uses: a.b, and a.b || 'x'."""
    left, _, default = expression.partition("||")
    scope, _, name = left.strip().partition(".")
    value = context.get(scope, {}).get(name, "")
    return value or default.strip().strip("'")


def run_step(name, *, inputs=(), secrets=(), variables=(), extra=()):
    """Run a workflow step's `run:` with its `env:`, as the runner would."""
    found = step(name)
    context = {"inputs": dict(inputs), "secrets": dict(secrets),
               "vars": dict(variables)}  # fmt: skip
    env = {
        key: _EXPR.sub(lambda m: evaluate(m.group(1), context), str(value))
        for key, value in found.get("env", {}).items()
    }
    assert "${{" not in found["run"], "inputs pasted into a script can run as code"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    return subprocess.run(
        ["bash", "-e", "-c", found["run"]], cwd=ROOT,
        env={**clean, **env, **dict(extra)}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


def secrets_from_the_store():
    """The forge's secret store holds HEARTH_PASSPHRASE_SITE and the rest."""
    return passphrase_env()


def test_the_workflow_is_triggered_by_hand_with_command_message_and_for():
    spec = workflow()
    # PyYAML reads the key `on` as True (YAML 1.1).
    triggers = spec.get("on", spec.get(True))
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"command", "message", "for"}
    assert {"withdraw", "lock", "publish"} <= set(inputs["command"]["options"])
    assert triggers["schedule"][0]["cron"] == "*/15 * * * *"
    env = step("Run the command")["env"]
    passphrases = {k: v for k, v in env.items() if k.startswith("HEARTH_PASSPHRASE_")}
    assert passphrases and all("secrets." in v for v in passphrases.values())
    text = WORKFLOW.read_text()
    assert "hearth-test" not in text and "passphrase:" not in text.lower()


def test_the_workflows_steps_withdraw_for_3d_then_due_reopens_on_a_git_remote(
    tmp_path, sample_publish
):
    remote = tmp_path / "site.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    read = branch_reader(remote)
    target = {"HEARTH_TARGET": f"git+{remote}#gh-pages",
              "HEARTH_SITEURL": "https://blog.example"}  # fmt: skip
    clock = {"HEARTH_SCHEDULE_FILE": str(tmp_path / "schedule.json"),
             "HEARTH_NOW": "2026-12-01T09:00:00Z"}  # fmt: skip
    pwned = tmp_path / "pwned"
    message = f"I need some space. $(touch {pwned}) `touch {pwned}`"
    done = run_step(
        "Run the command",
        inputs={"command": "withdraw", "message": message, "for": "3d"},
        secrets=secrets_from_the_store(),
        variables=target,
        extra=clock,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "withdrawn until 2026-12-04 09:00 UTC" in done.stdout
    assert NOTICE_META in read("index.html")
    assert b"I need some space. $(touch" in read("index.html")
    assert not pwned.exists()  # the message stayed words

    # The schedule run: no inputs, so the command is `due`.
    early = run_step("Run the command", variables=target, extra=clock)
    assert "Nothing is due yet" in early.stdout, early.stderr
    later = {**clock, "HEARTH_NOW": "2026-12-04T09:30:00Z"}
    done = run_step("Run the command", secrets=secrets_from_the_store(),
                    variables=target, extra=later)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert marker_state(read) == "published"


def test_an_unknown_command_is_refused_with_the_choices(tmp_path):
    done = run_step("Run the command", inputs={"command": "delete"})
    assert done.returncode == 2
    assert "choose publish, withdraw, lock, status or due" in done.stderr
