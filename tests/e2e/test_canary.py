"""The canary switch end to end: on the strict AWS world (the stages, a gate that fails and
reverts, resume and rollback from any stage) and on the sandbox, whose load balancer publishes
its CloudWatch metrics as it serves (a full canary under a polling client, and an origin that
fails during a soak)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from tests.support.aws_state import account_state

DOMAIN = "www.example.com"
CANARY = ("--canary", "10,50,100", "--soak", "1")


def _zone_records(session: boto3.Session) -> list[dict[str, Any]]:
    route53 = session.client("route53")
    zone = route53.list_hosted_zones()["HostedZones"][0]["Id"]
    return route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]


def _site_records(session: boto3.Session) -> list[dict[str, Any]]:
    return [r for r in _zone_records(session) if r["Name"] == DOMAIN + "." and r["Type"] == "A"]


def _switch_state(path: str) -> dict[str, Any]:
    plan = planfile.load(path)
    return plan.state("switch_dns").__dict__


class WhenSoaking(threading.Thread):
    """Calls `act` once, as soon as the canary's state file says a soak has begun (stage
    `stage`, 0-based): what a failing origin would do to the figures, at the right moment."""

    def __init__(self, state_file: Path, act: Any, stage: int = 0) -> None:
        super().__init__(daemon=True)
        self.state_file, self.act, self.stage = state_file, act, stage
        self.done = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                observed = json.loads(self.state_file.read_text())["steps"]["switch_dns"][
                    "observed"]
            except (OSError, ValueError, KeyError):
                observed = {}
            if observed.get("stage") == self.stage and observed.get("soak_started_at"):
                self.act()
                self.done.set()
                return
            time.sleep(0.02)


def _target_5xx(session: boto3.Session, count: float) -> None:
    """Publish a 5XX count for the only load balancer and target group, timestamped now."""
    elbv2 = session.client("elbv2")
    lb = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    session.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[{
        "MetricName": "HTTPCode_Target_5XX_Count", "Value": count, "Unit": "Count",
        "Timestamp": datetime.now(UTC),
        "Dimensions": [{"Name": "LoadBalancer", "Value": lb.split(":loadbalancer/")[1]},
                       {"Name": "TargetGroup", "Value": tg.split(":")[-1]}]}])


# --- the strict AWS world ------------------------------------------------------------------------

@pytest.fixture
def world(strict_world: Any) -> Any:
    return strict_world


def test_a_full_canary_ends_as_the_simple_switch_and_rolls_back_exactly(
        world: Any, session: boto3.Session, cli: Any) -> None:
    original = account_state(session)
    planned = cli("plan", "--domain", DOMAIN, "--out", "p.json", *CANARY)
    assert planned.status == 0, planned.stderr
    step = next(s for s in planfile.load("p.json").steps if s.id == "switch_dns")
    assert step.action == "route53.canary_switch" and step.params["Stages"] == [10, 50, 100]

    applied = cli("apply", "p.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr
    assert "canary stage 1/3: 10% to the load balancer, 90% to the origin" in applied.stdout
    assert "canary stage 2/3: 50% to the load balancer" in applied.stdout
    assert "target 5XX" in applied.stdout
    [record] = _site_records(session)
    assert "AliasTarget" in record and "SetIdentifier" not in record
    switch = _switch_state("p.json")
    assert switch["status"] == "done" and switch["observed"]["stage"] == 2
    assert switch["outputs"]["old_ttl"] == 300

    rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == original


def test_a_stage_breaking_its_bounds_reverts_every_name_and_a_later_apply_starts_again(
        world: Any, session: boto3.Session, cli: Any, tmp_path: Path) -> None:
    original = account_state(session)
    before = _site_records(session)
    assert cli("plan", "--domain", DOMAIN, "--out", "p.json", "--canary", "10,50,100",
               "--soak", "2").status == 0
    failing = WhenSoaking(tmp_path / "p.state.json", lambda: _target_5xx(session, 3))
    failing.start()
    try:
        failed = cli("apply", "p.json", "--yes", "--skip-verify")
    finally:
        failing.stop.set()
    assert failing.done.is_set()
    assert failed.status == 1, failed.stdout + failed.stderr
    assert ("canary stage 1 (10% to the load balancer) broke its bounds: "
            "HTTPCode_Target_5XX_Count 3 > 0") in failed.stderr
    assert "putting every name back on its original record" in failed.stdout
    assert _site_records(session) == before  # values, TTL, no weighted record left
    switch = _switch_state("p.json")
    assert switch["status"] == "failed"
    assert switch["observed"]["reverted"]["failed"] == ["HTTPCode_Target_5XX_Count 3 > 0"]

    resumed = cli("apply", "p.json", "--yes", "--skip-verify")
    assert resumed.status == 0, resumed.stderr
    assert "canary stage 1/3" in resumed.stdout  # from the first stage again
    assert cli("rollback", "p.json", "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == original
