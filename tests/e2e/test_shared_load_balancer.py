"""Several sites on one load balancer, end to end through the CLI on the strict AWS world: a
plan putting two sites behind one new load balancer (`--shared-load-balancer`), a third site
joining it (`--load-balancer`), the refusal to roll the first back under the third, and each
rollback undoing exactly what its plan did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, WorldSpec, seed_world
from tests.support.aws_state import account_state

SITES = (SiteSpec("shop.example.com", "127.0.0.11"), SiteSpec("blog.example.com", "127.0.0.12"))


@pytest.fixture
def world(strict_aws: StrictAWS, session: boto3.Session) -> Any:
    with strict_aws.relaxed():
        return seed_world(session, WorldSpec(more_sites=SITES))


def elbv2(session: boto3.Session) -> Any:
    return session.client("elbv2", region_name="ap-northeast-1")


def https_listener(session: boto3.Session, lb_arn: str) -> dict[str, Any]:
    listeners = elbv2(session).describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    return next(x for x in listeners if x["Port"] == 443)


def host_rules(session: boto3.Session, listener_arn: str) -> dict[str, str]:
    """host -> target group name of the listener's host-header rules."""
    client = elbv2(session)
    names = {tg["TargetGroupArn"]: tg["TargetGroupName"]
             for tg in client.describe_target_groups()["TargetGroups"]}
    found = {}
    for rule in client.describe_rules(ListenerArn=listener_arn)["Rules"]:
        if rule["IsDefault"]:
            continue
        hosts = next(c for c in rule["Conditions"] if c["Field"] == "host-header")
        for host in hosts["HostHeaderConfig"]["Values"]:
            found[host] = names[rule["Actions"][0]["TargetGroupArn"]]
    return found


def alias_target(session: boto3.Session, zone_id: str, name: str) -> str | None:
    records = session.client("route53").list_resource_record_sets(
        HostedZoneId=zone_id)["ResourceRecordSets"]
    record = next(r for r in records if r["Name"] == name + "." and r["Type"] == "A")
    alias = record.get("AliasTarget", {}).get("DNSName")
    return alias.rstrip(".") if alias else None


def test_two_sites_share_one_load_balancer_then_a_third_joins(
        world: Any, session: boto3.Session, cli: Any) -> None:
    before = account_state(session)
    planned = cli("plan", "--domain", "www.example.com", "--domain", "shop.example.com",
                  "--shared-load-balancer", "--out", "plans/shared.json")
    assert planned.status == 0, planned.stderr
    applied = cli("apply", "plans/shared.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout

    plan = planfile.load(Path("plans/shared.json"))
    lb = plan.state("load_balancer").outputs
    lbs = elbv2(session).describe_load_balancers()["LoadBalancers"]
    assert [x["LoadBalancerArn"] for x in lbs] == [lb["arn"]]
    listener = https_listener(session, lb["arn"])
    assert listener["SslPolicy"] == plan.options.ssl_policy
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"
    rules = host_rules(session, listener["ListenerArn"])
    assert set(rules) == {"www.example.com", "shop.example.com"}
    assert rules["www.example.com"] != rules["shop.example.com"]
    certs = elbv2(session).describe_listener_certificates(
        ListenerArn=listener["ListenerArn"])["Certificates"]
    assert len(certs) == 2 and sum(bool(c.get("IsDefault")) for c in certs) == 1
    for name in ("www.example.com", "shop.example.com"):
        assert alias_target(session, world.zone_id, name) == lb["dns_name"]
    assert alias_target(session, world.zone_id, "blog.example.com") is None

    # A third site joins the same load balancer.
    joined = cli("plan", "--domain", "blog.example.com", "--load-balancer", lb["arn"],
                 "--out", "plans/blog.json")
    assert joined.status == 0, joined.stderr
    join_plan = planfile.load(Path("plans/blog.json"))
    assert not any(s.action == "elbv2.create_load_balancer" for s in join_plan.steps)
    applied = cli("apply", "plans/blog.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    assert set(host_rules(session, listener["ListenerArn"])) == {
        "www.example.com", "shop.example.com", "blog.example.com"}
    assert alias_target(session, world.zone_id, "blog.example.com") == lb["dns_name"]
    assert https_listener(session, lb["arn"])["DefaultActions"] == listener["DefaultActions"]

    # The plan that made the load balancer may not delete it under blog.
    refused = cli("rollback", "plans/shared.json", "--yes", "--dns-drain", "0")
    assert refused.status == 2, refused.stderr
    assert join_plan.id in refused.stderr
    assert len(elbv2(session).describe_load_balancers()["LoadBalancers"]) == 1

    # blog's rollback removes exactly what it added; the other sites keep their rules.
    rolled = cli("rollback", "plans/blog.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert set(host_rules(session, listener["ListenerArn"])) == {
        "www.example.com", "shop.example.com"}
    assert len(elbv2(session).describe_listener_certificates(
        ListenerArn=listener["ListenerArn"])["Certificates"]) == 2
    assert alias_target(session, world.zone_id, "blog.example.com") is None

    rolled = cli("rollback", "plans/shared.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == before
