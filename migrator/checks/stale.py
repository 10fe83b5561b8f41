"""Is a plan still good for the account as it is now? (`migrator check`, read-only.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrator.checks.preflight.collisions import check_collisions
from migrator.core.actions import traits
from migrator.core.executor import snapshot_differences
from migrator.core.inspector import inspect_site
from migrator.core.plan import Plan
from migrator.core.planner import reusable_certificate
from migrator.core.snapshot import Snapshot
from migrator.errors import MigratorError


def plan_differences(plan: Plan, aws: Any, inspect: Callable[..., Snapshot] = inspect_site
                     ) -> list[str]:
    """Read-only: every way the account now differs from what `plan` was made from, in words
    (`migrator check`). Besides snapshot_differences: an inspection that fails (the instance
    stopped, the record gone), a name the plan would create that is now taken, and an ISSUED
    certificate that now covers every name while the plan requests a new one (or the one it
    reuses that no longer does)."""
    snap = plan.snapshot
    try:
        live = inspect(aws, snap.domain, snap.names[1:])
    except MigratorError as exc:
        return [f"the site cannot be inspected as planned: {exc.message}"]
    diffs = snapshot_differences(snap, live)
    names = check_collisions(aws, snap, plan.options, plan.id)
    if names.level == "fail":
        diffs.append(f"a name is now taken: {', '.join(names.data.get('taken', []))}")
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
