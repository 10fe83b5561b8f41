"""Names the plan would create that already exist: the load balancer and target group names
(unique per account and region) and the two security group names (unique per VPC).

The names are read from the plan's own steps (planner.plan_steps with the same plan id), so
the check cannot drift from what apply would do. Each is looked up by name, never by scanning.
"""

from __future__ import annotations

from typing import Any

from migrator.checks.preflight.model import Finding
from migrator.core import actions
from migrator.core.actions import LOAD_BALANCER, TARGET_GROUP
from migrator.core.plan import Plan, PlanOptions
from migrator.core.planner import plan_steps
from migrator.core.shared_planner import join_plan_steps
from migrator.core.snapshot import Snapshot
from migrator.errors import PreflightError


def planned_names(snap: Snapshot, options: PlanOptions, plan_id: str
                  ) -> list[tuple[str, str, str | None]]:
    """(kind, name, vpc id or None) of every named resource the plan creates, as each step's
    action declares them (its `creates` trait)."""
    if snap.load_balancer is not None:
        steps = join_plan_steps(snap, options, plan_id, add_subnet=True)
    else:
        steps = plan_steps(snap, options, plan_id)
    return [(r.kind, r.name, r.vpc_id) for step in steps
            for r in actions.named_resources(step, snap)]


def check_collisions(aws: Any, snap: Snapshot, options: PlanOptions, plan_id: str) -> Finding:
    try:
        wanted = planned_names(snap, options, plan_id)
    except PreflightError as exc:
        return Finding("names", "info",
                       f"resource names not checked: the plan cannot be built ({exc.message})")
    return names_finding(aws, wanted, plan_id)


def check_plan_names(aws: Any, plan: Plan) -> Finding:
    """The names a plan that is made already would create (a plan for several sites: the
    shared load balancer's and every site's)."""
    wanted = [(r.kind, r.name, r.vpc_id) for step in plan.steps
              for r in actions.named_resources(step, plan.site_snapshot(step.site))]
    return names_finding(aws, wanted, plan.id)


def names_finding(aws: Any, wanted: list[tuple[str, str, str | None]], plan_id: str) -> Finding:
    """Which of the wanted (kind, name, vpc id) exist already, as a names finding."""
    taken: list[str] = []
    for kind, name, vpc_id in wanted:
        if kind == LOAD_BALANCER:
            exists = aws.elbv2.load_balancer_named(name) is not None
        elif kind == TARGET_GROUP:
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
