"""The sites of a plan, each seen as a plan for one site: read-only views that status, show,
verify and the health checks use unchanged on a plan for several sites.

A view of site S holds the steps the sites share and S's own steps under their single-site
ids (`certificate@shop.example.com` is `certificate` in shop's view; S's own step wins over a
shared one of the same id, e.g. its certificate over the first site's, which the listener
uses as its default), S's snapshot, and the step states of the plan itself (the same objects:
a view sees apply's progress). Views are never executed or saved: the executor runs the plan.
"""

from __future__ import annotations

from typing import Any

from migrator.core.plan import Plan, Step, StepState, is_ref, ref_parts
from migrator.core.shared_planner import SITE_SEPARATOR, base_step_id, rewrite_refs

__all__ = ["base_step_id", "is_shared", "refers_to_site", "site_steps", "site_view",
           "site_views"]


def is_shared(plan: Plan) -> bool:
    """Whether the plan puts several sites on one load balancer."""
    return bool(plan.more_sites)


def site_steps(plan: Plan, site: str) -> list[Step]:
    """The steps of `site` alone (not the shared ones), in plan order."""
    return [s for s in plan.steps if s.site == site]


def site_views(plan: Plan) -> list[Plan]:
    """One view per site (the plan itself when it has one site)."""
    if not is_shared(plan):
        return [plan]
    return [site_view(plan, domain) for domain in plan.domains]


def site_view(plan: Plan, site: str) -> Plan:
    """`site`'s part of the plan, as a plan for that one site."""
    if not is_shared(plan):
        return plan
    own = {base_step_id(s.id) for s in plan.steps if s.site == site}
    kept = [s for s in plan.steps
            if s.site == site or (s.site is None and s.id not in own)]
    ids = {s.id: (base_step_id(s.id) if s.site == site else s.id) for s in kept}

    def rename(step_id: str) -> str:
        return ids.get(step_id, step_id)

    steps = [Step(id=ids[s.id], action=s.action, description=s.description,
                  params=rewrite_refs(s.params, rename),
                  inverse=None if s.inverse is None else type(s.inverse)(
                      s.inverse.action, rewrite_refs(s.inverse.params, rename),
                      s.inverse.description))
             for s in kept]
    states: dict[str, StepState] = {ids[s.id]: plan.states[s.id] for s in kept}
    journal = [_renamed(entry, ids) for entry in plan.journal
               if entry.get("step") is None or entry.get("step") in ids]
    return Plan(id=plan.id, created_at=plan.created_at, snapshot=plan.site_snapshot(site),
                options=plan.options, steps=tuple(steps), states=states, journal=journal)


def _renamed(entry: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    if entry.get("step") in ids:
        return {**entry, "step": ids[entry["step"]]}
    return entry


def refers_to_site(value: Any, site: str) -> bool:
    """Whether a parameter value refers to an output of one of `site`'s steps."""
    if is_ref(value):
        return ref_parts(value)[0].endswith(SITE_SEPARATOR + site)
    if isinstance(value, dict):
        return any(refers_to_site(v, site) for v in value.values())
    if isinstance(value, list):
        return any(refers_to_site(v, site) for v in value)
    return False

