"""What a plan changes in the account (`migrator show`, and the wizard before it asks): computed
from the plan alone, no AWS call, so it shows exactly what apply will do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrator.core import planfile, review
from migrator.core.plan import Plan, plan_digest
from migrator.core.status import phase


@dataclass(frozen=True)
class ReviewRequest:
    path: Path


@dataclass(frozen=True)
class PlanReview:
    plan: Plan
    digest: str  # the sha256 an approval names (apply --expect-sha256)
    changes: review.AccountChanges
    phase: str


def review_plan_file(request: ReviewRequest) -> PlanReview:
    return review_plan(planfile.load(request.path))


def review_plan(plan: Plan) -> PlanReview:
    return PlanReview(plan, plan_digest(plan), review.account_changes(plan), phase(plan))
