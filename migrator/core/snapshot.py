"""The read-only picture of a site's current setup that a plan is made from and checked against.

Plain frozen dataclasses, serialisable to the JSON stored in the plan file.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


def host_matches(pattern: str, name: str) -> bool:
    """Whether an ALB host-header condition value matches a host name: case-insensitive, `*`
    any run of characters, `?` exactly one (Elastic Load Balancing's "Host conditions")."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                    for c in pattern.lower().rstrip("."))
    return re.fullmatch(regex, name.lower().rstrip(".")) is not None


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    nameservers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordSet:
    name: str
    type: str
    ttl: int | None = None
    values: tuple[str, ...] = ()
    alias: dict[str, Any] | None = field(default=None, hash=False)
    set_identifier: str | None = None

    def to_route53(self) -> dict[str, Any]:
        """This record set in Route53's ResourceRecordSet form."""
        record: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.set_identifier:
            record["SetIdentifier"] = self.set_identifier
        if self.alias:
            record["AliasTarget"] = dict(self.alias)
        else:
            record["TTL"] = self.ttl
            record["ResourceRecords"] = [{"Value": v} for v in self.values]
        return record

    @classmethod
    def from_route53(cls, record: dict[str, Any]) -> RecordSet:
        alias = record.get("AliasTarget")
        return cls(
            name=record["Name"].replace("\\052", "*").lower(),
            type=record["Type"],
            ttl=record.get("TTL"),
            values=tuple(r["Value"] for r in record.get("ResourceRecords", [])),
            alias=dict(alias) if alias else None,
            set_identifier=record.get("SetIdentifier"),
        )


@dataclass(frozen=True)
class NetworkInterface:
    """One of the instance's network interfaces: security groups belong to interfaces, and an
    instance's groups are the union of its interfaces' groups."""

    id: str
    device_index: int
    security_group_ids: tuple[str, ...]
    public_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class Instance:
    id: str
    state: str
    name: str
    vpc_id: str
    subnet_id: str
    availability_zone: str
    public_ip: str
    private_ip: str
    # The groups of the interface that holds public_ip: the ones the migration changes.
    security_group_ids: tuple[str, ...]
    ipv6_addresses: tuple[str, ...] = ()
    interfaces: tuple[NetworkInterface, ...] = ()
    # The interface holding public_ip ("" in plans made before interfaces were recorded).
    web_interface_id: str = ""


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    ingress: tuple[dict[str, Any], ...] = ()
    # Other instances (or interfaces) that also use this group: never edit it.
    shared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subnet:
    id: str
    availability_zone: str
    cidr: str
    public: bool
    # An IPv6 CIDR and a ::/0 route to an internet gateway: a dualstack load balancer can use it.
    ipv6: bool = False
    # availability-zone, local-zone or wavelength-zone: a load balancer cannot mix them.
    zone_type: str = "availability-zone"


@dataclass(frozen=True)
class Certificate:
    arn: str
    domain: str
    names: tuple[str, ...]
    status: str
    in_use: bool = False


@dataclass(frozen=True)
class Follower:
    """A record elsewhere in the zone that CNAMEs (or aliases) to a planned name: it follows
    the switch and is never changed. Found by preflight; plans made before it load with none."""

    name: str
    type: str
    target: str


@dataclass(frozen=True)
class ListenerRule:
    """A rule of a load balancer's HTTPS listener (its default rule is not one of them)."""

    arn: str
    priority: int
    # host-header values (a rule without one matches every host, for its other conditions)
    hosts: tuple[str, ...] = ()
    # the fields of its other conditions (path-pattern, http-header, ...)
    other_conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadBalancer:
    """A load balancer as a plan that puts a site on it (`--load-balancer`) found it, or as
    inspect lists one that could take the site."""

    arn: str
    name: str
    dns_name: str
    zone_id: str
    type: str  # application | network | gateway
    scheme: str  # internet-facing | internal
    vpc_id: str
    state: str
    ip_address_type: str
    # (Availability Zone, subnet id) of each of its subnets
    subnets: tuple[tuple[str, str], ...]
    security_group_ids: tuple[str, ...] = ()
    https_listener_arn: str | None = None
    ssl_policy: str | None = None
    # the HTTPS listener's certificates, its default one first
    certificate_arns: tuple[str, ...] = ()
    rules: tuple[ListenerRule, ...] = ()
    # rules of its other listeners: the rule quota counts every listener's
    other_rules: int = 0
    http_listener_arn: str | None = None
    # whether that HTTP:80 listener's default action redirects to HTTPS
    http_redirects: bool = False
    # the plan that created it (its migrator:plan tag) and the plans that put a site on it
    # (their migrator:site: tags), when migrator made or joined it
    created_by: str | None = None
    joined_by: tuple[str, ...] = ()
    # the account's quotas (ELB DescribeAccountLimits), per load balancer
    certificate_quota: int = 25
    rule_quota: int = 100
    # its idle timeout (idle_timeout.timeout_seconds), which a joining plan leaves as it is
    idle_timeout_seconds: int = 60

    @property
    def availability_zones(self) -> tuple[str, ...]:
        return tuple(zone for zone, _subnet in self.subnets)

    @property
    def subnet_ids(self) -> tuple[str, ...]:
        return tuple(subnet for _zone, subnet in self.subnets)

    def rule_for_host(self, name: str) -> ListenerRule | None:
        """The rule that routes host `name` already, if one does."""
        for rule in sorted(self.rules, key=lambda r: r.priority):
            if any(host_matches(pattern, name) for pattern in rule.hosts):
                return rule
        return None

    def first_catch_all(self) -> ListenerRule | None:
        """The first rule (by priority) with no host condition: it takes requests for every
        host that its other conditions match, so a site's rule must come before it."""
        return min((r for r in self.rules if not r.hosts), key=lambda r: r.priority,
                   default=None)

    def free_priority(self, below: int | None = None) -> int | None:
        """The lowest rule priority no rule has (below `below`, if given); None if none is."""
        taken = {r.priority for r in self.rules}
        top = below if below is not None else 50001
        return next((p for p in range(1, top) if p not in taken), None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadBalancer:
        return cls(**{
            **data,
            "subnets": tuple((z, s) for z, s in data["subnets"]),
            "security_group_ids": tuple(data.get("security_group_ids", ())),
            "certificate_arns": tuple(data.get("certificate_arns", ())),
            "rules": tuple(ListenerRule(**{**r, "hosts": tuple(r.get("hosts", ())),
                                           "other_conditions": tuple(
                                               r.get("other_conditions", ()))})
                           for r in data.get("rules", ())),
            "joined_by": tuple(data.get("joined_by", ())),
        })


@dataclass(frozen=True)
class Snapshot:
    """Everything inspection found, as plain data."""

    account: str
    region: str
    domain: str
    names: tuple[str, ...]
    zone: Zone
    records: tuple[RecordSet, ...]
    instance: Instance
    security_groups: tuple[SecurityGroup, ...]
    subnets: tuple[Subnet, ...]
    certificates: tuple[Certificate, ...] = ()
    followers: tuple[Follower, ...] = ()
    # The VPC's IPv4 CIDR blocks (the load balancer's addresses are in them) and the origin's
    # Server header as preflight's health check probe saw it: for the advice on what to change
    # on the origin. Plans made before they were recorded load without them (OPTIONAL_FIELDS).
    vpc_cidrs: tuple[str, ...] = ()
    origin_server: str | None = None
    # The load balancer the site is to join (`plan --load-balancer`), as it was when planned.
    load_balancer: LoadBalancer | None = None

    def records_of(self, name: str, rtype: str | None = None) -> list[RecordSet]:
        fqdn = name.rstrip(".").lower() + "."
        return [r for r in self.records
                if r.name == fqdn and (rtype is None or r.type == rtype)]

    def public_subnets_by_zone(self) -> dict[str, Subnet]:
        """One public subnet per Availability Zone, the instance's own subnet preferred; subnets
        in Local or Wavelength Zones are left out (an ALB cannot mix them with AZ subnets)."""
        chosen: dict[str, Subnet] = {}
        for subnet in sorted(self.subnets, key=lambda s: (s.id != self.instance.subnet_id, s.id)):
            if subnet.public and subnet.zone_type == "availability-zone" \
                    and subnet.availability_zone not in chosen:
                chosen[subnet.availability_zone] = subnet
        return dict(sorted(chosen.items()))

    def to_dict(self) -> dict[str, Any]:
        data = _jsonable(asdict(self))
        # Left out when empty, so that a plan made before they existed keeps its sha256.
        for name in OPTIONAL_FIELDS:
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            account=data["account"],
            region=data["region"],
            domain=data["domain"],
            names=tuple(data["names"]),
            zone=Zone(data["zone"]["id"], data["zone"]["name"],
                      tuple(data["zone"].get("nameservers", ()))),
            records=tuple(RecordSet(**{**r, "values": tuple(r["values"])})
                          for r in data["records"]),
            instance=_instance(data["instance"]),
            security_groups=tuple(
                SecurityGroup(g["id"], g["name"], tuple(g["ingress"]), tuple(g["shared_with"]))
                for g in data["security_groups"]),
            subnets=tuple(Subnet(**s) for s in data["subnets"]),
            certificates=tuple(Certificate(**{**c, "names": tuple(c["names"])})
                               for c in data.get("certificates", [])),
            followers=tuple(Follower(**f) for f in data.get("followers", [])),
            vpc_cidrs=tuple(data.get("vpc_cidrs", ())),
            origin_server=data.get("origin_server"),
            load_balancer=(LoadBalancer.from_dict(data["load_balancer"])
                           if data.get("load_balancer") else None),
        )


OPTIONAL_FIELDS = ("vpc_cidrs", "origin_server", "load_balancer")


def _instance(data: dict[str, Any]) -> Instance:
    return Instance(**{
        **data,
        "security_group_ids": tuple(data["security_group_ids"]),
        "ipv6_addresses": tuple(data.get("ipv6_addresses", ())),
        "interfaces": tuple(
            NetworkInterface(id=i["id"], device_index=i["device_index"],
                             security_group_ids=tuple(i["security_group_ids"]),
                             public_ips=tuple(i.get("public_ips", ())))
            for i in data.get("interfaces", ())),
    })


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
