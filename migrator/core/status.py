"""Where a plan stands: its phase in words and a summary of every step's state, read from the
plan's journal (`show`, `status`, the wizard), including the stage `apply --stop-before-switch`
leaves a plan in ("ready to switch")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.core import actions
from migrator.core.plan import (
    DONE,
    FAILED,
    PENDING,
    REVERTED,
    REVERTING,
    RUNNING,
    SKIPPED,
    Plan,
    Step,
    StepState,
)

READY_TO_SWITCH = "ready to switch"
# The journal event of `apply --stop-before-switch` stopping at the plan's DNS switch.
STOPPED_BEFORE_SWITCH = "stopped-before-switch"


def load_balancer_outputs(plan: Plan) -> dict[str, Any]:
    """The load balancer the plan's site is on: what its load_balancer step recorded (arn,
    dns_name, zone_id) when the plan creates one, else the one it joins, as planned."""
    if "load_balancer" in plan.states:
        return dict(plan.state("load_balancer").outputs)
    joined = plan.snapshot.load_balancer
    if joined is None:
        return {}
    return {"arn": joined.arn, "dns_name": joined.dns_name, "zone_id": joined.zone_id,
            "name": joined.name}


def status_summary(plan: Plan) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for state in plan.states.values():
        counts[state.status] = counts.get(state.status, 0) + 1
    lb = load_balancer_outputs(plan)
    switch_step = actions.dns_switch(plan.steps)
    switch = plan.states.get(switch_step.id) if switch_step else None
    return {
        "plan": plan.id, "domain": plan.domain, "region": plan.snapshot.region,
        "counts": counts,
        "phase": phase(plan),
        "load_balancer": lb.get("dns_name"),
        "switched_at": switch.outputs.get("switched_at") if switch else None,
        "old_ttl": switch.outputs.get("old_ttl") if switch else None,
        "all_clients_moved_at": clients_moved_at(switch.outputs) if switch else None,
        "ready_to_switch": _ready_to_switch(plan),
        "canary": canary_stage(switch_step, switch) if switch_step and switch else None,
        "steps": [{"id": s.id, "status": plan.state(s.id).status,
                   "error": plan.state(s.id).error} for s in plan.steps],
    }


def canary_stage(step: Step, state: StepState) -> dict[str, Any] | None:
    """Where a staged (canary) switch stands, from what its step journaled: the stage (1-based)
    and its weight, when its soak began, and a revert after a failed gate; None for a switch
    without stages, or one not begun or finished."""
    stages = step.params.get("Stages")
    if not stages or state.status not in (RUNNING, FAILED) or "stage" not in state.observed:
        return None
    observed = state.observed
    reverted = observed.get("reverted")
    return {"stage": int(observed["stage"]) + 1, "of": len(stages),
            "weight": observed.get("weight"), "soak_started_at": observed.get("soak_started_at"),
            "reverted": reverted if isinstance(reverted, dict) else None}


def _ready_to_switch(plan: Plan) -> dict[str, Any] | None:
    stop = stopped_before_switch(plan)
    if stop is None:
        return None
    return {"since": stop["at"], "switch_step": stop.get("step")}


def stopped_before_switch(plan: Plan) -> dict[str, Any] | None:
    """The journal entry of the stop before the DNS switch, while the plan is still there:
    every step before the switch done (or skipped), the switch pending, and no run since."""
    switch = actions.dns_switch(plan.steps)
    if switch is None or plan.state(switch.id).status != PENDING:
        return None
    before = plan.steps[:plan.steps.index(switch)]
    if any(plan.state(step.id).status not in (DONE, SKIPPED) for step in before):
        return None
    for entry in reversed(plan.journal):
        if entry.get("event") == STOPPED_BEFORE_SWITCH:
            return entry
        if entry.get("event") in ("apply-started", "rollback-started"):
            return None
    return None


def switch_begun(plan: Plan) -> Step | None:
    """The DNS switch step, when a run has begun it (done, or started and not finished: the
    records may be switched already); None while it is pending or the plan has none."""
    switch = actions.dns_switch(plan.steps)
    if switch is None or plan.state(switch.id).status == PENDING:
        return None
    return switch


def clients_moved_at(switch_outputs: dict[str, Any]) -> str | None:
    """When the last resolver that cached the old record before the switch lets it go."""
    switched, ttl = switch_outputs.get("switched_at"), switch_outputs.get("old_ttl")
    if not switched or ttl is None:
        return None
    at = datetime.strptime(switched, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (at + timedelta(seconds=int(ttl))).strftime("%Y-%m-%dT%H:%M:%SZ")


def phase(plan: Plan) -> str:
    statuses = [st.status for st in plan.states.values()]
    if any(s in (REVERTED, REVERTING) for s in statuses):
        done = all(s in (REVERTED, PENDING) for s in statuses)
        return "rolled back" if done else "rollback in progress"
    if all(s == PENDING for s in statuses):
        return "not applied"
    if all(s in (DONE, SKIPPED) for s in statuses):
        return "applied"
    if stopped_before_switch(plan) is not None:
        return READY_TO_SWITCH
    pending = [sid for sid, st in plan.states.items() if st.status == PENDING]
    lockdown = {step.id for step in actions.lockdown_steps(plan.steps)}
    if pending and all(sid in lockdown for sid in pending) and all(
            st.status in (DONE, SKIPPED, PENDING) for st in plan.states.values()):
        return "applied (lockdown pending)"
    if any(s == FAILED for s in statuses):
        return "apply failed (resume or roll back)"
    return "apply in progress"
