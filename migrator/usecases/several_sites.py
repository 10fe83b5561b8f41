"""Several sites at once (`plan` with several domains, `apply` and `rollback` with several plan
files): one job per site in its own thread, at most `parallel` together, each with its own AWS
session, plan file and lock; botocore's retry mode absorbs the throttling this causes.

A site's failure is its outcome, not the others' end: every job runs, and the outcomes come back
in the order the sites were given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from migrator.errors import Interrupted, MigratorError
from migrator.exit_status import ExitStatus

DEFAULT_PARALLEL = 4
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one site's job gave: its result, or the error that stopped it."""

    label: str
    result: T | None = None
    error: MigratorError | None = None

    @property
    def status(self) -> int:
        if self.error is None:
            return int(ExitStatus.SUCCESS)
        return int(self.error.exit_status)


def run_each(labels: Sequence[str], job: Callable[[str], T], parallel: int,
             on_done: Callable[[Outcome[T]], None] | None = None) -> list[Outcome[T]]:
    """job(label) for every label, `parallel` at a time; on_done(outcome) in the job's thread
    as each one ends; the outcomes in the labels' order."""

    def guarded(label: str) -> Outcome[T]:
        try:
            outcome = Outcome(label, result=job(label))
        except MigratorError as exc:
            outcome = Outcome(label, error=exc)
        except KeyboardInterrupt:
            outcome = Outcome(label, error=Interrupted("interrupted"))
        if on_done is not None:
            on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(guarded, labels))


def worst_status(outcomes: Sequence[Outcome[T]]) -> int:
    """The exit status of a run of several sites: the highest of theirs."""
    return max((o.status for o in outcomes), default=int(ExitStatus.SUCCESS))
