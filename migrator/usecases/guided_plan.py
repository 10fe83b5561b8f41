"""The wizard's planning: the same inspection, preflight (with its choice of free names) and
plan building as plan_sites, around the questions the wizard asks.

The wizard validates what it was told up front (validated()) before asking anything or calling
AWS; runs preflight with the options it is about to propose; refuses only what no later choice
can fix (refuse_unfixable()); and, once the choices are made, has preflight's verdict on them
(with_choices()), checking again only when they change what preflight checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from migrator.checks.preflight import Finding, raise_on_failure
from migrator.core.load_balancers import find_load_balancer
from migrator.core.plan import PlanOptions
from migrator.errors import UsageError
from migrator.usecases import plan_sites, validation
from migrator.usecases.accounts import Account
from migrator.usecases.plan_sites import Preflight
from migrator.usecases.progress import PlanProgress

if TYPE_CHECKING:
    from migrator.aws.session import Aws
    from migrator.core.snapshot import Snapshot
    from migrator.net.config import NetConfig

DEFAULT_SSL_POLICY = PlanOptions().ssl_policy
# Failed checks that a later choice can fix: the health check path, or planning no lockdown.
FIXABLE = ("health-check", "lockdown")


@dataclass(frozen=True)
class GuidedRequest:
    """What the wizard was told up front; None: asked (or the proposal, without a terminal)."""

    domain: str | None = None
    sans: tuple[str, ...] | None = None
    health_check_path: str | None = None
    ssl_policy: str | None = None
    http_redirect: bool | None = None  # False: --no-http-redirect
    lockdown: bool | None = None  # False: --no-lockdown
    wait_for_ttl: bool | None = None  # True: --wait-for-ttl
    stop_before_switch: bool | None = None  # True: --stop-before-switch
    idle_timeout: int | None = None
    origin_idle_probe: float | None = None
    skip_verify: bool = False
    # --load-balancer NAME_OR_ARN: join it, not asked; None: the wizard offers those of the
    # instance's VPC that can take the site (without a terminal: a load balancer of its own).
    load_balancer: str | None = None
    add_subnet: bool = False  # with load_balancer: add the instance's zone's subnet to it
    account: Account = field(default_factory=Account)


def validated(request: GuidedRequest) -> GuidedRequest:
    """The request with its names normalized; a bad value is refused before anything is
    asked or AWS is called."""
    domain, sans = request.domain, request.sans
    if domain:
        names = validation.certificate_names(domain, sans or ())
        domain = names[0]
        sans = names[1:] if sans is not None else None
    elif sans is not None:
        sans = tuple(validation.domain_name(n, "--san") for n in sans)
    validation.idle_timeout(request.idle_timeout)
    validation.origin_idle_probe(request.origin_idle_probe)
    if request.health_check_path is not None:
        validation.health_check_path(request.health_check_path)
    if request.ssl_policy is not None:
        validation.ssl_policy(request.ssl_policy, DEFAULT_SSL_POLICY)
    if request.account.region is not None:
        validation.region(request.account.region)
    if request.add_subnet and not request.load_balancer:
        raise UsageError("--add-subnet goes with --load-balancer",
                         hint="name the load balancer to join with --load-balancer, or answer "
                              "the wizard's question (it offers those that need a subnet)")
    return replace(request, domain=domain, sans=sans)


def refuse_unfixable(findings: Sequence[Finding]) -> None:
    """PreflightError for a failure none of the wizard's choices can fix."""
    raise_on_failure([f for f in findings if f.check not in FIXABLE])


def joining(aws: Aws, snap: Snapshot, load_balancer: str | None) -> Snapshot:
    """snap joining the load balancer named (name or ARN), described in full; snap itself for
    None (a load balancer of its own)."""
    if not load_balancer:
        return snap
    return replace(snap, load_balancer=find_load_balancer(aws, load_balancer))


def with_choices(aws: Aws, snap: Snapshot, net: NetConfig, proposed: PlanOptions,
                 chosen: PlanOptions, first: Preflight, progress: PlanProgress, *,
                 add_subnet: bool = False) -> Preflight:
    """Preflight's verdict on the options chosen, for the same plan id: the first run's findings
    (without the lockdown's when none is planned: its copies were checked on their own), or a
    new run, shown through progress, when the choices change what the verdict depends on (the
    idle connection probe is not repeated: the first one answered for this origin)."""
    if _checked_part(chosen) != _checked_part(proposed):
        return plan_sites.preflight(aws, snap, net, chosen, first.plan_id, idle_probe=None,
                                    progress=progress, add_subnet=add_subnet)
    findings = first.findings
    if not chosen.lockdown:
        findings = tuple(f for f in findings if f.check != "lockdown")
    return Preflight(findings, first.plan_id)


def _checked_part(options: PlanOptions) -> tuple[object, ...]:
    """What preflight's verdict depends on."""
    return options.sans, options.health_check_path, options.health_check_matcher
