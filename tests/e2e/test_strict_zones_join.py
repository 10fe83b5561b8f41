"""A site whose instance is in an Availability Zone the load balancer lacks, joining it through
the CLI on the strict AWS world, where such a target is ``unused`` (Target.NotInUse, "Target is
in an Availability Zone that is not enabled for the load balancer") until the zone is enabled:
without --add-subnet preflight refuses; with it the plan's SetSubnets comes before the wait for a
healthy target, so apply ends with the target healthy; rollback takes the subnet away again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.sandbox import create_alb

# blog's instance is in the region's third zone (in a public subnet of its own); the load
# balancer, made by hand, has subnets in the world's first two
SPEC = WorldSpec(more_sites=(SiteSpec("blog.example.com", "127.0.0.12", availability_zone=2),))


@pytest.fixture
def world(strict_aws: StrictAWS, session: boto3.Session) -> Any:
    with strict_aws.relaxed():
        return seed_world(session, SPEC)


def zones(elb: Any, lb_arn: str) -> set[str]:
    lb = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
    return {z["ZoneName"] for z in lb["AvailabilityZones"]}


def test_joining_from_a_zone_the_load_balancer_lacks_needs_its_subnet(
        world: Any, strict_aws: StrictAWS, session: boto3.Session, cli: Any) -> None:
    elb = session.client("elbv2", region_name="ap-northeast-1")
    blog = world.site("blog.example.com")
    with strict_aws.relaxed():
        lb_arn = create_alb(session, world, "team-lb").arn
    assert blog.availability_zone not in zones(elb, lb_arn)
    before = account_state(session)

    refused = cli("plan", "--domain", "blog.example.com", "--load-balancer", lb_arn,
                  "--out", "plans/blog.json")
    assert refused.status == 2, refused.stdout + refused.stderr
    assert blog.availability_zone in refused.stderr and "--add-subnet" in refused.stderr
    assert not Path("plans/blog.json").exists() and account_state(session) == before

    joined = cli("plan", "--domain", "blog.example.com", "--load-balancer", lb_arn,
                 "--add-subnet", "--out", "plans/blog.json")
    assert joined.status == 0, joined.stderr
    ids = [s.id for s in planfile.load(Path("plans/blog.json")).steps]
    assert ids.index("add_subnet") < ids.index("target_healthy")
    applied = cli("apply", "plans/blog.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    assert blog.availability_zone in zones(elb, lb_arn)
    plan = planfile.load(Path("plans/blog.json"))
    tg_arn = plan.state("target_group").outputs["arn"]
    health = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    assert [(h["Target"]["Id"], h["TargetHealth"]["State"]) for h in health] == [
        (blog.instance_id, "healthy")]

    rolled = cli("rollback", "plans/blog.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert blog.availability_zone not in zones(elb, lb_arn)
    assert account_state(session) == before
