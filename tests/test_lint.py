"""Style regressions fail the suite: ruff's lint and format checks."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=["lint", "format"]
)
def test_ruff_finds_nothing_to_fix(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, (
        f"ruff {' '.join(command)} failed; run `.venv/bin/ruff format` and "
        f"`.venv/bin/ruff check --fix`:\n{result.stdout}{result.stderr}"
    )
