"""Where a plan stands (`migrator status`): its phase and steps, read from its files alone, then,
when asked, the health of the site it migrated (site_health: read-only AWS and DNS calls)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.core import planfile
from migrator.core.plan import Plan
from migrator.core.status import status_summary
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.site_health import HealthRequest, SiteHealth, site_health


@dataclass(frozen=True)
class StatusRequest:
    path: Path
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class PlanStatus:
    plan: Plan
    summary: dict[str, Any]  # status_summary's JSON-ready form: phase, steps, the switch
    health: SiteHealth | None = None  # None: not asked

    def to_dict(self) -> dict[str, Any]:
        """The `status --json` document: the summary, and "health" when it was checked."""
        if self.health is None:
            return self.summary
        return {**self.summary, "health": self.health.to_dict()}


def plan_status(request: StatusRequest, *, connect: Connect | None = None,
                variables: Mapping[str, str] | None = None) -> PlanStatus:
    """The plan's phase and steps; with connect, the site's health as well."""
    plan = planfile.load(request.path)
    health = None
    if connect is not None:
        health = site_health(HealthRequest(request.path, request.account), connect=connect,
                             variables=variables or {})
    return PlanStatus(plan, status_summary(plan), health)
