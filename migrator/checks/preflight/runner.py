"""Run every preflight check in order and collect the findings.

A check that cannot run (an AWS call denied or failing) becomes a warn finding saying so; the
network probes themselves never raise. Nothing here writes anything anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrator.checks.preflight.caa import check_caa
from migrator.checks.preflight.certificates import check_certificate
from migrator.checks.preflight.collisions import check_collisions
from migrator.checks.preflight.cost import check_cost
from migrator.checks.preflight.healthcheck import check_health
from migrator.checks.preflight.idle import (
    DEFAULT_BOUND,
    IdleProbe,
    choose_idle_timeout,
    joined_idle_timeout,
)
from migrator.checks.preflight.instance import check_https, check_running
from migrator.checks.preflight.joining import check_joining
from migrator.checks.preflight.model import Finding
from migrator.checks.preflight.network import check_security_groups, check_subnets
from migrator.checks.preflight.quotas import check_acm_quotas, check_lockdown_quotas
from migrator.checks.preflight.records import check_records
from migrator.checks.preflight.zone import check_delegation, check_zone
from migrator.core.plan import PlanOptions
from migrator.core.snapshot import Snapshot
from migrator.errors import MigratorError
from migrator.net.config import NetConfig
from migrator.net.dns import Dns, dns_skip_reason

__all__ = ["run_preflight"]


def _guard(check: str, what: str, run: Callable[[], Finding | list[Finding]]) -> list[Finding]:
    try:
        result = run()
    except MigratorError as exc:
        return [Finding(check, "warn", f"could not check {what}: {exc.message}",
                        hint=exc.hint or "")]
    return result if isinstance(result, list) else [result]


def run_preflight(aws: Any, snapshot: Snapshot, net: NetConfig, options: PlanOptions,
                  plan_id: str, *, idle_probe: float | None = DEFAULT_BOUND,
                  idle_timeout: int | None = None, add_subnet: bool = False,
                  one_of_several: bool = False) -> list[Finding]:
    """Every check, in the order a reader wants them: DNS and zone, certificate authority,
    network, lockdown, instance, health check, idle connections, records, ACM, names, cost.

    How long the origin keeps idle connections is measured in a thread while the other checks
    run (at most ``idle_probe`` seconds; None: not at all, and no idle-timeout finding).
    ``idle_timeout`` is the user's choice (--idle-timeout): the probe then only reads the
    advertised Keep-Alive timeout, to warn when the choice is not below it.
    ``one_of_several``: the site is one of a plan for several behind one load balancer, whose
    names are checked and whose cost is shown for the whole plan, not here for each site.
    """
    snap = snapshot
    findings: list[Finding] = []
    idle = None
    if idle_probe is not None:
        bound = 0.0 if idle_timeout is not None else idle_probe
        idle = IdleProbe.for_site(snap, net, options.health_check_path, bound=bound).start()
    skip = dns_skip_reason(net, snap.instance.public_ip)
    dns = None if skip else Dns(net)

    findings += _guard("zone", "the hosted zone", lambda: check_zone(aws, snap))
    if dns is None:
        findings.append(Finding("delegation", "info", f"DNS not checked: {skip}"))
    else:
        findings.append(check_delegation(snap, dns))
    findings += _guard("caa", "CAA records", lambda: check_caa(aws, snap, dns))
    joining = snap.load_balancer is not None
    findings += check_joining(snap, add_subnet=add_subnet) if joining else [check_subnets(snap)]
    findings += check_security_groups(snap)
    findings += check_lockdown_quotas(snap, options, plan_id)
    findings.append(check_running(snap))
    report = check_https(snap, net)
    findings += report.findings
    if report.reachable:
        findings.append(check_health(snap, net, options.health_check_path,
                                     options.health_check_matcher))
    idle_at = len(findings)
    findings += _guard("records", "the records", lambda: check_records(aws, snap))
    findings += check_certificate(snap)
    findings.append(check_acm_quotas(snap))
    if not one_of_several:
        findings += _guard("names", "the names the plan creates",
                           lambda: check_collisions(aws, snap, options, plan_id))
    if not joining and not one_of_several:
        zones = max(2, len(snap.public_subnets_by_zone()))
        findings.append(check_cost(snap.region, zones))
    if idle is not None and snap.load_balancer is not None:
        lb = snap.load_balancer
        findings.insert(idle_at, joined_idle_timeout(idle.result(), lb.name,
                                                     lb.idle_timeout_seconds).finding)
    elif idle is not None:
        choice = choose_idle_timeout(idle.result(), override=idle_timeout)
        findings.insert(idle_at, choice.finding)
    return findings
