"""Seed the "before" world in an AWS endpoint (moto): a site served by one EC2 instance.

Used by the sandbox and by the tests. It builds what a small team typically has: a VPC whose
public subnets span several Availability Zones (route to an internet gateway), one running
instance with an Elastic IP, its security group (SSH from an office range, 80/443 from anywhere),
and a public hosted zone holding the site's A record next to unrelated records.

Optionally the world holds further sites (``WorldSpec.more_sites``), each another running
instance in the same VPC with its own Elastic IP, security group and A record, as a team that
added a shop and a blog beside its www has: the "before" of putting several sites behind one load
balancer. ``World.sites`` describes every site, the first one being the instance above.

Optionally the instance has a second network interface (device index 1) with its own security
group, and the site's Elastic IP may sit on that interface instead of the primary one: then it
is the second interface's group that admits the site's traffic (groups filter per interface),
and the one a migration must change.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef, IpRangeTypeDef

OFFICE_RANGE = "198.51.100.0/24"  # TEST-NET-2: documentation only, never contacted.
# One of moto's built-in images, the one tests/support/moto_amis.json keeps: despite its
# "amazon/getting-started" location it is Windows Server 2008 R2 SP1 (moto's amis.json: platform
# "windows", name "Windows_Server-2008-R2_SP1-English-64Bit-Base-2017.10.13"). Nothing reads the
# platform, and the id stays: worlds seeded with it are what the snapshots and golden plans hold.
AMI_ID = "ami-12c6146b"

# Names and addresses of the further sites ``default_sites`` makes (shop.example.com at
# 127.0.0.11, blog.example.com at 127.0.0.12, ...): below the sandbox's load balancer pool
# (127.0.0.20 on), never a name the default world already holds (mail.example.com is taken).
SITE_NAMES = ("shop", "blog", "docs", "news", "help", "jobs", "forum", "events", "status")
FIRST_SITE_ADDRESS = "127.0.0.11"
MAX_SITES = 1 + len(SITE_NAMES)


@dataclass(frozen=True)
class SiteSpec:
    """A further site of the world: another running instance in the same VPC, serving
    ``domain`` at Elastic IP ``address`` (its A record, TTL ``WorldSpec.ttl``), with a security
    group of its own like "web-server" (SSH from the office, 80/443 from anywhere)."""

    domain: str
    address: str
    # The hosted zone holding its A record; None: the world's zone. Another zone is created
    # (public, holding only the sites' records) when no site before it asked for it.
    zone: str | None = None
    # Index of its Availability Zone among the region's available ones (0: the first subnet's).
    # An index at or past WorldSpec.availability_zones gets a public subnet of its own there,
    # in no load balancer's subnets unless a test puts it there: a site in a zone the load
    # balancer lacks.
    availability_zone: int = 0


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
    # Further sites in the same VPC, each on an instance of its own (see SiteSpec and
    # default_sites); () is the one-site world, seeded exactly as before they existed.
    more_sites: tuple[SiteSpec, ...] = ()

    @property
    def has_second_interface(self) -> bool:
        return self.second_interface or self.public_address_on_second_interface

    @property
    def sites(self) -> tuple[SiteSpec, ...]:
        """Every site, the first (``domain`` at ``address``) first."""
        return (SiteSpec(self.domain, self.address, self.zone), *self.more_sites)


def default_sites(count: int, zone: str = "example.com") -> tuple[SiteSpec, ...]:
    """``count`` further sites for a world: shop.ZONE at 127.0.0.11, blog.ZONE at 127.0.0.12, ...
    (at most ``MAX_SITES - 1``)."""
    if not 0 <= count <= len(SITE_NAMES):
        raise ValueError(f"between 0 and {len(SITE_NAMES)} further sites, not {count}")
    first = ipaddress.IPv4Address(FIRST_SITE_ADDRESS)
    return tuple(SiteSpec(f"{name}.{zone}", str(first + index))
                 for index, name in enumerate(SITE_NAMES[:count]))


def with_sites(spec: WorldSpec, count: int) -> WorldSpec:
    """``spec`` with ``count`` sites in all: its own first one, then ``default_sites`` in its
    zone (``count`` 1 leaves it as it is)."""
    if not 1 <= count <= MAX_SITES:
        raise ValueError(f"between 1 and {MAX_SITES} sites, not {count}")
    if count == 1:
        return spec
    return dataclasses.replace(spec, more_sites=default_sites(count - 1, spec.zone))


@dataclass(frozen=True)
class WorldSite:
    """What seed_world created for one site."""

    domain: str
    address: str
    zone: str
    zone_id: str
    instance_id: str
    allocation_id: str
    security_group_id: str
    subnet_id: str
    availability_zone: str


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
    # every site, the first one being the fields above (spec.sites, in that order)
    sites: tuple[WorldSite, ...] = ()

    def site(self, domain: str) -> WorldSite:
        """The site serving ``domain``."""
        for site in self.sites:
            if site.domain == domain:
                return site
        raise KeyError(domain)


def seed_world(session: boto3.Session, spec: WorldSpec | None = None) -> World:
    """Create the world described by spec through session's clients; return its identifiers."""
    spec = spec or WorldSpec()
    _check_sites(spec)
    ec2 = session.client("ec2", region_name=spec.region)
    route53 = session.client("route53", region_name=spec.region)

    network = _network(ec2, spec)
    vpc_id, subnet_ids = network.vpc_id, network.subnet_ids
    sg_id = ec2.create_security_group(
        GroupName="web-server",
        Description="nginx on the web server",
        VpcId=vpc_id,
    )["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg_id, IpPermissions=_web_rules())
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
    more = [_site(ec2, spec, network, site) for site in spec.more_sites]

    ipv6_address = None
    if spec.aaaa:
        ipv6_address = described[0]["NetworkInterfaces"][0]["Ipv6Addresses"][0]["Ipv6Address"]
    zone_id = _zone(route53, spec, ipv6_address)
    zone_ids = {spec.zone: zone_id, **_site_zones(route53, spec)}
    first_zone = next(iter(subnet_ids))
    sites = [WorldSite(spec.domain, spec.address, spec.zone, zone_id, instance_id,
                       allocation_id, sg_id, first_subnet, first_zone)]
    for site, (site_instance, site_allocation, site_sg, subnet_id, az) in zip(
        spec.more_sites, more, strict=True
    ):
        zone = site.zone or spec.zone
        sites.append(WorldSite(site.domain, site.address, zone, zone_ids[zone], site_instance,
                               site_allocation, site_sg, subnet_id, az))
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
        sites=tuple(sites),
    )


def _web_rules() -> list[IpPermissionTypeDef]:
    """A web server's group: SSH from the office, 80 and 443 from anywhere."""
    return [
        _rule(22, cidr=OFFICE_RANGE, description="office SSH"),
        _rule(80, cidr="0.0.0.0/0"),
        _rule(443, cidr="0.0.0.0/0"),
    ]


def _check_sites(spec: WorldSpec) -> None:
    """Refuse further sites that would collide with the world or each other."""
    if not spec.more_sites:
        return
    names = {spec.domain.lower(), *(n.lower() for n in spec.extra_a_names),
             *(n.lower() for n in spec.cname_names)}
    addresses = {spec.address}
    for site in spec.more_sites:
        zone = (site.zone or spec.zone).lower().rstrip(".")
        domain = site.domain.lower().rstrip(".")
        if domain in names:
            raise ValueError(f"site {site.domain} is already a name of the world")
        if site.address in addresses:
            raise ValueError(f"site {site.domain}: address {site.address} is already taken")
        if domain != zone and not domain.endswith("." + zone):
            raise ValueError(f"site {site.domain} is not in zone {zone}")
        if site.availability_zone < 0:
            raise ValueError(f"site {site.domain}: no Availability Zone {site.availability_zone}")
        names.add(domain)
        addresses.add(site.address)


def _site(
    ec2, spec: WorldSpec, network: _Network, site: SiteSpec
) -> tuple[str, str, str, str, str]:
    """One further site: its group, instance and Elastic IP; (instance, allocation, group,
    subnet, Availability Zone)."""
    if site.availability_zone >= len(network.zones):
        raise ValueError(f"site {site.domain}: {spec.region} has {len(network.zones)} "
                         f"Availability Zones, no index {site.availability_zone}")
    az = network.zones[site.availability_zone]
    subnet_id = network.subnet_ids.get(az) or network.extra_subnets.get(az)
    if subnet_id is None:
        subnet_id = _public_subnet(ec2, network, az, site.availability_zone)
        network.extra_subnets[az] = subnet_id
    sg_id = ec2.create_security_group(
        GroupName=f"web-server-{site.domain}",
        Description=f"nginx on the web server of {site.domain}",
        VpcId=network.vpc_id,
    )["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg_id, IpPermissions=_web_rules())
    instance_id = _instance(ec2, subnet_id, sg_id, f"web-{site.domain}", ipv6=spec.ipv6)
    allocation_id = ec2.allocate_address(Domain="vpc", Address=site.address)["AllocationId"]
    ec2.associate_address(AllocationId=allocation_id, InstanceId=instance_id)
    return instance_id, allocation_id, sg_id, subnet_id, az


def _site_zones(route53, spec: WorldSpec) -> dict[str, str]:
    """Zones of their own for the further sites that name another zone than the world's (whose
    A records _zone adds to the world's zone): zone name -> id of each zone created."""
    batches: dict[str, list[dict]] = {}
    for site in spec.more_sites:
        zone = site.zone or spec.zone
        if zone != spec.zone:
            batches.setdefault(zone, []).append(
                _record(site.domain, "A", spec.ttl, (site.address,)))
    created: dict[str, str] = {}
    for zone, changes in batches.items():
        zone_id = route53.create_hosted_zone(
            Name=zone, CallerReference=f"seed-{zone}-sites"
        )["HostedZone"]["Id"].split("/")[-1]
        route53.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": changes, "Comment": "seed"}
        )
        created[zone] = zone_id
    return created


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


@dataclass
class _Network:
    vpc_id: str
    route_table_id: str
    zones: list[str]  # the region's available Availability Zones
    subnet_ids: dict[str, str]  # the first N zones' public subnets
    v6_prefix: str | None
    extra_subnets: dict[str, str] = field(default_factory=dict)  # made for further sites


def _network(ec2, spec: WorldSpec) -> _Network:
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
    available = [
        z["ZoneName"]
        for z in ec2.describe_availability_zones()["AvailabilityZones"]
        if z["State"] == "available"
    ]
    network = _Network(vpc_id, table, available, {}, v6_prefix)
    zones = available[: spec.availability_zones]
    for index, zone in enumerate(zones):
        network.subnet_ids[zone] = _public_subnet(ec2, network, zone, index)
    # A private subnet (no internet route) that must never be chosen for the load balancer.
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.200.0/24", AvailabilityZone=zones[0])
    return network


def _public_subnet(ec2, network: _Network, zone: str, index: int) -> str:
    """A subnet 10.20.INDEX.0/24 in ``zone`` whose route table leads to the gateway."""
    v6_prefix = network.v6_prefix
    extra = {"Ipv6CidrBlock": f"{v6_prefix[:-2]}{index:02x}::/64"} if v6_prefix else {}
    subnet = ec2.create_subnet(
        VpcId=network.vpc_id, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone, **extra
    )["Subnet"]["SubnetId"]
    ec2.associate_route_table(RouteTableId=network.route_table_id, SubnetId=subnet)
    return str(subnet)


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
    changes += [_record(site.domain, "A", spec.ttl, (site.address,)) for site in spec.more_sites
                if (site.zone or spec.zone) == spec.zone]
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
