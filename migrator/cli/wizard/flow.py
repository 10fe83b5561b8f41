"""The wizard's flow: account → site → inspection → choices → plan → apply → verification.

Each question is asked only when no flag answered it, and at most once. Through NoPrompter
(--yes, or no terminal) nothing is asked: defaults are taken where that is safe, and a missing
required answer (the site, the go-ahead) is an error naming its flag. Nothing is written and
nothing is changed before "Apply this plan now?" is answered; a plan the user declines to apply
is saved for later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from migrator.checks.preflight.idle import with_idle_choice
from migrator.checks.preflight.quotas import lockdown_refusals, require_acm_quotas
from migrator.checks.preflight.records import followers_found
from migrator.cli import render
from migrator.cli.commands import IDLE_TIMEOUT_RANGE, idle_timeout_flag, origin_idle_probe
from migrator.cli.environment import Environment
from migrator.cli.prompts import Prompter
from migrator.cli.wizard.candidates import Discovery, find_candidates
from migrator.cli.wizard.proposals import Proposals, propose
from migrator.core import planfile, review
from migrator.core.names import normalize_domain
from migrator.core.plan import PENDING, PlanOptions, plan_digest
from migrator.core.snapshot import Snapshot
from migrator.errors import Interrupted, MigratorError, UsageError
from migrator.exit_status import ExitStatus

DEFAULT_SSL_POLICY = PlanOptions().ssl_policy
DEFAULT_IDLE_TIMEOUT = PlanOptions().idle_timeout_seconds
# Failed checks that a later choice can fix: the health check path, or planning no lockdown.
FIXABLE = ("health-check", "lockdown")
SSL_POLICIES = {
    DEFAULT_SSL_POLICY: "TLS 1.3 and 1.2: AWS's recommendation, for every current client",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06":
        "TLS 1.3 and 1.2, forward-secret AEAD ciphers only",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09":
        "TLS 1.3 and 1.2, with post-quantum hybrid key exchange",
    "ELBSecurityPolicy-TLS13-1-3-2021-06":
        "TLS 1.3 only: clients without TLS 1.3 cannot connect",
}
OTHER_SITE = "Another name (type it)"
SHORT_TTL = 60  # seconds: waiting this long for the lockdown in the same run is the default
_POLICY_NAME = re.compile(r"^ELBSecurityPolicy-[A-Za-z0-9-]{1,100}$")
_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


@dataclass
class Account:
    """The profile and region chosen, and the flags that reproduce them in later commands."""

    profile: str | None
    region: str
    flags: list[str] = field(default_factory=list)


def run_wizard(args: Any, env: Environment, prompter: Prompter) -> int:
    """The whole conversation; returns the exit status (errors are raised as MigratorError)."""
    from migrator.checks import preflight
    from migrator.cli.main import default_plan_path
    from migrator.core.planner import build_plan, new_plan_id

    console = env.console
    console.print("[bold]migrator[/]: move a site's HTTPS from its EC2 instance to a load "
                  "balancer with an ACM certificate. Nothing changes in AWS until you say so.")
    check_flags(args)
    net = preflight.net_from_env(env.variables)
    account = choose_account(args, env, prompter)
    aws = _connect(account)
    console.print(f"AWS account [bold]{aws.sts.account_id()}[/], region "
                  f"[bold]{account.region}[/]"
                  + (f", profile [bold]{account.profile}[/]" if account.profile else "") + ".")

    domain = choose_site(args, console, prompter, aws)
    snap = _inspect(console, aws, domain, [normalize_domain(s) for s in args.san or []])
    console.print()
    render.snapshot_report(console, snap)

    plan_id = new_plan_id()
    checked = PlanOptions(sans=snap.names[1:], health_check_path=args.health_check_path or "/")
    findings = _preflight(console, aws, snap, net, checked, plan_id,
                          idle_probe=origin_idle_probe(args), idle_timeout=idle_timeout_flag(args))
    preflight.render_findings(console, findings)
    # A failing health check or lockdown can be fixed by the choices below; nothing else can.
    preflight.raise_on_failure([f for f in findings if f.check not in FIXABLE])
    proposals = propose(aws, snap, findings, checked)
    # The same choice as `plan` makes: the load balancer's idle timeout below the origin's.
    idle = with_idle_choice(PlanOptions(), findings)
    for note in proposals.notes:
        console.print(f"[cyan]i[/] {note}")

    if args.san is None and proposals.sans:
        sans = choose_sans(prompter, proposals)
        if tuple(sans) != snap.names[1:]:
            snap = _inspect(console, aws, domain, sans)
    path = choose_health_check_path(args, prompter, proposals)
    idle_timeout = choose_idle_timeout(args, prompter, idle)
    ssl_policy = choose_ssl_policy(args, prompter)
    http_redirect = choose_http_redirect(args, prompter)
    lockdown = choose_lockdown(args, prompter, snap,
                               possible=not lockdown_refusals(findings))
    wait_for_ttl = choose_wait_for_ttl(args, prompter, snap) if lockdown else False
    options = PlanOptions(sans=snap.names[1:], health_check_path=path,
                          health_check_matcher=proposals.matcher_for(path),
                          ssl_policy=ssl_policy, http_redirect=http_redirect,
                          lockdown=lockdown, idle_timeout_seconds=idle_timeout,
                          origin_idle_seconds=idle.origin_idle_seconds)
    if not lockdown:  # the lockdown's copies are checked on their own: without it, no verdict
        findings = [f for f in findings if f.check != "lockdown"]
    if _checked_part(options) != _checked_part(checked):
        # the idle connection probe is not repeated: the first one answered for this origin
        findings = _preflight(console, aws, snap, net, options, plan_id, idle_probe=None)
        refused = preflight.failures(findings)
        if refused:
            preflight.render_findings(console, refused, title="Preflight, with your choices")
    preflight.raise_on_failure(findings)

    snap = replace(snap, followers=followers_found(findings))  # shown as left untouched
    plan = build_plan(snap, options, plan_id=plan_id)
    plan_path = default_plan_path(snap.domain)
    console.print()
    console.print(render.plan_table(plan, with_inverse=False))
    console.print("Each step that changes something has an undo; rollback runs them in reverse.")
    console.print()
    review.print_text(console, review.account_changes(plan), plan_digest(plan))
    commands = Commands(plan_path, account.flags, skip_verify=bool(args.skip_verify))
    if not args.yes and not prompter.confirm(
            f"Apply this plan now to account {snap.account} ({snap.region})?", default=True,
            flag="--yes"):
        planfile.save(plan, plan_path)
        console.print(f"Plan saved to [bold]{plan_path}[/]. Nothing was changed in AWS.")
        console.print(f"Apply it later with: {commands.apply}", soft_wrap=True, markup=False)
        return ExitStatus.SUCCESS
    return apply_plan(plan, plan_path, aws, env, commands, wait_for_ttl=wait_for_ttl)


def check_flags(args: Any) -> None:
    """Refuse a bad flag value before asking anything or calling AWS."""
    names = [("--domain", args.domain)] if args.domain else []
    for flag, name in [*names, *(("--san", n) for n in args.san or [])]:
        try:
            normalize_domain(name)
        except MigratorError as exc:
            raise UsageError(f"{flag}: {exc.message}", hint=exc.hint) from exc
    if args.domain:
        require_acm_quotas([normalize_domain(n) for n in (args.domain, *(args.san or []))])
    idle_timeout_flag(args)
    origin_idle_probe(args)
    path = args.health_check_path
    if path is not None and _check_path(path):
        raise UsageError(f"--health-check-path {path!r}: {_check_path(path)}",
                         hint="e.g. --health-check-path /health")
    if args.ssl_policy is not None and not _POLICY_NAME.match(args.ssl_policy):
        raise UsageError(f"--ssl-policy {args.ssl_policy!r} is not an ELB security policy",
                         hint=f"e.g. --ssl-policy {DEFAULT_SSL_POLICY}")
    region = getattr(args, "region", None)
    if region is not None and _check_region(region):
        raise UsageError(f"--region {region!r} is not a region name",
                         hint="e.g. --region eu-west-1")


def _checked_part(options: PlanOptions) -> tuple[Any, ...]:
    """What preflight's verdict depends on."""
    return options.sans, options.health_check_path, options.health_check_matcher


def _preflight(console: Console, aws: Any, snap: Snapshot, net: Any, options: PlanOptions,
               plan_id: str, *, idle_probe: float | None, idle_timeout: int | None = None
               ) -> list[Any]:
    from migrator.checks.preflight import run_preflight

    wait = (f" (up to {idle_probe:g} s: how long the instance keeps an idle connection)"
            if idle_probe and idle_timeout is None else "")
    with console.status(f"Running the preflight checks{wait}…"):
        return run_preflight(aws, snap, net, options, plan_id, idle_probe=idle_probe,
                             idle_timeout=idle_timeout)


# --- questions ----------------------------------------------------------------------------------

def choose_account(args: Any, env: Environment, prompter: Prompter) -> Account:
    """The profile (asked only when several are configured) and the region."""
    from migrator.aws import profiles

    profile = getattr(args, "profile", None)
    flags = []
    if profile is None:
        configured = profiles.configured_profiles()
        selected = profiles.selected_profile(env.variables)
        if len(configured) > 1:
            default = selected if selected in configured else configured[0]
            profile = prompter.select("AWS profile:", configured, default=default,
                                      flag="--profile")
            if profile != selected:
                flags += ["--profile", profile]
        else:
            profile = None  # boto3's own choice: AWS_PROFILE, the default profile or variables
    else:
        flags += ["--profile", profile]
    region = getattr(args, "region", None)
    configured_region = profiles.configured_region(profile)
    if region is None:
        region = prompter.text("AWS region:", default=configured_region or "", flag="--region",
                               validate=_check_region).strip()
    if region != configured_region:
        flags += ["--region", region]
    return Account(profile=profile, region=region, flags=flags)


def choose_site(args: Any, console: Console, prompter: Prompter, aws: Any) -> str:
    """--domain, else a name picked from the candidates found in the account, or typed."""
    if args.domain:
        return normalize_domain(args.domain)
    with console.status(f"Looking for sites served by EC2 instances in {aws.region}…"):
        found = find_candidates(aws)
    show_candidates(console, found)
    if not found.candidates:
        answer = prompter.text("Site name (e.g. www.example.com):", default="",
                               flag="--domain", validate=_check_domain)
        return normalize_domain(answer)
    names = found.names()
    answer = prompter.select("Which site?", [*names, OTHER_SITE], default=names[0],
                             flag="--domain", required=True)
    if answer == OTHER_SITE:
        answer = prompter.text("Site name:", default="", flag="--domain",
                               validate=_check_domain)
    return normalize_domain(answer)


def choose_sans(prompter: Prompter, proposals: Proposals) -> list[str]:
    chosen = prompter.checkbox("Other names the certificate should cover:",
                               proposals.sans, default=proposals.sans_checked, flag="--san")
    return [normalize_domain(n) for n in chosen]


def choose_health_check_path(args: Any, prompter: Prompter, proposals: Proposals) -> str:
    if args.health_check_path is not None:
        return str(args.health_check_path)
    return prompter.text("Health check path (the load balancer GETs it over HTTPS):",
                         default=proposals.health_check_path, flag="--health-check-path",
                         validate=_check_path)


def choose_idle_timeout(args: Any, prompter: Prompter, proposed: PlanOptions) -> int:
    """--idle-timeout, else the proposal; asked only when the origin closes idle connections
    before the load balancer's default 60 s (the warning above says why)."""
    chosen = getattr(args, "idle_timeout", None)
    if chosen is not None:
        return int(chosen)
    if proposed.idle_timeout_seconds == DEFAULT_IDLE_TIMEOUT:
        return DEFAULT_IDLE_TIMEOUT
    origin = proposed.origin_idle_seconds
    why = f" (the instance closes idle connections after {origin:g} s)" if origin else ""
    answer = prompter.text(f"Load balancer idle timeout in seconds{why}:",
                           default=str(proposed.idle_timeout_seconds), flag="--idle-timeout",
                           validate=_check_idle_timeout)
    return int(answer.strip())


def choose_ssl_policy(args: Any, prompter: Prompter) -> str:
    if args.ssl_policy is not None:
        return str(args.ssl_policy)
    return prompter.select("TLS policy of the HTTPS listener:", list(SSL_POLICIES),
                           default=DEFAULT_SSL_POLICY, flag="--ssl-policy",
                           descriptions=SSL_POLICIES)


def choose_http_redirect(args: Any, prompter: Prompter) -> bool:
    if args.no_http_redirect:
        return False
    return prompter.confirm("Answer plain HTTP (port 80) with a redirect to HTTPS?",
                            default=True, flag="--no-http-redirect", required=False)


def choose_lockdown(args: Any, prompter: Prompter, snap: Snapshot, *,
                    possible: bool = True) -> bool:
    """Offered only when a group of the instance admits 80/443 from anywhere; proposed unless
    preflight found its copies impossible (``possible`` False: a quota, an all-traffic rule)."""
    from migrator.core.lockdown import has_public_web

    if args.no_lockdown:
        return False
    if not any(has_public_web(g.ingress) for g in snap.security_groups):
        return False
    return prompter.confirm("Then lock the instance down to the load balancer (80/443)?",
                            default=possible, flag="--no-lockdown", required=False)


def choose_wait_for_ttl(args: Any, prompter: Prompter, snap: Snapshot) -> bool:
    """The lockdown waits for the old record's TTL after the switch: in this run, or later."""
    if args.wait_for_ttl:
        return True
    ttl = max((r.ttl or 0 for r in snap.records_of(snap.domain, "A")), default=0)
    return prompter.confirm(f"Wait out the old TTL ({ttl} s) and lock down in this run?",
                            default=ttl <= SHORT_TTL, flag="--wait-for-ttl", required=False)


def _check_idle_timeout(value: str) -> str | None:
    low, high = IDLE_TIMEOUT_RANGE
    if not value.strip().isdigit() or not low <= int(value) <= high:
        return f"a whole number of seconds from {low} to {high}"
    return None


def _check_region(value: str) -> str | None:
    if not _REGION_NAME.match(value.strip()):
        return "not a region name like eu-west-1"
    return None


def _check_domain(value: str) -> str | None:
    try:
        normalize_domain(value)
    except MigratorError as exc:
        return exc.message
    return None


def _check_path(value: str) -> str | None:
    if not value.startswith("/") or any(c.isspace() for c in value) or len(value) > 1024:
        return "must start with / and have no spaces"
    return None


# --- what the user sees -------------------------------------------------------------------------

def show_candidates(console: Console, found: Discovery) -> None:
    if found.candidates:
        table = Table(title="Sites served by an EC2 instance", title_justify="left")
        for column in ("name", "address", "instance"):
            table.add_column(column, overflow="fold")
        for c in found.candidates:
            table.add_row(c.name, c.address,
                          c.instance_id + (f" ({c.instance_name})" if c.instance_name else ""))
        console.print(table)
    else:
        console.print("No Route53 name points at a running instance's public address here.")
    for text in found.truncated:
        console.print(f"[yellow]![/] {text}; type the name if it is not listed.")


def _inspect(console: Console, aws: Any, domain: str, sans: list[str] | tuple[str, ...]
             ) -> Snapshot:
    from migrator.checks.preflight import inspect_or_refuse

    with console.status(f"Inspecting {domain}…"):
        return inspect_or_refuse(aws, domain, list(sans))


def _connect(account: Account) -> Any:
    from migrator.aws.session import connect

    return connect(account.profile, account.region)


# --- apply --------------------------------------------------------------------------------------

@dataclass
class Commands:
    """The exact follow-up commands for one plan file."""

    path: Path
    flags: list[str]
    skip_verify: bool = False

    def _line(self, *words: str) -> str:
        return " ".join(["migrator", *words, str(self.path), *self.flags])

    @property
    def apply(self) -> str:
        return self._line("apply") + (" --skip-verify" if self.skip_verify else "")

    @property
    def rollback(self) -> str:
        return self._line("rollback")


class RecordingVerifier:
    """The run's Verifier, keeping the checks it returns so they can be shown afterwards."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.checks: list[Any] = []

    def load_balancer(self, params: dict[str, Any]) -> list[Any]:
        return self.inner.load_balancer(params)

    def site(self, params: dict[str, Any]) -> list[Any]:
        self.checks = list(self.inner.site(params))
        return self.checks

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def apply_plan(plan: Any, path: Path, aws: Any, env: Environment, commands: Commands, *,
               wait_for_ttl: bool = False) -> int:
    """Save the plan, apply it with live progress, show the verification and the way back."""
    from migrator.checks.verifier import Verifier
    from migrator.checks.render import render_checks
    from migrator.cli.progress import ConsoleReporter
    from migrator.core.executor import Executor, RunOptions

    console = env.console
    verifier = RecordingVerifier(Verifier.from_env(env.variables))
    planfile.save(plan, path)
    console.print(f"Plan saved to [bold]{path}[/]; every step is recorded there as it runs.")
    executor = Executor(aws=aws, path=path, plan=plan,
                        options=RunOptions(skip_verify=commands.skip_verify,
                                           wait_for_ttl=wait_for_ttl),
                        reporter=ConsoleReporter(console), verifier=verifier)
    try:
        with planfile.locked(path, "apply"):
            deferred = executor.apply()
    except KeyboardInterrupt:
        _way_back(console, commands, "Interrupted.")
        raise Interrupted("interrupted during apply") from None
    except MigratorError as exc:
        checks = getattr(exc, "checks", None)
        if checks:
            render_checks(console, checks)
        if isinstance(exc, Interrupted):
            exc.hint = None
            _way_back(console, commands, "Interrupted.")
        elif any(st.status != PENDING for st in executor.plan.states.values()):
            _way_back(console, commands, "Apply stopped.")
        raise
    if verifier.checks:
        render_checks(console, verifier.checks, title="Verification, through the site's name")
    elif commands.skip_verify:
        console.print("Verification skipped (--skip-verify). Check the site later with:")
        console.print(f"  migrator verify {path}", soft_wrap=True, markup=False)
    lb = plan.state("load_balancer").outputs.get("dns_name", "the load balancer")
    console.print(f"[green]Done.[/] {plan.domain} is served by {lb}.")
    if deferred:
        console.print(f"[yellow]Not yet:[/] {deferred}")
        console.print(f"  {commands.apply}", soft_wrap=True, markup=False)
    console.print("To roll back:", soft_wrap=True)
    console.print(f"  {commands.rollback}", soft_wrap=True, markup=False)
    return ExitStatus.SUCCESS


def _way_back(console: Console, commands: Commands, headline: str) -> None:
    console.print(f"[yellow]{headline}[/] The plan file records every step done so far.")
    console.print(f"  Resume:    {commands.apply}", soft_wrap=True, markup=False)
    console.print(f"  Roll back: {commands.rollback}", soft_wrap=True, markup=False)
