"""Seed the "before" world in an AWS endpoint (moto): a site served by one EC2 instance.

Used by the sandbox and by the tests. It builds what a small team typically has: a VPC whose
public subnets span several Availability Zones (route to an internet gateway), one running
instance with an Elastic IP, its security group (SSH from an office range, 80/443 from anywhere),
and a public hosted zone holding the site's A record next to unrelated records.

Optionally the instance has a second network interface (device index 1) with its own security
group, and the site's Elastic IP may sit on that interface instead of the primary one: then it
is the second interface's group that admits the site's traffic (groups filter per interface),
and the one a migration must change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef, IpRangeTypeDef

OFFICE_RANGE = "198.51.100.0/24"  # TEST-NET-2: documentation only, never contacted.
AMI_ID = "ami-12c6146b"  # one of moto's built-in Amazon Linux images


@dataclass(frozen=True)
class WorldSpec:
    """What to seed; every field has the sandbox's default."""

    domain: str = "www.example.com"
    zone: str = "example.com"
    address: str = "127.0.0.10"
    region: str = "ap-northeast-1"
    availability_zones: int = 2
    ttl: int = 300
    # Further names whose A record points at the instance too (e.g. the apex beside www).
    extra_a_names: tuple[str, ...] = ()
    # Records that have nothing to do with the site, to show they are left alone.
    unrelated_records: bool = True
    # A CNAME to the domain (e.g. "shop.example.com" -> domain), left alone by the migration.
    cname_names: tuple[str, ...] = ()
    # Extra records as (name, type, ttl, values).
    extra_records: tuple[tuple[str, str, int, tuple[str, ...]], ...] = ()
    # Another running instance sharing the web security group.
    share_security_group: bool = False
    # IPv6 in the VPC, its public subnets (::/0 to the gateway) and on the instance.
    ipv6: bool = False
    # The domain's AAAA record pointing at the instance's IPv6 address (needs ipv6).
    aaaa: bool = False
    # A second network interface on the instance (device index 1) with its own security group:
    # "app-internal" (8080 from the VPC) -- or, with the public address on it, "web-server-eth1"
    # (SSH from the office, 80/443 from anywhere).
    second_interface: bool = False
    # The site's Elastic IP (the A record's address) on that second interface (implies it).
    public_address_on_second_interface: bool = False

    @property
    def has_second_interface(self) -> bool:
        return self.second_interface or self.public_address_on_second_interface


@dataclass(frozen=True)
class World:
    """Identifiers of what seed_world created."""

    spec: WorldSpec
    vpc_id: str
    subnet_ids: dict[str, str] = field(hash=False)
    instance_id: str = ""
    allocation_id: str = ""
    security_group_id: str = ""
    zone_id: str = ""
    other_instance_id: str | None = None
    # the instance's network interfaces (device index 0, then 1 if the spec asked for it)
    primary_interface_id: str = ""
    second_interface_id: str | None = None
    second_security_group_id: str | None = None
    # the interface the Elastic IP (the site's address) is associated with
    public_interface_id: str = ""


def seed_world(session: boto3.Session, spec: WorldSpec | None = None) -> World:
    """Create the world described by spec through session's clients; return its identifiers."""
    spec = spec or WorldSpec()
    ec2 = session.client("ec2", region_name=spec.region)
    route53 = session.client("route53", region_name=spec.region)

    vpc_id, subnet_ids = _network(ec2, spec)
    sg_id = ec2.create_security_group(
        GroupName="web-server",
        Description="nginx on the web server",
        VpcId=vpc_id,
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg_id,
        IpPermissions=[
            _rule(22, cidr=OFFICE_RANGE, description="office SSH"),
            _rule(80, cidr="0.0.0.0/0"),
            _rule(443, cidr="0.0.0.0/0"),
        ],
    )
    first_subnet = next(iter(subnet_ids.values()))
    instance_id = _instance(ec2, first_subnet, sg_id, "web-1", ipv6=spec.ipv6)
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    primary_eni = described[0]["NetworkInterfaces"][0]["NetworkInterfaceId"]
    second_eni = second_sg = None
    if spec.has_second_interface:
        second_eni, second_sg = _second_interface(ec2, spec, vpc_id, first_subnet, instance_id)
    allocation_id = ec2.allocate_address(Domain="vpc", Address=spec.address)["AllocationId"]
    if spec.public_address_on_second_interface and second_eni is not None:
        ec2.associate_address(AllocationId=allocation_id, NetworkInterfaceId=second_eni)
    else:
        ec2.associate_address(AllocationId=allocation_id, InstanceId=instance_id)
    other = _instance(ec2, first_subnet, sg_id, "web-2") if spec.share_security_group else None

    ipv6_address = None
    if spec.aaaa:
        ipv6_address = described[0]["NetworkInterfaces"][0]["Ipv6Addresses"][0]["Ipv6Address"]
    zone_id = _zone(route53, spec, ipv6_address)
    return World(
        spec=spec,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        instance_id=instance_id,
        allocation_id=allocation_id,
        security_group_id=sg_id,
        zone_id=zone_id,
        other_instance_id=other,
        primary_interface_id=primary_eni,
        second_interface_id=second_eni,
        second_security_group_id=second_sg,
        public_interface_id=(
            second_eni if spec.public_address_on_second_interface and second_eni else primary_eni
        ),
    )


def _second_interface(
    ec2, spec: WorldSpec, vpc_id: str, subnet_id: str, instance_id: str
) -> tuple[str, str]:
    """A second interface (device index 1) with its own group, attached to the instance."""
    if spec.public_address_on_second_interface:
        name, description = "web-server-eth1", "nginx on the web server's second interface"
        rules = [
            _rule(22, cidr=OFFICE_RANGE, description="office SSH"),
            _rule(80, cidr="0.0.0.0/0"),
            _rule(443, cidr="0.0.0.0/0"),
        ]
    else:
        name, description = "app-internal", "internal application port"
        rules = [_rule(8080, cidr="10.20.0.0/16", description="VPC")]
    sg_id = ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc_id)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(GroupId=sg_id, IpPermissions=rules)
    eni_id = ec2.create_network_interface(
        SubnetId=subnet_id, Groups=[sg_id], Description=f"{name} interface"
    )["NetworkInterface"]["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id, DeviceIndex=1)
    return eni_id, sg_id


def _rule(port: int, *, cidr: str, description: str = "") -> IpPermissionTypeDef:
    ip_range: IpRangeTypeDef = {"CidrIp": cidr}
    if description:
        ip_range["Description"] = description
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [ip_range]}


def _network(ec2, spec: WorldSpec) -> tuple[str, dict[str, str]]:
    """A VPC with one public subnet in each of the first N Availability Zones."""
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", AmazonProvidedIpv6CidrBlock=spec.ipv6)["Vpc"]
    vpc_id = vpc["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "web"}])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    v6_prefix = None
    if spec.ipv6:
        ec2.create_route(RouteTableId=table, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
        v6_prefix = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"].split("::")[0]
    zones = [
        z["ZoneName"]
        for z in ec2.describe_availability_zones()["AvailabilityZones"]
        if z["State"] == "available"
    ][: spec.availability_zones]
    subnets: dict[str, str] = {}
    for index, zone in enumerate(zones):
        extra = {"Ipv6CidrBlock": f"{v6_prefix[:-2]}{index:02x}::/64"} if v6_prefix else {}
        subnet = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone, **extra
        )["Subnet"]["SubnetId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnets[zone] = subnet
    # A private subnet (no internet route) that must never be chosen for the load balancer.
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.200.0/24", AvailabilityZone=zones[0])
    return vpc_id, subnets


def _instance(ec2, subnet_id: str, sg_id: str, name: str, *, ipv6: bool = False) -> str:
    return ec2.run_instances(
        **({"Ipv6AddressCount": 1} if ipv6 else {}),
        ImageId=AMI_ID,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.small",
        SubnetId=subnet_id,
        SecurityGroupIds=[sg_id],
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
        ],
    )["Instances"][0]["InstanceId"]


def _zone(route53, spec: WorldSpec, ipv6_address: str | None = None) -> str:
    zone_id = route53.create_hosted_zone(
        Name=spec.zone, CallerReference=f"seed-{spec.zone}-{spec.address}"
    )["HostedZone"]["Id"].split("/")[-1]
    changes = [_record(name, "A", spec.ttl, (spec.address,)) for name in (spec.domain,)]
    changes += [_record(name, "A", spec.ttl, (spec.address,)) for name in spec.extra_a_names]
    changes += [_record(name, "CNAME", spec.ttl, (spec.domain,)) for name in spec.cname_names]
    if ipv6_address:
        changes.append(_record(spec.domain, "AAAA", spec.ttl, (ipv6_address,)))
    if spec.unrelated_records:
        changes += [
            _record(spec.zone, "MX", 3600, ("10 mail.example.net.",)),
            _record(spec.zone, "TXT", 3600, ('"v=spf1 include:example.net ~all"',)),
            _record(f"mail.{spec.zone}", "A", 3600, ("127.0.0.99",)),
        ]
    changes += [_record(n, t, ttl, v) for n, t, ttl, v in spec.extra_records]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": changes, "Comment": "seed"}
    )
    return zone_id


def _record(name: str, rtype: str, ttl: int, values: tuple[str, ...]) -> dict:
    return {
        "Action": "CREATE",
        "ResourceRecordSet": {
            "Name": name,
            "Type": rtype,
            "TTL": ttl,
            "ResourceRecords": [{"Value": v} for v in values],
        },
    }
