"""Sites sharing one load balancer, against the sandbox (its data plane routes by Host and picks
the certificate by SNI), with apply's checks on: no request to any site fails while sites move
onto the load balancer, join it and leave it; a site whose checks fail is put back alone while
the others stay migrated."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from migrator.checks.verifier import Verifier
from migrator.checks.verify.model import Check
from migrator.core import planfile
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from tests.support.sandbox import PollingClient, addresses

WWW, SHOP, BLOG = "www.example.com", "shop.example.com", "blog.example.com"
ORIGINS = {WWW: "127.0.0.10", SHOP: "127.0.0.11", BLOG: "127.0.0.12"}
SHARED = ("plan", "--domain", WWW, "--domain", SHOP, "--shared-load-balancer",
          "--out", "shared.json")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path / "sandbox", strict_config=StrictConfig.fast(),
                 sites=3) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        yield sb


def records(sandbox: Sandbox, name: str) -> dict[str, Any]:
    found = sandbox.session().client("route53").list_resource_record_sets(
        HostedZoneId=sandbox.world.zone_id)["ResourceRecordSets"]
    return next(r for r in found if r["Name"] == name + "." and r["Type"] == "A")


def test_no_site_loses_a_request_while_sites_share_join_and_leave(
        sandbox: Sandbox, cli: Any) -> None:
    clients = {name: PollingClient(sandbox.env, name) for name in ORIGINS}
    with ExitStack() as stack:
        for client in clients.values():
            stack.enter_context(client)
        time.sleep(0.5)
        assert cli(*SHARED).status == 0
        applied = cli("apply", "shared.json", "--yes")
        assert applied.status == 0, applied.stderr + applied.stdout
        lb = planfile.load(Path("shared.json")).state("load_balancer").outputs
        joined = cli("plan", "--domain", BLOG, "--load-balancer", lb["arn"],
                     "--out", "blog.json")
        assert joined.status == 0, joined.stderr
        applied = cli("apply", "blog.json", "--yes")
        assert applied.status == 0, applied.stderr + applied.stdout
        time.sleep(0.5)
        on_lb = {name: set(client.ok) - {ORIGINS[name]} for name, client in clients.items()}
        assert cli("rollback", "blog.json", "--yes", "--dns-drain", "1").status == 0
        time.sleep(0.5)
        assert clients[WWW].ok[-1] != ORIGINS[WWW]  # still on the load balancer
        rolled = cli("rollback", "shared.json", "--yes", "--dns-drain", "1")
        assert rolled.status == 0, rolled.stderr
        time.sleep(0.5)
    # Both sites' records went back before the one DNS drain, not a drain after each.
    assert rolled.stdout.count("waiting 1 s for resolvers") == 1, rolled.stdout
    for name, client in clients.items():
        assert client.failed == [], (name, client.failed[:3])
        assert on_lb[name], f"{name} never moved to the load balancer"
        assert client.ok[-1] == ORIGINS[name], f"{name} is not back on its instance"
    # One load balancer answered all three names.
    assert len({a for seen in on_lb.values() for a in seen}) <= 2
    plan = planfile.load(Path("shared.json")).to_dict()
    verified = [s for s in plan["steps"] if s["action"] == "verify.site"]
    assert {s["site"] for s in verified} == {WWW, SHOP}
    assert all(c["ok"] for s in verified for c in s["state"]["outputs"]["checks"])


def test_a_site_failing_its_checks_is_put_back_alone(sandbox: Sandbox, cli: Any) -> None:
    """shop's application breaks behind a proxy: its health check passes, the check through
    the load balancer does not. shop is put back alone; www is migrated."""
    sandbox.origin_for(SHOP).fail_forwarded = 500
    assert cli(*SHARED).status == 0
    applied = cli("apply", "shared.json", "--yes")
    assert applied.status == 1
    assert f"{SHOP}:" in applied.stderr and "1 of 2 sites" in applied.stderr
    assert WWW in applied.stderr  # named as migrated
    assert "AliasTarget" in records(sandbox, WWW)
    assert records(sandbox, SHOP)["ResourceRecords"] == [{"Value": ORIGINS[SHOP]}]
    elbv2 = sandbox.session().client("elbv2", region_name="ap-northeast-1")
    plan = planfile.load(Path("shared.json"))
    listener = plan.state("https_listener").outputs["arn"]
    rules = [r for r in elbv2.describe_rules(ListenerArn=listener)["Rules"] if not r["IsDefault"]]
    assert [r["Conditions"][0]["HostHeaderConfig"]["Values"] for r in rules] == [[WWW]]
    assert len(elbv2.describe_listener_certificates(ListenerArn=listener)["Certificates"]) == 1
    groups = {tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]}
    assert groups == {plan.steps[[s.id for s in plan.steps].index(
        f"target_group@{WWW}")].params["Name"]}
    assert addresses(sandbox.env, SHOP) == [ORIGINS[SHOP]]
    # A later apply does not try shop again, and says so by its exit status.
    again = cli("apply", "shared.json", "--yes")
    assert again.status == 1 and "1 of 2 sites" in again.stderr
    rolled = cli("rollback", "shared.json", "--yes", "--dns-drain", "1")
    assert rolled.status == 0, rolled.stderr
    assert addresses(sandbox.env, WWW) == [ORIGINS[WWW]]


def test_a_site_failing_after_its_switch_gets_its_records_back_alone(
        sandbox: Sandbox, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real_site = Verifier.site

    def shop_fails(self: Verifier, params: dict[str, Any]) -> list[Check]:
        checks = real_site(self, params)
        if SHOP in params["Names"]:
            return [*checks, Check("injected", SHOP, False, "made to fail by the test", "https")]
        return checks

    monkeypatch.setattr(Verifier, "site", shop_fails)
    assert cli(*SHARED).status == 0
    applied = cli("apply", "shared.json", "--yes")
    assert applied.status == 1, applied.stdout
    assert "injected" in applied.stderr
    shop = records(sandbox, SHOP)
    assert shop["TTL"] == 300 and shop["ResourceRecords"] == [{"Value": ORIGINS[SHOP]}]
    assert "AliasTarget" in records(sandbox, WWW)
    plan = planfile.load(Path("shared.json"))
    assert plan.state(f"switch_dns@{SHOP}").status == "reverted"
    assert plan.state(f"switch_dns@{WWW}").status == "done"


def test_a_shared_plan_stops_before_the_switch_then_switches_every_site(
        sandbox: Sandbox, cli: Any) -> None:
    assert cli(*SHARED).status == 0
    stopped = cli("apply", "shared.json", "--yes", "--stop-before-switch")
    assert stopped.status == 0, stopped.stderr + stopped.stdout
    text = " ".join(stopped.stdout.split())
    assert f"Ready to switch. {WWW} and {SHOP} are served by the load balancer" in text
    for name in (WWW, SHOP):
        assert f"curl --connect-to {name}:443:" in stopped.stdout
        assert records(sandbox, name)["ResourceRecords"] == [{"Value": ORIGINS[name]}]
    status = cli("status", "shared.json", "--json")
    assert json.loads(status.stdout)["ready_to_switch"], status.stdout
    switched = cli("apply", "shared.json", "--yes")
    assert switched.status == 0, switched.stderr + switched.stdout
    assert f"Applied. {WWW} and {SHOP} are served by" in " ".join(switched.stdout.split())
    for name in (WWW, SHOP):
        assert "AliasTarget" in records(sandbox, name)
    rolled = cli("rollback", "shared.json", "--yes", "--dns-drain", "0")
    assert "Rolled back." in rolled.stdout and "their instances" in rolled.stdout
