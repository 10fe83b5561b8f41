"""Is a plan still good for the account as it is now? (`migrator check`: re-inspects read-only.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrator.checks.stale import plan_differences
from migrator.core import planfile
from migrator.core.executor import Executor
from migrator.core.plan import PENDING, Plan, plan_digest
from migrator.core.status import phase
from migrator.errors import StalePlanError
from migrator.usecases.accounts import Account, Connect


@dataclass(frozen=True)
class CheckRequest:
    path: Path
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class PlanCheck:
    plan: Plan
    digest: str
    differences: tuple[str, ...]  # in words; none: the plan still applies

    def raise_if_stale(self) -> None:
        """StalePlanError naming every difference, if there is one."""
        if self.differences:
            plan = self.plan
            raise StalePlanError(
                f"plan {plan.id} for {', '.join(plan.domains)} is stale: "
                f"{len(self.differences)} "
                f"difference(s) with the account: {'; '.join(self.differences)}",
                hint="make a new plan with `migrator plan` and have it reviewed")


def check_plan(request: CheckRequest, *, connect: Connect) -> PlanCheck:
    """Compare the account with a plan not applied yet (its credentials must be for the plan's
    account and region)."""
    plan = planfile.load(request.path)
    if any(st.status != PENDING for st in plan.states.values()):
        raise StalePlanError(f"plan {plan.id} is {phase(plan)}: check compares the "
                             "account with a plan not applied yet",
                             hint=f"see `migrator status {request.path}`")
    aws = connect(request.account)
    executor = Executor(aws=aws, path=request.path, plan=plan)
    executor.check_target()
    differences = plan_differences(plan, aws, executor.inspect)
    return PlanCheck(plan, plan_digest(plan), tuple(differences))
