"""Sites joining a load balancer that exists, through the CLI on the strict AWS world: two plans
joining at once racing for one rule priority, and a load balancer without an HTTPS listener (a
site in a zone the load balancer lacks: test_strict_zones_join.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.aws.elbv2 import Elbv2
from migrator.core import planfile
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.sandbox import create_alb

SHARED = ("plan", "--domain", "www.example.com", "--domain", "docs.example.com",
          "--shared-load-balancer", "--out", "shared.json")


def seed(strict_aws: StrictAWS, session: boto3.Session, *sites: SiteSpec) -> Any:
    with strict_aws.relaxed():
        return seed_world(session, WorldSpec(more_sites=(
            SiteSpec("docs.example.com", "127.0.0.13"), *sites)))


def shared_load_balancer(cli: Any) -> dict[str, Any]:
    assert cli(*SHARED).status == 0
    applied = cli("apply", "shared.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr
    return dict(planfile.load(Path("shared.json")).state("load_balancer").outputs)


def test_two_plans_joining_at_once_take_different_priorities(
        strict_aws: StrictAWS, session: boto3.Session, cli: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(strict_aws, session, SiteSpec("shop.example.com", "127.0.0.11"),
         SiteSpec("blog.example.com", "127.0.0.12"))
    lb = shared_load_balancer(cli)
    for site in ("shop", "blog"):
        planned = cli("plan", "--domain", f"{site}.example.com", "--load-balancer", lb["arn"],
                      "--out", f"{site}.json")
        assert planned.status == 0, planned.stderr

    # Both plans read the listener's rules, find the same lowest free priority, and only then
    # create their rules: the later one is refused with PriorityInUse, as on AWS.
    both_chose = threading.Barrier(2, timeout=30)
    real_create = Elbv2.create_rule
    raced: set[int] = set()

    def create_together(self: Elbv2, **params: Any) -> dict[str, Any]:
        me = threading.get_ident()
        if me not in raced:
            raced.add(me)
            both_chose.wait()
        return real_create(self, **params)

    monkeypatch.setattr(Elbv2, "create_rule", create_together)
    applied = cli("apply", "shop.json", "blog.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    assert "rule priority taken by another change meanwhile" in applied.stdout + applied.stderr

    elbv2 = session.client("elbv2", region_name="ap-northeast-1")
    listener = next(x for x in elbv2.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"]
                    if x["Port"] == 443)
    priorities = {}
    for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
        if not rule["IsDefault"]:
            host = rule["Conditions"][0]["HostHeaderConfig"]["Values"][0]
            priorities[host] = int(rule["Priority"])
    assert set(priorities) == {"www.example.com", "docs.example.com", "shop.example.com",
                               "blog.example.com"}
    assert len(set(priorities.values())) == 4
    for site in ("shop", "blog"):
        recorded = planfile.load(Path(f"{site}.json")).state("site_rule").outputs
        assert recorded["priority"] == priorities[f"{site}.example.com"]


def test_joining_a_load_balancer_without_https_adds_the_listener_and_takes_it_away(
        strict_aws: StrictAWS, session: boto3.Session, cli: Any) -> None:
    """Someone's load balancer with only HTTP:80 (forwarding to their app): the plan adds an
    HTTPS:443 listener with the modern policy and the site's certificate as its default, a
    redirect rule for the site on HTTP:80 (the listener's default action is left alone), and
    rollback removes both."""
    world = seed(strict_aws, session, SiteSpec("shop.example.com", "127.0.0.11"))
    with strict_aws.relaxed():
        alb = create_alb(session, world, "their-app")
        elbv2 = session.client("elbv2", region_name="ap-northeast-1")
        http = elbv2.create_listener(
            LoadBalancerArn=alb.arn, Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": alb.target_group_arn}],
        )["Listeners"][0]
    before = account_state(session)
    planned = cli("plan", "--domain", "shop.example.com", "--load-balancer", "their-app",
                  "--out", "shop.json")
    assert planned.status == 0, planned.stderr
    applied = cli("apply", "shop.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout

    listeners = {x["Port"]: x for x in elbv2.describe_listeners(LoadBalancerArn=alb.arn)[
        "Listeners"]}
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert https["DefaultActions"][0]["Type"] == "fixed-response"
    assert listeners[80]["DefaultActions"] == http["DefaultActions"]
    redirect = [r for r in elbv2.describe_rules(ListenerArn=http["ListenerArn"])["Rules"]
                if not r["IsDefault"]]
    assert len(redirect) == 1 and redirect[0]["Actions"][0]["Type"] == "redirect"
    assert redirect[0]["Conditions"][0]["HostHeaderConfig"]["Values"] == ["shop.example.com"]

    rolled = cli("rollback", "shop.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == before
    assert [r for r in elbv2.describe_rules(ListenerArn=http["ListenerArn"])["Rules"]
            if not r["IsDefault"]] == []
