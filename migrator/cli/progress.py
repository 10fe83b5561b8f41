"""Live progress of apply and rollback: one line per step, a spinner with elapsed time on waits."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
        text = (step.inverse.description if undo and step.inverse else step.description)
        if self.console.is_terminal:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      TimeElapsedColumn(), console=self.console, transient=True)
            self._progress.add_task(_short(text, 60), total=None)
            self._progress.start()

    def step_finished(self, step: Step, status: str, seconds: float, undo: bool) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        text = (step.inverse.description if undo and step.inverse else step.description)
        took = f" [dim]{seconds:.1f}s[/]" if seconds >= 0.05 else ""
        self.console.print(f"{LABELS.get(status, status)} {_short(text, 68)}{took}")

    def note(self, text: str) -> None:
        self.console.print(f"  [yellow]![/] {text}", soft_wrap=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
