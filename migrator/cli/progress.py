"""Live progress of apply and rollback: for one plan, a line per finished step and a spinner
with the elapsed time on waits (ConsoleReporter); for several, one live line per site
(SiteLines)."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from migrator.core.executor import Reporter
from migrator.core.plan import DONE, FAILED, PENDING, REVERTED, SKIPPED, Step

LABELS = {DONE: "[green]✓[/]", REVERTED: "[cyan]↩[/]", FAILED: "[red]✗[/]",
          SKIPPED: "[dim]-[/]", PENDING: "[yellow]⏸[/]"}


class ConsoleReporter(Reporter):
    """Prints each finished step; while a step runs, a transient spinner shows elapsed time."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None

    def step_started(self, step: Step, undo: bool) -> None:
        text = _step_text(step, undo)
        if self.console.is_terminal:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      TimeElapsedColumn(), console=self.console, transient=True)
            self._progress.add_task(_short(text, 60), total=None)
            self._progress.start()

    def step_finished(self, step: Step, status: str, seconds: float, undo: bool) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        took = f" [dim]{seconds:.1f}s[/]" if seconds >= 0.05 else ""
        self.console.print(f"{LABELS.get(status, status)} {_short(_step_text(step, undo), 68)}"
                           f"{took}")

    def note(self, text: str) -> None:
        self.console.print(f"  [yellow]![/] {text}", soft_wrap=True)


class LineReporter(Reporter):
    """One site's progress line: its current step, and how long it has been running."""

    def __init__(self, progress: Progress, label: str, console: Console) -> None:
        self.progress, self.label, self.console = progress, label, console
        self.task: TaskID = progress.add_task(f"{label}: waiting", total=None)

    def step_started(self, step: Step, undo: bool) -> None:
        text = _step_text(step, undo)
        self.progress.update(self.task, description=f"{self.label}: {text[:50]}")
        if not self.console.is_terminal:
            self.console.print(f"{self.label}: {text}", markup=False, soft_wrap=True)

    def step_finished(self, step: Step, status: str, seconds: float, undo: bool) -> None:
        if status == FAILED:
            self.progress.update(self.task, description=f"{self.label}: failed at {step.id}")

    def note(self, text: str) -> None:
        self.console.print(f"{self.label}: {text}", markup=False, soft_wrap=True)


class SiteLines:
    """A live line per site while several plans run (plain lines without a terminal); used as
    a context manager around the run."""

    def __init__(self, console: Console, labels: Sequence[str]) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=console, transient=False,
                                 disable=not console.is_terminal)
        self.reporters = {label: LineReporter(self.progress, label, console) for label in labels}

    def reporter(self, label: str) -> LineReporter:
        return self.reporters[label]

    def finished(self, label: str, message: str | None) -> None:
        """The site's line ends with message; None: it failed (the summary says why)."""
        task = self.reporters[label].task
        if message is None:
            self.progress.update(task, total=1, completed=0)
        else:
            self.progress.update(task, description=f"{label}: {message}", total=1, completed=1)

    def __enter__(self) -> SiteLines:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.progress.stop()


def _step_text(step: Step, undo: bool) -> str:
    return step.inverse.description if undo and step.inverse else step.description


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
