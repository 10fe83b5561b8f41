"""Find the sites the wizard can offer (read-only): names in public Route53 zones whose A record
points at a public address of a running EC2 instance in the region.

The search makes a bounded number of read-only calls whatever the size of the account:

* EC2 DescribeAddresses, once (Elastic IPs; the call is not paginated);
* EC2 DescribeInstances filtered to running instances, at most ``Limits.instance_pages`` pages;
* Route53 ListHostedZones, once (at most 100 zones);
* Route53 ListResourceRecordSets, at most ``Limits.record_pages`` pages in each of at most
  ``Limits.zones`` public zones.

What the limits cut short, or the credentials may not read, is reported, so the user knows to
type a name that is not listed: the search is a convenience and never stops the wizard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migrator.core.names import normalize_domain
from migrator.errors import AccessDeniedError, InvalidDomainError

if TYPE_CHECKING:
    from migrator.aws.session import Aws


@dataclass(frozen=True)
class Limits:
    """The most calls each part of the search may make."""

    instance_pages: int = 3
    instance_page_size: int = 1000
    zones: int = 20
    record_pages: int = 3

    def max_calls(self) -> int:
        return 1 + self.instance_pages + 1 + self.zones * self.record_pages


@dataclass(frozen=True)
class Candidate:
    """A name that can be migrated: its zone, the address it points at, and that instance."""

    name: str
    zone: str
    address: str
    instance_id: str
    instance_name: str = ""


@dataclass
class Discovery:
    """The candidates found, and what the limits left unsearched (in words)."""

    candidates: list[Candidate] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        return [c.name for c in self.candidates]


def find_candidates(aws: Aws, limits: Limits | None = None) -> Discovery:
    """Names whose A record points at a running instance's public address (bounded calls)."""
    limits = limits or Limits()
    found = Discovery()
    try:
        addresses = instance_addresses(aws, limits, found)
        if not addresses:
            return found
        zones, more_zones = aws.route53.hosted_zones()
    except AccessDeniedError as exc:
        found.truncated.append(f"the search was not allowed ({exc.message})")
        return found
    public = [z for z in zones if not z.get("Config", {}).get("PrivateZone")]
    if more_zones:
        found.truncated.append("only the first 100 hosted zones were read")
    if len(public) > limits.zones:
        found.truncated.append(f"only {limits.zones} of {len(public)} public zones were searched")
    for zone in public[: limits.zones]:
        zone_id = zone["Id"].split("/")[-1]
        try:
            records, more = aws.route53.record_sets(zone_id, max_pages=limits.record_pages)
        except AccessDeniedError:
            found.truncated.append(f"the records of {zone['Name'].rstrip('.')} may not be read")
            continue
        if more:
            found.truncated.append(f"zone {zone['Name'].rstrip('.')} has more records than "
                                   f"were read")
        found.candidates.extend(_matches(records, zone["Name"].rstrip("."), addresses))
    found.candidates.sort(key=lambda c: (c.zone, c.name.count("."), c.name))
    return found


def instance_addresses(aws: Aws, limits: Limits, found: Discovery) -> dict[str, tuple[str, str]]:
    """{public address: (instance id, Name tag)} of the region's running instances."""
    instances, more = aws.ec2.running_instances(page_size=limits.instance_page_size,
                                                max_pages=limits.instance_pages)
    if more:
        found.truncated.append(f"only the first {limits.instance_pages * limits.instance_page_size}"
                               f" running instances were read")
    by_id: dict[str, tuple[str, str]] = {}
    addresses: dict[str, tuple[str, str]] = {}
    for inst in instances:
        name = next((t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name"), "")
        by_id[inst["InstanceId"]] = (inst["InstanceId"], name)
        ips = {inst.get("PublicIpAddress")}
        for eni in inst.get("NetworkInterfaces", []):
            ips.add((eni.get("Association") or {}).get("PublicIp"))
            for private in eni.get("PrivateIpAddresses", []):
                ips.add((private.get("Association") or {}).get("PublicIp"))
        for ip in ips - {None, ""}:
            addresses[str(ip)] = by_id[inst["InstanceId"]]
    # Elastic IPs on secondary addresses are not always in the instance description.
    for eip in aws.ec2.elastic_ips():
        if eip.get("InstanceId") in by_id and eip.get("PublicIp"):
            addresses[eip["PublicIp"]] = by_id[eip["InstanceId"]]
    return addresses


def _matches(records: list[dict[str, Any]], zone: str,
             addresses: dict[str, tuple[str, str]]) -> list[Candidate]:
    out = []
    for record in records:
        if record["Type"] != "A" or record.get("AliasTarget") or record.get("SetIdentifier"):
            continue
        values = [r["Value"] for r in record.get("ResourceRecords", [])]
        if len(values) != 1 or values[0] not in addresses:
            continue
        try:
            name = normalize_domain(record["Name"].replace("\\052", "*"))
        except InvalidDomainError:
            continue  # a wildcard or an odd name cannot be the site's name
        instance_id, instance_name = addresses[values[0]]
        out.append(Candidate(name=name, zone=zone, address=values[0], instance_id=instance_id,
                             instance_name=instance_name))
    return out
