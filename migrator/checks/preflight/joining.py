"""Preflight for a site joining a load balancer that exists (`plan --load-balancer`): whether it
can take the site (shared_planner.refuse_to_join says why not), its TLS policy (reported, never
changed), and the monthly cost a site saves by not having a load balancer of its own."""

from __future__ import annotations

from migrator.checks.preflight.model import Finding
from migrator.core.pricing import HOURS_PER_MONTH, IPV4_HOURLY, monthly_base
from migrator.core.shared_planner import refuse_to_join
from migrator.core.snapshot import LoadBalancer, Snapshot
from migrator.errors import PreflightError

__all__ = ["allows_old_tls", "check_joining", "monthly_saving"]

# Security policies that still negotiate TLS 1.0 or 1.1 (the ELB documentation's table of
# policies): every policy whose name does not say it starts at TLS 1.2 or 1.3.
_MODERN_MARKERS = ("TLS13-1-2", "TLS13-1-3", "TLS-1-2", "FS-1-2")


def allows_old_tls(policy: str | None) -> bool:
    return policy is not None and not any(m in policy for m in _MODERN_MARKERS)


def monthly_saving(region: str, zones: int) -> float | None:
    """What a site pays each month for a load balancer of its own (base price and its public
    IPv4 addresses), which it saves by joining one."""
    base = monthly_base(region)
    if base is None:
        return None
    return round(base + IPV4_HOURLY * HOURS_PER_MONTH * zones, 2)


def check_joining(snap: Snapshot, *, add_subnet: bool = False) -> list[Finding]:
    lb = snap.load_balancer
    if lb is None:
        return []
    data = _data(lb)
    try:
        refuse_to_join(snap, lb, add_subnet=add_subnet)
    except PreflightError as exc:
        return [Finding("load-balancer", "fail", exc.message, hint=exc.hint or "", data=data)]
    findings = [Finding(
        "load-balancer", "pass",
        f"{lb.name} can take {snap.domain}: in {lb.vpc_id} with subnets in "
        f"{', '.join(lb.availability_zones)}"
        + (f", {len(lb.certificate_arns)} of {lb.certificate_quota} certificates and "
           f"{len(lb.rules) + lb.other_rules} of {lb.rule_quota} rules used"
           if lb.https_listener_arn else ", no HTTPS:443 listener yet (the plan adds one)"),
        data=data)]
    if snap.instance.availability_zone not in lb.availability_zones:
        findings.append(Finding(
            "load-balancer", "info",
            f"--add-subnet: the plan adds a subnet of {snap.instance.availability_zone} to "
            f"{lb.name} (rollback sets its subnets back)", data=data))
    if allows_old_tls(lb.ssl_policy):
        findings.append(Finding(
            "tls-policy", "warn",
            f"{lb.name}'s HTTPS listener uses {lb.ssl_policy}, which still allows TLS 1.0/1.1; "
            "the plan does not change it (other sites use that listener)",
            hint="consider `aws elbv2 modify-listener --ssl-policy "
                 "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09` once its clients allow it",
            data={"ssl_policy": lb.ssl_policy}))
    if lb.http_listener_arn is None:
        findings.append(Finding(
            "http", "warn",
            f"{lb.name} has no HTTP:80 listener: http://{snap.domain} will not answer once "
            "DNS points at it", hint="add one redirecting to HTTPS if clients still use http://"))
    saving = monthly_saving(snap.region, len(lb.availability_zones))
    if saving is not None:
        findings.append(Finding(
            "cost", "info",
            f"joining {lb.name} adds no load balancer: about ${saving:.2f} a month less than "
            "one of its own (base price and public IPv4 addresses; LCUs are billed by traffic "
            "either way)", data={"monthly_saving_usd": saving, "load_balancer": lb.name}))
    return findings


def _data(lb: LoadBalancer) -> dict[str, object]:
    return {"load_balancer": lb.name, "arn": lb.arn, "vpc_id": lb.vpc_id,
            "zones": list(lb.availability_zones), "certificates": len(lb.certificate_arns),
            "certificate_quota": lb.certificate_quota,
            "rules": len(lb.rules) + lb.other_rules, "rule_quota": lb.rule_quota,
            "ssl_policy": lb.ssl_policy}
