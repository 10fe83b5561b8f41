"""`migrator inspect` lists the load balancers of the instance's VPC that could take the site, on
the strict AWS world: the one a shared plan made for two other sites (applied through the CLI,
its listener's TLS policy then set to one allowing TLS 1.0), one lacking the instance's zone
(with --add-subnet), one already routing the site's name (not able to take it); an internal one,
a network one and one in another VPC are not listed. The join command it prints writes a plan
that joins that load balancer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.checks.preflight.joining import monthly_saving
from migrator.core import planfile
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, World, WorldSpec, seed_world

SITES = (SiteSpec("shop.example.com", "127.0.0.11"), SiteSpec("blog.example.com", "127.0.0.12"))
REGION = "ap-northeast-1"
OLD_POLICY = "ELBSecurityPolicy-2016-08"  # still negotiates TLS 1.0 and 1.1


@pytest.fixture
def world(strict_aws: StrictAWS, session: boto3.Session) -> World:
    with strict_aws.relaxed():
        return seed_world(session, WorldSpec(more_sites=SITES))


def elbv2(session: boto3.Session) -> Any:
    return session.client("elbv2", region_name=REGION)


def load_balancer(session: boto3.Session, name: str, subnets: list[str], **kwargs: Any) -> str:
    # The scheme spelled out: moto describes a load balancer created without one with none,
    # where AWS says internet-facing.
    kwargs.setdefault("Scheme", "internet-facing")
    return str(elbv2(session).create_load_balancer(
        Name=name, Subnets=subnets, **kwargs)["LoadBalancers"][0]["LoadBalancerArn"])


def other_vpc_subnets(session: boto3.Session) -> list[str]:
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    return [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{i}.0/24",
                              AvailabilityZone=zone)["Subnet"]["SubnetId"]
            for i, zone in enumerate(zones)]


def third_zone_subnet(session: boto3.Session, world: World) -> str:
    """A subnet of the world's VPC in a zone none of the sites' instances is in."""
    ec2 = session.client("ec2", region_name=REGION)
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    spare = next(z for z in zones if z not in world.subnet_ids)
    return str(ec2.create_subnet(VpcId=world.vpc_id, CidrBlock="10.20.77.0/24",
                                 AvailabilityZone=spare)["Subnet"]["SubnetId"])


@pytest.fixture
def load_balancers(world: World, strict_aws: StrictAWS, session: boto3.Session,
                   cli: Any) -> dict[str, str]:
    """The shared load balancer of www and shop (by their plan, applied), and beside it in the
    account the others (made directly, as anyone might). Name -> ARN."""
    planned = cli("plan", "--domain", "www.example.com", "--domain", "shop.example.com",
                  "--shared-load-balancer", "--out", "plans/shared.json")
    assert planned.status == 0, planned.stderr
    applied = cli("apply", "plans/shared.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    shared = planfile.load(Path("plans/shared.json")).state("load_balancer").outputs
    client = elbv2(session)
    https = next(x for x in client.describe_listeners(LoadBalancerArn=shared["arn"])["Listeners"]
                 if x["Port"] == 443)
    certificate = https["Certificates"][0]["CertificateArn"]
    zone_c = sorted(world.subnet_ids)[1]
    with strict_aws.relaxed():
        client.modify_listener(ListenerArn=https["ListenerArn"], SslPolicy=OLD_POLICY)
        group = world.security_group_id
        made = {
            "no-zone": load_balancer(session, "no-zone", [world.subnet_ids[zone_c],
                                                          third_zone_subnet(session, world)],
                                     SecurityGroups=[group]),
            "routes-blog": load_balancer(session, "routes-blog", list(world.subnet_ids.values()),
                                         SecurityGroups=[group]),
            "inside": load_balancer(session, "inside", list(world.subnet_ids.values()),
                                    Scheme="internal", SecurityGroups=[group]),
            "network": load_balancer(session, "network", list(world.subnet_ids.values()),
                                     Type="network"),
            "elsewhere": load_balancer(session, "elsewhere", other_vpc_subnets(session)),
        }
        target_group = client.create_target_group(
            Name="blog-old", Protocol="HTTPS", Port=443, VpcId=world.vpc_id,
            TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
        forward = [{"Type": "forward", "TargetGroupArn": target_group}]
        listener = client.create_listener(
            LoadBalancerArn=made["routes-blog"], Protocol="HTTPS", Port=443,
            Certificates=[{"CertificateArn": certificate}], DefaultActions=forward,
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")["Listeners"][0]["ListenerArn"]
        client.create_rule(ListenerArn=listener, Priority=7, Actions=forward, Conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["blog.example.com"]}}])
    name = client.describe_load_balancers(
        LoadBalancerArns=[shared["arn"]])["LoadBalancers"][0]["LoadBalancerName"]
    return {name: shared["arn"], **made}


def test_inspect_lists_the_load_balancers_of_the_vpc_that_could_take_the_site(
        load_balancers: dict[str, str], world: World, cli: Any) -> None:
    shared = next(iter(load_balancers))
    result = cli("inspect", "--domain", "blog.example.com", "--origin-idle-probe", "0")
    assert result.status == 0, result.stderr
    text = result.stdout
    listed = text[text.index(f"Load balancers in {world.vpc_id} that could take "
                             "blog.example.com"):]
    flat = " ".join(listed.split())  # the lines unwrapped
    # Each load balancer: whether it can take the site, then its zones and quotas, its TLS
    # policy, and the command that joins it when it can; those that can first.
    at = {name: flat.index(f" {name}: ") for name in (shared, "no-zone", "routes-blog")}
    assert at[shared] < at["no-zone"] < at["routes-blog"], listed
    saving = monthly_saving(REGION, 2)
    assert saving is not None
    zone_a, zone_c = sorted(world.subnet_ids)
    assert (f"{shared}: can take it; saves about ${saving:.2f} a month zones {zone_a}, {zone_c}; "
            f"certificates 2 of 25, rules 2 of 100 used TLS policy {OLD_POLICY}: still allows "
            "TLS 1.0/1.1") in flat
    assert (f"no-zone: can take it with --add-subnet (no subnet in {zone_a}, the instance's "
            f"zone: the plan adds one; rollback removes it); saves about ${saving:.2f} a month"
            ) in flat
    assert "no HTTPS:443 listener yet" in flat[at["no-zone"]:at["routes-blog"]]
    assert ("routes-blog: cannot take it: blog.example.com is already routed by rule 7"
            in flat)
    for absent in ("inside", "network", "elsewhere"):
        assert absent not in listed
    # The join commands, the one needing a subnet with --add-subnet; none for routes-blog.
    join = f"migrator plan --domain blog.example.com --load-balancer {shared}"
    assert join in listed
    assert ("migrator plan --domain blog.example.com --load-balancer no-zone --add-subnet"
            in listed)
    assert "--load-balancer routes-blog" not in listed

    # The printed command writes a plan that joins that load balancer.
    joined = cli(*join.split()[1:], "--out", "plans/blog.json", "--origin-idle-probe", "0")
    assert joined.status == 0, joined.stderr
    plan = planfile.load(Path("plans/blog.json"))
    assert plan.snapshot.load_balancer is not None
    assert plan.snapshot.load_balancer.arn == load_balancers[shared]
    actions = [s.action for s in plan.steps]
    assert "elbv2.create_load_balancer" not in actions and "elbv2.create_rule" in actions


def test_inspect_json_has_the_load_balancers(load_balancers: dict[str, str], world: World,
                                             cli: Any) -> None:
    shared = next(iter(load_balancers))
    result = cli("inspect", "--domain", "blog.example.com", "--json", "--origin-idle-probe", "0",
                 "--region", REGION)
    assert result.status == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"snapshot", "findings", "load_balancers"} <= set(document)
    found = {lb["name"]: lb for lb in document["load_balancers"]}
    # Those that can take it first, as they are before with a subnet added.
    assert [lb["name"] for lb in document["load_balancers"]] == [shared, "no-zone",
                                                                 "routes-blog"]
    first = found[shared]
    assert first["arn"] == load_balancers[shared] and first["vpc_id"] == world.vpc_id
    assert first["can_take_site"] is True and first["add_subnet"] is False
    assert first["reason"] is None
    assert first["certificates"] == 2 and first["certificate_quota"] == 25
    assert first["rules"] == 2 and first["rule_quota"] == 100
    assert first["ssl_policy"] == OLD_POLICY and first["allows_tls_1_0_or_1_1"] is True
    assert first["monthly_saving_usd"] == monthly_saving(REGION, 2)
    assert len(first["zones"]) == 2 and len(first["joined_by"]) == 0
    assert first["created_by"] is not None
    assert first["join_command"] == (f"migrator plan --domain blog.example.com "
                                     f"--load-balancer {shared} --region {REGION}")
    assert found["no-zone"]["can_take_site"] is True and found["no-zone"]["add_subnet"] is True
    assert found["no-zone"]["join_command"].endswith("--add-subnet --region " + REGION)
    assert found["no-zone"]["ssl_policy"] is None
    refused = found["routes-blog"]
    assert refused["can_take_site"] is False and refused["join_command"] is None
    assert "already routed by rule 7" in refused["reason"]


def test_inspect_says_so_in_one_line_when_the_vpc_has_none(strict_world: World,
                                                           cli: Any) -> None:
    result = cli("inspect", "--domain", "www.example.com", "--origin-idle-probe", "0")
    assert result.status == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "could take" in line]
    assert lines == [f"Load balancers in {strict_world.vpc_id} that could take "
                     "www.example.com: none."]
    document = json.loads(cli("inspect", "--domain", "www.example.com", "--json",
                              "--origin-idle-probe", "0").stdout)
    assert document["load_balancers"] == []
