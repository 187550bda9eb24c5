"""The type check: mypy over hearth/ and plugins/ with pyproject.toml's settings.

Modules in the strict list (`disallow_untyped_defs`) must annotate every
function; the others are checked as far as mypy can without annotations.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from tests.support import imports

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


def strict_modules(pyproject=ROOT / "pyproject.toml"):
    config = tomllib.loads(pyproject.read_text())["tool"]["mypy"]
    return [
        pattern
        for override in config["overrides"]
        if override.get("disallow_untyped_defs")
        for pattern in override["module"]
    ]


def test_the_runtime_passes_the_type_check():
    done = mypy(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_strict_module_pattern_names_a_module_of_the_tree():
    # A module renamed or moved must not drop out of the strict list unseen.
    modules = imports.runtime_modules()
    unmatched = [
        pattern
        for pattern in strict_modules()
        if not any(fnmatch(name, pattern) for name in modules)
        and not any(
            name.startswith(pattern.removesuffix(".*") + ".") for name in modules
        )
    ]
    assert not unmatched, f"no such module in hearth/ or plugins/: {unmatched}"


def test_a_function_without_annotations_in_a_strict_module_fails(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "hearth").mkdir()
    (tmp_path / "plugins" / "hearth_x").mkdir(parents=True)
    (tmp_path / "plugins" / "hearth_x" / "__init__.py").write_text("")
    (tmp_path / "hearth" / "__init__.py").write_text("")
    (tmp_path / "hearth" / "envelope.py").write_text(
        "def encrypt(data):\n    return data\n"
    )
    (tmp_path / "hearth" / "audit.py").write_text("def audit(tree):\n    return tree\n")
    done = mypy(tmp_path)
    errors = re.findall(r"^(\S+\.py):\d+: error: .*\[(\S+)\]$", done.stdout, re.M)
    assert ("hearth/envelope.py", "no-untyped-def") in errors, done.stdout + done.stderr
    # Only the strict list asks for annotations.
    assert not any(path == "hearth/audit.py" for path, _ in errors), done.stdout
