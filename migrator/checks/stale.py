"""Is a plan still good for the account as it is now? (`migrator check`, read-only.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrator.checks.preflight.collisions import check_collisions
from migrator.core import actions
from migrator.core.actions import LOAD_BALANCER, TARGET_GROUP, traits
from migrator.core.executor import load_balancer_differences, snapshot_differences
from migrator.core.inspector import inspect_site
from migrator.core.load_balancers import find_load_balancer
from migrator.core.plan import Plan
from migrator.core.planner import reusable_certificate
from migrator.core.sites import is_shared, site_views
from migrator.core.snapshot import Snapshot
from migrator.errors import MigratorError


def plan_differences(plan: Plan, aws: Any, inspect: Callable[..., Snapshot] = inspect_site
                     ) -> list[str]:
    """Read-only: every way the account now differs from what `plan` was made from, in words
    (`migrator check`). Besides snapshot_differences: an inspection that fails (the instance
    stopped, the record gone), a name the plan would create that is now taken, and an ISSUED
    certificate that now covers every name while the plan requests a new one (or the one it
    reuses that no longer does); for a plan joining a load balancer, what changed on it that
    the plan relies on. A plan for several sites compares every site's, each difference
    prefixed with its site's domain."""
    if not is_shared(plan):
        return _site_differences(plan, aws, inspect, names=True)
    diffs = []
    for view in site_views(plan):
        diffs += [f"{view.domain}: {d}"
                  for d in _site_differences(view, aws, inspect, names=False)]
    taken = _names_taken(aws, plan)
    if taken:
        diffs.append(f"a name is now taken: {', '.join(taken)}")
    return diffs


def _site_differences(plan: Plan, aws: Any, inspect: Callable[..., Snapshot], *,
                      names: bool) -> list[str]:
    """One site's differences (plan: a plan for one site, or a site's view)."""
    snap = plan.snapshot
    try:
        live = inspect(aws, snap.domain, snap.names[1:])
    except MigratorError as exc:
        return [f"the site cannot be inspected as planned: {exc.message}"]
    diffs = snapshot_differences(snap, live)
    if snap.load_balancer is not None:
        try:
            joined = find_load_balancer(aws, snap.load_balancer.arn)
        except MigratorError as exc:
            diffs.append(f"load balancer {snap.load_balancer.name}, which the plan joins, "
                         f"cannot be described: {exc.message}")
        else:
            diffs += load_balancer_differences(snap, joined)
    if names:
        found = check_collisions(aws, snap, plan.options, plan.id)
        if found.level == "fail":
            diffs.append(f"a name is now taken: {', '.join(found.data.get('taken', []))}")
    requested = any(traits(s).requests_certificate for s in plan.steps)
    reusable = reusable_certificate(live)
    planned_reuse = reusable_certificate(snap)
    if requested and reusable is not None:
        diffs.append(f"certificate {reusable.arn} is now ISSUED for every name and could be "
                     "reused: the plan requests a new one")
    elif not requested and planned_reuse is not None and (
            reusable is None or reusable.arn != planned_reuse.arn) and not any(
            c.arn == planned_reuse.arn and c.status == "ISSUED" for c in live.certificates):
        diffs.append(f"certificate {planned_reuse.arn}, which the plan reuses, is no longer "
                     "ISSUED for every name")
    return diffs


def _names_taken(aws: Any, plan: Plan) -> list[str]:
    """The names the steps of a plan for several sites would create that exist now (the
    shared load balancer's, each site's target group and groups), each looked up by name."""
    taken = []
    for step in plan.steps:
        for res in actions.named_resources(step, plan.site_snapshot(step.site)):
            if res.kind == LOAD_BALANCER:
                exists = aws.elbv2.load_balancer_named(res.name) is not None
            elif res.kind == TARGET_GROUP:
                exists = aws.elbv2.target_group_named(res.name) is not None
            else:
                exists = bool(aws.ec2.security_groups(filters=[
                    {"Name": "group-name", "Values": [res.name]},
                    {"Name": "vpc-id", "Values": [res.vpc_id]}]))
            if exists:
                taken.append(f"{res.kind} {res.name}" + (f" in {res.vpc_id}" if res.vpc_id
                                                         else ""))
    return taken
