"""Hosted zone checks: the public zone that holds the site, private namesakes that are not used,
and whether the internet's NS delegation really points at the zone's name servers (if not,
ACM's validation record, and the switch itself, would never be seen).
"""

from __future__ import annotations

from typing import Any

from migrator.checks.preflight.model import Finding
from migrator.core.snapshot import Snapshot
from migrator.net.dns import Dns


def _bare(name: str) -> str:
    return name.strip().rstrip(".").lower()


def check_zone(aws: Any, snap: Snapshot) -> list[Finding]:
    """Which public zone holds the domain, and the private zones of the same names it skipped."""
    zone_name = _bare(snap.zone.name)
    findings = [Finding(
        "zone", "pass",
        f"public hosted zone {zone_name} ({snap.zone.id}) holds {snap.domain}",
        data={"zone_id": snap.zone.id, "zone": zone_name,
              "nameservers": list(snap.zone.nameservers)})]
    labels = snap.domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    for candidate in candidates[: candidates.index(zone_name) + 1 if zone_name in candidates
                                else None]:
        for zone in aws.route53.zones_named(candidate):
            if zone.get("Config", {}).get("PrivateZone"):
                zone_id = zone["Id"].split("/")[-1]
                findings.append(Finding(
                    "zone", "info",
                    f"private hosted zone {candidate} ({zone_id}) is not used: the internet "
                    f"and ACM only see the public zone {zone_name}",
                    hint="records for the site belong in the public zone",
                    data={"private_zone_id": zone_id, "zone": candidate}))
    return findings


def check_delegation(snap: Snapshot, dns: Dns) -> Finding:
    """The NS set DNS answers for the zone's name equals the zone's delegation set."""
    zone_name = _bare(snap.zone.name)
    expected = sorted({_bare(ns) for ns in snap.zone.nameservers})
    answer = dns.query(zone_name, "NS")
    data: dict[str, Any] = {"zone": zone_name, "expected": expected}
    if answer.error:
        return Finding("delegation", "warn",
                       f"could not look up the NS records of {zone_name}: {answer.error}",
                       hint="check that this machine can resolve names (MIGRATOR_NAMESERVERS); "
                            "ACM validation needs the zone to be delegated to Route53",
                       data=data)
    found = sorted({_bare(v) for v in answer.values})
    data["found"] = found
    if answer.nxdomain or not found:
        what = "does not exist in DNS (NXDOMAIN)" if answer.nxdomain else "has no NS records"
        return Finding("delegation", "fail",
                       f"{zone_name} {what}: ACM's validation record would never be seen",
                       hint=f"at the registrar, set the name servers of {zone_name} to "
                            f"{', '.join(expected)}",
                       data=data)
    if found != expected:
        return Finding("delegation", "fail",
                       f"DNS delegates {zone_name} to {', '.join(found)}, not to the hosted "
                       f"zone's {', '.join(expected)}: ACM's validation record and the switch "
                       "would never be seen",
                       hint=f"at the registrar, set the name servers of {zone_name} to the "
                            "zone's, or use the hosted zone DNS really serves",
                       data=data)
    return Finding("delegation", "pass",
                   f"DNS delegates {zone_name} to the hosted zone's name servers",
                   data=data)
