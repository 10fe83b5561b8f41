"""The one mechanism every wait and retry loop of migrator goes through: a `Clock` (where time
comes from, so tests run the same loops without sleeping), backoff schedules, `Retry` (call
until it stops failing with a "not yet" error) and `poll` (call until it answers).

It sits below the aws, net and core layers so that each may use it: what counts as "not yet"
for AWS, and for how long, is core's policy (migrator.core.retry); botocore's waiters poll
through it in migrator.aws.calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from migrator.errors import AwsError, WaitTimeoutError

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """Where time comes from: the real one, or a test's. `monotonic` and `sleep` time the waits;
    `now` is the wall clock, for waits until a moment written in a plan (e.g. a TTL's end)."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _utc_now


SYSTEM_CLOCK = Clock()


class Schedule(Protocol):
    """The delays between attempts, in seconds: endless (a deadline ends a wait, not they)."""

    def delays(self) -> Iterator[float]: ...


@dataclass(frozen=True)
class Backoff:
    """Delays that start short (the thing usually happens within a second or two) and grow to a
    cap (so a long wait does not hammer the API, nor make the user wait long after it happened)."""

    first: float = 0.1
    factor: float = 1.5
    cap: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.factor, self.cap)


@dataclass(frozen=True)
class Phases:
    """Delays in phases: `count` attempts `delay` apart for each (delay, count), then `then`
    seconds apart for ever."""

    phases: tuple[tuple[float, int], ...]
    then: float

    def delays(self) -> Iterator[float]:
        for delay, count in self.phases:
            for _ in range(count):
                yield delay
        while True:
            yield self.then


@dataclass(frozen=True)
class Retry:
    """Call until it stops failing with a "not yet" error, or the deadline passes."""

    what: str
    retry_on: Callable[[Exception], bool]
    deadline: float
    clock: Clock = SYSTEM_CLOCK
    backoff: Schedule = field(default_factory=Backoff)
    hint: str = "run the command again later; nothing is lost"
    # Told about each wait (the error and the delay), e.g. to say what is being waited for.
    on_wait: Callable[[Exception, float], None] | None = None

    def __call__(self, call: Callable[[], T]) -> T:
        start = self.clock.monotonic()
        for delay in self.backoff.delays():
            try:
                return call()
            except Exception as exc:
                if not self.retry_on(exc):
                    raise
                waited = self.clock.monotonic() - start
                if waited + delay > self.deadline:
                    raise WaitTimeoutError(
                        f"{self.what}: still {_short(exc)} after {waited:.0f} s",
                        hint=self.hint) from exc
                if self.on_wait is not None:
                    self.on_wait(exc, delay)
                self.clock.sleep(delay)
        raise AssertionError("unreachable: a schedule's delays are endless")


def poll(check: Callable[[], T | None], *, what: str, deadline: float,
         clock: Clock = SYSTEM_CLOCK, backoff: Schedule | None = None,
         hint: str = "run the command again to keep waiting; nothing is lost") -> T:
    """Call check until it returns something other than None, within deadline seconds."""
    start = clock.monotonic()
    for delay in (backoff or Backoff()).delays():
        result = check()
        if result is not None:
            return result
        if clock.monotonic() - start + delay > deadline:
            raise WaitTimeoutError(f"timed out after {deadline:.0f} s waiting for {what}",
                                   hint=hint)
        clock.sleep(delay)
    raise AssertionError("unreachable: a schedule's delays are endless")


def _short(exc: Exception) -> str:
    code = exc.code if isinstance(exc, AwsError) else ""
    return f"answering {code}" if code else f"failing ({exc})"
