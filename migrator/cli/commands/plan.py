"""`migrator plan`: write the plan file of one site, or of several (one file each)."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.errors import UsageError
from migrator.exit_status import ExitStatus
from migrator.usecases.plan_sites import (
    CanaryRequest,
    PlanSitesRequest,
    SharedPlanRequest,
    SiteRequest,
    plan_shared,
    plan_site,
    plan_sites,
)


def run(args: argparse.Namespace, shell: Shell) -> int:
    env = shell.env
    domains = list(dict.fromkeys(args.domain))
    if args.add_subnet and not args.load_balancer:
        raise UsageError("--add-subnet goes with --load-balancer",
                         hint="pass the load balancer to add the subnet to")
    if args.load_balancer and args.idle_timeout is not None:
        raise UsageError("--idle-timeout does not go with --load-balancer: the load balancer "
                         "keeps its own idle timeout (other sites use it)",
                         hint="drop --idle-timeout; preflight says whether the instance keeps "
                              "idle connections longer")
    if args.shared_load_balancer and args.load_balancer:
        raise UsageError("--shared-load-balancer makes a new load balancer; --load-balancer "
                         "joins one that exists", hint="pass one of them")
    if args.shared_load_balancer and args.san:
        raise UsageError("--san goes with a single --domain: with --shared-load-balancer each "
                         "--domain is one site", hint="plan a site with extra names apart and "
                         "join it with --load-balancer")
    if len(domains) > 1 and not args.shared_load_balancer and (args.out or args.san
                                                               or args.json):
        raise UsageError("--out, --san and --json go with a single --domain",
                         hint="plan each such site with its own `migrator plan`, or all in one "
                              "with --shared-load-balancer")
    sites = tuple(SiteRequest(domain=domain, sans=tuple(args.san),
                              health_check_path=args.health_check_path,
                              lockdown=not args.no_lockdown, idle_timeout=args.idle_timeout,
                              origin_idle_probe=args.origin_idle_probe,
                              out=Path(args.out) if args.out else None,
                              canary=canary_request(args), load_balancer=args.load_balancer,
                              add_subnet=args.add_subnet)
                  for domain in domains)
    if args.shared_load_balancer:
        shown = output.FindingsShown(env.err_console if args.json else env.console)
        site = plan_shared(SharedPlanRequest(sites, account_of(args),
                                             Path(args.out) if args.out else None),
                           connect=shell.connect, variables=env.variables,
                           progress_for=lambda _domain: shown)
        output.planned(env, site, as_json=args.json)
        return ExitStatus.SUCCESS
    if len(sites) == 1:
        progress = output.FindingsShown(env.err_console if args.json else env.console)
        site = plan_site(sites[0], account_of(args), connect=shell.connect,
                         variables=env.variables, progress=progress)
        output.planned(env, site, as_json=args.json)
        return ExitStatus.SUCCESS
    sections = output.SiteSections(env, domains)
    outcomes = plan_sites(PlanSitesRequest(sites, account_of(args), args.parallel),
                          connect=shell.connect, variables=env.variables,
                          progress_for=sections.progress_for)
    return sections.show(outcomes)


def canary_request(args: argparse.Namespace) -> CanaryRequest:
    return CanaryRequest(stages=args.canary, soak=args.soak, max_target_5xx=args.max_target_5xx,
                         max_elb_5xx=args.max_elb_5xx,
                         max_unhealthy_hosts=args.max_unhealthy_hosts,
                         response_time_factor=args.max_response_time_factor,
                         response_time_margin=args.response_time_margin)
