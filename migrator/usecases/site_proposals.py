"""The defaults the wizard proposes for a site, taken from the preflight findings: extra names
for the certificate (on the instance's old certificate, or the apex/www sibling pointing at the
instance) and a health check that will be healthy.

A proposed name is offered only when adding it cannot make the plan refuse: it is in the site's
hosted zone, and it either has no A record of its own or its simple A record is the instance's
address. It is pre-selected when the site serves it: its A record is the instance's address, or
it is a CNAME (or alias) to the site. The others are named in a note with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrator.core.names import normalize_domain
from migrator.core.plan import PlanOptions
from migrator.core.snapshot import RecordSet, Snapshot
from migrator.errors import MigratorError

MAX_PROPOSED_NAMES = 10  # each costs one ListResourceRecordSets call
SERVED, UNUSED = "served", "unused"


@dataclass
class Proposals:
    """What to offer, what to pre-select, and notes on what was left out."""

    sans: list[str] = field(default_factory=list)
    sans_checked: list[str] = field(default_factory=list)
    health_check_path: str = "/"
    # The matcher preflight found healthy for checked_path (None: keep the default).
    health_check_matcher: str | None = None
    checked_path: str = "/"
    notes: list[str] = field(default_factory=list)

    def matcher_for(self, path: str) -> str:
        """The matcher to plan with for the path the user chose."""
        if self.health_check_matcher and path == self.checked_path:
            return self.health_check_matcher
        return PlanOptions().health_check_matcher


def propose(aws: Any, snap: Snapshot, findings: list[Any], checked: PlanOptions) -> Proposals:
    """Proposals from preflight findings made with the options `checked`."""
    from migrator.checks.preflight import proposals as from_findings

    raw = from_findings(findings)
    out = Proposals(health_check_path=raw.get("health_check_path") or checked.health_check_path,
                    health_check_matcher=raw.get("health_check_matcher"),
                    checked_path=checked.health_check_path)
    names: list[str] = []
    for raw_name in raw.get("sans", []):
        try:
            name = normalize_domain(raw_name)
        except MigratorError:
            continue
        if name not in snap.names and name not in names:
            names.append(name)
    for name in names[:MAX_PROPOSED_NAMES]:
        verdict = classify(aws, snap, name)
        if verdict in (SERVED, UNUSED):
            out.sans.append(name)
            if verdict == SERVED:
                out.sans_checked.append(name)
        else:
            out.notes.append(f"{name} is not offered for the certificate: {verdict}")
    if out.health_check_path != checked.health_check_path:
        out.notes.append(f"the health check path {checked.health_check_path} would not be "
                         f"healthy; {out.health_check_path} is proposed")
    elif out.health_check_matcher and out.health_check_matcher != checked.health_check_matcher:
        out.notes.append(f"the health check of {out.health_check_path} will accept "
                         f"{out.health_check_matcher}")
    return out


def classify(aws: Any, snap: Snapshot, name: str) -> str:
    """SERVED (the site answers for name), UNUSED (no record uses it; adding it is harmless),
    or why adding name would make the plan refuse."""
    zone = snap.zone.name.rstrip(".")
    if name != zone and not name.endswith("." + zone):
        return f"it is outside the hosted zone {zone}"
    records = [RecordSet.from_route53(r) for r in aws.route53.records_named(snap.zone.id, name)]
    if any(r.type == "AAAA" for r in records):
        return "it has an AAAA record"
    a_records = [r for r in records if r.type == "A" and not r.alias]
    if a_records:
        record = a_records[0]
        if record.set_identifier or record.values != (snap.instance.public_ip,):
            return f"its A record does not point at the instance {snap.instance.public_ip}"
        return SERVED
    web = [r for r in records if r.type in ("A", "CNAME")]
    if not web:
        return UNUSED
    planned = {n.rstrip(".") for n in snap.names}
    for record in web:
        target = (record.values[0] if record.type == "CNAME" and record.values
                  else str((record.alias or {}).get("DNSName", "")))
        if target.rstrip(".").lower() in planned:
            return SERVED
    return "it points elsewhere"
