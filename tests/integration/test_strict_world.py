"""The strict AWS world, seen with raw boto3: each AWS behaviour moto lacks appears (with AWS's
error code), goes away after its (scaled-down) delay, and uninstalling restores plain moto.

Delays are ``StrictConfig.fast()`` (tenths of a second); no test sleeps much more than a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from migrator_sandbox import moto_state
from migrator_sandbox.strict import ManualClock, StrictAWS, StrictConfig
from migrator_sandbox.strict.acm import validation_record
from migrator_sandbox.world import World, WorldSpec, seed_world
from tests.support.sandbox import (
    addresses,
    eventually,
    loopback_guard,
    refused,
    request,
)

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"
DOMAIN = "www.example.com"
ZONE = "example.com"
PERMISSION: list[Any] = [
    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
]
HTTP_FROM_ANYWHERE: list[Any] = [
    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
]


@dataclasses.dataclass
class Clients:
    ec2: Any
    elb: Any
    acm: Any
    route53: Any


@pytest.fixture
def clients(session: boto3.Session) -> Clients:
    """Clients whose first call already happened (loading a service model takes a while, which
    would eat into the sub-second windows under test)."""
    found = Clients(
        session.client("ec2"),
        session.client("elbv2"),
        session.client("acm"),
        session.client("route53"),
    )
    found.ec2.describe_vpcs()
    found.elb.describe_load_balancers()
    found.acm.list_certificates()
    found.route53.list_hosted_zones()
    # the server's first error of a service loads that service's error shapes: do it now
    for first_error in (
        lambda: found.ec2.describe_security_groups(GroupIds=["sg-00000000000000000"]),
        lambda: found.elb.describe_target_groups(Names=["no-such-group"]),
        lambda: found.acm.describe_certificate(CertificateArn=f"arn:aws:acm:{REGION}:123456789012:certificate/0"),
        lambda: found.route53.get_hosted_zone(Id="Z0000000000000"),
    ):
        with contextlib.suppress(ClientError):
            first_error()
    return found


@contextlib.contextmanager
def aws_error(code: str, message: str | None = None) -> Iterator[None]:
    with pytest.raises(ClientError) as caught:
        yield
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert message in error["Message"], error


def later(layer: StrictAWS, seconds: float) -> None:
    """Let ``seconds`` pass on the layer's manual clock (just past it)."""
    clock = layer.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds + 0.001)


@pytest.fixture
def layer(strict_aws_manual: StrictAWS) -> StrictAWS:
    """The strict layer on a manual clock (``later`` moves it)."""
    return strict_aws_manual


@pytest.fixture
def settled(strict_world_manual: World) -> World:
    """The seeded world, old and settled, on the manual clock."""
    return strict_world_manual


def group(ec2: Any, world: World, name: str) -> str:
    return ec2.create_security_group(GroupName=name, Description=name, VpcId=world.vpc_id)[
        "GroupId"
    ]


def load_balancer(elb: Any, world: World, groups: list[str], name: str = "strict-lb") -> str:
    return elb.create_load_balancer(
        Name=name, Subnets=list(world.subnet_ids.values()), SecurityGroups=groups
    )["LoadBalancers"][0]["LoadBalancerArn"]


def target_group(elb: Any, world: World, name: str = "strict-tg", **extra: Any) -> str:
    return elb.create_target_group(
        Name=name, Protocol="HTTPS", Port=443, VpcId=world.vpc_id, **extra
    )["TargetGroups"][0]["TargetGroupArn"]


def forward(tg_arn: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": tg_arn}]


def health(elb: Any, tg_arn: str) -> list[tuple[str, str | None]]:
    found = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    return [(d["TargetHealth"]["State"], d["TargetHealth"].get("Reason")) for d in found]


def validation_records(acm: Any, arn: str) -> dict[str, tuple[str, str]]:
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    return {
        o["DomainName"]: (o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
        for o in cert["DomainValidationOptions"]
        if "ResourceRecord" in o
    }


def create_cnames(route53: Any, zone_id: str, records: list[tuple[str, str]]) -> str:
    change = route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
                for name, value in records
            ]
        },
    )
    return str(change["ChangeInfo"]["Id"])


def issued_certificate(clients: Clients, world: World, layer: StrictAWS, name: str) -> str:
    """Request, validate through Route 53, let it be ISSUED and visible to ELB."""
    arn = clients.acm.request_certificate(DomainName=name, ValidationMethod="DNS")[
        "CertificateArn"
    ]
    later(layer, layer.config.acm_records_delay)
    create_cnames(clients.route53, world.zone_id, list(validation_records(clients.acm, arn).values()))
    later(layer, layer.config.acm_issue_delay + layer.config.certificate_visibility)
    status = clients.acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
    assert status == "ISSUED"
    return arn


# -- the configuration ---------------------------------------------------------------------------


def test_config_presets_and_the_critical_path_floor() -> None:
    fast, demo = StrictConfig.fast(), StrictConfig.demo()
    assert fast.ec2_visibility == 0.3
    assert fast.load_balancer_provisioning == 0.5
    assert fast.route53_insync_delay == 0.3
    assert fast.health_interval(10) == pytest.approx(0.5)  # 10 s x 0.05
    numbers = [v for v in dataclasses.astuple(fast) if isinstance(v, float)]
    assert all(v < 1 for v in numbers)  # sub-second throughout
    assert all(
        getattr(demo, f.name) >= getattr(fast, f.name)
        for f in dataclasses.fields(StrictConfig)
        if f.type in ("float", float)
    )
    assert demo.load_balancer_provisioning <= 10  # still seconds
    # max(records + issue, provisioning + threshold x interval x scale) + INSYNC
    assert fast.critical_path_floor(2, 10) == pytest.approx(max(0.2 + 0.3, 0.5 + 2 * 0.5) + 0.3)
    assert fast.critical_path_floor(5, 1) == pytest.approx(max(0.5, 0.5 + 5 * 0.05) + 0.3)
    slow_acm = fast.replace(acm_issue_delay=4.0)
    assert slow_acm.floor == pytest.approx(0.2 + 4.0 + 0.3)
    assert fast.floor == fast.critical_path_floor(2, 10)  # migrator's target group
    assert StrictConfig.demo(acm_issue_delay=7).acm_issue_delay == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.ec2_visibility = 1  # type: ignore[misc]  # frozen: the assignment must fail
    with pytest.raises(ValueError):
        StrictConfig(eni_linger=-1)


def test_strict_aws_fixture_yields_the_layer(strict_aws: StrictAWS) -> None:
    assert strict_aws.installed
    assert strict_aws.config == StrictConfig.fast()
    assert strict_aws.floor == strict_aws.config.floor
    assert moto_state.strict_view() is strict_aws
    with pytest.raises(RuntimeError):
        StrictAWS().install()  # one at a time per process


def test_on_the_real_clock_windows_close_by_themselves(
    strict_aws: StrictAWS, strict_world: World, clients: Clients
) -> None:
    """The default clock: no one moves time, the delays simply pass (a loaded machine may pass
    them before the first call returns; that case proves nothing and is not asserted)."""
    ec2, elb = clients.ec2, clients.elb
    config = strict_aws.config
    began = time.monotonic()
    sg = group(ec2, strict_world, "real-clock")
    lb = load_balancer(elb, strict_world, [strict_world.security_group_id])
    try:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
        refused_at_once = False
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidGroup.NotFound"
        refused_at_once = True
    state = elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]
    if time.monotonic() - began < config.ec2_visibility:
        assert refused_at_once
        assert state["Code"] == "provisioning"
    time.sleep(max(config.ec2_visibility, config.load_balancer_provisioning) + 0.05)
    if refused_at_once:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
    state = elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]
    assert state["Code"] == "active"


# -- EC2 -----------------------------------------------------------------------------------------


def test_new_security_group_is_unknown_for_a_moment(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    ec2 = clients.ec2
    sg = group(ec2, settled, "fresh")
    with aws_error("InvalidGroup.NotFound", sg):
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
    with aws_error("InvalidGroup.NotFound"):
        ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=PERMISSION)
    with aws_error("InvalidGroup.NotFound"):  # as a rule's source group, too
        ec2.authorize_security_group_ingress(
            GroupId=settled.security_group_id,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
                            "UserIdGroupPairs": [{"GroupId": sg}]}],
        )
    with aws_error("InvalidGroup.NotFound"):  # Describe lags for the same window
        ec2.describe_security_groups(GroupIds=[sg])
    listed = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [settled.vpc_id]}])
    assert sg not in [g["GroupId"] for g in listed["SecurityGroups"]]
    assert settled.security_group_id in [g["GroupId"] for g in listed["SecurityGroups"]]

    later(layer, layer.config.ec2_visibility)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
    ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    ])
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["GroupId"] == sg


def test_revoke_on_a_new_group_is_refused_too(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    ec2 = clients.ec2
    with layer.relaxed():  # created relaxed: old at once, rules and all
        sg = group(ec2, settled, "old")
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
    fresh = group(ec2, settled, "fresh")
    with aws_error("InvalidGroup.NotFound"):
        ec2.revoke_security_group_egress(
            GroupId=fresh,
            IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )


def test_modify_instance_attribute_does_not_see_a_new_group(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    ec2 = clients.ec2
    sg = group(ec2, settled, "dedicated")
    groups = [settled.security_group_id, sg]
    with aws_error("InvalidGroup.NotFound", sg):
        ec2.modify_instance_attribute(InstanceId=settled.instance_id, Groups=groups)
    later(layer, layer.config.ec2_visibility)
    ec2.modify_instance_attribute(InstanceId=settled.instance_id, Groups=groups)
    instance = ec2.describe_instances(InstanceIds=[settled.instance_id])["Reservations"][0][
        "Instances"
    ][0]
    # one interface: the call changed that interface's groups
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == groups
    assert [g["GroupId"] for g in instance["NetworkInterfaces"][0]["Groups"]] == groups
    with aws_error("InvalidGroup.NotFound"):  # a group that does not exist at all
        ec2.modify_instance_attribute(InstanceId=settled.instance_id, Groups=["sg-0000"])


def test_new_network_interface_is_unknown_for_a_moment(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    ec2 = clients.ec2
    subnet = next(iter(settled.subnet_ids.values()))
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[settled.security_group_id])[
        "NetworkInterface"
    ]["NetworkInterfaceId"]
    with aws_error("InvalidNetworkInterfaceID.NotFound", eni):
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni, Groups=[settled.security_group_id]
        )
    sg = group(ec2, settled, "fresh-for-eni")
    with aws_error("InvalidGroup.NotFound", sg):  # an old interface, a new group
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=settled.primary_interface_id, Groups=[sg]
        )
    with aws_error("InvalidNetworkInterfaceID.NotFound", eni):
        ec2.attach_network_interface(
            NetworkInterfaceId=eni, InstanceId=settled.instance_id, DeviceIndex=1
        )
    later(layer, layer.config.ec2_visibility)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[sg])
    found = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert [g["GroupId"] for g in found["Groups"]] == [sg]


def test_security_groups_live_on_network_interfaces(
    layer: StrictAWS, session: boto3.Session, clients: Clients
) -> None:
    with layer.relaxed():
        world = seed_world(session, WorldSpec(second_interface=True))
    assert world.second_interface_id and world.second_security_group_id
    ec2 = clients.ec2

    def described() -> dict[str, Any]:
        reservations = ec2.describe_instances(InstanceIds=[world.instance_id])["Reservations"]
        return dict(reservations[0]["Instances"][0])

    def interface_groups(instance: dict[str, Any]) -> dict[int, list[str]]:
        return {
            n["Attachment"]["DeviceIndex"]: [g["GroupId"] for g in n["Groups"]]
            for n in instance["NetworkInterfaces"]
        }

    instance = described()
    assert interface_groups(instance) == {
        0: [world.security_group_id],
        1: [world.second_security_group_id],
    }
    # the instance's groups: the union of its interfaces' groups
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [
        world.security_group_id,
        world.second_security_group_id,
    ]
    # more than one interface: AWS refuses instance-level group changes
    with aws_error(
        "InvalidInstanceID",
        f"There are multiple interfaces attached to instance '{world.instance_id}'. "
        "Please specify an interface ID for the operation instead.",
    ):
        ec2.modify_instance_attribute(InstanceId=world.instance_id, Groups=[world.security_group_id])
    # the interface is the place: the instance's union follows
    with layer.relaxed():
        extra = group(ec2, world, "eth1-extra")
    ec2.modify_network_interface_attribute(
        NetworkInterfaceId=world.second_interface_id,
        Groups=[world.second_security_group_id, extra],
    )
    instance = described()
    assert interface_groups(instance) == {
        0: [world.security_group_id],
        1: [world.second_security_group_id, extra],
    }
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [
        world.security_group_id,
        world.second_security_group_id,
        extra,
    ]
    # the sandbox's readers agree: the public address is on the primary interface here
    view = moto_state.instance_at(world.spec.address)
    assert view is not None
    assert view[2].public_group_ids == (world.security_group_id,)
    assert set(view[2].security_group_ids) == {world.security_group_id,
                                               world.second_security_group_id, extra}


def test_world_can_put_the_site_address_on_the_second_interface(
    layer: StrictAWS, session: boto3.Session, clients: Clients
) -> None:
    with layer.relaxed():
        world = seed_world(session, WorldSpec(public_address_on_second_interface=True))
    assert world.public_interface_id == world.second_interface_id != world.primary_interface_id
    address = clients.ec2.describe_addresses(AllocationIds=[world.allocation_id])["Addresses"][0]
    assert address["NetworkInterfaceId"] == world.second_interface_id
    assert address["InstanceId"] == world.instance_id
    view = moto_state.instance_at(world.spec.address)
    assert view is not None and view[2].id == world.instance_id
    # what filters the site's traffic: the second interface's group (80/443 from anywhere)
    assert view[2].public_group_ids == (world.second_security_group_id,)
    rules = moto_state.ingress_rules(view[0], view[1], view[2].public_group_ids)
    assert any(r.covers_port(443) and r.cidr == "0.0.0.0/0" for r in rules)


def test_plain_moto_sandbox_readers_find_the_address_on_the_second_interface(
    session: boto3.Session,
) -> None:
    """Without the strict layer too, the data plane and the origin firewall find the instance
    behind an Elastic IP on its second interface, and filter by that interface's group."""
    from migrator_sandbox import firewall

    world = seed_world(session, WorldSpec(public_address_on_second_interface=True))
    found = moto_state.instance_at(world.spec.address)
    assert found is not None
    account, region, view = found
    assert view.id == world.instance_id and view.public_ip == world.spec.address
    assert view.public_group_ids == (world.second_security_group_id,)
    assert firewall.origin_admits(world.spec.address, 443, "127.0.0.1", lambda _a: None)
    session.client("ec2").revoke_security_group_ingress(
        GroupId=world.second_security_group_id, IpPermissions=PERMISSION
    )
    # the primary interface's group still admits 443 from anywhere: it does not matter
    assert not firewall.origin_admits(world.spec.address, 443, "127.0.0.1", lambda _a: None)
    assert moto_state.ingress_rules(account, region, (world.security_group_id,))


def test_delete_security_group_waits_for_its_dependents(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    ec2, elb = clients.ec2, clients.elb
    with layer.relaxed():
        lb_group = group(ec2, settled, "lb")
        referenced = group(ec2, settled, "referenced")
        referrer = group(ec2, settled, "referrer")
        ec2.authorize_security_group_ingress(
            GroupId=referrer,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                            "UserIdGroupPairs": [{"GroupId": referenced}]}],
        )
        lb = load_balancer(elb, settled, [lb_group])
    # a load balancer uses it
    with aws_error("DependencyViolation", f"resource {lb_group} has a dependent object"):
        ec2.delete_security_group(GroupId=lb_group)
    elb.delete_load_balancer(LoadBalancerArn=lb)
    # its network interfaces linger a moment after it is gone
    with aws_error("DependencyViolation"):
        ec2.delete_security_group(GroupId=lb_group)
    # another group's rule refers to it
    with aws_error("DependencyViolation"):
        ec2.delete_security_group(GroupId=referenced)
    # a network interface has it (the instance's primary interface)
    with aws_error("DependencyViolation"):
        ec2.delete_security_group(GroupId=settled.security_group_id)
    later(layer, layer.config.eni_linger)
    ec2.delete_security_group(GroupId=lb_group)
    ec2.delete_security_group(GroupId=referrer)
    ec2.delete_security_group(GroupId=referenced)  # nothing refers to it any more
    fresh = group(ec2, settled, "fresh")
    with aws_error("InvalidGroup.NotFound"):  # and a new one is not even visible yet
        ec2.delete_security_group(GroupId=fresh)


# -- ELB -----------------------------------------------------------------------------------------


def test_load_balancer_refuses_a_new_security_group(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    ec2, elb = clients.ec2, clients.elb
    sg = group(ec2, settled, "alb")
    with aws_error("InvalidSecurityGroup", sg):
        load_balancer(elb, settled, [sg])
    with aws_error("InvalidSecurityGroup"):
        load_balancer(elb, settled, ["sg-00000000000000000"])  # moto accepts any string
    with layer.relaxed():
        lb = load_balancer(elb, settled, [settled.security_group_id])
    with aws_error("InvalidSecurityGroup", sg):
        elb.set_security_groups(LoadBalancerArn=lb, SecurityGroups=[sg])
    later(layer, layer.config.ec2_visibility)
    elb.set_security_groups(LoadBalancerArn=lb, SecurityGroups=[sg])
    load_balancer(elb, settled, [sg], name="second-lb")


def test_load_balancer_is_provisioning_then_active(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    elb = clients.elb
    lb = load_balancer(elb, settled, [settled.security_group_id])

    def state() -> str:
        found = elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]
        return str(found["State"]["Code"])

    assert state() == "provisioning"
    assert state() == "provisioning"  # describing does not activate it (moto's shortcut)
    assert [b.state for b in moto_state.load_balancers() if b.arn == lb] == ["provisioning"]
    later(layer, layer.config.load_balancer_provisioning)
    assert state() == "active"
    assert [b.state for b in moto_state.load_balancers() if b.arn == lb] == ["active"]


def test_new_target_group_is_unknown_for_a_moment(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    elb = clients.elb
    with layer.relaxed():
        lb = load_balancer(elb, settled, [settled.security_group_id])
        other = target_group(elb, settled, "settled-tg")
        http = elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(other)
        )["Listeners"][0]["ListenerArn"]
    tg = target_group(elb, settled)
    target = [{"Id": settled.instance_id, "Port": 443}]
    with aws_error("TargetGroupNotFound"):
        elb.register_targets(TargetGroupArn=tg, Targets=target)
    with aws_error("TargetGroupNotFound"):
        elb.describe_target_health(TargetGroupArn=tg)
    with aws_error("TargetGroupNotFound", tg):
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080,
                            DefaultActions=forward(tg))
    with aws_error("TargetGroupNotFound", tg):
        elb.modify_listener(ListenerArn=http, DefaultActions=forward(tg))
    with aws_error("TargetGroupNotFound", tg):
        elb.create_rule(
            ListenerArn=http, Priority=10, Actions=forward(tg),
            Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        )
    with aws_error("TargetGroupNotFound"):  # Describe lags for the same window
        elb.describe_target_groups(TargetGroupArns=[tg])
    later(layer, layer.config.target_group_visibility)
    elb.register_targets(TargetGroupArn=tg, Targets=target)
    elb.describe_target_health(TargetGroupArn=tg)
    elb.create_rule(
        ListenerArn=http, Priority=10, Actions=forward(tg),
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
    )
    elb.modify_listener(ListenerArn=http, DefaultActions=forward(tg))
    assert elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["TargetGroupArn"] == tg


def test_target_health_unused_initial_healthy_draining(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    elb = clients.elb
    config = layer.config
    lb = load_balancer(elb, settled, [settled.security_group_id])
    with layer.relaxed():
        tg = target_group(elb, settled, HealthCheckIntervalSeconds=5, HealthyThresholdCount=2)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": settled.instance_id, "Port": 443}])
    assert health(elb, tg) == [("unused", "Target.NotInUse")]  # no listener forwards to it
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg))
    # in use only once the load balancer is active
    assert health(elb, tg) == [("unused", "Target.NotInUse")]
    later(layer, config.load_balancer_provisioning)
    assert health(elb, tg) == [("initial", "Elb.RegistrationInProgress")]
    # HealthyThresholdCount x HealthCheckIntervalSeconds x scale = 2 x 5 s x 0.05 = 0.5 s
    later(layer, config.first_healthy(2, 5))
    assert health(elb, tg) == [("healthy", None)]
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": settled.instance_id}])
    assert health(elb, tg) == [("draining", "Target.DeregistrationInProgress")]
    later(layer, config.deregistration_delay)
    assert health(elb, tg) == []


def test_listener_certificate_must_be_issued_and_known(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    elb, acm = clients.elb, clients.acm
    config = layer.config
    with layer.relaxed():
        lb = load_balancer(elb, settled, [settled.security_group_id])
        tg = target_group(elb, settled)
        http = elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg)
        )["Listeners"][0]["ListenerArn"]

    def https(cert: str) -> Any:
        return elb.create_listener(
            LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg),
            Certificates=[{"CertificateArn": cert}],
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        )

    missing = acm.request_certificate(DomainName="gone.example.com")["CertificateArn"]
    acm.delete_certificate(CertificateArn=missing)
    with aws_error("CertificateNotFound", missing):
        https(missing)
    pending = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    with aws_error("UnsupportedCertificate", "is not issued"):
        https(pending)
    with aws_error("UnsupportedCertificate", "is not issued"):
        elb.modify_listener(ListenerArn=http, Protocol="HTTPS", SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                            Certificates=[{"CertificateArn": pending}])
    later(layer, config.acm_records_delay)
    create_cnames(clients.route53, settled.zone_id, list(validation_records(acm, pending).values()))
    later(layer, config.acm_issue_delay)
    assert acm.describe_certificate(CertificateArn=pending)["Certificate"]["Status"] == "ISSUED"
    # just ISSUED: the load balancer service does not know it yet
    with aws_error("CertificateNotFound", pending):
        https(pending)
    later(layer, config.certificate_visibility)
    listener = https(pending)["Listeners"][0]["ListenerArn"]
    other = acm.request_certificate(DomainName=f"api.{ZONE}", ValidationMethod="DNS")["CertificateArn"]
    with aws_error("UnsupportedCertificate"):
        elb.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": other}])


# -- ACM -----------------------------------------------------------------------------------------


def test_validation_records_appear_late_and_are_shared(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    acm = clients.acm
    first = acm.request_certificate(
        DomainName=DOMAIN, SubjectAlternativeNames=[ZONE, f"*.{ZONE}"], ValidationMethod="DNS"
    )["CertificateArn"]
    cert = acm.describe_certificate(CertificateArn=first)["Certificate"]
    options = cert["DomainValidationOptions"]
    assert [o["DomainName"] for o in options] == [DOMAIN, ZONE, f"*.{ZONE}"]
    assert all("ResourceRecord" not in o for o in options)
    assert {o["ValidationStatus"] for o in options} == {"PENDING_VALIDATION"}
    later(layer, layer.config.acm_records_delay)
    records = validation_records(acm, first)
    assert records[f"*.{ZONE}"] == records[ZONE]  # the wildcard shares the apex's record
    assert records[DOMAIN] != records[ZONE]
    name, value = records[DOMAIN]
    assert name.startswith("_") and name.endswith(f".{DOMAIN}.")
    assert value.endswith(".acm-validations.aws.") and len(name.split(".")[0]) == 33
    assert (name, value) == validation_record("123456789012", DOMAIN)  # account + name
    # another certificate of the account gets the same record for the same name
    second = acm.request_certificate(DomainName=ZONE, ValidationMethod="DNS")["CertificateArn"]
    later(layer, layer.config.acm_records_delay)
    assert validation_records(acm, second)[ZONE] == records[ZONE]


def test_certificate_issued_only_once_its_cnames_exist(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    acm, route53 = clients.acm, clients.route53
    config = layer.config
    arn = acm.request_certificate(
        DomainName=DOMAIN, SubjectAlternativeNames=[ZONE], ValidationMethod="DNS"
    )["CertificateArn"]

    def status() -> str:
        return str(acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"])

    later(layer, config.acm_records_delay + config.acm_issue_delay)
    assert status() == "PENDING_VALIDATION"  # no CNAME anywhere: whatever the time
    records = validation_records(acm, arn)
    www_name, www_value = records[DOMAIN]
    zone_name, zone_value = records[ZONE]
    # one right (written without the final dots), one with a wrong value
    create_cnames(route53, settled.zone_id, [
        (www_name.rstrip("."), www_value.rstrip(".")),
        (zone_name, "_wrong.acm-validations.aws."),
    ])
    later(layer, config.acm_issue_delay)
    assert status() == "PENDING_VALIDATION"
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    by_name = {o["DomainName"]: o["ValidationStatus"] for o in cert["DomainValidationOptions"]}
    assert by_name == {DOMAIN: "SUCCESS", ZONE: "PENDING_VALIDATION"}
    seen = moto_state.certificate(arn)  # what the data plane reads agrees with the API
    assert seen is not None and seen.status == "PENDING_VALIDATION"
    create_cnames(route53, settled.zone_id, [(zone_name, zone_value)])
    assert status() == "PENDING_VALIDATION"  # the issuance delay first
    later(layer, config.acm_issue_delay)
    assert status() == "ISSUED"
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert {o["ValidationStatus"] for o in cert["DomainValidationOptions"]} == {"SUCCESS"}
    seen = moto_state.certificate(arn)
    assert seen is not None and seen.status == "ISSUED"


def test_certificate_in_use_cannot_be_deleted(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    elb, acm = clients.elb, clients.acm
    with layer.relaxed():
        lb = load_balancer(elb, settled, [settled.security_group_id])
        tg = target_group(elb, settled)
    cert = issued_certificate(clients, settled, layer, DOMAIN)
    listener = elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg),
        Certificates=[{"CertificateArn": cert}], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
    )["Listeners"][0]["ListenerArn"]
    described = acm.describe_certificate(CertificateArn=cert)["Certificate"]
    assert described["InUseBy"] == [lb]
    with aws_error("ResourceInUseException", lb):
        acm.delete_certificate(CertificateArn=cert)
    elb.delete_listener(ListenerArn=listener)
    with aws_error("ResourceInUseException", lb):  # lingers after the last listener let go
        acm.delete_certificate(CertificateArn=cert)
    later(layer, layer.config.certificate_in_use_linger)
    acm.delete_certificate(CertificateArn=cert)


# -- Route 53 ------------------------------------------------------------------------------------


def test_route53_change_is_pending_then_insync(
    layer: StrictAWS, settled: World, clients: Clients
) -> None:
    route53 = clients.route53
    first = route53.change_resource_record_sets(
        HostedZoneId=settled.zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"a.{ZONE}", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "127.0.0.50"}]}}]},
    )["ChangeInfo"]
    second = create_cnames(route53, settled.zone_id, [(f"b.{ZONE}", f"a.{ZONE}")])
    assert first["Status"] == "PENDING"
    assert first["Id"] != second and first["Id"].startswith("/change/C")
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    later(layer, layer.config.route53_insync_delay)
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    assert route53.get_change(Id=second.rsplit("/", 1)[-1])["ChangeInfo"]["Status"] == "INSYNC"
    waiter = route53.get_waiter("resource_record_sets_changed")
    waiter.wait(Id=first["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_route53_throttles_every_nth_change(aws: str, session: boto3.Session) -> None:
    with StrictAWS(StrictConfig.fast(route53_throttle_every=2)) as strict:
        with strict.relaxed():
            world = seed_world(session, WorldSpec(unrelated_records=False))
        once = session.client("route53", config=Config(retries={"total_max_attempts": 1}))
        standard = session.client("route53", config=Config(retries={"mode": "standard"}))

        def change(client: Any, name: str) -> Any:
            return client.change_resource_record_sets(
                HostedZoneId=world.zone_id,
                ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                    "Name": f"{name}.{ZONE}", "Type": "A", "TTL": 60,
                    "ResourceRecords": [{"Value": "127.0.0.50"}]}}]},
            )

        change(once, "one")  # call 1
        with pytest.raises(ClientError) as caught:  # call 2: throttled, nothing changed
            change(once, "two")
        assert caught.value.response["Error"]["Code"] == "Throttling"
        assert caught.value.response["Error"]["Message"] == "Rate exceeded"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        names = [r["Name"] for r in once.list_resource_record_sets(HostedZoneId=world.zone_id)[
            "ResourceRecordSets"]]
        assert f"two.{ZONE}." not in names
        change(once, "three")  # call 3
        retried = change(standard, "four")  # call 4 throttled, botocore retries: call 5
        assert retried["ResponseMetadata"]["RetryAttempts"] == 1
        assert retried["ChangeInfo"]["Status"] == "PENDING"


# -- install / uninstall -------------------------------------------------------------------------


def _class_attributes() -> dict[tuple[type, str], Any]:
    from moto.acm.models import AWSCertificateManagerBackend, CertBundle
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface, NetworkInterfaceBackend
    from moto.ec2.models.instances import Instance, InstanceBackend
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer, FakeTargetGroup
    from moto.route53.models import Route53Backend
    from moto.route53.responses import Route53

    classes = [AWSCertificateManagerBackend, CertBundle, NetworkInterface, NetworkInterfaceBackend,
               Instance, InstanceBackend, SecurityGroupBackend, ELBv2Backend, FakeLoadBalancer,
               FakeTargetGroup, Route53Backend, Route53]
    return {
        (c, name): value
        for c in classes
        for name, value in vars(c).items()
        if callable(value) or isinstance(value, property | staticmethod | classmethod)
    }


def test_uninstall_restores_plain_moto(aws: str, session: boto3.Session) -> None:
    before = _class_attributes()
    ec2, elb = session.client("ec2"), session.client("elbv2")
    world = seed_world(session, WorldSpec())
    strict = StrictAWS(StrictConfig.fast(), clock=ManualClock()).install()
    try:
        sg = group(ec2, world, "during")
        with aws_error("InvalidGroup.NotFound"):
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=PERMISSION)
        lb = load_balancer(elb, world, [world.security_group_id])
        assert _class_attributes() != before
    finally:
        strict.uninstall()
    strict.uninstall()  # idempotent
    assert _class_attributes() == before
    assert moto_state.strict_view() is None
    # plain moto again: a group just created is usable at once, describing activates
    fresh = group(ec2, world, "after")
    ec2.authorize_security_group_ingress(GroupId=fresh, IpPermissions=PERMISSION)
    state = elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]
    assert state["Code"] == "active"
    change = session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"x.{ZONE}", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "127.0.0.51"}]}}]},
    )
    assert change["ChangeInfo"]["Status"] == "INSYNC"
    # and a StrictAWS can be installed again (and as a context manager)
    with StrictAWS() as again:
        assert again.installed
    assert not again.installed


# -- the sandbox -----------------------------------------------------------------------------------


def test_strict_sandbox_serves_through_the_second_interface(tmp_path: Path) -> None:
    """The full sandbox on the strict world, the site's address on the instance's second
    interface: the data plane waits for provisioning, health checks count HealthyThreshold
    successes at the scaled interval, and reach the origin through that interface's group."""
    from migrator_sandbox.runner import Sandbox

    config = StrictConfig.fast()
    spec = WorldSpec(public_address_on_second_interface=True)
    before = _class_attributes()
    with Sandbox(workdir=tmp_path, spec=spec, strict_config=config) as sandbox, loopback_guard() as stray:
        assert sandbox.strict_layer is not None and sandbox.strict_layer.installed
        env, world, session = sandbox.env, sandbox.world, sandbox.session()
        assert request(env, spec.address, spec.domain).status == 200  # eth1's group admits it
        ec2, elb = session.client("ec2"), session.client("elbv2")
        with sandbox.strict_layer.relaxed():
            sg = group(ec2, world, "alb")
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=HTTP_FROM_ANYWHERE)
            tg = target_group(elb, world, HealthCheckPath="/health", HealthCheckIntervalSeconds=10,
                              HealthyThresholdCount=3)
            elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": world.instance_id, "Port": 443}])
        created = time.monotonic()
        lb = load_balancer(elb, world, [sg])
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg))
        dns_name = elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["DNSName"]
        lb_address = eventually(lambda: addresses(env, dns_name))[0]
        not_yet = [refused(env, lb_address, 80), health(elb, tg)]
        if time.monotonic() - created < config.load_balancer_provisioning:
            # still provisioning: nothing served, the group not in use
            assert not_yet == [True, [("unused", "Target.NotInUse")]]
        served = eventually(lambda: request(env, lb_address, spec.domain, tls=False), timeout=10)
        assert served.status == 200
        eventually(lambda: health(elb, tg) == [("healthy", None)], timeout=15, interval=0.05)
        healthy_at = dt.datetime.now(dt.UTC)
        # HealthyThresholdCount (3) successes from the load balancer, 0.5 s apart (10 s x 0.05)
        assert sandbox.origin is not None
        probes = [r for r in sandbox.origin.requests if r.path == "/health" and r.client == lb_address]
        assert len(probes) >= 3
        interval = config.health_interval(10)
        assert (healthy_at - probes[0].at).total_seconds() >= 2 * interval - 0.05
        assert (probes[1].at - probes[0].at).total_seconds() >= interval - 0.05
        # the health checks pass through the second interface's group: close 443 there
        ec2.revoke_security_group_ingress(GroupId=world.second_security_group_id, IpPermissions=PERMISSION)
        eventually(lambda: health(elb, tg)[0][0] == "unhealthy", timeout=15, interval=0.05)
    assert stray == []
    # stopped: the strict layer went with it, after the data plane's hooks
    assert sandbox.strict_layer is None and moto_state.strict_view() is None
    assert _class_attributes() == before


def test_cli_sandbox_up_strict(tmp_path: Path) -> None:
    """Exactly what a user types: ``migrator sandbox up --strict``."""
    env_file = tmp_path / "cli.env"
    log = tmp_path / "cli.log"
    cli = "from migrator.cli.main import main; raise SystemExit(main())"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", cli, "sandbox", "up", "--strict", "--env-file", str(env_file),
             "--acm-delay", "1"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        )
    try:
        eventually(lambda: "Ctrl-C stops the sandbox" in log.read_text(), timeout=60)
        printed = log.read_text()
        assert "migrator sandbox (strict AWS)" in printed
        assert "AWS API (moto, strict AWS)" in printed
        assert env_file.exists()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not env_file.exists()
