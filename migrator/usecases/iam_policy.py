"""The least-privilege IAM policy migrator needs (`migrator iam-policy`), without calling AWS;
with a plan, scoped to that plan's resources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrator.core import planfile
from migrator.core.iam_policy import ACTIONS, policy_json
from migrator.core.plan import Plan


@dataclass(frozen=True)
class IamPolicyRequest:
    plan: Path | None = None  # None: for any migrator plan
    out: Path | None = None  # None: not written anywhere


@dataclass(frozen=True)
class IamPolicy:
    text: str  # the policy document, as JSON
    plan: Plan | None
    actions: int
    written_to: Path | None


def iam_policy(request: IamPolicyRequest) -> IamPolicy:
    plan = planfile.load(request.plan) if request.plan else None
    text = policy_json(plan)
    if request.out is not None:
        request.out.write_text(text, encoding="utf-8")
    return IamPolicy(text, plan, len(ACTIONS), request.out)
