"""README is the writer's guide: the two set-up commands first, then the
writer's sections in order, every dependency explained, every link real."""

import re

from tests.conftest import ROOT
from tests.test_dependencies import declared

README = (ROOT / "README.md").read_text()
PREVIEW = "scripts/setup && .venv/bin/invoke preview"
TEST = "scripts/setup --test && .venv/bin/python -m pytest"


def sh_blocks(text):
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)]


def test_the_two_set_up_commands_come_first_and_ci_runs_the_test_one():
    assert sh_blocks(README)[:2] == [PREVIEW, TEST]
    # Nothing but the introduction above them.
    assert README.index(PREVIEW) < README.index("\n## ", README.index("## Quick"))
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == TEST


def test_the_writers_sections_come_in_the_order_a_writer_needs_them():
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    wanted = [
        "Quick start",
        "Writing a post",
        "Content warnings",
        "Private posts",
        "Publishing, withdrawing, locking",
        "The bad week",
    ]
    assert [h for h in headings if h in wanted] == wanted
    assert headings[: len(wanted)] == wanted
    # Required in README by other issues: the audit's limits, the why of
    # each dependency.
    assert {"Leak audit", "Dependencies"} <= set(headings)


def test_every_first_time_publishing_step_is_numbered():
    section = README.split("## Publishing, withdrawing, locking")[1].split("\n## ")[0]
    steps = re.findall(r"^(\d+)\. \*\*", section, re.MULTILINE)
    assert steps == [str(n) for n in range(1, len(steps) + 1)]
    assert len(steps) >= 5


def test_the_details_live_in_docs_and_readme_links_to_them():
    for name in ("format", "benchmarks", "design", "hosting", "going-online"):
        assert f"(docs/{name}.md)" in README, name
    # The envelope's field table and the benchmark figures are not in README.
    assert "<!-- bench:start -->" not in README
    assert "| kill trials |" not in README
    assert "bench:start" in (ROOT / "docs" / "benchmarks.md").read_text()


def test_every_relative_link_in_readme_and_docs_exists():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_every_direct_dependency_says_why_it_is_there():
    # pyproject.toml's dependencies and extras: the requirements files pin
    # their dependencies too (tests/test_dependencies.py), which need no row.
    table = README.split("## Dependencies")[1].split("\n## ")[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| ")]
    named = " ".join(rows).lower()
    for req in declared(ROOT / "pyproject.toml", ["s3", "test"]):
        name = req.name.lower()
        short = "-" + name.removeprefix("pelican-")  # "pelican-x, -y" rows
        assert name in named or short in named, f"{name} (pyproject.toml)"
