"""Who uses what, and since when: target groups forwarded to, certificates on listeners.

After every ELBv2 call that can change listeners (the ELB rules call :func:`refresh`), the
backend's listeners are scanned: each (target group, load balancer) pair a default action or
rule forwards to gets the time it started; each certificate the load balancers that present
it. A certificate no listener uses any more is remembered as released (when, by whom), for
ACM's in-use linger. A target group is *in use* from the moment a listener of an **active**
load balancer forwards to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moto.elbv2.models import elbv2_backends

from ..backends import existing
from .config import StrictConfig
from .ledger import OLD, Ledger, Released

LB = "lb"


def arn_account_region(arn: str) -> tuple[str, str] | None:
    parts = arn.split(":")
    if len(parts) < 6:
        return None
    return parts[4], parts[3]


def forward_targets(data: dict[str, Any]) -> list[str]:
    """Target groups an action (its API form: Type, TargetGroupArn, ForwardConfig) forwards to."""
    if str(data.get("Type") or "") != "forward":
        return []
    arns = [
        str(g["TargetGroupArn"])
        for g in (data.get("ForwardConfig") or {}).get("TargetGroups", [])
        if g.get("TargetGroupArn")
    ]
    if not arns and data.get("TargetGroupArn"):
        arns = [str(data["TargetGroupArn"])]
    return arns


def action_target_groups(actions: Iterable[dict[str, Any]] | None) -> list[str]:
    """Target groups a list of API-form actions forwards to."""
    found: list[str] = []
    for action in actions or []:
        found += forward_targets(dict(action))
    return found


def scan(backend: Any) -> tuple[set[tuple[str, str]], dict[str, tuple[str, ...]]]:
    """(target group, load balancer) pairs forwarded to; certificate -> load balancers."""
    pairs: set[tuple[str, str]] = set()
    users: dict[str, list[str]] = {}
    for lb in list(backend.load_balancers.values()):
        for listener in list(lb.listeners.values()):
            certificates = [listener.certificate, *list(listener.certificates or [])]
            for cert in certificates:
                if cert and lb.arn not in users.setdefault(cert, []):
                    users[cert].append(lb.arn)
            for rule in list(listener.rules.values()):
                for action in list(rule.actions or []):
                    for tg_arn in forward_targets(dict(getattr(action, "data", None) or {})):
                        pairs.add((tg_arn, lb.arn))
    return pairs, {cert: tuple(lbs) for cert, lbs in users.items()}


def refresh(ledger: Ledger, backend: Any, *, since: float | None = None) -> None:
    """Record what ``backend``'s listeners use now (new uses start now, or at ``since``)."""
    pairs, users = scan(backend)
    key = (backend.account_id, backend.region_name)
    with ledger.lock:
        now = ledger.now()
        start = since if since is not None else (OLD if ledger.relaxed else now)
        before = ledger.forwarding.get(key, {})
        ledger.forwarding[key] = {pair: before.get(pair, start) for pair in pairs}
        previous = ledger.certificate_users.get(key, {})
        for cert, who in previous.items():
            if cert not in users:
                ledger.certificate_released[cert] = Released(now, who)
        for cert in users:
            ledger.certificate_released.pop(cert, None)
        ledger.certificate_users[key] = users


def refresh_all(ledger: Ledger) -> None:
    """Initial scan at install: whatever already forwards has done so forever."""
    for _account, _region, backend in existing(elbv2_backends):
        refresh(ledger, backend, since=OLD)


def load_balancer_active_at(ledger: Ledger, config: StrictConfig, lb_arn: str) -> float:
    return ledger.created_at(LB, lb_arn) + config.load_balancer_provisioning


def in_use_at(ledger: Ledger, config: StrictConfig, tg_arn: str) -> float | None:
    """When the target group started receiving traffic (None: no listener forwards to it)."""
    where = arn_account_region(tg_arn)
    if where is None:
        return None
    with ledger.lock:
        pairs = dict(ledger.forwarding.get(where, {}))
    starts = [
        max(since, load_balancer_active_at(ledger, config, lb_arn))
        for (tg, lb_arn), since in pairs.items()
        if tg == tg_arn
    ]
    return min(starts) if starts else None


def certificate_users(ledger: Ledger, cert_arn: str) -> tuple[str, ...]:
    where = arn_account_region(cert_arn)
    if where is None:
        return ()
    with ledger.lock:
        return ledger.certificate_users.get(where, {}).get(cert_arn, ())
