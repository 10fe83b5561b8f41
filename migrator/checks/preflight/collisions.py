"""Names the plan would create that already exist: the load balancer and target group names
(unique per account and region) and the two security group names (unique per VPC).

The names are read from the plan's own steps (planner.plan_steps with the same plan id), so
the check cannot drift from what apply would do. Each is looked up by name, never by scanning.
"""

from __future__ import annotations

from typing import Any

from migrator.checks.preflight.model import Finding
from migrator.core.plan import PlanOptions
from migrator.core.planner import plan_steps
from migrator.core.snapshot import Snapshot
from migrator.errors import PreflightError


def planned_names(snap: Snapshot, options: PlanOptions, plan_id: str
                  ) -> list[tuple[str, str, str | None]]:
    """(kind, name, vpc id or None) of every named resource the plan creates."""
    out: list[tuple[str, str, str | None]] = []
    for step in plan_steps(snap, options, plan_id):
        if step.action == "elbv2.create_load_balancer":
            out.append(("load balancer", step.params["Name"], None))
        elif step.action == "elbv2.create_target_group":
            out.append(("target group", step.params["Name"], None))
        elif step.action == "ec2.create_security_group":
            out.append(("security group", step.params["GroupName"], step.params["VpcId"]))
        elif step.action == "ec2.copy_groups_without_public_web":
            # the lockdown's copies are named "<original name>-<suffix>" (actions._copy_name)
            names = {g.id: g.name for g in snap.security_groups}
            for group_id in step.params["GroupIds"]:
                if group_id in names:
                    name = f"{names[group_id]}-{step.params['NameSuffix']}"[:255]
                    out.append(("security group", name, step.params["VpcId"]))
    return out


def check_collisions(aws: Any, snap: Snapshot, options: PlanOptions, plan_id: str) -> Finding:
    try:
        wanted = planned_names(snap, options, plan_id)
    except PreflightError as exc:
        return Finding("names", "info",
                       f"resource names not checked: the plan cannot be built ({exc.message})")
    taken: list[str] = []
    for kind, name, vpc_id in wanted:
        if kind == "load balancer":
            exists = aws.elbv2.load_balancer_named(name) is not None
        elif kind == "target group":
            exists = aws.elbv2.target_group_named(name) is not None
        else:
            exists = bool(aws.ec2.security_groups(filters=[
                {"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc_id]}]))
        if exists:
            taken.append(f"{kind} {name}" + (f" in {vpc_id}" if vpc_id else ""))
    data = {"plan_id": plan_id, "names": [name for _, name, _ in wanted], "taken": taken}
    if taken:
        return Finding("names", "fail",
                       f"the plan would create {', '.join(taken)}, which already exist(s)",
                       hint="plan again: a new plan id gives new names; or delete the leftover",
                       data=data)
    return Finding("names", "pass",
                   f"the names plan {plan_id} would create are free "
                   f"({', '.join(name for _, name, _ in wanted)})", data=data)
