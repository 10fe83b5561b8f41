"""Where a plan stands (`migrator status`): its phase and steps, read from its files alone, then,
when asked, the health of the site it migrated (site_health: read-only AWS and DNS calls).

A plan for several sites on one load balancer stands site by site: each site has its phase (a
site whose checks failed was put back alone, the others going on), its DNS switch, its
readiness to switch, its canary and its health; the load balancer and its listeners are the
sites' shared part."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.core import actions, planfile
from migrator.core.executor import reverted_sites
from migrator.core.plan import DONE, PENDING, SKIPPED, Plan
from migrator.core.review import FIRST_SITE_STEPS
from migrator.core.sites import is_shared, site_views
from migrator.core.status import (
    load_balancer_outputs,
    phase,
    status_summary,
    stopped_before_switch,
)
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.site_health import HealthRequest, SiteHealth, sites_health

# A site's phase once the executor has put it back alone after its checks failed.
REVERTED_ALONE = "reverted alone after failed checks"


@dataclass(frozen=True)
class StatusRequest:
    path: Path
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class SiteStatus:
    """One site of a plan for several: where it stands, seen as a plan for that site."""

    domain: str
    view: Plan  # the site's part of the plan (sites.site_view)
    summary: dict[str, Any]  # status_summary of the view, the site's own readiness
    reverted: str | None  # why it was put back alone, if it was
    steps: tuple[str, ...]  # the plan's ids of the site's own steps
    health: SiteHealth | None = None

    @property
    def phase(self) -> str:
        return REVERTED_ALONE if self.reverted is not None else str(self.summary["phase"])

    @property
    def switched(self) -> bool:
        switch = actions.dns_switch(self.view.steps)
        return switch is not None and self.view.state(switch.id).status == DONE

    def to_dict(self, plan: Plan) -> dict[str, Any]:
        s = self.summary
        data = {"domain": self.domain, "names": list(self.view.snapshot.names),
                "phase": self.phase, "reverted": self.reverted, "switched": self.switched,
                "switched_at": s["switched_at"], "old_ttl": s["old_ttl"],
                "all_clients_moved_at": s["all_clients_moved_at"],
                "ready_to_switch": s["ready_to_switch"], "canary": s["canary"],
                "steps": [{"id": sid, "status": plan.state(sid).status,
                           "error": plan.state(sid).error} for sid in self.steps]}
        if self.health is not None:
            data["health"] = self.health.to_dict()
        return data


@dataclass(frozen=True)
class PlanStatus:
    plan: Plan
    summary: dict[str, Any]  # status_summary's JSON-ready form: phase, steps, the switch
    health: SiteHealth | None = None  # None: not asked (the first site's, for several)
    sites: tuple[SiteStatus, ...] = ()  # a plan for several sites: each site's
    shared_steps: tuple[str, ...] = ()  # ... and the steps the sites share

    @property
    def healths(self) -> tuple[SiteHealth, ...]:
        """Every site's health that was checked or said why not (none when not asked)."""
        if self.sites:
            return tuple(s.health for s in self.sites if s.health is not None)
        return (self.health,) if self.health is not None else ()

    def to_dict(self) -> dict[str, Any]:
        """The `status --json` document: the summary, and "health" when it was checked; for
        several sites, "sites" (each site's entry, its health in it) and "shared" (the load
        balancer and the steps the sites share), "health" then summing up every site's."""
        summary = dict(self.summary)
        joined = self.plan.snapshot.load_balancer
        if joined is not None:
            summary["joined_load_balancer"] = {"name": joined.name, "arn": joined.arn,
                                               "dns_name": joined.dns_name}
        if not self.sites:
            if self.health is None:
                return summary
            return {**summary, "health": self.health.to_dict()}
        lb = load_balancer_outputs(self.plan)
        step = next((s for s in self.plan.steps if s.id == "load_balancer"), None)
        summary["shared"] = {
            "load_balancer": {"name": step.params.get("Name") if step else lb.get("name"),
                              "arn": lb.get("arn"), "dns_name": lb.get("dns_name")},
            "steps": [{"id": sid, "status": self.plan.state(sid).status,
                       "error": self.plan.state(sid).error} for sid in self.shared_steps]}
        summary["sites"] = [site.to_dict(self.plan) for site in self.sites]
        healths = self.healths
        if healths:
            attention = sum(len(h.attention) for h in healths)
            summary["health"] = {"checked": any(h.checked for h in healths),
                                 "ok": attention == 0, "attention": attention,
                                 "sites": {h.plan.domain: h.to_dict()["ok"] for h in healths
                                           if h.checked}}
        return summary

    def raise_if_attention(self, path: Path) -> None:
        """NeedsAttention (exit 1) when a check of any site failed."""
        for health in self.healths:
            health.raise_if_attention(path)


def plan_status(request: StatusRequest, *, connect: Connect | None = None,
                variables: Mapping[str, str] | None = None) -> PlanStatus:
    """The plan's phase and steps; with connect, the health of its site(s) as well."""
    plan = planfile.load(request.path)
    healths: tuple[SiteHealth, ...] = ()
    if connect is not None:
        healths = sites_health(HealthRequest(request.path, request.account), connect=connect,
                               variables=variables or {})
    summary = status_summary(plan)
    if not is_shared(plan):
        return PlanStatus(plan, summary, healths[0] if healths else None)
    reverted = reverted_sites(plan)
    if reverted:
        summary["phase"] = _phase_without(plan, reverted)
    stop = stopped_before_switch(plan)
    sites = []
    for index, view in enumerate(site_views(plan)):
        own = _own_steps(plan, view.domain)
        view_summary = status_summary(view)
        if stop is not None and view_summary["ready_to_switch"] is None and \
                _ready(view) and view.domain not in reverted:
            view_summary["ready_to_switch"] = {"since": stop["at"],
                                               "switch_step": stop.get("step")}
            view_summary["phase"] = "ready to switch"
        sites.append(SiteStatus(view.domain, view, view_summary, reverted.get(view.domain),
                                tuple(own), healths[index] if healths else None))
    mine = {sid for site in sites for sid in site.steps}
    shared = tuple(s.id for s in plan.steps if s.id not in mine)
    return PlanStatus(plan, summary, healths[0] if healths else None, tuple(sites), shared)


def _phase_without(plan: Plan, reverted: Mapping[str, str]) -> str:
    """The phase of a plan some of whose sites were put back alone: that of the rest of it,
    and how many were."""
    kept = tuple(s for s in plan.steps if s.site not in reverted)
    rest = Plan(id=plan.id, created_at=plan.created_at, snapshot=plan.snapshot,
                options=plan.options, steps=kept, states={s.id: plan.states[s.id] for s in kept},
                journal=plan.journal)
    return (f"{phase(rest)}; {len(reverted)} of {len(plan.domains)} sites {REVERTED_ALONE} "
            f"({', '.join(reverted)})")


def _own_steps(plan: Plan, domain: str) -> list[str]:
    """The plan's ids of a site's own steps; the first site's include its certificate's, which
    have plain ids (it is the listener's default)."""
    own = [s.id for s in plan.steps if s.site == domain]
    if domain == plan.domain:
        own += [s.id for s in plan.steps if s.site is None and s.id in FIRST_SITE_STEPS]
        order = [s.id for s in plan.steps]
        own.sort(key=order.index)
    return own


def _ready(view: Plan) -> bool:
    """Whether everything of a site's view before its DNS switch is done, the switch not."""
    switch = actions.dns_switch(view.steps)
    if switch is None or view.state(switch.id).status != PENDING:
        return False
    before = view.steps[:view.steps.index(switch)]
    return all(view.state(s.id).status in (DONE, SKIPPED) for s in before)
