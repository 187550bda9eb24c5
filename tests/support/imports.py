"""Who imports whom, read from the source (the AST), not by importing it.

The runtime is the `hearth` package and the plugins under `plugins/` (each a
top-level package, as Pelican loads them from PLUGIN_PATHS); the project files
beside it (tasks.py and the two settings files) import it. Every `import` and
`from ... import` counts, at module level or inside a function, since both
run. tests/test_layout.py checks that the runtime imports nothing from tests or
benchmarks and has no import circle, and that docs/architecture.md's table is
the one `python -m tests.support.imports --write` makes from this graph.
"""

import argparse
import ast
import itertools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("hearth",)
PLUGINS_DIR = "plugins"
PROJECT_FILES = ("tasks.py", "pelicanconf.py", "publishconf.py")
ARCHITECTURE = ROOT / "docs" / "architecture.md"
TABLE_START = "<!-- modules table: python -m tests.support.imports --write -->"
TABLE_END = "<!-- end of modules table -->"


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it stands and whether it is lazy."""

    importer: str
    target: str
    path: Path
    line: int
    in_function: bool


def runtime_modules(root=ROOT):
    """{module name: file} for every module of the runtime package and plugins."""
    found = {}
    for package in RUNTIME_PACKAGES:
        found.update(_package_modules(root / package, package))
    plugins = root / PLUGINS_DIR
    for plugin in sorted(plugins.iterdir() if plugins.is_dir() else ()):
        if (plugin / "__init__.py").is_file():
            found.update(_package_modules(plugin, plugin.name))
    return found


def project_modules(root=ROOT):
    """{module name: file} for tasks.py and the settings files."""
    found = {Path(name).stem: root / name for name in PROJECT_FILES}
    return {name: path for name, path in found.items() if path.is_file()}


def _package_modules(folder, package):
    modules = {}
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = [package, *path.relative_to(folder).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(path):
    return path.name == "__init__.py"


def imports_of(name, path, modules=()):
    """Every Import in one module, relative imports resolved.

    `from a import b` imports a.b when that is one of `modules`, and counts
    as importing `a` itself only when some name it takes is not a module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if _is_package(path) else name.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            lazy = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(
                        Import(name, alias.name, path, child.lineno, in_function)
                    )
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(child, package)
                names = [f"{base}.{n.name}" for n in child.names if n.name != "*"]
                # `from hearth import envelope` imports the module hearth.envelope.
                found.extend(
                    Import(name, target, path, child.lineno, in_function)
                    for target in [base, *names]
                    if target == base or target in modules
                )
                if names and all(target in modules for target in names):
                    found.remove(Import(name, base, path, child.lineno, in_function))
            visit(child, lazy)

    visit(tree, False)
    return found


def _resolve(node, package):
    if not node.level:
        return node.module
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def graph(modules, *, implied=True):
    """{importer: {imported: [Import, ...]}} among `modules` only.

    implied: also the packages an import runs first (importing
    hearth.targets.base runs hearth/targets/__init__), as circles go through
    them; without it, only what each statement names.
    """
    edges = {name: {} for name in modules}
    for name, path in modules.items():
        for imp in imports_of(name, path, modules):
            if imp.target not in modules:
                continue  # the standard library, another package, or a name
            chain = imp.target.split(".")
            for depth in range(1 if implied else len(chain), len(chain) + 1):
                step = ".".join(chain[:depth])
                if step in modules and step != name and not name.startswith(step + "."):
                    edges[name].setdefault(step, []).append(imp)
    return edges


def unit_of(name, modules):
    """The part a module belongs to: a subpackage's modules are one part.

    hearth.targets.ops and hearth.targets.base are both `hearth.targets`, so
    hearth.deploy importing one and being imported by the other is a circle
    between two parts even though no single module imports itself back.
    """
    parts = name.split(".")
    for depth in range(2, len(parts)):
        package = ".".join(parts[:depth])
        if package in modules and _is_package(modules[package]):
            return package
    return name


def unit_graph(edges, modules):
    """graph() with each subpackage's modules taken together as one part."""
    units = {}
    for importer, targets in edges.items():
        here = unit_of(importer, modules)
        units.setdefault(here, {})
        for target, how in targets.items():
            there = unit_of(target, modules)
            if there != here:
                units[here].setdefault(there, []).extend(how)
    return units


def cycles(edges):
    """Each import circle once, as a list of modules [a, b, ..., a]."""
    found = []
    seen = set()
    index = {}
    lowlink = {}
    stack = []
    on_stack = set()
    counter = [0]

    # Tarjan's strongly connected components; a component of more than one
    # module (or a module importing itself) holds at least one circle.
    def strongconnect(node):
        index[node] = lowlink[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                strongconnect(nxt)
                lowlink[node] = min(lowlink[node], lowlink[nxt])
            elif nxt in on_stack:
                lowlink[node] = min(lowlink[node], index[nxt])
        if lowlink[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(_circle_in(sorted(component), edges))

    for node in sorted(edges):
        if node not in index:
            strongconnect(node)
    return [c for c in found if not (tuple(c) in seen or seen.add(tuple(c)))]


def _circle_in(component, edges):
    """One concrete circle inside a strongly connected component."""
    start = component[0]
    members = set(component)
    # Breadth-first from start back to start, inside the component.
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges[node]):
            if nxt == start:
                return [*paths[node], start]
            if nxt in members and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return [start, start]


def describe_cycle(circle, edges, root=ROOT):
    """'a -> b (a.py:3 imports b.x) -> a (b.py:9 ...)': where each step stands."""
    steps = [circle[0]]
    for here, nxt in itertools.pairwise(circle):
        imp = edges[here][nxt][0]
        inside = imp.path.is_relative_to(root)
        where = imp.path.relative_to(root) if inside else imp.path
        lazy = ", in a function" if imp.in_function else ""
        steps.append(f"{nxt} ({where}:{imp.line} imports {imp.target}{lazy})")
    return " -> ".join(steps)


def outside_imports(modules, forbidden=("tests", "benchmarks")):
    """Imports in `modules` of a forbidden top-level package, as Import records."""
    return [
        imp
        for name, path in modules.items()
        for imp in imports_of(name, path)
        if imp.target.split(".")[0] in forbidden
    ]


def third_party(modules):
    """{module: sorted top-level names it imports that are neither stdlib nor ours}."""
    ours = {name.split(".")[0] for name in modules}
    result = {}
    for name, path in modules.items():
        names = set()
        for imp in imports_of(name, path):
            top = imp.target.split(".")[0]
            if top and top not in sys.stdlib_module_names and top not in ours:
                names.add(top)
        result[name] = sorted(names)
    return result


# --- docs/architecture.md ---------------------------------------------------


def _row_name(name):
    return name


def table(root=ROOT, purposes=None):
    """The modules table: module, what it is for, what it imports, who imports it."""
    purposes = purposes or {}
    modules = runtime_modules(root)
    edges = graph({**modules, **project_modules(root)}, implied=False)
    outside = third_party(modules)
    importers = {name: set() for name in modules}
    for importer, targets in edges.items():
        for target in targets:
            if target in importers:
                importers[target].add(importer)
    header = "| module | what it is for | imports (besides the standard library) |"
    lines = [f"{header} imported by |", "| --- | --- | --- | --- |"]
    for name in sorted(modules, key=_sort_key):
        ours = sorted(t for t in edges[name] if t in modules)
        uses = ", ".join([*(f"`{t}`" for t in ours), *outside[name]]) or "-"
        users = ", ".join(f"`{u}`" for u in sorted(importers[name], key=_sort_key))
        what = purposes.get(name, "").strip() or "TODO: say what this module is for"
        lines.append(f"| `{name}` | {what} | {uses} | {users or '-'} |")
    return "\n".join(lines)


def _sort_key(name):
    return (name.split(".")[0] != "hearth", name)


_ROW = re.compile(r"^\| `([\w.]+)` \| (.*?) \| [^|]* \| [^|]* \|$")


def purposes_in(text):
    """{module: its 'what it is for' cell} from the table in the page."""
    return {m[1]: m[2] for line in text.splitlines() if (m := _ROW.match(line))}


def table_in(text):
    """The table between the markers, or None when the markers are missing."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(TABLE_START) : end].strip()


def rewritten(text, root=ROOT):
    """The page with its table made again from the tree, purposes kept."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    new = table(root, purposes_in(text))
    return f"{text[: start + len(TABLE_START)]}\n\n{new}\n\n{text[end:]}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="rewrite the table in docs/architecture.md"
    )
    args = parser.parse_args(argv)
    text = ARCHITECTURE.read_text(encoding="utf-8")
    if args.write:
        ARCHITECTURE.write_text(rewritten(text), encoding="utf-8")
    else:
        print(table(ROOT, purposes_in(text)))


if __name__ == "__main__":
    main()
