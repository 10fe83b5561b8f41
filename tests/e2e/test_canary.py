"""The canary switch end to end: on the strict AWS world (the stages, a gate that fails and
reverts, resume and rollback from any stage) and on the sandbox, whose load balancer publishes
its CloudWatch metrics as it serves (a full canary under a polling client, and an origin that
fails during a soak)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from tests.support.aws_state import account_state
from tests.support.forkserver import ForkServer, fork_server
from tests.support.sandbox import PollingClient, addresses

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
    assert cli("plan", "--domain", DOMAIN, "--out", "p.json", "--canary", "10,100",
               "--soak", "1").status == 0
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
    status = cli("status", "p.json")
    assert ("Canary stage 1/2 (10% to the load balancer) broke its bounds "
            "(HTTPCode_Target_5XX_Count 3 > 0): every name is back on its original record; "
            "apply starts the canary again from stage 1.") in " ".join(status.stdout.split())
    canary = json.loads(cli("status", "p.json", "--json").stdout)["canary"]
    assert canary["stage"] == 1 and canary["of"] == 2 and canary["weight"] == 10
    assert canary["reverted"]["failed"] == ["HTTPCode_Target_5XX_Count 3 > 0"]

    resumed = cli("apply", "p.json", "--yes", "--skip-verify")
    assert resumed.status == 0, resumed.stderr
    assert "canary stage 1/2" in resumed.stdout  # from the first stage again
    assert cli("rollback", "p.json", "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == original


# --- the sandbox: the load balancer publishes what it serves -------------------------------------

ORIGIN = "127.0.0.10"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox for the module: each test migrates and rolls back, leaving it as it was."""
    with Sandbox(workdir=tmp_path_factory.mktemp("sandbox"),
                 strict_config=StrictConfig.fast()) as sb:
        yield sb


@pytest.fixture
def site(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    assert sandbox.origin is not None
    yield sandbox
    sandbox.origin.fail_forwarded = None


def test_a_full_canary_under_a_polling_client(site: Sandbox, cli: Any) -> None:
    planned = cli("plan", "--domain", DOMAIN, "--out", "p.json", "--canary", "10,50,100",
                  "--soak", "1")
    assert planned.status == 0, planned.stderr
    options = planfile.load("p.json").options
    assert options.origin_latency_seconds is not None  # measured by preflight's probe
    with PollingClient(site.env) as client:
        applied = cli("apply", "p.json", "--yes")
        assert applied.status == 0, applied.stderr
        time.sleep(0.3)
        seen = set(client.ok)
        rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "1")
        assert rolled.status == 0, rolled.stderr
        time.sleep(0.3)
    assert client.failed == []
    assert ORIGIN in seen and seen - {ORIGIN}, "the client never saw the load balancer"
    assert client.ok[-1] == ORIGIN
    # the load balancer's own figures, as it served them during the soaks
    served = [line for line in applied.stdout.splitlines() if "requests " in line]
    assert served and not all("requests -" in line for line in served), applied.stdout
    assert [r["ResourceRecords"] for r in _site_records(site.session())] == [
        [{"Value": ORIGIN}]]


def test_an_origin_failing_behind_the_load_balancer_is_reverted_by_the_gate(
        site: Sandbox, cli: Any, tmp_path: Path) -> None:
    assert site.origin is not None
    before = _site_records(site.session())
    assert cli("plan", "--domain", DOMAIN, "--out", "p.json", "--canary", "50,100",
               "--soak", "3").status == 0

    def break_the_origin() -> None:
        assert site.origin is not None
        site.origin.fail_forwarded = 500

    failing = WhenSoaking(tmp_path / "p.state.json", break_the_origin)
    with PollingClient(site.env) as client:
        failing.start()
        try:
            failed = cli("apply", "p.json", "--yes")
        finally:
            failing.stop.set()
        reverted_at = len(client.ok) + len(client.failed)
        time.sleep(0.5)
    assert failing.done.is_set()
    assert failed.status == 1, failed.stdout + failed.stderr
    assert "canary stage 1 (50% to the load balancer) broke its bounds: " \
           "HTTPCode_Target_5XX_Count" in failed.stderr
    assert _site_records(site.session()) == before  # values, TTL, no weighted record left
    assert addresses(site.env, DOMAIN) == [ORIGIN]
    # The failed share is what the load balancer answered with the origin's 500s; every
    # request the weights sent to the origin itself was served, and none failed otherwise.
    assert client.failed, "the client never met the failing share"
    assert all(f.endswith(": HTTP 500") and not f.startswith(ORIGIN + ":")
               for f in client.failed), client.failed
    assert reverted_at < len(client.ok) + len(client.failed)  # polled on after the revert
    assert cli("rollback", "p.json", "--yes", "--dns-drain", "0").status == 0


@pytest.fixture(scope="module")
def forks() -> Iterator[ForkServer]:
    """Real `migrator` processes, forked from a warmed-up server (tests/support/forkserver.py)."""
    with fork_server() as server:
        yield server


def test_sigkill_during_a_soak_then_resume_then_rollback(
        site: Sandbox, cli: Any, forks: ForkServer, tmp_path: Path) -> None:
    before = _site_records(site.session())
    assert cli("plan", "--domain", DOMAIN, "--out", "p.json", "--canary", "10,50,100",
               "--soak", "2").status == 0
    child = forks.spawn(["apply", "p.json", "--yes", "--skip-verify"], tmp_path,
                        {**os.environ, "NO_COLOR": "1"})
    soaking = WhenSoaking(tmp_path / "p.state.json",
                          lambda: os.kill(child.pid, signal.SIGKILL), stage=1)
    soaking.start()
    try:
        child.wait(timeout=120)
    finally:
        soaking.stop.set()
    assert soaking.done.is_set(), child.stderr_text()
    assert child.returncode != 0
    # killed in the second stage's soak: the weighted pair at 50/50 is live
    live = {r["SetIdentifier"]: r["Weight"] for r in _site_records(site.session())}
    assert sorted(live.values()) == [50, 50] and len(live) == 2
    assert _switch_state("p.json")["status"] == "running"

    resumed = cli("apply", "p.json", "--yes", "--skip-verify")
    assert resumed.status == 0, resumed.stderr
    assert "canary stage 1/3" not in resumed.stdout  # went on in stage 2's soak
    assert "canary stage 2/3: 50% to the load balancer" in resumed.stdout
    [record] = _site_records(site.session())
    assert "AliasTarget" in record and "SetIdentifier" not in record

    rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert _site_records(site.session()) == before
