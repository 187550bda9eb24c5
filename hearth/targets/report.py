"""What the writer sees while a publish, withdraw or lock runs (rich)."""

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from hearth.targets.base import Plan, Target
from hearth.targets.ops import Reporter

LIST_LIMIT = 25
# Below this many files a transfer is quick; a bar would only flicker.
PROGRESS_FROM = 10


class RichReporter(Reporter):
    """Print each target's plan, a progress bar for long transfers, warnings.

    The changed files are listed with `verbose` (`--verbose`) and for a dry
    run, whose point is to see them; otherwise the plan is its counts.
    """

    def __init__(
        self, console: Console | None = None, *, verbose: bool = False
    ) -> None:
        # soft_wrap: a long path or address is not broken at 80 columns in a
        # pipe or a log; a terminal wraps it itself.
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.verbose = verbose

    def plan(self, target: Target, plan: Plan, dry_run: bool) -> None:
        what = "would change" if dry_run else "changes"
        self.console.print(f"[bold]{escape(target.display)}[/]: {plan.summary()}")
        if not plan.changed:
            self.console.print("  nothing to do: the target already serves this.")
            return
        if not (self.verbose or dry_run):
            return
        self.console.print(f"  what {what}:")
        limit = None if self.verbose else LIST_LIMIT  # --verbose: every file
        for sign, paths in (("+", plan.upload), ("-", plan.delete)):
            for path in paths[:limit]:
                self.console.print(f"    {sign} /{escape(path)}")
            if limit and len(paths) > limit:
                self.console.print(
                    f"    {sign} … and {len(paths) - limit} more (--verbose lists all)"
                )

    def progress(
        self, target: Target, total: int
    ) -> AbstractContextManager[Callable[[str], object]]:
        if total < PROGRESS_FROM or not self.console.is_terminal:
            return contextlib.nullcontext(lambda path: None)
        return self._bar(target, total)

    @contextlib.contextmanager
    def _bar(self, target: Target, total: int) -> Iterator[Callable[[str], object]]:
        columns = (
            TextColumn("  {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
        )
        with Progress(*columns, console=self.console, transient=True) as bar:
            task = bar.add_task(escape(target.display), total=total)
            yield lambda path: bar.advance(task)

    def done(self, target: Target, state: str, plan: Plan) -> None:
        self.console.print(
            f"[green]✓[/] {escape(target.display)} is {state} "
            f"({len(plan.upload)} sent, {len(plan.delete)} removed)."
        )

    def note(self, message: str) -> None:
        self.console.print(escape(message))

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]Warning:[/] {escape(message)}")
