"""Read-only inspection: find the hosted zone, records, instance, security groups, the VPC's CIDRs,
subnets and certificates behind a domain, with filtered queries only (never a scan of the account).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from migrator.core.names import normalize_domain
from migrator.core.snapshot import (
    Certificate,
    Instance,
    NetworkInterface,
    RecordSet,
    SecurityGroup,
    Snapshot,
    Subnet,
    Zone,
)
from migrator.errors import NotFoundError, PreflightError

SITE_TYPES = ("A", "AAAA", "CNAME")


def inspect_site(aws: Any, domain: str, sans: list[str] | tuple[str, ...] = ()) -> Snapshot:
    """Snapshot of the setup serving `domain` (and the extra names `sans`)."""
    domain = normalize_domain(domain)
    names = tuple(dict.fromkeys([domain, *(normalize_domain(s) for s in sans)]))
    account = aws.sts.account_id()
    zone = find_zone(aws, domain)
    for name in names[1:]:
        if not _within(name, zone.name):
            raise PreflightError(
                f"{name} is not in the hosted zone {zone.name.rstrip('.')} that holds {domain}",
                hint="plan names of one zone together, or migrate the other name separately")

    records: list[RecordSet] = []
    for name in names:
        records.extend(RecordSet.from_route53(r) for r in aws.route53.records_named(zone.id, name))
    address = site_address(domain, [r for r in records if r.name == domain + "."])
    instance = find_instance(aws, address)
    groups = security_groups(aws, instance)
    subnets = vpc_subnets(aws, instance.vpc_id)
    certificates = covering_certificates(aws, names)
    return Snapshot(account=account, region=aws.region, domain=domain, names=names, zone=zone,
                    records=tuple(records), instance=instance, security_groups=groups,
                    subnets=subnets, certificates=certificates,
                    vpc_cidrs=aws.ec2.vpc_cidrs(instance.vpc_id))


def _within(name: str, zone_name: str) -> bool:
    zone = zone_name.rstrip(".")
    return name == zone or name.endswith("." + zone)


def find_zone(aws: Any, domain: str) -> Zone:
    """The public hosted zone with the longest name that is a suffix of domain."""
    labels = domain.split(".")
    private_seen = None
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        zones = aws.route53.zones_named(candidate)
        public = [z for z in zones if not z.get("Config", {}).get("PrivateZone")]
        if zones and not public:
            private_seen = candidate
        if public:
            if len(public) > 1:
                raise PreflightError(
                    f"{len(public)} public hosted zones are named {candidate}",
                    hint="delete the unused one; only one can be delegated")
            zone_id = public[0]["Id"].split("/")[-1]
            delegation = aws.route53.zone(zone_id).get("DelegationSet", {})
            return Zone(id=zone_id, name=public[0]["Name"],
                        nameservers=tuple(delegation.get("NameServers", [])))
    extra = f" (only a private zone {private_seen} exists, which the internet cannot see)" \
        if private_seen else ""
    raise NotFoundError(f"no public Route53 hosted zone holds {domain}{extra}",
                        hint="check the name, the AWS account and --profile")


def site_address(domain: str, records: list[RecordSet]) -> str:
    """The single public IPv4 address the domain's A record points at."""
    by_type = {r.type: r for r in records}
    if "CNAME" in by_type:
        raise PreflightError(
            f"{domain} is a CNAME to {by_type['CNAME'].values[0]}, not an A record",
            hint="migrate the name the CNAME points to")
    a_record = by_type.get("A")
    if a_record is None:
        raise NotFoundError(f"{domain} has no A record in its hosted zone",
                            hint="the site must be served at an A record pointing at the instance")
    if a_record.alias:
        target = a_record.alias.get("DNSName", "?")
        raise PreflightError(f"{domain} is already an alias to {target.rstrip('.')}",
                             hint="it is already behind a load balancer or CloudFront")
    if a_record.set_identifier:
        raise PreflightError(f"{domain} uses a weighted/latency/failover A record",
                             hint="only a simple A record can be migrated")
    addresses = sorted(set(a_record.values))
    if len(addresses) != 1:
        raise PreflightError(
            f"{domain} points at {len(addresses)} addresses ({', '.join(addresses)})",
            hint="migrator moves a site served by one instance")
    try:
        ipaddress.IPv4Address(addresses[0])
    except ValueError as exc:
        raise PreflightError(f"{domain}'s A record holds {addresses[0]!r}, not an IPv4 address"
                             ) from exc
    return addresses[0]


def find_instance(aws: Any, address: str) -> Instance:
    """The EC2 instance answering at a public address: by Elastic IP, else by public IP."""
    eip = aws.ec2.address_by_public_ip(address)
    instance_id = eip.get("InstanceId") if eip else None
    if instance_id:
        found = aws.ec2.instances(instance_ids=[instance_id])
    elif eip:
        raise NotFoundError(f"the Elastic IP {address} is not associated with an instance",
                            hint="associate it with the web server, or check the record")
    else:
        found = aws.ec2.instances(filters=[{"Name": "ip-address", "Values": [address]}])
    if not found:
        raise NotFoundError(
            f"no EC2 instance in {aws.region} has the public address {address}",
            hint="check --region; a Lightsail instance or another host needs another path "
                 "(Lightsail load balancer, CloudFront)")
    raw = found[0]
    state = raw["State"]["Name"]
    if state != "running":
        raise PreflightError(f"instance {raw['InstanceId']} is {state}, not running",
                             hint="start it; the load balancer's health check needs it serving")
    name = next((t["Value"] for t in raw.get("Tags", []) if t["Key"] == "Name"), "")
    interfaces = instance_interfaces(raw)
    web = web_interface(interfaces, address)
    web_raw: dict[str, Any] = next((e for e in raw.get("NetworkInterfaces", [])
                                    if web and e["NetworkInterfaceId"] == web.id), {})
    return Instance(
        id=raw["InstanceId"], state=state, name=name, vpc_id=raw["VpcId"],
        subnet_id=raw["SubnetId"], availability_zone=raw["Placement"]["AvailabilityZone"],
        public_ip=address, private_ip=raw.get("PrivateIpAddress", ""),
        security_group_ids=web.security_group_ids if web else
        tuple(g["GroupId"] for g in raw.get("SecurityGroups", [])),
        ipv6_addresses=tuple(sorted(a["Ipv6Address"] for a in web_raw.get("Ipv6Addresses", []))),
        interfaces=interfaces, web_interface_id=web.id if web else "",
    )


def instance_interfaces(raw: dict[str, Any]) -> tuple[NetworkInterface, ...]:
    """The instance's network interfaces by device index, each with its groups and the public
    addresses associated with any of its private addresses (an Elastic IP may sit on a
    secondary private address or on a secondary interface)."""
    found = []
    for eni in raw.get("NetworkInterfaces", []):
        publics = {(eni.get("Association") or {}).get("PublicIp")}
        publics |= {(a.get("Association") or {}).get("PublicIp")
                    for a in eni.get("PrivateIpAddresses", [])}
        found.append(NetworkInterface(
            id=eni["NetworkInterfaceId"],
            device_index=int((eni.get("Attachment") or {}).get("DeviceIndex", 0)),
            security_group_ids=tuple(g["GroupId"] for g in eni.get("Groups", [])),
            public_ips=tuple(sorted(p for p in publics if p))))
    return tuple(sorted(found, key=lambda i: i.device_index))


def web_interface(interfaces: tuple[NetworkInterface, ...],
                  address: str) -> NetworkInterface | None:
    """The interface that holds the site's public address (the primary one if none says so)."""
    for interface in interfaces:
        if address in interface.public_ips:
            return interface
    return next((i for i in interfaces if i.device_index == 0), None)


def security_groups(aws: Any, instance: Instance) -> tuple[SecurityGroup, ...]:
    raw = {g["GroupId"]: g for g in aws.ec2.security_groups(
        group_ids=list(instance.security_group_ids))}
    groups = []
    for group_id in instance.security_group_ids:
        group = raw[group_id]
        users = aws.ec2.network_interfaces_with_group(group_id)
        others = sorted({(eni.get("Attachment") or {}).get("InstanceId")
                         or eni["NetworkInterfaceId"] for eni in users} - {instance.id})
        groups.append(SecurityGroup(
            id=group_id, name=group["GroupName"],
            ingress=tuple(normalize_permissions(group.get("IpPermissions", []))),
            shared_with=tuple(others)))
    return tuple(groups)


def normalize_permissions(permissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Security group rules in a stable, comparable form (sorted, empty lists dropped)."""
    out = []
    for perm in permissions:
        rule: dict[str, Any] = {"IpProtocol": perm["IpProtocol"]}
        for key in ("FromPort", "ToPort"):
            if key in perm:
                rule[key] = perm[key]
        for key, sub in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"),
                         ("PrefixListIds", "PrefixListId"), ("UserIdGroupPairs", "GroupId")):
            items = [{k: v for k, v in item.items() if k in (sub, "Description")}
                     for item in perm.get(key, [])]
            if items:
                rule[key] = sorted(items, key=lambda i, s=sub: i.get(s, ""))  # type: ignore[misc]  # mypy#15459: default-arg lambda
        out.append(rule)
    return sorted(out, key=lambda r: (r["IpProtocol"], r.get("FromPort", -1), str(r)))


def vpc_subnets(aws: Any, vpc_id: str) -> tuple[Subnet, ...]:
    """The VPC's subnets, each marked public when its route table sends 0.0.0.0/0 to an internet
    gateway, and IPv6-ready when it also has an IPv6 CIDR and sends ::/0 there."""
    tables = aws.ec2.route_tables(vpc_id)
    main: tuple[bool, bool] = (False, False)
    explicit: dict[str, tuple[bool, bool]] = {}
    for table in tables:
        routes = table.get("Routes", [])
        to_igw = [r for r in routes if str(r.get("GatewayId", "")).startswith("igw-")]
        reach = (any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in to_igw),
                 any(r.get("DestinationIpv6CidrBlock") == "::/0" for r in to_igw))
        for assoc in table.get("Associations", []):
            if assoc.get("Main"):
                main = reach
            elif assoc.get("SubnetId"):
                explicit[assoc["SubnetId"]] = reach
    subnets = []
    raws = aws.ec2.subnets(vpc_id)
    zone_types = aws.ec2.zone_types(sorted({r["AvailabilityZone"] for r in raws})) if raws else {}
    for raw in raws:
        public, public6 = explicit.get(raw["SubnetId"], main)
        has_v6 = any(a.get("Ipv6CidrBlock")
                     and (a.get("Ipv6CidrBlockState") or {}).get("State") == "associated"
                     for a in raw.get("Ipv6CidrBlockAssociationSet", []))
        subnets.append(Subnet(id=raw["SubnetId"], availability_zone=raw["AvailabilityZone"],
                              cidr=raw["CidrBlock"], public=public,
                              ipv6=public and public6 and has_v6,
                              zone_type=zone_types.get(raw["AvailabilityZone"],
                                                       "availability-zone")))
    return tuple(sorted(subnets, key=lambda s: (s.availability_zone, s.id)))


def covering_certificates(aws: Any, names: tuple[str, ...]) -> tuple[Certificate, ...]:
    """ACM certificates (issued or pending) whose names cover every one of `names`."""
    found = []
    for summary in aws.acm.list_summaries():
        cert_names = tuple(summary.get("SubjectAlternativeNameSummaries")
                           or [summary["DomainName"]])
        if all(any(covers(pattern, n) for pattern in cert_names) for n in names):
            found.append(Certificate(
                arn=summary["CertificateArn"], domain=summary["DomainName"],
                names=cert_names, status=summary.get("Status", ""),
                in_use=bool(summary.get("InUse", False))))
    return tuple(found)


def covers(pattern: str, name: str) -> bool:
    """Whether a certificate name (possibly *.wildcard) covers a host name."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name
