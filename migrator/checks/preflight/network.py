"""Network checks: public subnets in two Availability Zones (the planner's own rule), room for
one more security group on the instance, and groups shared with other instances (never edited).
"""

from __future__ import annotations

from typing import Any

from migrator.checks.preflight.model import Finding
from migrator.core.planner import (
    MAX_GROUPS_PER_INTERFACE,
    check_security_group_room,
    interface_in_words,
    load_balancer_subnets,
)
from migrator.core.snapshot import Snapshot
from migrator.errors import PreflightError


def check_subnets(snap: Snapshot) -> Finding:
    """The load balancer's subnets, as planner.load_balancer_subnets chooses them."""
    zones = sorted({s.availability_zone for s in snap.subnets})
    public = sorted({s.availability_zone for s in snap.subnets if s.public})
    data: dict[str, Any] = {"vpc_id": snap.instance.vpc_id, "zones": zones,
                            "public_zones": public,
                            "instance_zone": snap.instance.availability_zone}
    try:
        chosen = load_balancer_subnets(snap)
    except PreflightError as exc:
        others = [z for z in zones if z not in public]
        extra = f" (subnets without an internet route in: {', '.join(others)})" if others else ""
        return Finding("subnets", "fail", exc.message + extra, hint=exc.hint or "", data=data)
    listed = ", ".join(f"{zone} {subnet.id}" for zone, subnet in chosen.items())
    data["subnets"] = {zone: subnet.id for zone, subnet in chosen.items()}
    return Finding("subnets", "pass", f"the load balancer gets public subnets {listed}",
                   data=data)


def check_security_groups(snap: Snapshot) -> list[Finding]:
    """Room for the plan's new group; shared groups are reported, never edited."""
    inst = snap.instance
    findings: list[Finding] = []
    try:
        check_security_group_room(snap)
    except PreflightError as exc:
        findings.append(Finding("security-groups", "fail", exc.message, hint=exc.hint or "",
                                data={"groups": list(inst.security_group_ids)}))
    else:
        findings.append(Finding(
            "security-groups", "pass",
            f"{interface_in_words(inst)} has {len(inst.security_group_ids)} security "
            f"group(s); the plan attaches one new group beside them (limit "
            f"{MAX_GROUPS_PER_INTERFACE} per interface)",
            data={"groups": list(inst.security_group_ids),
                  "interface": inst.web_interface_id}))
    if len(inst.interfaces) > 1:
        others = [i.id for i in inst.interfaces if i.id != inst.web_interface_id]
        findings.append(Finding(
            "security-groups", "info",
            f"instance {inst.id} has {len(inst.interfaces)} network interfaces: only "
            f"{inst.web_interface_id or 'the primary one'}, which holds {inst.public_ip}, "
            f"changes; {', '.join(others)} keep their groups",
            data={"interface": inst.web_interface_id, "others": others}))
    for group in snap.security_groups:
        if group.shared_with:
            findings.append(Finding(
                "security-groups", "info",
                f"{group.id} ({group.name}) is also used by {', '.join(group.shared_with)}: "
                "it is never edited; the plan only changes which groups this instance has",
                data={"group_id": group.id, "shared_with": list(group.shared_with)}))
    return findings
