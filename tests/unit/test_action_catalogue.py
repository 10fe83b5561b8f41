"""The action catalogue: every action declared once with its undo (or declared as having none)
and its traits; the executor, the status and the collision check read those traits, never the
actions' names. The executor tests run actions under made-up names: an executor that compared
names ("verify.", "verify.site", "route53.switch_to_alias") would fail them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from migrator.checks.preflight.collisions import planned_names
from migrator.core import actions
from migrator.core.actions import Action, Context, Deferred, Traits, Undo
from migrator.core.actions.lockdown import wait_old_ttl
from migrator.core.executor import Executor, RunOptions
from migrator.core.names import lockdown_copy_name
from migrator.core.plan import (
    DONE,
    PENDING,
    SKIPPED,
    Inverse,
    Plan,
    PlanOptions,
    Step,
    StepState,
)
from migrator.core.planner import build_plan
from migrator.core.snapshot import Certificate, SecurityGroup
from migrator.core.status import phase
from migrator.errors import AwsError, PlanFileError, VerificationError
from migrator.retry import Clock
from tests.support.fake_clock import FakeClock
from tests.support.plans import example_plan
from tests.support.snapshots import PUBLIC_WEB, snapshot

# --- the declarations ---------------------------------------------------------------------------

PLANS = {
    "with lockdown": build_plan(snapshot(), PlanOptions(), plan_id="mig-0a1b2c3d"),
    "without lockdown": build_plan(snapshot(), PlanOptions(lockdown=False),
                                   plan_id="mig-0a1b2c3d"),
    "reused certificate": build_plan(snapshot(certificates=(Certificate(
        "arn:aws:acm:ap-northeast-1:123456789012:certificate/old", "www.example.com",
        ("www.example.com",), "ISSUED"),)), PlanOptions(), plan_id="mig-0a1b2c3d"),
    "no http redirect": build_plan(snapshot(), PlanOptions(http_redirect=False),
                                   plan_id="mig-0a1b2c3d"),
}


def test_every_action_declares_its_undo_or_none() -> None:
    for declared in actions.ACTIONS.values():
        field = next(f for f in dataclasses.fields(Action) if f.name == "inverse")
        assert field.default is dataclasses.MISSING  # no undo must be said, never assumed
        assert declared.inverse is None or isinstance(declared.inverse, Undo)
        if declared.traits.check or declared.traits.may_defer:
            assert declared.inverse is None, f"{declared.name} changes nothing to undo"


@pytest.mark.parametrize("plan", list(PLANS.values()), ids=list(PLANS))
def test_the_planner_gives_each_step_its_actions_declared_undo(plan: Plan) -> None:
    assert actions.unknown_names(plan.steps) == []
    for step in plan.steps:
        declared = actions.action(step.action).inverse
        assert (step.inverse.action if step.inverse else None) == (
            declared.name if declared else None), step.id


def test_the_example_plan_names_only_known_actions_with_their_declared_undos() -> None:
    plan = example_plan()
    assert actions.unknown_names(plan.steps) == []
    for step in plan.steps:
        declared = actions.action(step.action).inverse
        assert (step.inverse.action if step.inverse else None) == (
            declared.name if declared else None), step.id


def test_every_undo_is_some_actions_inverse_and_names_are_unique() -> None:
    inverses = {a.inverse for a in actions.ACTIONS.values() if a.inverse is not None}
    assert set(actions.UNDOS.values()) == inverses
    canonical = [a.name for a in dict.fromkeys(actions.ACTIONS.values())]
    assert len(canonical) == len(set(canonical))


def test_the_retired_set_instance_groups_still_runs_as_set_interface_groups() -> None:
    retired = actions.action("ec2.set_instance_groups")
    assert retired is actions.action("ec2.set_interface_groups")
    assert actions.undo("ec2.set_instance_groups") is actions.undo("ec2.set_interface_groups")
    old_step = Step("attach", "ec2.set_instance_groups", "", {},
                    Inverse("ec2.set_instance_groups", {}))
    assert actions.unknown_names([old_step]) == []


def test_unknown_names_list_actions_and_undos_this_migrator_cannot_run() -> None:
    steps = [Step("a", "acm.request_certificate", "", {}, Inverse("acm.forget", {})),
             Step("b", "acm.future_action", "", {}),
             Step("c", "acm.future_action", "", {})]
    assert actions.unknown_names(steps) == ["acm.forget", "acm.future_action"]
    # An undo's name is not a forward action.
    assert actions.unknown_names([Step("d", "acm.delete_certificate", "", {})]) == [
        "acm.delete_certificate"]


def test_traits_say_which_actions_are_checks_switches_and_lockdown() -> None:
    by_trait = {
        "check": {a.name for a in actions.ACTIONS.values() if a.traits.check},
        "restores": {a.name for a in actions.ACTIONS.values()
                     if a.traits.restores_dns_on_failure},
        "switch": {a.name for a in actions.ACTIONS.values() if a.traits.dns_switch},
        "defer": {a.name for a in actions.ACTIONS.values() if a.traits.may_defer},
        "lockdown": {a.name for a in actions.ACTIONS.values() if a.traits.lockdown},
    }
    assert by_trait == {
        "check": {"verify.load_balancer", "verify.site"},
        "restores": {"verify.site"},
        "switch": {"route53.switch_to_alias", "route53.canary_switch"},
        "defer": {"dns.wait_old_ttl"},
        "lockdown": {"dns.wait_old_ttl", "ec2.copy_groups_without_public_web"},
    }


def test_the_lockdown_is_the_plan_from_its_first_lockdown_action() -> None:
    plan = PLANS["with lockdown"]
    assert [s.id for s in actions.lockdown_steps(plan.steps)] == [
        "lockdown_ready", "lockdown_groups", "lockdown_attach"]
    assert actions.lockdown_steps(PLANS["without lockdown"].steps) == ()


# --- names the plan creates ---------------------------------------------------------------------

def test_the_collision_check_reads_the_names_each_action_declares() -> None:
    snap = snapshot()
    names = planned_names(snap, PlanOptions(), "mig-0a1b2c3d")
    assert names == [
        ("security group", "migrator-alb-www.example.com-0a1b2c3d", "vpc-1"),
        ("target group", "www-example-com-tg-0a1b2c3d", None),
        ("security group", "migrator-origin-www.example.com-0a1b2c3d", "vpc-1"),
        ("load balancer", "www-example-com-0a1b2c3d", None),
        ("security group", "web-server-locked-0a1b2c3d", "vpc-1"),
    ]


def test_a_long_group_name_is_copied_under_the_name_the_lockdown_creates() -> None:
    long_name = "g" * 250
    snap = snapshot(security_groups=(SecurityGroup("sg-web", long_name, PUBLIC_WEB),))
    [copy] = [n for _, n, _ in planned_names(snap, PlanOptions(), "mig-0a1b2c3d")
              if n.startswith("g")]
    assert copy == lockdown_copy_name(long_name, "locked-0a1b2c3d")
    assert len(copy) == 255 and copy.endswith("-locked-0a1b2c3d")


# --- the executor reads traits ------------------------------------------------------------------

class FakeAws:
    region = "ap-northeast-1"

    class sts:  # stands for the aws.sts service wrapper
        @staticmethod
        def account_id() -> str:
            return "123456789012"


class Recorder:
    """Actions under made-up names, each recording its runs."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def handler(self, name: str, outcome: Any = None) -> Any:
        def run(ctx: Context, params: dict[str, Any]) -> Any:
            self.ran.append(name)
            if isinstance(outcome, Exception):
                raise outcome
            return {} if outcome is None else outcome
        return run


def register(monkeypatch: pytest.MonkeyPatch, *declared: Action) -> None:
    for action in declared:
        monkeypatch.setitem(actions.ACTIONS, action.name, action)
        if action.inverse is not None:
            monkeypatch.setitem(actions.UNDOS, action.inverse.name, action.inverse)


def executor(tmp_path: Path, steps: list[Step], **options: Any) -> Executor:
    plan = Plan(id="mig-0a1b2c3d", created_at="2026-11-24T00:00:00.000000Z",
                snapshot=snapshot(), options=PlanOptions(), steps=tuple(steps))
    return Executor(aws=FakeAws(), path=tmp_path / "p.json", plan=plan,
                    options=RunOptions(check_stale=False, **options))


def test_skip_verify_skips_what_is_declared_a_check_whatever_its_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    register(monkeypatch,
             Action("test.smoke_test", rec.handler("smoke"), None, Traits(check=True)),
             Action("test.change", rec.handler("change"), None))
    # A name that looks like a check, declared as none, is run.
    register(monkeypatch, Action("verify.load_balancer", rec.handler("looks like a check"), None))
    run = executor(tmp_path, [Step("smoke", "test.smoke_test", "", {}),
                              Step("change", "test.change", "", {}),
                              Step("lookalike", "verify.load_balancer", "", {})],
                   skip_verify=True)
    assert run.apply() is None
    assert rec.ran == ["change", "looks like a check"]
    assert run.plan.state("smoke").status == SKIPPED
    assert run.plan.state("lookalike").status == DONE


def test_a_failed_dns_restoring_check_undoes_the_declared_switch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    register(monkeypatch,
             Action("test.point_dns", rec.handler("switch"),
                    Undo("test.unpoint_dns", rec.handler("restore")), Traits(dns_switch=True)),
             Action("test.site_check", rec.handler("check", VerificationError(
                 "the site fails", hint="fix it")), None,
                    Traits(check=True, restores_dns_on_failure=True)))
    run = executor(tmp_path, [
        Step("point", "test.point_dns", "", {}, Inverse("test.unpoint_dns", {})),
        Step("site", "test.site_check", "", {})])
    with pytest.raises(VerificationError):
        run.apply()
    assert rec.ran == ["switch", "check", "restore"]
    assert run.plan.state("point").status == PENDING  # a later apply switches again
    assert any(e["event"] == "dns-restored-after-failed-verification" for e in run.plan.journal)


def test_a_failed_check_not_declared_dns_restoring_leaves_dns_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    register(monkeypatch,
             Action("test.point_dns", rec.handler("switch"),
                    Undo("test.unpoint_dns", rec.handler("restore")), Traits(dns_switch=True)),
             Action("verify.site", rec.handler("check", VerificationError("fails", hint="h")),
                    None, Traits(check=True)))
    run = executor(tmp_path, [
        Step("point", "test.point_dns", "", {}, Inverse("test.unpoint_dns", {})),
        Step("site", "verify.site", "", {})])
    with pytest.raises(VerificationError):
        run.apply()
    assert rec.ran == ["switch", "check"]
    assert run.plan.state("point").status == DONE


def test_a_deferred_outcome_stops_apply_successfully_and_leaves_the_step_pending(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    later = Deferred(datetime(2026, 11, 24, 1, tzinfo=UTC), "not before 01:00", "come back")
    register(monkeypatch,
             Action("test.first", rec.handler("first"), None),
             Action("test.wait", rec.handler("wait", later), None, Traits(may_defer=True)),
             Action("test.after", rec.handler("after"), None))
    run = executor(tmp_path, [Step("first", "test.first", "", {}),
                              Step("wait", "test.wait", "", {}),
                              Step("after", "test.after", "", {})])
    assert run.apply() == "not before 01:00 (come back)"
    assert rec.ran == ["first", "wait"]
    assert [run.plan.state(s).status for s in ("first", "wait", "after")] == [
        DONE, PENDING, PENDING]
    assert run.plan.journal[-1]["event"] == "deferred"
    assert run.plan.journal[-1]["reason"] == "not before 01:00"


def test_only_an_action_declared_as_deferring_may_defer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    later = Deferred(datetime(2026, 11, 24, 1, tzinfo=UTC), "later", "h")
    register(monkeypatch, Action("test.sneaky", Recorder().handler("x", later), None))
    with pytest.raises(TypeError, match=r"test\.sneaky deferred"):
        executor(tmp_path, [Step("s", "test.sneaky", "", {})]).apply()


def test_an_unknown_action_or_undo_is_refused_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    register(monkeypatch, Action("test.first", rec.handler("first"), None))
    run = executor(tmp_path, [Step("first", "test.first", "", {}),
                              Step("next", "test.from_the_future", "", {})])
    with pytest.raises(PlanFileError, match=r"cannot run actions test\.from_the_future"):
        run.apply()
    assert rec.ran == []


def test_a_failure_without_a_hint_is_raised_again_with_the_way_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cause = ValueError("the AWS answer")
    failure = AwsError("CreateThing failed", code="Boom")
    failure.__cause__ = cause

    def fails(ctx: Context, params: dict[str, Any]) -> Any:
        raise failure

    register(monkeypatch, Action("test.fails", fails, None))
    run = executor(tmp_path, [Step("s", "test.fails", "", {})])
    with pytest.raises(AwsError) as caught:
        run.apply()
    assert caught.value is not failure and failure.hint is None  # the one raised is unchanged
    assert caught.value.code == "Boom" and caught.value.__cause__ is cause
    assert "resumes" in (caught.value.hint or "") and "rollback" in (caught.value.hint or "")


# --- status -------------------------------------------------------------------------------------

def test_lockdown_pending_is_read_from_the_lockdown_actions_not_step_ids() -> None:
    plan = PLANS["with lockdown"]
    renamed = dataclasses.replace(plan, states={}, steps=tuple(
        dataclasses.replace(s, id=f"step{i}") for i, s in enumerate(plan.steps)))
    tail = {s.id for s in actions.lockdown_steps(renamed.steps)}
    for step in renamed.steps:
        renamed.states[step.id] = StepState(status=PENDING if step.id in tail else DONE)
    assert phase(renamed) == "applied (lockdown pending)"
    first_of_cutover = renamed.steps[0].id
    renamed.states[first_of_cutover] = StepState(status=PENDING)
    assert phase(renamed) == "apply in progress"


# --- the lockdown's wait ------------------------------------------------------------------------

def _ttl_context(now: datetime, wait_for_ttl: bool, fake: FakeClock) -> Context:
    plan = PLANS["with lockdown"]
    clock = Clock(monotonic=fake.monotonic, sleep=fake.sleep, now=lambda: now)
    return Context(aws=None, plan=plan, state=StepState(), save=lambda: None,
                   wait_for_ttl=wait_for_ttl, clock=clock)


def test_the_ttl_wait_defers_until_the_old_answer_has_expired() -> None:
    switched = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    params = {"SwitchedAt": "2026-11-24T00:00:00.000000Z", "TTL": 300}
    fake = FakeClock()
    outcome = wait_old_ttl(_ttl_context(switched + timedelta(seconds=10), False, fake), params)
    assert isinstance(outcome, Deferred)
    assert outcome.until == switched + timedelta(seconds=301)
    assert str(outcome) == ("the lockdown waits until 2026-11-24 00:05:01Z, when no resolver "
                            "can still hold the old address (run apply again after that (or "
                            "now with --wait-for-ttl))")
    assert fake.slept == []

    waited = wait_old_ttl(_ttl_context(switched + timedelta(seconds=10), True, fake), params)
    assert waited == {"ready_at": "2026-11-24T00:05:01Z"} and fake.slept == [291.0]
    assert wait_old_ttl(_ttl_context(switched + timedelta(hours=1), False, FakeClock()),
                        params) == {"ready_at": "2026-11-24T00:05:01Z"}
