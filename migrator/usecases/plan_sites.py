"""Plan one site or several (`migrator plan`, and the wizard's planning): validate the request,
inspect the site, run preflight, build the plan and write its file. Nothing is written to AWS.

When a name the plan would create (load balancer, target group, security groups) is taken, a
new plan id gives new names: preflight() picks them, here and only here, for `plan` and the
wizard alike, and says so with an info finding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrator.checks.preflight import Finding, inspect_or_refuse, raise_on_failure
from migrator.checks.preflight.collisions import check_collisions, check_plan_names
from migrator.checks.preflight.healthcheck import origin_server_found
from migrator.checks.preflight.idle import with_idle_choice
from migrator.checks.preflight.records import followers_found
from migrator.checks.preflight.runner import run_preflight
from migrator.core import planfile, planner
from migrator.core import shared_planner as planner_shared
from migrator.core.load_balancers import find_load_balancer
from migrator.core.plan import Plan, PlanOptions, plan_digest
from migrator.errors import PreflightError
from migrator.usecases import validation
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.progress import PlanProgress
from migrator.usecases.several_sites import DEFAULT_PARALLEL, Outcome, run_each

if TYPE_CHECKING:
    from collections.abc import Mapping

    from migrator.aws.session import Aws
    from migrator.core.snapshot import Snapshot
    from migrator.net.config import NetConfig

NAME_ATTEMPTS = 5


@dataclass(frozen=True)
class CanaryRequest:
    """`plan --canary STAGES --soak S` and its bounds, as given (None: the plan's default)."""

    stages: str | None = None  # "10,50,100"; None: the one batch switch
    soak: int | None = None
    max_target_5xx: int | None = None
    max_elb_5xx: int | None = None
    max_unhealthy_hosts: int | None = None
    response_time_factor: float | None = None
    response_time_margin: float | None = None


@dataclass(frozen=True)
class SiteRequest:
    """One site to plan, with the choices `plan` offers."""

    domain: str
    sans: tuple[str, ...] = ()
    health_check_path: str = "/"
    lockdown: bool = True
    idle_timeout: int | None = None  # None: chosen below what the origin does, 60 s at most
    origin_idle_probe: float | None = None  # None: the default bound
    out: Path | None = None  # None: plans/<domain>-<UTC stamp>.json
    canary: CanaryRequest = field(default_factory=CanaryRequest)
    # Put the site on this load balancer (name or ARN) instead of a new one of its own, adding
    # the instance's zone's public subnet to it when it lacks that zone and add_subnet is set.
    load_balancer: str | None = None
    add_subnet: bool = False


@dataclass(frozen=True)
class PlanSitesRequest:
    """Several sites, planned concurrently, each in its own file."""

    sites: tuple[SiteRequest, ...]
    account: Account = field(default_factory=Account)
    parallel: int = DEFAULT_PARALLEL


@dataclass(frozen=True)
class SharedPlanRequest:
    """Several sites behind one new load balancer, in one plan file (`--shared-load-balancer`).
    Each site's own choices are its SiteRequest's; the plan's file is `out`."""

    sites: tuple[SiteRequest, ...]
    account: Account = field(default_factory=Account)
    out: Path | None = None  # None: plans/shared-<first domain>-<UTC stamp>.json


@dataclass(frozen=True)
class Preflight:
    """Preflight's findings, and the plan id whose names they found free (or taken)."""

    findings: tuple[Finding, ...]
    plan_id: str


@dataclass(frozen=True)
class PlannedSite:
    """A plan written to its file."""

    plan: Plan
    path: Path
    digest: str


def plan_site(site: SiteRequest, account: Account, *, connect: Connect,
              variables: Mapping[str, str], progress: PlanProgress) -> PlannedSite:
    """Inspect, run preflight, plan and write the plan file of one site."""
    out = validation.new_plan_path(site.out) if site.out else None
    path = validation.health_check_path(site.health_check_path)
    idle_timeout = validation.idle_timeout(site.idle_timeout)
    idle_probe = validation.origin_idle_probe(site.origin_idle_probe)
    net = validation.network_config(variables)
    # ACM would refuse these names only once apply runs: refuse before asking AWS anything.
    names = validation.certificate_names(site.domain, site.sans)
    aws = connect(account)
    snap = inspect(aws, names[0], names[1:])
    if site.load_balancer:
        snap = replace(snap, load_balancer=find_load_balancer(aws, site.load_balancer))
    canary = canary_options(site.canary)
    options = PlanOptions(sans=names[1:], health_check_path=path, lockdown=site.lockdown,
                          **canary)
    checked = preflight(aws, snap, net, options, idle_probe=idle_probe,
                        idle_timeout=idle_timeout, progress=progress,
                        add_subnet=site.add_subnet)
    options = with_idle_choice(options, checked.findings)
    if options.canary_stages:
        options = replace(options, origin_latency_seconds=origin_latency(checked.findings))
    plan = build(snap, options, checked, add_subnet=site.add_subnet)
    return save(plan, out or validation.default_plan_path(snap.domain))


def plan_shared(request: SharedPlanRequest, *, connect: Connect, variables: Mapping[str, str],
                progress_for: Callable[[str], PlanProgress]) -> PlannedSite:
    """Inspect and run preflight for every site, then write ONE plan putting them all behind
    one new load balancer. A site preflight refuses refuses the plan (naming the site)."""
    validation.shared_sites([s.domain for s in request.sites],
                            [bool(s.load_balancer) for s in request.sites])
    out = validation.new_plan_path(request.out) if request.out else None
    net = validation.network_config(variables)
    aws = connect(request.account)
    plan_id = planner.new_plan_id()
    snapshots, options_seen = [], []
    for site in request.sites:
        names = validation.certificate_names(site.domain, site.sans)
        snap = inspect(aws, names[0], names[1:])
        options = PlanOptions(sans=names[1:],
                              health_check_path=validation.health_check_path(
                                  site.health_check_path),
                              lockdown=site.lockdown, **canary_options(site.canary))
        checked = preflight(aws, snap, net, options, plan_id,
                            idle_probe=validation.origin_idle_probe(site.origin_idle_probe),
                            idle_timeout=validation.idle_timeout(site.idle_timeout),
                            progress=progress_for(site.domain), one_of_several=True)
        try:
            raise_on_failure(list(checked.findings))
        except PreflightError as exc:
            raise PreflightError(f"{site.domain}: {exc.message}", hint=exc.hint) from exc
        plan_id = checked.plan_id
        options = with_idle_choice(options, checked.findings)
        if options.canary_stages:
            options = replace(options,
                              origin_latency_seconds=origin_latency(checked.findings))
        options_seen.append(options)
        snapshots.append(replace(snap, followers=followers_found(list(checked.findings)),
                                 origin_server=origin_server_found(list(checked.findings))))
    options = shared_options(options_seen)
    plan = planner_shared.build_shared_plan(snapshots, options, plan_id=plan_id)
    for _ in range(NAME_ATTEMPTS):
        # Each site's names were found free; the shared load balancer's name is the plan's own.
        if check_plan_names(aws, plan).level != "fail":
            break
        plan = planner_shared.build_shared_plan(snapshots, options,
                                                plan_id=planner.new_plan_id())
    else:
        raise PreflightError(f"the names plan {plan.id} would create are taken",
                             hint="delete the leftovers of an earlier plan, then plan again")
    path = out or validation.default_plan_path(f"shared-{snapshots[0].domain}")
    return save(plan, path)


def shared_options(per_site: Sequence[PlanOptions]) -> PlanOptions:
    """The options of a plan for several sites: the first site's, with the one load
    balancer's idle timeout below every origin's, and the slowest origin's latency for the
    canary's response-time bound."""
    first = per_site[0]
    latencies = [o.origin_latency_seconds for o in per_site if o.origin_latency_seconds]
    idles = [o.origin_idle_seconds for o in per_site if o.origin_idle_seconds is not None]
    return replace(first, idle_timeout_seconds=min(o.idle_timeout_seconds for o in per_site),
                   origin_idle_seconds=min(idles) if idles else None,
                   origin_latency_seconds=max(latencies) if latencies else
                   first.origin_latency_seconds)


def plan_sites(request: PlanSitesRequest, *, connect: Connect, variables: Mapping[str, str],
               progress_for: Callable[[str], PlanProgress]) -> list[Outcome[PlannedSite]]:
    """plan_site for each site (each domain once), concurrently; an outcome per domain, each
    site's progress where progress_for(domain) shows it."""
    sites = {site.domain: site for site in request.sites}
    return run_each(list(sites), lambda domain: plan_site(
        sites[domain], request.account, connect=connect, variables=variables,
        progress=progress_for(domain)), request.parallel)


def canary_options(request: CanaryRequest) -> dict[str, Any]:
    """The PlanOptions fields of the canary the request asks for (none without --canary)."""
    given = {"--soak": validation.soak_seconds(request.soak),
             "--max-target-5xx": validation.canary_count(request.max_target_5xx,
                                                          "--max-target-5xx"),
             "--max-elb-5xx": validation.canary_count(request.max_elb_5xx, "--max-elb-5xx"),
             "--max-unhealthy-hosts": validation.canary_count(request.max_unhealthy_hosts,
                                                              "--max-unhealthy-hosts"),
             "--max-response-time-factor": validation.response_time_factor(
                 request.response_time_factor),
             "--response-time-margin": validation.response_time_margin(
                 request.response_time_margin)}
    stages = validation.canary_stages(request.stages)
    if not stages:
        validation.canary_flags_without_canary(given)
        return {}
    fields = dict(zip(("canary_soak_seconds", "canary_max_target_5xx", "canary_max_elb_5xx",
                       "canary_max_unhealthy_hosts", "canary_response_time_factor",
                       "canary_response_time_margin_seconds"), given.values(), strict=True))
    return {"canary_stages": stages,
            **{name: value for name, value in fields.items() if value is not None}}


def origin_latency(findings: Sequence[Finding]) -> float | None:
    """How long the origin took to answer preflight's health check probe (None: not asked,
    or no answer)."""
    return next((f.data["latency_seconds"] for f in findings
                 if f.check == "health-check" and (f.data or {}).get("latency_seconds")
                 is not None), None)


# --- the steps, shared with the wizard ----------------------------------------------------------

def inspect(aws: Aws, domain: str, sans: Sequence[str]) -> Snapshot:
    """The site's snapshot; an address that is no EC2 instance is one clear refusal."""
    return inspect_or_refuse(aws, domain, list(sans))


def preflight(aws: Aws, snap: Snapshot, net: NetConfig, options: PlanOptions,
              plan_id: str | None = None, *, idle_probe: float | None,
              idle_timeout: int | None = None,
              progress: PlanProgress | None = None, add_subnet: bool = False,
              one_of_several: bool = False) -> Preflight:
    """Every preflight check for the names of plan_id (default: a new one), then other names
    if one of those is taken; idle_probe None: the origin's idle connections are not probed."""
    progress = progress or PlanProgress()
    plan_id = plan_id or planner.new_plan_id()
    with progress.preflight_running(idle_probe if idle_probe and idle_timeout is None else None):
        findings = run_preflight(aws, snap, net, options, plan_id, idle_probe=idle_probe,
                                 idle_timeout=idle_timeout, add_subnet=add_subnet,
                                 one_of_several=one_of_several)
        checked = _with_free_names(aws, snap, options, findings, plan_id)
    progress.preflight_done(checked.findings)
    return checked


def _with_free_names(aws: Aws, snap: Snapshot, options: PlanOptions,
                     findings: list[Finding], plan_id: str) -> Preflight:
    for _ in range(NAME_ATTEMPTS):
        # Names carry the plan id: when one is taken, a new id gives names that are free.
        clash = [f for f in findings if f.check == "names" and f.level == "fail"]
        if not clash:
            break
        retry_id = planner.new_plan_id()
        fresh = check_collisions(aws, snap, options, retry_id)
        if fresh.level != "fail":
            plan_id = retry_id
            findings = [fresh if f in clash else f for f in findings]
            findings.append(Finding(
                "names", "info", f"{clash[0].message}: picked other names (plan {plan_id})"))
    return Preflight(tuple(findings), plan_id)


def build(snap: Snapshot, options: PlanOptions, checked: Preflight, *,
          add_subnet: bool = False) -> Plan:
    """The plan, unless preflight refused it (PreflightError naming the first failure): of
    its own load balancer, or joining snap.load_balancer."""
    findings = list(checked.findings)
    raise_on_failure(findings)
    snap = replace(snap, followers=followers_found(findings),  # shown by `show` as untouched
                   origin_server=origin_server_found(findings))
    if snap.load_balancer is not None:
        # Its idle timeout is the load balancer's own: the plan records it for the advice.
        options = replace(options, idle_timeout_seconds=snap.load_balancer.idle_timeout_seconds)
        return planner_shared.build_join_plan(snap, options, add_subnet=add_subnet,
                                              plan_id=checked.plan_id)
    return planner.build_plan(snap, options, plan_id=checked.plan_id)


def save(plan: Plan, path: Path) -> PlannedSite:
    planfile.save(plan, path)
    return PlannedSite(plan, path, plan_digest(plan))
