"""The strict world's target health and Availability Zones, with raw boto3 on a manual clock:
AWS does not route to a target in a zone its load balancer has no subnet in. DescribeTargetHealth
says ``unused`` (Target.NotInUse, "Target is in an Availability Zone that is not enabled for the
load balancer") until SetSubnets enables the zone; then the target is registering like a new one,
then healthy; a zone taken away again makes it unused again."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from migrator_sandbox.strict import ManualClock, StrictAWS
from migrator_sandbox.strict.target_health import NOT_IN_USE, NOT_IN_ZONE
from migrator_sandbox.world import SiteSpec, World, WorldSpec, seed_world

REGION = "ap-northeast-1"
# shop's instance is in the region's third zone: the world's load balancer subnets are in the
# first two
SPEC = WorldSpec(more_sites=(SiteSpec("shop.example.com", "127.0.0.11", availability_zone=2),))


@pytest.fixture
def world(strict_aws_manual: StrictAWS, session: boto3.Session) -> World:
    with strict_aws_manual.relaxed():
        return seed_world(session, SPEC)


def later(layer: StrictAWS, seconds: float) -> None:
    clock = layer.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds + 0.001)


def health(elb: Any, tg_arn: str) -> dict[str, tuple[str, str | None, str | None]]:
    found = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"),
                                d["TargetHealth"].get("Description")) for d in found}


def test_a_target_in_a_zone_the_load_balancer_lacks_is_unused_until_set_subnets(
        strict_aws_manual: StrictAWS, world: World, session: boto3.Session) -> None:
    layer, config = strict_aws_manual, strict_aws_manual.config
    elb = session.client("elbv2", region_name=REGION)
    www, shop = world.site("www.example.com"), world.site("shop.example.com")
    assert shop.availability_zone not in world.subnet_ids  # the premise: a zone apart
    assert www.availability_zone in world.subnet_ids
    lb = elb.create_load_balancer(Name="zones-lb", Subnets=list(world.subnet_ids.values()),
                                  SecurityGroups=[world.security_group_id])
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    with layer.relaxed():
        tg = elb.create_target_group(Name="zones-tg", Protocol="HTTPS", Port=443,
                                     VpcId=world.vpc_id, HealthCheckIntervalSeconds=5,
                                     HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": www.instance_id, "Port": 443},
                                                     {"Id": shop.instance_id, "Port": 443}])
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    # not in use yet (the load balancer is provisioning): the group's reason for both
    assert health(elb, tg) == {www.instance_id: NOT_IN_USE, shop.instance_id: NOT_IN_USE}

    later(layer, config.load_balancer_provisioning)
    assert health(elb, tg) == {
        www.instance_id: ("initial", "Elb.RegistrationInProgress",
                          "Target registration is in progress"),
        shop.instance_id: ("unused", "Target.NotInUse",
                           "Target is in an Availability Zone that is not enabled for the load "
                           "balancer")}
    later(layer, config.first_healthy(2, 5))
    assert health(elb, tg) == {www.instance_id: ("healthy", None, None),
                               shop.instance_id: NOT_IN_ZONE}
    # however long it waits: the zone is not the load balancer's
    later(layer, 60)
    assert health(elb, tg)[shop.instance_id] == NOT_IN_ZONE

    # SetSubnets enables shop's zone: shop registers as a new target would, then is healthy
    elb.set_subnets(LoadBalancerArn=lb_arn,
                    Subnets=[*world.subnet_ids.values(), shop.subnet_id])
    assert health(elb, tg) == {
        www.instance_id: ("healthy", None, None),
        shop.instance_id: ("initial", "Elb.RegistrationInProgress",
                           "Target registration is in progress")}
    later(layer, config.first_healthy(2, 5))
    assert health(elb, tg)[shop.instance_id] == ("healthy", None, None)

    # the zone taken away again (www's zone and another stay): unused again
    other = next(s for z, s in world.subnet_ids.items() if z != www.availability_zone)
    elb.set_subnets(LoadBalancerArn=lb_arn, Subnets=[www.subnet_id, other])
    assert health(elb, tg) == {www.instance_id: ("healthy", None, None),
                               shop.instance_id: NOT_IN_ZONE}


def test_a_second_load_balancer_with_the_zone_routes_to_it(
        strict_aws_manual: StrictAWS, world: World, session: boto3.Session) -> None:
    """A target group forwarded to by two load balancers: the target is used as soon as one of
    them has its zone."""
    layer, config = strict_aws_manual, strict_aws_manual.config
    elb = session.client("elbv2", region_name=REGION)
    shop = world.site("shop.example.com")
    with layer.relaxed():
        tg = elb.create_target_group(Name="zones-tg", Protocol="HTTPS", Port=443,
                                     VpcId=world.vpc_id)["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": shop.instance_id, "Port": 443}])
    narrow = elb.create_load_balancer(
        Name="narrow-lb", Subnets=list(world.subnet_ids.values()),
        SecurityGroups=[world.security_group_id])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=narrow, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    later(layer, config.load_balancer_provisioning)
    assert health(elb, tg) == {shop.instance_id: NOT_IN_ZONE}

    www_zone_subnet = world.site("www.example.com").subnet_id
    wide = elb.create_load_balancer(
        Name="wide-lb", Subnets=[www_zone_subnet, shop.subnet_id],
        SecurityGroups=[world.security_group_id])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=wide, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    assert health(elb, tg) == {shop.instance_id: NOT_IN_ZONE}  # wide is provisioning
    later(layer, config.load_balancer_provisioning)
    assert health(elb, tg)[shop.instance_id][0] == "initial"
    later(layer, config.first_healthy(5, 30))  # the group's defaults: 5 x 30 s, scaled
    assert health(elb, tg)[shop.instance_id] == ("healthy", None, None)
