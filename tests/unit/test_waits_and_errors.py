"""botocore's waiters poll through migrator.retry on an injected clock (nothing here sleeps), and
errors carry their data as declared fields: a new hint is a copy, never a change to the error."""

from __future__ import annotations

import inspect
from typing import Any

import botocore.exceptions
import pytest

import migrator.errors
from migrator.aws.calls import BACKOFF, wait
from migrator.errors import AwsError, MigratorError, VerificationError, WaitTimeoutError
from migrator.retry import Phases
from tests.support.fake_clock import FakeClock


class FakeWaiter:
    """A botocore waiter run for one attempt at a time: answers from a script."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.configs: list[dict[str, Any]] = []

    def wait(self, WaiterConfig: dict[str, Any], **params: Any) -> None:  # botocore's name
        self.configs.append(WaiterConfig)
        answer = self.answers.pop(0) if self.answers else "waiting"
        if answer == "waiting":
            raise botocore.exceptions.WaiterError(
                name="Thing", reason="Max attempts exceeded", last_response={"Thing": "pending"})
        if answer == "failed":
            raise botocore.exceptions.WaiterError(
                name="Thing", reason="Waiter encountered a terminal failure state",
                last_response={"Thing": "FAILED"})


def test_phases_give_each_phase_its_count_then_the_last_delay_for_ever() -> None:
    delays = Phases(((0.25, 2), (1, 1)), then=5).delays()
    assert [next(delays) for _ in range(6)] == [0.25, 0.25, 1, 5, 5, 5]


def test_a_waiter_polls_one_attempt_at_a_time_sleeping_on_the_given_clock() -> None:
    clock = FakeClock()
    waiter = FakeWaiter("waiting", "waiting", "waiting", "done")
    wait(waiter, {"Id": "c-1"}, timeout=60, what="change c-1", clock=clock.clock())  # type: ignore[arg-type]
    assert all(config == {"MaxAttempts": 1} for config in waiter.configs)
    assert len(waiter.configs) == 4
    first = BACKOFF.delays()
    assert clock.slept == [next(first) for _ in range(3)]


def test_a_waiter_that_never_succeeds_times_out_on_the_clock() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError) as caught:
        wait(FakeWaiter(), {}, timeout=30, what="certificate c to be ISSUED",  # type: ignore[arg-type]
             clock=clock.clock())
    assert caught.value.message == "timed out after 30 s waiting for certificate c to be ISSUED"
    assert "nothing is lost" in (caught.value.hint or "")
    assert sum(clock.slept) <= 30


def test_a_terminal_state_ends_the_wait_at_once_with_on_failures_error() -> None:
    clock = FakeClock()

    def not_issued(response: dict[str, Any]) -> AwsError:
        return AwsError(f"it is {response['Thing']}", code="FAILED")

    with pytest.raises(AwsError, match="it is FAILED"):
        wait(FakeWaiter("failed"), {}, timeout=600, what="x", on_failure=not_issued,  # type: ignore[arg-type]
             clock=clock.clock())
    assert clock.slept == []


ERRORS = [cls for _, cls in inspect.getmembers(migrator.errors, inspect.isclass)
          if issubclass(cls, MigratorError)]


@pytest.mark.parametrize("cls", ERRORS, ids=[c.__name__ for c in ERRORS])
def test_with_hint_is_a_copy_of_the_same_error_with_another_hint(cls: type[MigratorError]
                                                                 ) -> None:
    original = cls("something failed", hint=None)
    try:
        raise original from KeyError("the cause")
    except MigratorError as caught:
        copy = caught.with_hint("run apply again")
    assert type(copy) is cls and copy is not original
    assert (copy.message, copy.hint) == ("something failed", "run apply again")
    assert original.hint is None
    assert isinstance(copy.__cause__, KeyError)
    assert copy.__traceback__ is original.__traceback__
    assert copy.exit_status == original.exit_status
    assert vars(copy) == {**vars(original), "hint": "run apply again"}


def test_with_hint_keeps_the_declared_data_of_aws_and_verification_errors() -> None:
    aws = AwsError("CreateThing failed", code="Throttling").with_hint("later")
    assert aws.code == "Throttling" and str(aws) == "CreateThing failed (later)"
    checks = [object(), object()]
    verification = VerificationError("2 failed", checks=checks).with_hint("see verify")
    assert verification.checks == checks
