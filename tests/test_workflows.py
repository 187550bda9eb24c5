"""The forge workflows pass actionlint, with ShellCheck on their `run:` scripts.

actionlint (the kjanat/actionlint fork, pinned in requirements-test.txt: it
is the one build of actionlint on PyPI whose wheel carries the binary)
checks the workflow syntax, `${{ }}` expressions against the declared
inputs, the inputs of the actions used, deprecated action runtimes and cron
lines; it hands each `run:` script to ShellCheck (Debian's, installed by
`scripts/setup --test`). Any finding fails the suite.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

ACTIONLINT = Path(sys.executable).parent / "actionlint"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
PHONE = ROOT / ".github" / "workflows" / "hearth-phone.yml"


def actionlint(*paths, cwd=ROOT):
    shellcheck = shutil.which("shellcheck")
    assert ACTIONLINT.exists(), "actionlint is missing: run scripts/setup --test"
    assert shellcheck, "shellcheck is missing: run scripts/setup --test"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-shellcheck", shellcheck,
         *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_there_is_a_workflow_to_check():
    assert PHONE in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_finds_nothing_in_the_workflow(workflow):
    done = actionlint(workflow)
    assert done.returncode == 0 and not done.stdout.strip(), (
        f"actionlint found problems in {workflow.name}:\n{done.stdout}{done.stderr}"
    )


def broken_copy(tmp_path, old, new):
    """The phone workflow with one mistake, in a repository of its own."""
    text = PHONE.read_text()
    assert old in text, f"the workflow no longer contains {old!r}"
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    path = folder / PHONE.name
    path.write_text(text.replace(old, new, 1))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return path


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        # A misspelt input is an empty string on the forge: the command
        # would silently become `due`.
        (
            "inputs.command || 'due'",
            "inputs.comand || 'due'",
            'property "comand" is not defined',
        ),
        # An action on a runtime the forge has removed fails every run.
        ("actions/checkout@v6", "actions/checkout@v4", 'runtime "node20"'),
        # A script mistake ShellCheck knows: an unquoted variable that
        # splits (SC2086); it proves ShellCheck is wired in.
        (
            'git commit -q -m "Hearth: schedule and state after ${HEARTH_COMMAND}"',
            "git commit -q -m Hearth:$HEARTH_COMMAND",
            "SC2086",
        ),
        # A cron line the schedule cannot run.
        ('cron: "*/15 * * * *"', 'cron: "*/15 * * *"', "invalid CRON format"),
    ],
    ids=["misspelt-input", "removed-runtime", "shellcheck", "bad-cron"],
)
def test_actionlint_catches_a_broken_copy_of_the_workflow(tmp_path, old, new, finding):
    path = broken_copy(tmp_path, old, new)
    done = actionlint(path, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert finding in done.stdout, done.stdout
