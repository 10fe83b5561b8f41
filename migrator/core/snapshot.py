"""The read-only picture of a site's current setup that a plan is made from and checked against.

Plain frozen dataclasses, serialisable to the JSON stored in the plan file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
        )


OPTIONAL_FIELDS = ("vpc_cidrs", "origin_server")


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
