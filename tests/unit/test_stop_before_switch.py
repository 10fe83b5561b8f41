"""The executor's stop before the DNS switch, on actions under made-up names (as in
test_action_catalogue.py): it stops at the first action declared a DNS switch, whatever its name,
journals the stop, and status reads the stage from the journal; going on checks again first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from migrator.core import actions
from migrator.core.actions import Action, Traits, Undo
from migrator.core.executor import Executor, RunOptions
from migrator.core.plan import DONE, PENDING, Inverse, PlanOptions, Step
from migrator.core.planner import build_plan
from migrator.core.status import READY_TO_SWITCH, phase, status_summary, switch_begun
from migrator.errors import UsageError
from tests.support.snapshots import snapshot
from tests.unit.test_action_catalogue import FakeAws, Recorder, executor, register


def staged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rec: Recorder,
           **options: bool) -> Executor:
    """build, check through the load balancer, switch (a made-up name: only its trait says
    it), then two checks and a change after it."""
    register(monkeypatch,
             Action("test.build", rec.handler("build"), Undo("test.unbuild",
                                                            rec.handler("unbuild"))),
             Action("test.peek", rec.handler("peek"), None, Traits(check=True)),
             Action("test.canary_weights", rec.handler("switch"),
                    Undo("test.weights_back", rec.handler("unswitch")), Traits(dns_switch=True)),
             Action("test.look", rec.handler("look"), None,
                    Traits(check=True, restores_dns_on_failure=True)),
             Action("test.later", rec.handler("later"), None))
    return executor(tmp_path, [
        Step("build", "test.build", "", {}, Inverse("test.unbuild", {})),
        Step("peek", "test.peek", "", {}),
        Step("switch", "test.canary_weights", "", {}, Inverse("test.weights_back", {})),
        Step("look", "test.look", "", {}),
        Step("later", "test.later", "", {})], **options)


def again(run: Executor, **options: bool) -> Executor:
    """Another run of the same plan (its states and journal), with other options."""
    for name, value in options.items():
        setattr(run.options, name, value)
    return run


def test_it_stops_at_the_step_declared_the_dns_switch_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    run = staged(tmp_path, monkeypatch, rec, stop_before_switch=True)
    assert run.apply() == "stopped before the DNS switch, as asked"
    assert rec.ran == ["build", "peek"]
    assert [run.plan.state(s).status for s in ("build", "peek", "switch", "look", "later")] == [
        DONE, DONE, PENDING, PENDING, PENDING]
    assert run.plan.journal[-1]["event"] == "stopped-before-switch"
    assert run.plan.journal[-1]["step"] == "switch"
    assert phase(run.plan) == READY_TO_SWITCH
    assert status_summary(run.plan)["ready_to_switch"]["switch_step"] == "switch"


def test_going_on_checks_through_the_load_balancer_again_then_switches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    run = staged(tmp_path, monkeypatch, rec, stop_before_switch=True)
    run.apply()
    assert again(run, stop_before_switch=False).apply() is None
    assert rec.ran == ["build", "peek", "peek", "switch", "look", "later"]
    assert phase(run.plan) == "applied"
    assert status_summary(run.plan)["ready_to_switch"] is None


def test_a_run_that_goes_on_and_is_interrupted_is_no_longer_ready_to_switch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    run = staged(tmp_path, monkeypatch, rec, stop_before_switch=True)
    run.apply()
    run.plan.record("apply-started")  # a later apply, killed before the switch
    assert phase(run.plan) == "apply in progress"


def test_rolling_back_from_the_stop_never_undoes_the_switch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    run = staged(tmp_path, monkeypatch, rec, stop_before_switch=True)
    run.apply()
    run.rollback()
    assert rec.ran == ["build", "peek", "unbuild"]
    assert phase(run.plan) == "rolled back"


def test_asked_to_stop_once_the_switch_has_begun_nothing_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    run = staged(tmp_path, monkeypatch, rec)
    run.apply()
    assert switch_begun(run.plan) is not None
    journal = list(run.plan.journal)
    with pytest.raises(UsageError, match="has begun already"):
        again(run, stop_before_switch=True).apply()
    assert rec.ran == ["build", "peek", "switch", "look", "later"]
    assert run.plan.journal == journal


def test_a_canary_plan_stops_before_its_first_stage(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The canary's staged switch carries the DNS-switch trait too: the stop comes before it,
    with every step before it run (stand-ins record them; the planner's steps are real)."""
    planned = build_plan(snapshot(), PlanOptions(canary_stages=(10, 50, 100)),
                         plan_id="mig-0a1b2c3d")
    # Without their parameters: the stand-ins give no outputs for the references to resolve.
    plan = dataclasses.replace(planned, steps=tuple(
        dataclasses.replace(step, params={}) for step in planned.steps), states={})
    rec = Recorder()
    for step in plan.steps:
        real = actions.action(step.action)
        monkeypatch.setitem(actions.ACTIONS, step.action,
                            dataclasses.replace(real, forward=rec.handler(step.action)))
    run = Executor(aws=FakeAws(), path=tmp_path / "p.json", plan=plan,
                   options=RunOptions(check_stale=False, stop_before_switch=True))
    run.apply()
    [canary] = [s for s in plan.steps if actions.traits(s).dns_switch]
    at = plan.steps.index(canary)
    assert rec.ran == [s.action for s in plan.steps[:at]]
    assert run.plan.journal[-1] == {**run.plan.journal[-1], "event": "stopped-before-switch",
                                    "step": canary.id}
    assert phase(run.plan) == READY_TO_SWITCH
