"""No subprocess Hearth starts sees a secret (issue 13, "Secrets stay put").

A git remote's hook, ssh's ProxyCommand or rsync's remote shell runs with the
environment it is given: every call in the package that starts a process
must give it `env=` built by hearth.secrets.without_secrets (the test of
that function, in test_secrets.py, runs a real subprocess).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTERS = {"run", "Popen", "call", "check_call", "check_output"}


def _calls_without_env(root=ROOT):
    found = []
    for path in sorted((root / "hearth").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "subprocess"
                and node.func.attr in STARTERS
                and not any(k.arg == "env" for k in node.keywords)
            ):
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def test_every_process_the_package_starts_gets_an_environment_without_secrets():
    missing = _calls_without_env()
    assert not missing, f"subprocess calls without env=without_secrets(): {missing}"


def test_the_check_finds_a_call_without_env(tmp_path):
    """Guards the test above against a scan that finds nothing."""
    package = tmp_path / "hearth"
    package.mkdir()
    (package / "x.py").write_text(
        "import subprocess\nsubprocess.run(['true'])\n"
        "subprocess.run(['true'], env={})\n"
    )
    assert _calls_without_env(tmp_path) == ["hearth/x.py:2"]
