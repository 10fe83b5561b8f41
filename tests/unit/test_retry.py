"""The retry module: eventual-consistency and in-use retries, bounded by a deadline, with the
clock injected (nothing here sleeps), and the actions' use of it."""

from __future__ import annotations

from typing import Any

import pytest

from migrator.core.retry import Backoff, Retry, not_yet_visible, poll, still_in_use
from migrator.errors import AwsConflictError, AwsError, AwsNotFoundError, WaitTimeoutError
from tests.support.fake_clock import FakeClock


class Failing:
    """Fails `times` times with `error`, then returns "done"; counts its calls."""

    def __init__(self, times: int, error: Exception) -> None:
        self.times, self.error, self.calls = times, error, 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return "done"


def test_backoff_starts_short_and_is_capped() -> None:
    delays = Backoff(first=0.25, factor=2, cap=5).delays()
    assert [next(delays) for _ in range(8)] == [0.25, 0.5, 1, 2, 4, 5, 5, 5]


def test_not_yet_visible_is_retried_until_it_works() -> None:
    clock = FakeClock()
    waits: list[float] = []
    call = Failing(3, AwsNotFoundError("nope", code="InvalidGroup.NotFound"))
    retry = Retry(what="sg-1", retry_on=not_yet_visible, deadline=60, clock=clock.clock(),
                  on_wait=lambda _e, d: waits.append(d))
    assert retry(call) == "done"
    assert call.calls == 4
    assert clock.slept == waits == pytest.approx([0.1, 0.15, 0.225])


@pytest.mark.parametrize("code", ["InvalidGroup.NotFound", "InvalidSecurityGroup",
                                  "TargetGroupNotFound", "CertificateNotFound",
                                  "InvalidNetworkInterfaceID.NotFound"])
def test_each_eventual_consistency_code_counts(code: str) -> None:
    assert not_yet_visible(AwsError("x", code=code))


def test_other_errors_are_not_retried() -> None:
    clock = FakeClock()
    call = Failing(1, AwsError("bad", code="InvalidParameterValue"))
    with pytest.raises(AwsError, match="bad"):
        Retry(what="x", retry_on=not_yet_visible, deadline=60, clock=clock.clock())(call)
    assert clock.slept == []
    assert not not_yet_visible(AwsNotFoundError("no zone", code="NoSuchHostedZone"))


def test_the_deadline_ends_the_retries_with_what_was_waited_for() -> None:
    clock = FakeClock()
    call = Failing(10_000, AwsNotFoundError("nope", code="TargetGroupNotFound"))
    with pytest.raises(WaitTimeoutError) as caught:
        Retry(what="target group tg-1 never became visible", retry_on=not_yet_visible,
              deadline=30, clock=clock.clock())(call)
    assert caught.value.message.startswith(
        "target group tg-1 never became visible: still answering TargetGroupNotFound after")
    assert sum(clock.slept) <= 30
    assert clock.now <= 30


def test_in_use_is_retried() -> None:
    clock = FakeClock()
    call = Failing(2, AwsConflictError("in use", code="DependencyViolation"))
    assert Retry(what="delete", retry_on=still_in_use, deadline=60, clock=clock.clock())(call)
    assert len(clock.slept) == 2


def test_poll_waits_for_a_value() -> None:
    clock = FakeClock()
    answers = iter([None, None, [1]])
    assert poll(lambda: next(answers), what="records", deadline=10, clock=clock.clock()) == [1]
    assert clock.slept == pytest.approx([0.1, 0.15])
    with pytest.raises(WaitTimeoutError, match="waiting for records"):
        poll(lambda: None, what="records", deadline=3, clock=clock.clock())
