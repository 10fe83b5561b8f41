"""Every AWS call of the load-balancer-sharing flows, through the CLI on the strict AWS world, is
allowed by the policy `migrator iam-policy PLAN` prints for the plan that made it -- the action,
and for Elastic Load Balancing the resource and the condition keys too (tests/support/
iam_evaluation.py) -- and by the policy for any plan.

Two flows: two sites on a new shared load balancer then a third joining it (the joining plan's
policy names that listener and nothing of the load balancer but its own tag); and a site joining a
load balancer somebody made by hand (untagged, an HTTP listener that does not redirect, no HTTPS
listener, not in the site's zone) with --add-subnet, so that its plan adds the HTTPS listener,
a redirect rule on the HTTP listener and the subnet, and removes all three on rollback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from migrator.core.iam_policy import iam_action, policy, uncovered
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, World, WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.iam_evaluation import Request, Tags, denied, elb_requests
from tests.support.iam_recording import ApiCall, recording_api_calls

REGION = "ap-northeast-1"
ELB = "elasticloadbalancing"


def arn_prefix(session: boto3.Session) -> str:
    account = session.client("sts").get_caller_identity()["Account"]
    return f"arn:aws:{ELB}:{REGION}:{account}:"


def iam_policy(cli: Any, plan_file: str) -> dict[str, Any]:
    printed = cli("iam-policy", plan_file)
    assert printed.status == 0, printed.stderr
    document: dict[str, Any] = json.loads(printed.stdout)
    assert document == policy(planfile.load(plan_file))
    return document


def assert_allowed(document: dict[str, Any], calls: Sequence[ApiCall],
                   requests: Sequence[Request], what: str) -> None:
    missing = uncovered({(c.service, c.operation) for c in calls}, document)
    assert not missing, f"{what}: actions not granted: {missing}"
    refused = denied(document, requests)
    assert not refused, f"{what}: IAM would deny:\n" + "\n".join(map(str, refused))


def changes(requests: Sequence[Request]) -> list[Request]:
    return [r for r in requests if r.resource != "*"]


def made(requests: Sequence[Request]) -> set[str]:
    return {r.action.removeprefix(f"{ELB}:") for r in requests}


@pytest.fixture
def three_sites(strict_aws: StrictAWS, session: boto3.Session) -> World:
    with strict_aws.relaxed():
        return seed_world(session, WorldSpec(more_sites=(
            SiteSpec("shop.example.com", "127.0.0.11"), SiteSpec("blog.example.com",
                                                                 "127.0.0.12"))))


def test_a_shared_plan_and_a_plan_joining_it_each_keep_to_their_own_policy(
        three_sites: World, session: boto3.Session, cli: Any) -> None:
    with recording_api_calls() as calls:
        assert cli("plan", "--domain", "www.example.com", "--domain", "shop.example.com",
                   "--shared-load-balancer", "--out", "shared.json").status == 0
        applied = cli("apply", "shared.json", "--yes", "--skip-verify")
        assert applied.status == 0, applied.stderr + applied.stdout
        lb = planfile.load("shared.json").state("load_balancer").outputs
        joined_at = len(calls)
        planned = cli("plan", "--domain", "blog.example.com", "--load-balancer", lb["arn"],
                      "--out", "blog.json")
        assert planned.status == 0, planned.stderr
        applied = cli("apply", "blog.json", "--yes", "--skip-verify")
        assert applied.status == 0, applied.stderr + applied.stdout
        assert cli("status", "blog.json").status == 0
        rolled = cli("rollback", "blog.json", "--yes", "--dns-drain", "0")
        assert rolled.status == 0, rolled.stderr
        left_at = len(calls)
        rolled = cli("rollback", "shared.json", "--yes", "--dns-drain", "0")
        assert rolled.status == 0, rolled.stderr

    tags, prefix = Tags(), arn_prefix(session)
    shared_calls = [*calls[:joined_at], *calls[left_at:]]
    shared = [*elb_requests(calls[:joined_at], tags, arn_prefix=prefix)]
    join = elb_requests(calls[joined_at:left_at], tags, arn_prefix=prefix)
    shared += elb_requests(calls[left_at:], tags, arn_prefix=prefix)
    shared_policy, join_policy = iam_policy(cli, "shared.json"), iam_policy(cli, "blog.json")

    assert_allowed(shared_policy, shared_calls, shared, "the shared plan")
    assert_allowed(join_policy, calls[joined_at:left_at], join, "the joining plan")
    assert_allowed(policy(), calls, [*shared, *join], "the policy for any plan")
    # The flows did what the statements are for.
    assert {"CreateLoadBalancer", "CreateRule", "DeleteRule", "AddListenerCertificates",
            "DeleteLoadBalancer", "CreateListener"} <= made(shared)
    assert {"CreateTargetGroup", "CreateRule", "DeleteRule", "AddListenerCertificates",
            "RemoveListenerCertificates", "AddTags", "RemoveTags",
            "DeleteTargetGroup"} <= made(join)
    assert not made(join) & {"CreateLoadBalancer", "DeleteLoadBalancer", "CreateListener",
                             "DeleteListener", "ModifyListener", "SetSecurityGroups",
                             "ModifyLoadBalancerAttributes", "SetSubnets"}
    listener = next(r.resource for r in join if r.action == f"{ELB}:AddListenerCertificates")
    assert listener.startswith(lb["arn"].replace(":loadbalancer/", ":listener/"))
    assert listener in json.dumps(join_policy)
    # Each policy is the narrow one: neither allows the other plan's changes (but the
    # certificates of the shared plan's listener, which it may change as its owner).
    assert {r.action for r in denied(join_policy, changes(shared))} >= {
        f"{ELB}:CreateLoadBalancer", f"{ELB}:DeleteLoadBalancer", f"{ELB}:CreateListener",
        f"{ELB}:ModifyLoadBalancerAttributes", f"{ELB}:CreateRule", f"{ELB}:DeleteRule",
        f"{ELB}:DeleteListener", f"{ELB}:CreateTargetGroup"}
    assert {r.action for r in denied(shared_policy, changes(join))} >= {
        f"{ELB}:CreateRule", f"{ELB}:DeleteRule", f"{ELB}:AddTags", f"{ELB}:RemoveTags",
        f"{ELB}:CreateTargetGroup", f"{ELB}:DeleteTargetGroup"}


@pytest.fixture
def hand_made_load_balancer(strict_aws: StrictAWS, session: boto3.Session) -> tuple[World, str]:
    """The world with blog.example.com in a third zone, and a load balancer made by hand in the
    first two: no tag, an HTTP:80 listener answering 200 itself, no HTTPS listener."""
    with strict_aws.relaxed():
        world = seed_world(session, WorldSpec(more_sites=(
            SiteSpec("blog.example.com", "127.0.0.12", availability_zone=2),)))
        ec2 = session.client("ec2", region_name=REGION)
        elbv2 = session.client("elbv2", region_name=REGION)
        group = ec2.create_security_group(GroupName="hand-made-lb", Description="by hand",
                                          VpcId=world.vpc_id)["GroupId"]
        lb = elbv2.create_load_balancer(Name="hand-made", Subnets=list(world.subnet_ids.values()),
                                        SecurityGroups=[group], Scheme="internet-facing",
                                        Type="application")["LoadBalancers"][0]
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                                  "StatusCode": "200", "ContentType": "text/plain",
                                  "MessageBody": "hello"}}])
    return world, lb["LoadBalancerArn"]


def test_joining_a_load_balancer_made_by_hand_keeps_to_the_plans_policy(
        hand_made_load_balancer: tuple[World, str], session: boto3.Session, cli: Any) -> None:
    world, lb_arn = hand_made_load_balancer
    before = account_state(session)
    with recording_api_calls() as calls:
        planned = cli("plan", "--domain", "blog.example.com", "--load-balancer", "hand-made",
                      "--add-subnet", "--out", "blog.json")
        assert planned.status == 0, planned.stderr + planned.stdout
        applied = cli("apply", "blog.json", "--yes", "--skip-verify")
        assert applied.status == 0, applied.stderr + applied.stdout
        rolled = cli("rollback", "blog.json", "--yes", "--dns-drain", "0")
        assert rolled.status == 0, rolled.stderr
    assert account_state(session) == before

    plan = planfile.load("blog.json")
    assert {"add_subnet", "https_listener", "http_rule", "site_rule"} <= {s.id for s in plan.steps}
    requests = elb_requests(calls, Tags(), arn_prefix=arn_prefix(session))
    document = iam_policy(cli, "blog.json")
    assert_allowed(document, calls, requests, "the joining plan")
    assert_allowed(policy(), calls, requests, "the policy for any plan")
    assert {"SetSubnets", "CreateListener", "CreateRule", "DeleteRule", "DeleteListener",
            "AddTags", "RemoveTags"} <= made(requests)
    assert not made(requests) & {"CreateLoadBalancer", "DeleteLoadBalancer", "ModifyListener",
                                 "SetSecurityGroups", "ModifyLoadBalancerAttributes"}
    # The rules went on the listener the plan added (tagged by it) and on the HTTP listener,
    # which the policy names by its ARN.
    http = next(x["ListenerArn"] for x in session.client("elbv2", region_name=REGION)
                .describe_listeners(LoadBalancerArn=lb_arn)["Listeners"])
    rule_listeners = {r.resource for r in requests if r.action == f"{ELB}:CreateRule"}
    assert http in rule_listeners and len(rule_listeners) == 2
    assert http in json.dumps(document)
    assert iam_action("elbv2", "SetSubnets") in json.dumps(document)
    assert world.site("blog.example.com").subnet_id in json.dumps(document)
