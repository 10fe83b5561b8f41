"""Report the setup behind a domain, what preflight finds in it and the load balancers of its
instance's VPC that could take it (`migrator inspect`): read-only, nothing is planned or
written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migrator.checks.preflight import Finding
from migrator.checks.preflight.runner import run_preflight
from migrator.core import planner
from migrator.core.plan import PlanOptions
from migrator.core.snapshot import Snapshot
from migrator.usecases import plan_sites, validation
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.site_proposals import JoinCandidates, join_candidates


@dataclass(frozen=True)
class InspectRequest:
    domain: str
    sans: tuple[str, ...] = ()
    origin_idle_probe: float | None = None  # None: the default bound
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class Inspection:
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    # The load balancers of the instance's VPC that could take the site (None: not looked for).
    load_balancers: JoinCandidates | None = None


def inspect_site(request: InspectRequest, *, connect: Connect,
                 variables: Mapping[str, str]) -> Inspection:
    """The snapshot, every preflight finding and the load balancers the site could join;
    unlike `plan`, ACM's quotas are a finding here, not a refusal, and a taken name is reported
    as it is."""
    idle_probe = validation.origin_idle_probe(request.origin_idle_probe)
    net = validation.network_config(variables)
    names = validation.domain_names(request.domain, request.sans)
    aws = connect(request.account)
    snap = plan_sites.inspect(aws, names[0], names[1:])
    findings = run_preflight(aws, snap, net, PlanOptions(sans=names[1:]), planner.new_plan_id(),
                             idle_probe=idle_probe)
    return Inspection(snap, tuple(findings), join_candidates(aws, snap))
