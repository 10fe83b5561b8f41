"""The stage `apply --stop-before-switch` leaves a plan in: every step up to the DNS switch done,
the load balancer checked through its own address, DNS untouched. What a person needs to try the
site through the load balancer before any visitor reaches it: its name, the site's names and
health check path, and one address the load balancer's name resolves to now (for an /etc/hosts
line), looked up through the configured name servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrator.core import actions
from migrator.core.executor import reverted_sites
from migrator.core.plan import DONE, Plan
from migrator.core.status import load_balancer_outputs
from migrator.net.config import NetConfig
from migrator.net.dns import LookupFailed, dns_skip_reason, resolve_fresh


@dataclass(frozen=True)
class ReadyToSwitch:
    path: Path
    domain: str
    names: tuple[str, ...]
    load_balancer: str  # its DNS name
    health_check_path: str
    verified: bool  # the checks through the load balancer ran (not --skip-verify) and passed
    address: str | None  # an address the load balancer's name resolves to now
    no_address: str | None  # why there is none
    sites: int = 1  # how many sites `domain` names


def ready_to_switch(path: Path, plan: Plan, net: NetConfig) -> ReadyToSwitch:
    """A plan for several sites is ready to switch every site still on the load balancer (a
    site put back alone after failed checks is not): their names are all listed."""
    lb = str(load_balancer_outputs(plan).get("dns_name", ""))
    address, no_address = _an_address(lb, plan, net)
    reverted = reverted_sites(plan)
    sites = [s for s in plan.snapshots if s.domain not in reverted] or [plan.snapshot]
    domains = [s.domain for s in sites]
    domain = domains[0] if len(domains) == 1 else \
        f"{', '.join(domains[:-1])} and {domains[-1]}"
    return ReadyToSwitch(path=path, domain=domain,
                         names=tuple(n for s in sites for n in s.names),
                         load_balancer=lb, health_check_path=plan.options.health_check_path,
                         verified=_checked_through_load_balancer(plan), address=address,
                         no_address=no_address, sites=len(sites))


def _checked_through_load_balancer(plan: Plan) -> bool:
    """Whether the checks just before the switch (through the load balancer) passed."""
    switch = actions.dns_switch(plan.steps)
    if switch is None:
        return False
    checks = []
    for step in reversed(plan.steps[:plan.steps.index(switch)]):
        if not actions.traits(step).check:
            break
        checks.append(plan.state(step.id).status)
    return bool(checks) and all(status == DONE for status in checks)


def _an_address(name: str, plan: Plan, net: NetConfig) -> tuple[str | None, str | None]:
    if not name:
        return None, "the load balancer's name is not known yet"
    skip = dns_skip_reason(net, plan.snapshot.instance.public_ip)
    if skip is not None:
        return None, skip
    try:
        found = resolve_fresh(name, net)
    except LookupFailed as exc:
        return None, f"its name did not resolve ({exc})"
    if not found:
        return None, f"{name} has no address yet"
    return next((a for a in found if ":" not in a), found[0]), None
