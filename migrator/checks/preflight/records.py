"""The site's records: what the switch will change and what it leaves alone.

* An AAAA record on a planned name refuses the plan: migrator creates an IPv4-only load
  balancer, and IPv6 clients would keep reaching the instance.
* The A records to switch, as planner.records_to_switch picks them (its refusals become fails).
* The apex and www: when the other of the pair also points at the instance but is not planned,
  it would stay on the instance and its old certificate.
* Records that CNAME (or alias) to a planned name are left alone: they follow the switch.
"""

from __future__ import annotations

from typing import Any

from migrator.checks.preflight.model import Finding
from migrator.core.planner import records_to_switch
from migrator.core.snapshot import Follower, RecordSet, Snapshot
from migrator.errors import PreflightError

# Route53 cannot filter records by value: one page of 300 is read to find CNAMEs to the site, so
# the cost of plan does not grow with the zone.
MAX_ZONE_PAGES = 1


def _bare(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _ipv6_subnets(aws: Any, vpc_id: str) -> list[str]:
    return [s["SubnetId"] for s in aws.ec2.subnets(vpc_id)
            if any(a.get("Ipv6CidrBlockState", {}).get("State") == "associated"
                   for a in s.get("Ipv6CidrBlockAssociationSet", []))]


def check_aaaa(aws: Any, snap: Snapshot) -> Finding | None:
    """A fail naming the AAAA records of planned names that cannot move to a dualstack load
    balancer (no IPv6 subnets, or pointing elsewhere), or None."""
    aaaa = [r for name in snap.names for r in snap.records_of(name, "AAAA")]
    if not aaaa:
        return None
    try:
        records_to_switch(snap)
        return None  # they move with the A records, to a dualstack load balancer
    except PreflightError as exc:
        if "AAAA" not in exc.message:
            return None  # an A-record problem: check_switch reports it
        refusal = exc
    v6 = _ipv6_subnets(aws, snap.instance.vpc_id)
    return Finding(
        "records", "fail", refusal.message,
        hint=refusal.hint or "",
        data={"aaaa": [_bare(r.name) for r in aaaa], "ipv6_subnets": v6})


def check_switch(snap: Snapshot) -> Finding:
    try:
        records = records_to_switch(snap)
    except PreflightError as exc:
        return Finding("records", "fail", exc.message, hint=exc.hint or "")
    shown = ", ".join(f"{_bare(r.name)} ({r.type} {', '.join(r.values)}, TTL {r.ttl} s)"
                      for r in records)
    return Finding("records", "pass", f"the switch changes {shown} to an alias",
                   data={"switch": [_bare(r.name) for r in records]})


def check_apex_www(aws: Any, snap: Snapshot) -> Finding | None:
    """The apex/www sibling that points at the instance but is not in the plan."""
    apex = _bare(snap.zone.name)
    if snap.domain == apex:
        other = f"www.{apex}"
    elif snap.domain == f"www.{apex}":
        other = apex
    else:
        return None
    if other in snap.names:
        return None
    records = [RecordSet.from_route53(r) for r in aws.route53.records_named(snap.zone.id, other)]
    a = next((r for r in records if r.type == "A" and not r.alias and not r.set_identifier),
             None)
    if a is None or snap.instance.public_ip not in a.values:
        return None
    return Finding(
        "records", "warn",
        f"{other} also points at the instance ({', '.join(a.values)}) but is not in the plan: "
        "it would stay on the instance and its certificate",
        hint=f"add --san {other} to move both",
        data={"suggested_sans": [other]})


def check_followers(aws: Any, snap: Snapshot) -> list[Finding]:
    """Records elsewhere in the zone that CNAME or alias to a planned name: left alone."""
    planned = set(snap.names)
    raw, truncated = aws.route53.record_sets(snap.zone.id, max_pages=MAX_ZONE_PAGES)
    findings = []
    for record in (RecordSet.from_route53(r) for r in raw):
        name = _bare(record.name)
        if name in planned:
            continue
        if record.type == "CNAME" and record.values:
            target = _bare(record.values[0])
        elif record.alias and record.type in ("A", "AAAA"):
            target = _bare(str(record.alias.get("DNSName", "")))
        else:
            continue
        if target in planned:
            kind = "a CNAME" if record.type == "CNAME" else f"an {record.type} alias"
            findings.append(Finding(
                "records", "info",
                f"{name} is {kind} to {target}: left alone, it follows the switch",
                hint=f"if {name} is served over HTTPS, add --san {name} so the certificate "
                     "covers it",
                data={"follower": name, "target": target, "type": record.type}))
    if truncated:
        findings.append(Finding(
            "records", "info",
            f"only the first {MAX_ZONE_PAGES * 300} records of {_bare(snap.zone.name)} were "
            "searched for CNAMEs to the site"))
    return findings


def followers_found(findings: list[Finding]) -> tuple[Follower, ...]:
    """The CNAMEs and aliases to the site that check_followers found, for the plan's snapshot
    (so that a review can say they are left alone)."""
    return tuple(Follower(f.data["follower"], f.data.get("type", "CNAME"), f.data["target"])
                 for f in findings if f.check == "records" and "follower" in (f.data or {}))


def check_records(aws: Any, snap: Snapshot) -> list[Finding]:
    findings: list[Finding] = []
    aaaa = check_aaaa(aws, snap)
    findings.append(aaaa if aaaa is not None else check_switch(snap))
    sibling = check_apex_www(aws, snap)
    if sibling is not None:
        findings.append(sibling)
    findings += check_followers(aws, snap)
    return findings
