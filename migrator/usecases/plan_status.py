"""Where a plan stands (`migrator status`): read from its files alone, no AWS call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.core import planfile
from migrator.core.plan import Plan
from migrator.core.status import status_summary


@dataclass(frozen=True)
class StatusRequest:
    path: Path


@dataclass(frozen=True)
class PlanStatus:
    plan: Plan
    summary: dict[str, Any]  # status_summary's JSON-ready form: phase, steps, the switch


def plan_status(request: StatusRequest) -> PlanStatus:
    plan = planfile.load(request.path)
    return PlanStatus(plan, status_summary(plan))
