"""The canary without a server: the planner's canary step, the validation of --canary and its
bounds, the records of each stage and the changes between them, and the step itself (stages,
soaks, gates, revert, resume mid-soak, undo) on an in-memory Route53 and CloudWatch with a
clock that moves only when slept."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from migrator.core.actions import canary, canary_gate
from migrator.core.actions.context import Context
from migrator.core.gates import response_time_bound
from migrator.core.plan import Inverse, Plan, PlanOptions, StepState, plan_digest, ref
from migrator.core.planner import build_plan
from migrator.core.retry import Clock
from migrator.errors import StalePlanError, UsageError
from migrator.usecases import validation
from migrator.usecases.plan_sites import CanaryRequest, canary_options
from tests.support.plans import example_plan
from tests.support.snapshots import snapshot

ALIAS = {"DNSName": "lb-1.ap-northeast-1.elb.amazonaws.com", "HostedZoneId": "ZLB",
         "EvaluateTargetHealth": True}
IDS = {"Origin": "migrator-mig-0a1b2c3d-origin", "LoadBalancer": "migrator-mig-0a1b2c3d-lb"}
A = {"Name": "www.example.com.", "Type": "A", "TTL": 300,
     "ResourceRecords": [{"Value": "127.0.0.10"}]}
AAAA = {"Name": "www.example.com.", "Type": "AAAA", "TTL": 300,
        "ResourceRecords": [{"Value": "2001:db8::10"}]}
LB_ARN = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/www/abc"
TG_ARN = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/www-tg/def"
BOUNDS = {"HTTPCode_Target_5XX_Count": 0, "HTTPCode_ELB_5XX_Count": 0,
          "UnHealthyHostCount": 0, "TargetResponseTime": 0.4}


# --- the plan ------------------------------------------------------------------------------------

def test_the_planner_makes_the_switch_a_canary_step() -> None:
    options = PlanOptions(lockdown=False, canary_stages=(10, 50, 100), canary_soak_seconds=120,
                          canary_max_elb_5xx=2, origin_latency_seconds=0.05)
    plan = build_plan(snapshot(), options, plan_id="mig-0a1b2c3d", created_at="2026-12-01")
    step = next(s for s in plan.steps if s.id == "switch_dns")
    alias = {"DNSName": ref("load_balancer.dns_name"),
             "HostedZoneId": ref("load_balancer.zone_id"), "EvaluateTargetHealth": True}
    where = {"HostedZoneId": "Z1", "Originals": [A], "Alias": alias}
    assert step.action == "route53.canary_switch"
    assert step.params == {
        **where, "Stages": [10, 50, 100], "SoakSeconds": 120, "SetIdentifiers": IDS,
        "Metrics": {"LoadBalancerArn": ref("load_balancer.arn"),
                    "TargetGroupArn": ref("target_group.arn")},
        "Bounds": {"HTTPCode_Target_5XX_Count": 0, "HTTPCode_ELB_5XX_Count": 2,
                   "UnHealthyHostCount": 0, "TargetResponseTime": 0.4}}
    assert step.inverse == Inverse(
        "route53.restore_from_canary", {**where, "SetIdentifiers": IDS},
        "Restore the original records exactly (values and TTL, no weighted record left) from "
        "whatever stage, wait for them to be in sync and for the alias TTL to pass")
    assert "stages of 10%, 50%, 100%" in step.description
    # the rest of the plan is the simple switch's, step for step
    simple = build_plan(snapshot(), PlanOptions(lockdown=False), plan_id="mig-0a1b2c3d",
                        created_at="2026-12-01")
    assert [s for s in plan.steps if s.id != "switch_dns"] == [
        s for s in simple.steps if s.id != "switch_dns"]


def test_a_plan_without_a_canary_keeps_its_content_and_sha256() -> None:
    plan = example_plan()
    data = plan.to_dict()
    assert not any(key.startswith("canary") or key == "origin_latency_seconds"
                   for key in data["options"])
    assert plan_digest(Plan.from_dict(data)) == plan_digest(plan)


def test_a_canary_plan_writes_every_bound_and_loads_as_it_was_made() -> None:
    options = PlanOptions(canary_stages=(25, 100), origin_latency_seconds=0.02)
    plan = build_plan(snapshot(), options, plan_id="mig-0a1b2c3d", created_at="2026-12-01")
    data = plan.to_dict()
    assert data["options"]["canary_stages"] == [25, 100]
    assert data["options"]["canary_soak_seconds"] == 300
    assert data["options"]["canary_max_target_5xx"] == 0
    loaded = Plan.from_dict(data)
    assert loaded.options == options and loaded.steps == plan.steps


def test_the_response_time_bound_is_drawn_from_the_origin_latency() -> None:
    assert response_time_bound(0.05, 3.0, 0.25) == 0.4
    assert response_time_bound(None, 3.0, 0.25) == 1.0  # not measured


# --- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "stages"), [("10,50,100", (10, 50, 100)), ("100", (100,)),
                                              (" 1, 99 ,100", (1, 99, 100))])
def test_canary_stages_accepted(text: str, stages: tuple[int, ...]) -> None:
    assert validation.canary_stages(text) == stages


@pytest.mark.parametrize(("text", "says"), [
    ("10,50", "the last stage must be 100"), ("50,10,100", "must increase"),
    ("10,10,100", "must increase"), ("0,100", "from 1 to 100"), ("10,150", "from 1 to 100"),
    ("ten,100", "not a list of percentages"), ("", "not a list of percentages")])
def test_canary_stages_refused(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        validation.canary_stages(text)
    assert "--canary" in caught.value.message


def test_the_bounds_are_checked_and_need_a_canary() -> None:
    with pytest.raises(UsageError, match="--soak 90000 is outside"):
        canary_options(CanaryRequest(stages="10,100", soak=90000))
    with pytest.raises(UsageError, match="--max-elb-5xx -1 is negative"):
        canary_options(CanaryRequest(stages="10,100", max_elb_5xx=-1))
    with pytest.raises(UsageError, match="--max-response-time-factor 0 "):
        canary_options(CanaryRequest(stages="10,100", response_time_factor=0))
    with pytest.raises(UsageError, match="--soak, --max-target-5xx go with --canary"):
        canary_options(CanaryRequest(soak=60, max_target_5xx=3))
    assert canary_options(CanaryRequest()) == {}
    assert canary_options(CanaryRequest(stages="10,100", soak=60, response_time_margin=0.5)) == {
        "canary_stages": (10, 100), "canary_soak_seconds": 60,
        "canary_response_time_margin_seconds": 0.5}


# --- the records of each stage -------------------------------------------------------------------

def _weighted(weight: int) -> list[dict[str, Any]]:
    return canary.wanted_records(A, ALIAS, IDS, weight)


def test_the_records_of_each_stage() -> None:
    assert _weighted(0) == [A]
    assert _weighted(100) == [{"Name": A["Name"], "Type": "A", "AliasTarget": ALIAS}]
    assert _weighted(10) == [
        {**A, "SetIdentifier": IDS["Origin"], "Weight": 90},
        {"Name": A["Name"], "Type": "A", "AliasTarget": ALIAS,
         "SetIdentifier": IDS["LoadBalancer"], "Weight": 10}]
    for weight in (0, 10, 50, 100):
        assert canary.live_weight(_weighted(weight), A, ALIAS, IDS) == weight


def test_records_this_plan_did_not_make_are_not_its_stages() -> None:
    foreign = [{**A, "ResourceRecords": [{"Value": "127.0.0.99"}]}]
    assert canary.live_weight(foreign, A, ALIAS, IDS) is None
    other_pair = [{**r, "SetIdentifier": "someone-" + str(i)} for i, r in enumerate(_weighted(10))]
    assert canary.live_weight(other_pair, A, ALIAS, IDS) is None
    assert canary.live_weight([], A, ALIAS, IDS) is None


def test_the_changes_between_stages() -> None:
    def actions(at: int, to: int) -> list[tuple[str, str | None]]:
        return [(c["Action"], c["ResourceRecordSet"].get("SetIdentifier"))
                for c in canary.changes_to(_weighted(at), at, _weighted(to), to)]

    # a simple record and a weighted one cannot coexist: replaced in one batch
    assert actions(0, 10) == [("DELETE", None), ("CREATE", IDS["Origin"]),
                              ("CREATE", IDS["LoadBalancer"])]
    assert actions(10, 50) == [("UPSERT", IDS["Origin"]), ("UPSERT", IDS["LoadBalancer"])]
    assert actions(50, 100) == [("DELETE", IDS["Origin"]), ("DELETE", IDS["LoadBalancer"]),
                                ("CREATE", None)]
    assert actions(50, 0) == [("DELETE", IDS["Origin"]), ("DELETE", IDS["LoadBalancer"]),
                              ("CREATE", None)]
    assert actions(0, 100) == [("DELETE", None), ("CREATE", None)]
    assert actions(50, 50) == []


# --- the step on an in-memory Route53 and CloudWatch ---------------------------------------------

@dataclass
class FakeRoute53:
    """Record sets by (name, type, set identifier); a batch is applied whole, DELETE exactly."""

    records: dict[tuple[str, str, str | None], dict[str, Any]]
    batches: list[list[dict[str, Any]]] = field(default_factory=list)

    def records_named(self, zone: str, name: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for (n, _t, _s), r in sorted(
            self.records.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
            if n == name]

    def change(self, zone: str, changes: list[dict[str, Any]], comment: str) -> str:
        records = dict(self.records)
        for change in changes:
            record = change["ResourceRecordSet"]
            key = (record["Name"], record["Type"], record.get("SetIdentifier"))
            if change["Action"] == "DELETE":
                assert records.pop(key) == record, "DELETE must name the record exactly"
            else:
                assert change["Action"] == "UPSERT" or key not in records
                records[key] = copy.deepcopy(record)
            kinds = {(k[0], k[1], k[2] is None) for k in records}
            assert all((n, t, not simple) not in kinds for n, t, simple in kinds), \
                "a weighted and a simple record side by side"
        self.records = records
        self.batches.append(changes)
        return f"C{len(self.batches)}"

    def wait_insync(self, change_id: str, *, timeout: float) -> None:
        pass


@dataclass
class FakeCloudWatch:
    """Figures by stage: what GetMetricData answers while the pair holds a weight."""

    route53: FakeRoute53
    by_weight: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    def elb_metric_values(self, queries: dict[str, Any], start: datetime, end: datetime,
                          period: int) -> dict[str, list[float]]:
        assert period == 60 and start < end
        self.windows.append((start, end))
        lb = self.route53.records.get(("www.example.com.", "A", IDS["LoadBalancer"]))
        weight = lb["Weight"] if lb else 0
        return {qid: self.by_weight.get(weight, {}).get(qid, []) for qid in queries}


@dataclass
class FakeAws:
    route53: FakeRoute53
    cloudwatch: FakeCloudWatch


class SteppedClock:
    """Wall and monotonic time that move only when slept."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)

    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.at.timestamp(), sleep=self.sleep,
                     now=lambda: self.at)


def _params(soak: int = 60, stages: tuple[int, ...] = (10, 50, 100)) -> dict[str, Any]:
    return {"HostedZoneId": "Z1", "Originals": [A, AAAA], "Alias": ALIAS,
            "Stages": list(stages), "SoakSeconds": soak, "SetIdentifiers": IDS,
            "Metrics": {"LoadBalancerArn": LB_ARN, "TargetGroupArn": TG_ARN}, "Bounds": BOUNDS}


@pytest.fixture
def aws() -> FakeAws:
    route53 = FakeRoute53({(r["Name"], r["Type"], None): copy.deepcopy(r) for r in (A, AAAA)})
    return FakeAws(route53, FakeCloudWatch(route53))


def _context(aws: FakeAws, clock: SteppedClock, state: StepState | None = None,
             said: list[str] | None = None) -> Context:
    plan = build_plan(snapshot(), PlanOptions(), plan_id="mig-0a1b2c3d", created_at="x")
    return Context(aws=aws, plan=plan, state=state or StepState(), save=lambda: None,
                   clock=clock.clock(), progress=(said if said is not None else []).append,
                   dns_drain_seconds=7)


def _names_at(aws: FakeAws) -> set[tuple[str, str | None, int | None]]:
    return {(t, s, r.get("Weight")) for (_n, t, s), r in aws.route53.records.items()}


def test_every_stage_moves_every_name_in_one_batch_and_soaks(aws: FakeAws) -> None:
    clock, said = SteppedClock(), []
    aws.cloudwatch.by_weight[10] = {"requests": [12.0], "responsetime": [0.02]}
    outputs = canary.canary_switch(_context(aws, clock, said=said), _params())
    assert len(aws.route53.batches) == 3
    assert [len(b) for b in aws.route53.batches] == [6, 4, 6]  # A and AAAA in each batch
    assert _names_at(aws) == {("A", None, None), ("AAAA", None, None)}
    assert all("AliasTarget" in r for r in aws.route53.records.values())
    assert sum(clock.slept) == 120  # two soaks of 60 s; none after the last stage
    assert outputs["old_ttl"] == 300 and outputs["switched_at"]
    assert said[:3] == [
        "canary stage 1/3: 10% to the load balancer, 90% to the origin; soak 60 s",
        "canary stage 1/3: 10% to the load balancer, 90% to the origin; soak 30 s left; "
        "requests 12, target 5XX 0 (max 0), ELB 5XX 0 (max 0), unhealthy hosts - (max 0), "
        "response time 0.020 s (max 0.400 s)",
        "canary stage 1/3: 10% to the load balancer, 90% to the origin; soak 0 s left; "
        "requests 12, target 5XX 0 (max 0), ELB 5XX 0 (max 0), unhealthy hosts - (max 0), "
        "response time 0.020 s (max 0.400 s)"]
    assert any(s.startswith("canary stage 2/3: 50% to the load balancer") for s in said)
    # each soak's window starts when its stage was in place
    assert [w[0] for w in aws.cloudwatch.windows][-1] == clock.at - timedelta(seconds=60)


def test_a_broken_bound_puts_every_name_back_at_once(aws: FakeAws) -> None:
    clock, state = SteppedClock(), StepState()
    aws.cloudwatch.by_weight[50] = {"target5xx": [2.0, 3.0], "responsetime": [0.3, 0.9]}
    with pytest.raises(canary_gate.CanaryGateError) as caught:
        canary.canary_switch(_context(aws, clock, state), _params(soak=45))
    error = caught.value
    assert error.stage == 2 and error.weight == 50
    assert error.failed == ("HTTPCode_Target_5XX_Count 5 > 0",
                            "TargetResponseTime 0.900 s > 0.400 s")
    assert error.figures["HTTPCode_Target_5XX_Count"] == 5.0
    assert str(error).startswith("canary stage 2 (50% to the load balancer) broke its bounds: "
                                 "HTTPCode_Target_5XX_Count 5 > 0, TargetResponseTime 0.900 s")
    # exactly the originals again, in one batch for both names
    assert aws.route53.records == {(r["Name"], r["Type"], None): r for r in (A, AAAA)}
    assert len(aws.route53.batches[-1]) == 6
    assert state.observed["reverted"]["failed"] == list(error.failed)
    # the gate is read at each progress tick: the breach is caught within the first interval
    assert sum(clock.slept) == 45 + 30


def test_a_later_apply_starts_the_canary_again_from_the_first_stage(aws: FakeAws) -> None:
    clock, state = SteppedClock(), StepState()
    aws.cloudwatch.by_weight[10] = {"elb5xx": [1.0]}
    with pytest.raises(canary_gate.CanaryGateError):
        canary.canary_switch(_context(aws, clock, state), _params())
    aws.cloudwatch.by_weight.clear()
    clock.slept.clear()
    canary.canary_switch(_context(aws, clock, state), _params())
    assert sum(clock.slept) == 120 and not state.observed["reverted"]


def test_apply_resumes_mid_soak_where_it_was(aws: FakeAws) -> None:
    clock = SteppedClock()
    aws.route53.records = {}
    for original in (A, AAAA):
        for record in canary.wanted_records(original, ALIAS, IDS, 50):
            aws.route53.records[(record["Name"], record["Type"], record["SetIdentifier"])] = record
    began = clock.at - timedelta(seconds=20)
    state = StepState(status="running", observed={
        "stage": 1, "weight": 50, "soak_started_at": began.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    canary.canary_switch(_context(aws, clock, state), _params())
    assert sum(clock.slept) == 40  # what was left of stage 2's soak
    assert len(aws.route53.batches) == 1  # only the last stage: stage 2 was in place
    assert aws.cloudwatch.windows[0][0] == began


def test_a_record_changed_behind_the_tools_back_stops_the_canary(aws: FakeAws) -> None:
    aws.route53.records[(A["Name"], "A", None)] = {**A, "TTL": 60}
    with pytest.raises(StalePlanError, match=r"www\.example\.com\. A was changed by someone else"):
        canary.canary_switch(_context(aws, SteppedClock()), _params())
    assert aws.route53.batches == []


@pytest.mark.parametrize("weight", [0, 10, 50, 100])
def test_the_undo_restores_the_originals_exactly_from_any_stage(aws: FakeAws,
                                                                weight: int) -> None:
    aws.route53.records = {}
    for original in (A, AAAA):
        for record in canary.wanted_records(original, ALIAS, IDS, weight):
            key = (record["Name"], record["Type"], record.get("SetIdentifier"))
            aws.route53.records[key] = record
    clock = SteppedClock()
    canary.restore_from_canary(_context(aws, clock), _params())
    assert aws.route53.records == {(r["Name"], r["Type"], None): r for r in (A, AAAA)}
    assert len(aws.route53.batches) == (0 if weight == 0 else 1)
    assert clock.slept == ([] if weight == 0 else [7])  # the DNS drain, after a change only


def test_the_dimensions_are_the_arn_suffixes() -> None:
    assert canary_gate.arn_suffix(LB_ARN, "lb") == "app/www/abc"
    assert canary_gate.arn_suffix(TG_ARN, "tg") == "targetgroup/www-tg/def"


def test_after_the_undo_a_later_apply_starts_from_the_first_stage(aws: FakeAws) -> None:
    """As after a failed verification by name, which puts the original records back."""
    clock, state = SteppedClock(), StepState()
    canary.canary_switch(_context(aws, clock, state), _params())
    canary.restore_from_canary(_context(aws, clock, state), _params())
    aws.route53.batches.clear()
    clock.slept.clear()
    canary.canary_switch(_context(aws, clock, state), _params())
    assert len(aws.route53.batches) == 3 and sum(clock.slept) == 120
