"""The canary switch: the site's names move to the load balancer in stages of Route53 weighted
records, each held for a soak while the load balancer's CloudWatch figures stay within the
plan's bounds; a stage that breaks them puts every name back on its original record at once.

For each name and type switched, a stage of weight w (1-99) is a weighted pair: the original
record (values and TTL) with weight 100-w and SetIdentifier "migrator-<plan>-origin", and the
alias to the load balancer with weight w and "migrator-<plan>-lb". Route53 refuses a weighted and
a simple record of one name and type side by side, so the first stage is one batch that DELETEs
the exact original and CREATEs the pair, the next ones UPSERT the weights, and the last (100) is
one batch that DELETEs the pair and CREATEs the plain alias: the simple switch's end state.
Every change covers every name at once and is read back from Route53 first, so a run that was
killed at any point goes on from what is live, and the undo restores the original records
exactly (values, TTL, no weighted record left) from any stage.

The step journals (ctx.observe) the stage it moves to before its change and when its soak
began, so a resumed apply continues the soak where it was; after a failed gate a later apply
starts again from the first stage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from migrator.core.actions import canary_gate
from migrator.core.actions.context import Context
from migrator.core.actions.model import Action, Traits, Undo
from migrator.core.actions.route53 import alias_record, change_exactly, same_alias, same_plain
from migrator.core.gates import breaches
from migrator.core.plan import now
from migrator.errors import StalePlanError

PROGRESS_INTERVAL = 30.0  # seconds between two readings of the figures during a soak
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


# --- the records of a stage ---------------------------------------------------------------------

def wanted_records(original: dict[str, Any], alias: dict[str, Any], ids: dict[str, str],
                   weight: int) -> list[dict[str, Any]]:
    """What a name holds at a stage sending `weight` % to the load balancer: the original (0),
    the weighted pair (1-99), the plain alias (100)."""
    if weight <= 0:
        return [original]
    if weight >= 100:
        return [alias_record(original, alias)]
    return [{**original, "SetIdentifier": ids["Origin"], "Weight": 100 - weight},
            {**alias_record(original, alias), "SetIdentifier": ids["LoadBalancer"],
             "Weight": weight}]


def live_records(ctx: Context, zone: str, original: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record set of the original's name and type (simple or weighted)."""
    return [r for r in ctx.aws.route53.records_named(zone, original["Name"])
            if r["Type"] == original["Type"]]


def live_weight(live: list[dict[str, Any]], original: dict[str, Any], alias: dict[str, Any],
                ids: dict[str, str]) -> int | None:
    """Which stage the live records are at (0: the original, 100: the plain alias, else the
    load balancer's weight), or None when they are not the plan's (someone changed them)."""
    if len(live) == 1 and not live[0].get("SetIdentifier"):
        if same_plain(live[0], original):
            return 0
        if alias.get("DNSName") and same_alias(live[0], alias):
            return 100
        return None
    by_id = {r.get("SetIdentifier"): r for r in live}
    if len(live) != 2 or set(by_id) != {ids["Origin"], ids["LoadBalancer"]}:
        return None
    origin, lb = by_id[ids["Origin"]], by_id[ids["LoadBalancer"]]
    if not same_plain(origin, original) or not (alias.get("DNSName") and same_alias(lb, alias)):
        return None
    return int(lb.get("Weight", 0))


def changes_to(live: list[dict[str, Any]], at: int, wanted: list[dict[str, Any]],
               weight: int) -> list[dict[str, Any]]:
    """The changes that take one name from its live records (at stage weight `at`) to the
    wanted ones: none when there; UPSERTs of the weights from one weighted pair to another;
    otherwise DELETE exactly what is live and CREATE what is wanted, in the same batch."""
    if at == weight:
        return []
    if 0 < at < 100 and 0 < weight < 100:
        return [{"Action": "UPSERT", "ResourceRecordSet": r} for r in wanted]
    return ([{"Action": "DELETE", "ResourceRecordSet": r} for r in live]
            + [{"Action": "CREATE", "ResourceRecordSet": r} for r in wanted])


def move_to(ctx: Context, p: dict[str, Any], weight: int, *, purpose: str,
            stale_hint: str) -> bool:
    """Put every name at the stage of `weight`, in one batch, and wait until it is INSYNC;
    whether anything had to change. Refuses, changing nothing, if a name holds records this
    plan did not make."""
    zone, alias, ids = p["HostedZoneId"], p["Alias"], p["SetIdentifiers"]
    changes = []
    for original in p["Originals"]:
        live = live_records(ctx, zone, original)
        at = live_weight(live, original, alias, ids)
        if at is None:
            raise StalePlanError(
                f"{original['Name']} {original['Type']} was changed by someone else "
                "(it is neither the original record nor this plan's)", hint=stale_hint)
        changes += changes_to(live, at, wanted_records(original, alias, ids, weight), weight)
    if changes:
        change_exactly(ctx, zone, changes, purpose,
                       "a record changed meanwhile; nothing was changed", stale_hint)
    return bool(changes)


# --- the forward action -------------------------------------------------------------------------

def canary_switch(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    stages: list[int] = list(p["Stages"])
    observed = ctx.state.observed
    # After a failed gate, from the first stage again; else from the stage journaled last.
    again = bool(observed.get("reverted")) or "stage" not in observed
    first = 0 if again else observed["stage"]
    stale = "re-plan; the records are left as they are now"
    for index in range(first, len(stages)):
        weight = stages[index]
        soaking = (not again and observed.get("stage") == index
                   and bool(observed.get("soak_started_at")))
        if not soaking:
            ctx.observe(stage=index, weight=weight, soak_started_at=None, reverted=None)
        move_to(ctx, p, weight, purpose=f"canary stage {index + 1} ({weight}%)",
                stale_hint=stale)
        if weight >= 100:
            break
        if not soaking:
            ctx.observe(soak_started_at=ctx.clock.now().strftime(_STAMP))
        _soak(ctx, p, index)
    ttl = max((o.get("TTL") or 0) for o in p["Originals"])
    return {"switched_at": ctx.state.outputs.get("switched_at") or now(), "old_ttl": ttl}


def _soak(ctx: Context, p: dict[str, Any], index: int) -> None:
    """Hold stage `index` for the soak (what is left of it after a resume), reading the figures
    every PROGRESS_INTERVAL; revert everything and raise CanaryGateError when they break a
    bound."""
    stages, bounds = p["Stages"], p["Bounds"]
    weight = stages[index]
    started = datetime.strptime(ctx.state.observed["soak_started_at"], _STAMP).replace(
        tzinfo=ctx.clock.now().tzinfo)
    ends = started + timedelta(seconds=p["SoakSeconds"])
    where = (f"canary stage {index + 1}/{len(stages)}: {weight}% to the load balancer, "
             f"{100 - weight}% to the origin")
    left = (ends - ctx.clock.now()).total_seconds()
    ctx.progress(f"{where}; soak {max(0.0, left):.0f} s")
    while True:
        if left > 0:
            ctx.clock.sleep(min(PROGRESS_INTERVAL, left))
        figures = canary_gate.read_figures(ctx.aws, p["Metrics"]["LoadBalancerArn"],
                                           p["Metrics"]["TargetGroupArn"], started,
                                           ctx.clock.now())
        left = max(0.0, (ends - ctx.clock.now()).total_seconds())
        ctx.progress(f"{where}; soak {left:.0f} s left; "
                     f"{canary_gate.in_words(figures, bounds)}")
        failed = breaches(figures, bounds)
        if failed:
            _revert(ctx, p, index, figures, failed)
        if left <= 0:
            return


def _revert(ctx: Context, p: dict[str, Any], index: int,
            figures: dict[str, float | None], failed: list[str]) -> None:
    weight = p["Stages"][index]
    ctx.observe(reverted={"stage": index, "weight": weight, "failed": failed,
                          "figures": figures, "at": now()})
    ctx.progress(f"canary stage {index + 1} broke its bounds ({', '.join(failed)}): putting "
                 "every name back on its original record")
    move_to(ctx, p, 0, purpose="canary revert",
            stale_hint="restore the records by hand; migrator does not overwrite changes it "
                       "did not make")
    raise canary_gate.CanaryGateError(
        f"canary stage {index + 1} ({weight}% to the load balancer) broke its bounds: "
        f"{', '.join(failed)}; every name is back on its original record",
        stage=index + 1, weight=weight, figures=figures, bounds=p["Bounds"],
        failed=tuple(failed))


# --- the undo ------------------------------------------------------------------------------------

def restore_from_canary(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Every name back on its original record, from whatever stage it is at."""
    # A later apply (after a failed verification put DNS back) starts from the first stage.
    ctx.observe(reverted={"restored": True, "at": now()})
    changed = move_to(ctx, p, 0, purpose="restore",
                      stale_hint="restore it by hand; migrator does not overwrite changes it "
                                 "did not make")
    if changed:
        # Resolvers may hold the alias (or a weighted answer) for its TTL: keep the load
        # balancer up meanwhile.
        ctx.clock.sleep(ctx.dns_drain_seconds)
    return {}


RESTORE_FROM_CANARY = Undo("route53.restore_from_canary", restore_from_canary)
CANARY_SWITCH = Action("route53.canary_switch", canary_switch, RESTORE_FROM_CANARY,
                       Traits(dns_switch=True))

ACTIONS = (CANARY_SWITCH,)
