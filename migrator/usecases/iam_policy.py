"""The least-privilege IAM policy migrator needs (`migrator iam-policy`), without calling AWS;
with a plan, scoped to that plan's resources (for a plan joining a load balancer that exists,
to that load balancer's listener, its rules and the plan's tag on it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from migrator.core import planfile
from migrator.core.iam_policy import allowed_actions, policy
from migrator.core.plan import Plan


@dataclass(frozen=True)
class IamPolicyRequest:
    plan: Path | None = None  # None: for any migrator plan
    out: Path | None = None  # None: not written anywhere


@dataclass(frozen=True)
class IamPolicy:
    text: str  # the policy document, as JSON
    plan: Plan | None
    actions: int  # how many actions the document allows
    written_to: Path | None


def iam_policy(request: IamPolicyRequest) -> IamPolicy:
    plan = planfile.load(request.plan) if request.plan else None
    document = policy(plan)
    text = json.dumps(document, indent=2) + "\n"
    if request.out is not None:
        request.out.write_text(text, encoding="utf-8")
    return IamPolicy(text, plan, len(allowed_actions(document)), request.out)
