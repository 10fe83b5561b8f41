"""The one retry mechanism for what botocore's retry modes do not cover: AWS's eventual
consistency (a resource just created answers "not found" for a while) and dependants letting go
(a group or certificate "in use" for a while after its load balancer or listener went).

A `Retry` names what it waits for, which errors mean "not yet", a deadline and a backoff; time
comes from a `Clock`, so tests run the same code without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from migrator.errors import (
    AwsConflictError,
    AwsError,
    WaitTimeoutError,
)

T = TypeVar("T")

# Codes AWS answers for a resource that exists but is not yet visible to every endpoint of the
# service (EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API"; ELB and ACM the same
# for target groups and just-issued certificates).
NOT_YET_VISIBLE = frozenset({
    "InvalidGroup.NotFound",            # EC2: a security group just created
    "InvalidSecurityGroup",             # ELB's wording of the same, on CreateLoadBalancer
    "InvalidNetworkInterfaceID.NotFound",
    "TargetGroupNotFound",              # ELB: a target group just created
    "CertificateNotFound",              # ELB: a certificate ACM issued a moment ago
})
# How long a just-created resource may stay invisible before "not found" is believed. AWS gives
# no bound; Terraform retries CertificateNotFound for 5 minutes (hashicorp/terraform#10180).
VISIBILITY_DEADLINE = 300.0
# How long after its creation a resource's "not found" on delete may still mean "not visible yet"
# rather than "already gone" (a rollback right after an apply; longer than AWS usually needs).
FRESH_UNDO_WINDOW = 60.0
# How long a deleted load balancer's interfaces or listener may hold a group or certificate.
IN_USE_DEADLINE = 900.0


@dataclass(frozen=True)
class Clock:
    """Where time comes from: the real one, or a test's."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


SYSTEM_CLOCK = Clock()


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


def not_yet_visible(exc: Exception) -> bool:
    return isinstance(exc, AwsError) and exc.code in NOT_YET_VISIBLE


def still_in_use(exc: Exception) -> bool:
    return isinstance(exc, AwsConflictError)


@dataclass(frozen=True)
class Retry:
    """Call until it stops failing with a "not yet" error, or the deadline passes."""

    what: str
    retry_on: Callable[[Exception], bool]
    deadline: float
    clock: Clock = SYSTEM_CLOCK
    backoff: Backoff = field(default_factory=Backoff)
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
        raise AssertionError("unreachable: Backoff.delays() is endless")


def poll(check: Callable[[], T | None], *, what: str, deadline: float,
         clock: Clock = SYSTEM_CLOCK, backoff: Backoff | None = None,
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
    raise AssertionError("unreachable: Backoff.delays() is endless")


def _short(exc: Exception) -> str:
    code = getattr(exc, "code", "")
    return f"answering {code}" if code else f"failing ({exc})"
