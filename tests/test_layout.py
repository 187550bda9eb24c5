"""The runtime package holds only the product, with one direction between its parts.

The runtime is hearth/ and plugins/: what a writer's site runs. It must not
import the test suite or the benchmark harness (they start servers and launch
Chromium without a sandbox), and no module of it may import itself back through
others (a circle makes import order matter and hides which part depends on
which). The graph is read from the source, every import counted, also those
inside functions. docs/architecture.md's table is made from the same graph.
"""

import textwrap

import pytest

from tests.support import imports

FIX_TABLE = "run `.venv/bin/python -m tests.support.imports --write` and commit it"


def plant(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def circles(root):
    modules = imports.runtime_modules(root)
    edges = imports.graph(modules)
    units = imports.unit_graph(edges, modules)
    named = [imports.describe_cycle(c, edges, root) for c in imports.cycles(edges)]
    named += [imports.describe_cycle(c, units, root) for c in imports.cycles(units)]
    return list(dict.fromkeys(named))  # a module circle is a circle of parts too


def test_the_runtime_imports_nothing_from_tests_or_benchmarks():
    found = imports.outside_imports(imports.runtime_modules())
    assert not found, "\n".join(
        f"{imp.path.relative_to(imports.ROOT)}:{imp.line} imports {imp.target}: "
        "move what it needs into hearth/ or the caller into tests/ or benchmarks/"
        for imp in found
    )


def test_an_import_of_the_tests_inside_a_function_is_found(tmp_path):
    plant(
        tmp_path,
        {
            "hearth/__init__.py": "",
            "hearth/a.py": "def serve():\n    from tests.support import servers\n",
            "plugins/hearth_x/__init__.py": "from benchmarks.harness import main\n",
        },
    )
    found = imports.outside_imports(imports.runtime_modules(tmp_path))
    assert {(imp.importer, imp.target, imp.in_function) for imp in found} >= {
        ("hearth.a", "tests.support", True),
        ("hearth_x", "benchmarks.harness", False),
    }


def test_the_runtime_has_no_import_circle():
    assert circles(imports.ROOT) == []


def test_a_circle_is_named_with_where_each_import_stands(tmp_path):
    plant(
        tmp_path,
        {
            "hearth/__init__.py": "",
            "hearth/a.py": "from hearth import b\n",
            "hearth/b.py": "def late():\n    from hearth.a import thing\n",
        },
    )
    assert circles(tmp_path) == [
        (
            "hearth.a -> hearth.b (hearth/a.py:1 imports hearth.b) -> hearth.a "
            "(hearth/b.py:2 imports hearth.a, in a function)"
        )
    ]


def test_a_circle_between_a_module_and_a_subpackage_is_found(tmp_path):
    # deploy -> targets.base and targets.ops -> deploy: no module imports
    # itself back, yet the two parts depend on each other.
    plant(
        tmp_path,
        {
            "hearth/__init__.py": "",
            "hearth/deploy.py": "from hearth.targets.base import MARKER\n",
            "hearth/targets/__init__.py": "",
            "hearth/targets/base.py": "MARKER = 1\n",
            "hearth/targets/ops.py": "from hearth.deploy import notice_tree\n",
        },
    )
    assert circles(tmp_path) == [
        (
            "hearth.deploy -> hearth.targets (hearth/deploy.py:1 imports "
            "hearth.targets.base) -> hearth.deploy (hearth/targets/ops.py:1 "
            "imports hearth.deploy)"
        )
    ]


def test_the_architecture_table_is_the_one_the_tree_makes():
    text = imports.ARCHITECTURE.read_text(encoding="utf-8")
    written = imports.table_in(text)
    assert written is not None, f"docs/architecture.md has no table: {FIX_TABLE}"
    made = imports.table(imports.ROOT, imports.purposes_in(text))
    assert written == made, f"docs/architecture.md's table is out of date: {FIX_TABLE}"
    missing = [line for line in made.splitlines() if "TODO" in line]
    assert not missing, "say what each new module is for:\n" + "\n".join(missing)


@pytest.mark.parametrize("change", ["new module", "new import"])
def test_the_table_no_longer_matches_after_the_tree_changes(tmp_path, change):
    plant(
        tmp_path,
        {
            "hearth/__init__.py": "",
            "hearth/a.py": "import yaml\n",
            "hearth/b.py": "from hearth import a\n",
        },
    )
    before = imports.table(tmp_path, {"hearth": "x", "hearth.a": "y", "hearth.b": "z"})
    assert "| `hearth.a` | y | yaml | `hearth.b` |" in before
    if change == "new module":
        plant(tmp_path, {"hearth/c.py": ""})
    else:
        plant(tmp_path, {"hearth/a.py": "import yaml\nimport markdown\n"})
    assert imports.table(tmp_path, imports.purposes_in(before)) != before
