"""Several sites at once: `plan` with several --domain, `apply`/`rollback` with several plan files.

Each site runs in its own thread with its own AWS session, plan file and lock; at most `parallel`
run together, and botocore's retry mode absorbs throttling. `plan` gathers each site's output
and prints it in order; `apply` and `rollback` show one live progress line per site.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.rule import Rule
from rich.table import Table

from migrator.cli.environment import Environment
from migrator.core.executor import Reporter
from migrator.core.plan import FAILED, Step
from migrator.errors import MigratorError
from migrator.exit_status import ExitStatus

DEFAULT_PARALLEL = 4


@dataclass
class Outcome:
    label: str
    status: int
    message: str


def _guarded(label: str, job: Callable[[], str]) -> Outcome:
    try:
        return Outcome(label, ExitStatus.SUCCESS, job())
    except MigratorError as exc:
        return Outcome(label, int(exc.exit_status), str(exc))
    except KeyboardInterrupt:
        return Outcome(label, ExitStatus.INTERRUPTED, "interrupted")


def run_each(labels: list[str], job: Callable[[str], str], parallel: int) -> list[Outcome]:
    """job(label) for every label, `parallel` at a time; outcomes in the labels' order."""
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(_guarded, label, lambda lab=label: job(lab)) for label in labels]  # type: ignore[misc]  # mypy#15459: default-arg lambda
        return [f.result() for f in futures]


def summary(env: Environment, outcomes: list[Outcome], title: str) -> int:
    table = Table(title=title, title_justify="left")
    table.add_column("site")
    table.add_column("result")
    for outcome in outcomes:
        mark = "[green]✓[/]" if outcome.status == ExitStatus.SUCCESS else "[red]✗[/]"
        table.add_row(outcome.label, f"{mark} {outcome.message}")
    env.console.print(table)
    return max((o.status for o in outcomes), default=ExitStatus.SUCCESS)


def quiet_environment(env: Environment) -> tuple[Environment, io.StringIO]:
    """An environment whose output is kept to be printed later, in order."""
    buffer = io.StringIO()
    return Environment(stdout=buffer, stderr=buffer, stdin_isatty=False,
                       variables=env.variables, width=env.console.width), buffer


def plan_many(env: Environment, domains: list[str], plan_one: Callable[[Environment, str], str],
              parallel: int) -> int:
    """Plan each domain concurrently, print each one's report in order, then a summary."""
    buffers: dict[str, io.StringIO] = {}
    lock = threading.Lock()

    def job(domain: str) -> str:
        sub, buffer = quiet_environment(env)
        with lock:
            buffers[domain] = buffer
        try:
            return plan_one(sub, domain)
        except MigratorError as exc:
            sub.err_console.print(f"error: {exc}", markup=False)
            raise

    outcomes = run_each(domains, job, parallel)
    for domain in domains:
        env.console.print(Rule(domain))
        env.stdout.write(buffers[domain].getvalue())
    return summary(env, outcomes, f"{len(domains)} plans")


class LineReporter(Reporter):
    """One progress line per site: its current step, and how long it has been running."""

    def __init__(self, progress: Progress, label: str, console: Any) -> None:
        self.progress, self.label, self.console = progress, label, console
        self.task = progress.add_task(f"{label}: waiting", total=None)

    def step_started(self, step: Step, undo: bool) -> None:
        text = step.inverse.description if undo and step.inverse else step.description
        self.progress.update(self.task, description=f"{self.label}: {text[:50]}")
        if not self.console.is_terminal:
            self.console.print(f"{self.label}: {text}", markup=False, soft_wrap=True)

    def step_finished(self, step: Step, status: str, seconds: float, undo: bool) -> None:
        if status == FAILED:
            self.progress.update(self.task, description=f"{self.label}: failed at {step.id}")

    def note(self, text: str) -> None:
        self.console.print(f"{self.label}: {text}", markup=False, soft_wrap=True)


def execute_many(env: Environment, files: list[str],
                 run_one: Callable[[str, Reporter], str], parallel: int, title: str) -> int:
    """run_one(file, reporter) for each plan file concurrently, with a live line per site."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=env.console, transient=False, disable=not env.console.is_terminal)
    reporters = {f: LineReporter(progress, f, env.console) for f in files}

    def job(path: str) -> str:
        reporter = reporters[path]
        try:
            message = run_one(path, reporter)
        except MigratorError:
            progress.update(reporter.task, total=1, completed=0)
            raise
        progress.update(reporter.task, description=f"{path}: {message}", total=1, completed=1)
        return message

    with progress:
        outcomes = run_each(files, job, parallel)
    return summary(env, outcomes, title)
