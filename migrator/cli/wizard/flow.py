"""The wizard's flow: account → site → inspection → load balancer → choices → plan → apply →
verification.

It runs the same use cases as `plan` and `apply` (inspection, preflight with its choice of free
names, plan building, apply), asking between them (questions.py). When a load balancer of the
instance's VPC can take the site, it proposes joining it (the plan `plan --load-balancer`
writes) instead of a load balancer of its own. Nothing is written and nothing
is changed before "Apply this plan now?" is answered; a plan the user declines to apply is saved
for later.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from migrator.cli import output, render
from migrator.cli.environment import Environment
from migrator.cli.progress import ConsoleReporter
from migrator.cli.prompts import Prompter
from migrator.cli.wizard import questions
from migrator.cli.wizard.follow_up import FollowUp, way_back
from migrator.core import planfile
from migrator.core.plan import PENDING, Plan, PlanOptions
from migrator.errors import Interrupted, MigratorError, VerificationError
from migrator.exit_status import ExitStatus
from migrator.usecases import guided_plan, plan_sites, validation
from migrator.usecases.accounts import Account, Connect, already_connected
from migrator.usecases.apply_plans import ApplySettings, apply_plan
from migrator.usecases.guided_plan import DEFAULT_SSL_POLICY, GuidedRequest
from migrator.usecases.progress import PlanProgress
from migrator.usecases.review_plan import review_plan
from migrator.usecases.site_proposals import join_candidates, propose

if TYPE_CHECKING:
    from migrator.aws.session import Aws
    from migrator.checks.preflight import Finding
    from migrator.cli.wizard.questions import ChosenAccount
    from migrator.core.snapshot import LoadBalancer, Snapshot
    from migrator.usecases.site_proposals import Proposals


def run_wizard(request: GuidedRequest, env: Environment, prompter: Prompter, connect: Connect,
               *, assume_yes: bool = False) -> int:
    """The whole conversation; returns the exit status (errors are raised as MigratorError).
    assume_yes: apply without asking (--yes)."""
    console = env.console
    console.print("[bold]migrator[/]: move a site's HTTPS from its EC2 instance to a load "
                  "balancer with an ACM certificate. Nothing changes in AWS until you say so.")
    request = guided_plan.validated(request)
    net = validation.network_config(env.variables)
    account = questions.choose_account(request.account, env.variables, prompter)
    aws = connect(account.account)
    console.print(f"AWS account [bold]{aws.sts.account_id()}[/], region "
                  f"[bold]{account.region}[/]"
                  + (f", profile [bold]{account.profile}[/]" if account.profile else "") + ".")

    domain = questions.choose_site(request.domain, console, prompter, aws)
    snap = _inspect(console, aws, domain, request.sans or ())
    console.print()
    render.snapshot_report(console, snap)
    snap, add_subnet = _choose_load_balancer(console, aws, snap, request, account, prompter)
    lb = snap.load_balancer  # None: a load balancer of its own

    proposed = PlanOptions(sans=snap.names[1:], health_check_path=request.health_check_path or "/")
    first = plan_sites.preflight(aws, snap, net, proposed,
                                 idle_probe=validation.origin_idle_probe(request.origin_idle_probe),
                                 idle_timeout=validation.idle_timeout(request.idle_timeout),
                                 progress=PreflightShown(console), add_subnet=add_subnet)
    # A failing health check or lockdown can be fixed by the choices below; nothing else can.
    guided_plan.refuse_unfixable(first.findings)
    proposals = propose(aws, snap, first.findings, proposed)
    for note in proposals.notes:
        console.print(f"[cyan]i[/] {note}")

    if request.sans is None and proposals.sans:
        sans = questions.choose_sans(prompter, proposals)
        if sans != snap.names[1:]:
            snap = replace(_inspect(console, aws, domain, sans), load_balancer=lb)
    path = questions.choose_health_check_path(request.health_check_path, prompter, proposals)
    if lb is None:
        idle_timeout = questions.choose_idle_timeout(request.idle_timeout, prompter, proposals)
        ssl_policy = questions.choose_ssl_policy(request.ssl_policy, prompter)
        http_redirect = questions.choose_http_redirect(request.http_redirect, prompter)
    else:
        idle_timeout, ssl_policy, http_redirect = _joined_keeps(console, lb, request, prompter,
                                                                proposals)
    lockdown = questions.choose_lockdown(request.lockdown, prompter, proposals)
    stop_before_switch = questions.choose_stop_before_switch(request.stop_before_switch,
                                                             prompter)
    # Stopping before the switch leaves the lockdown (and its wait) to the apply that switches.
    wait_for_ttl = (questions.choose_wait_for_ttl(request.wait_for_ttl, prompter, proposals)
                    if lockdown and not stop_before_switch else False)
    options = PlanOptions(sans=snap.names[1:], health_check_path=path,
                          health_check_matcher=proposals.matcher_for(path),
                          ssl_policy=ssl_policy, http_redirect=http_redirect,
                          lockdown=lockdown, idle_timeout_seconds=idle_timeout,
                          origin_idle_seconds=proposals.origin_idle_seconds)
    verdict = guided_plan.with_choices(aws, snap, net, proposed, options, first,
                                       progress=PreflightShown(console, refusals_only=True),
                                       add_subnet=add_subnet)
    plan = plan_sites.build(snap, options, verdict, add_subnet=add_subnet)

    plan_path = validation.default_plan_path(snap.domain)
    console.print()
    console.print(render.plan_table(plan, with_inverse=False))
    console.print("Each step that changes something has an undo; rollback runs them in reverse.")
    console.print()
    output.account_changes(console, review_plan(plan))
    follow_up = FollowUp(plan_path, account.flags, skip_verify=request.skip_verify)
    if not assume_yes and not prompter.confirm(
            f"Apply this plan now to account {snap.account} ({snap.region})?", default=True,
            flag="--yes"):
        plan_sites.save(plan, plan_path)
        console.print(f"Plan saved to [bold]{plan_path}[/]. Nothing was changed in AWS.")
        console.print(f"Apply it later with: {follow_up.apply}", soft_wrap=True, markup=False)
        return ExitStatus.SUCCESS
    return apply_now(plan, plan_path, aws, account.account, env, follow_up,
                     wait_for_ttl=wait_for_ttl, stop_before_switch=stop_before_switch)


def _joined_keeps(console: Console, lb: LoadBalancer, request: GuidedRequest,
                  prompter: Prompter, proposals: Proposals) -> tuple[int, str, bool]:
    """The idle timeout, TLS policy and HTTP redirect of a joining plan: the joined load
    balancer keeps its idle timeout, its TLS policy (asked only for the HTTPS listener the plan
    adds when it has none) and its HTTP listener (the plan adds a redirect rule for the site
    when that listener does not redirect already). Flags that would change them are named."""
    ignored = [flag for flag, given in (
        ("--idle-timeout", request.idle_timeout is not None),
        ("--ssl-policy", request.ssl_policy is not None and lb.https_listener_arn is not None),
        ("--no-http-redirect", request.http_redirect is False)) if given]
    if ignored:
        console.print(f"[cyan]i[/] {', '.join(ignored)}: not used, {lb.name} keeps its own "
                      "settings (joining changes none of them)")
    origin = proposals.origin_idle_seconds
    if origin is not None and proposals.idle_timeout_seconds < questions.DEFAULT_IDLE_TIMEOUT:
        console.print(f"[cyan]i[/] the instance closes idle connections after {origin:g} s; "
                      f"{lb.name} keeps its own idle timeout (joining does not change it)")
    ssl_policy = DEFAULT_SSL_POLICY if lb.https_listener_arn else \
        questions.choose_ssl_policy(request.ssl_policy, prompter)
    return proposals.idle_timeout_seconds, ssl_policy, True


def _choose_load_balancer(console: Console, aws: Aws, snap: Snapshot, request: GuidedRequest,
                          account: ChosenAccount, prompter: Prompter) -> tuple[Snapshot, bool]:
    """The snapshot joining the load balancer --load-balancer names or the one chosen among
    those of the VPC that can take the site (unchanged: a load balancer of its own), and
    whether the plan adds the instance's zone's subnet to it."""
    if request.load_balancer:
        with console.status(f"Reading the load balancer {request.load_balancer}…"):
            return guided_plan.joining(aws, snap, request.load_balancer), request.add_subnet
    with console.status(f"Looking for load balancers in {snap.instance.vpc_id}…"):
        found = join_candidates(aws, snap)
    chosen = questions.choose_load_balancer(found, snap.instance.availability_zone, console,
                                            account.flags, prompter)
    if chosen is None:
        return snap, False
    return replace(snap, load_balancer=chosen.load_balancer), chosen.add_subnet


class PreflightShown(PlanProgress):
    """A spinner while preflight runs, then its findings (or only its refusals, when it runs
    again for the choices made)."""

    def __init__(self, console: Console, *, refusals_only: bool = False) -> None:
        self.console, self.refusals_only = console, refusals_only

    def preflight_running(self, idle_wait: float | None) -> AbstractContextManager[object]:
        wait = (f" (up to {idle_wait:g} s: how long the instance keeps an idle connection)"
                if idle_wait else "")
        return self.console.status(f"Running the preflight checks{wait}…")

    def preflight_done(self, findings: Sequence[Finding]) -> None:
        if not self.refusals_only:
            output.findings(self.console, findings)
            return
        refused = [f for f in findings if f.failed]
        if refused:
            output.findings(self.console, refused, title="Preflight, with your choices")


def _inspect(console: Console, aws: Aws, domain: str, sans: Sequence[str]) -> Snapshot:
    with console.status(f"Inspecting {domain}…"):
        return plan_sites.inspect(aws, domain, sans)


def apply_now(plan: Plan, path: Path, aws: Aws, account: Account, env: Environment,
              follow_up: FollowUp, *, wait_for_ttl: bool = False,
              stop_before_switch: bool = False) -> int:
    """Save the plan, apply it with live progress, show the verification and the way back (or,
    stopped before the switch, how to try the load balancer and the commands that go on)."""
    console = env.console
    plan_sites.save(plan, path)
    console.print(f"Plan saved to [bold]{path}[/]; apply records every step in "
                  f"{planfile.state_path(path)} as it runs.", soft_wrap=True)
    settings = ApplySettings(skip_verify=follow_up.skip_verify, wait_for_ttl=wait_for_ttl,
                             stop_before_switch=stop_before_switch)
    try:
        applied = apply_plan(path, settings, account, connect=already_connected(aws),
                             variables=env.variables, reporter=ConsoleReporter(console),
                             plan=plan)
    except KeyboardInterrupt:
        way_back(console, follow_up, "Interrupted.")
        raise Interrupted("interrupted during apply") from None
    except MigratorError as exc:
        if isinstance(exc, VerificationError) and exc.checks:
            output.checks(console, exc.checks)
        if isinstance(exc, Interrupted):
            way_back(console, follow_up, "Interrupted.")
            raise exc.with_hint(None) from None  # the way back, just printed, is the hint
        if any(st.status != PENDING for st in plan.states.values()):
            way_back(console, follow_up, "Apply stopped.")
        raise
    if applied.ready is not None:
        if applied.load_balancer_checks:
            output.checks(console, applied.load_balancer_checks,
                          title="Verification, through the load balancer's address")
        output.ready_to_switch(console, applied.ready, continue_with=follow_up.apply,
                               undo_with=follow_up.rollback)
        return ExitStatus.SUCCESS
    if applied.site_checks:
        output.checks(console, applied.site_checks, title="Verification, through the site's name")
    elif follow_up.skip_verify:
        console.print("Verification skipped (--skip-verify). Check the site later with:")
        console.print(f"  migrator verify {path}", soft_wrap=True, markup=False)
    console.print(f"[green]Done.[/] {plan.domain} is served by "
                  f"{applied.load_balancer or 'the load balancer'}.")
    if applied.deferred:
        console.print(f"[yellow]Not yet:[/] {applied.deferred}")
        console.print(f"  {follow_up.apply}", soft_wrap=True, markup=False)
    console.print("To roll back:", soft_wrap=True)
    console.print(f"  {follow_up.rollback}", soft_wrap=True, markup=False)
    return ExitStatus.SUCCESS
