"""The type check: mypy over hearth/ and plugins/ with pyproject.toml's settings.

Every function of the runtime is annotated (`disallow_untyped_defs` for all
of it): the check fails on a function without annotations, in a module that
exists today or in one added tomorrow, and on what the annotations show
wrong. Libraries without types are Any (the overrides name them).
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mypy(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def errors(done):
    return re.findall(r"^(\S+\.py):\d+: error: .*\[(\S+)\]$", done.stdout, re.M)


def test_the_runtime_passes_the_type_check():
    done = mypy(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_of_the_runtime_is_let_off_annotations():
    # An override may only say a library has no types; none may relax the
    # runtime's own checks.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["disallow_untyped_defs"] and config["disallow_incomplete_defs"]
    relaxed = [
        override["module"]
        for override in config.get("overrides", [])
        if set(override) - {"module", "ignore_missing_imports"}
    ]
    assert not relaxed, f"overrides that relax the runtime's checks: {relaxed}"


def test_a_function_without_annotations_fails_in_any_module(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "hearth").mkdir()
    (tmp_path / "plugins" / "hearth_x").mkdir(parents=True)
    (tmp_path / "plugins" / "hearth_x" / "__init__.py").write_text(
        "def register(signals):\n    return signals\n"
    )
    (tmp_path / "hearth" / "__init__.py").write_text("")
    (tmp_path / "hearth" / "envelope.py").write_text(
        "def encrypt(data: bytes) -> bytes:\n    return data\n"
    )
    (tmp_path / "hearth" / "brand_new.py").write_text(
        "def audit(tree, *, window: int = 7) -> list[str]:\n    return [tree]\n"
    )
    done = mypy(tmp_path)
    found = errors(done)
    assert ("hearth/brand_new.py", "no-untyped-def") in found, done.stdout
    assert ("plugins/hearth_x/__init__.py", "no-untyped-def") in found, done.stdout
    # An annotated module passes.
    assert not any(path == "hearth/envelope.py" for path, _ in found), done.stdout
