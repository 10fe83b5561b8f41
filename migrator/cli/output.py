"""What the commands print, in one place: each use case's result as text for a person or, with
--json, as the JSON document scripts read. Progress lines are progress.py's; the rich tables of a
snapshot and a plan are render.py's.

Text goes to stdout; with --json, stdout holds the document alone and what a person should
still see (preflight's findings while planning) goes to stderr.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from rich.rule import Rule
from rich.table import Table

from migrator.cli import render
from migrator.cli.environment import Environment
from migrator.exit_status import ExitStatus
from migrator.usecases.progress import PlanProgress

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from migrator.checks.preflight import Finding
    from migrator.checks.verify.model import Check
    from migrator.core.plan import Plan
    from migrator.usecases.apply_plans import Applied
    from migrator.usecases.check_plan import PlanCheck
    from migrator.usecases.find_sites import Discovery
    from migrator.usecases.iam_policy import IamPolicy
    from migrator.usecases.inspect_site import Inspection
    from migrator.usecases.origin_advice import OriginAdvice
    from migrator.usecases.plan_sites import PlannedSite
    from migrator.usecases.plan_status import PlanStatus
    from migrator.usecases.ready_to_switch import ReadyToSwitch
    from migrator.usecases.review_plan import PlanReview
    from migrator.usecases.rollback_plans import RolledBack
    from migrator.usecases.several_sites import Outcome
    from migrator.usecases.site_health import SiteHealth
    from migrator.usecases.verify_site import Verification

T = TypeVar("T")


def json_document(env: Environment, text: str) -> None:
    env.console.print_json(text)


# --- inspect and plan ---------------------------------------------------------------------------

def findings(console: Console, shown: Sequence[Finding], *,
             title: str | None = "Preflight checks") -> None:
    from migrator.checks.preflight import render_findings

    render_findings(console, list(shown), title=title)


class FindingsShown(PlanProgress):
    """A planning run's progress: preflight's findings, on this console, as soon as they are in."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def preflight_done(self, found: Sequence[Finding]) -> None:
        findings(self.console, found)


def inspection(env: Environment, result: Inspection, *, as_json: bool) -> None:
    if as_json:
        from migrator.checks.preflight import findings_to_dicts

        json_document(env, json.dumps({"snapshot": result.snapshot.to_dict(),
                                       "findings": findings_to_dicts(result.findings)},
                                      default=str))
        return
    render.snapshot_report(env.console, result.snapshot)
    findings(env.console, result.findings)


def planned(env: Environment, site: PlannedSite, *, as_json: bool) -> None:
    if as_json:
        json_document(env, json.dumps(site.plan.to_dict()))
        return
    console, out = env.console, site.path
    console.print(render.plan_table(site.plan))
    console.print(f"Plan written to [bold]{out}[/]. Nothing was changed in AWS.")
    console.print(f"sha256 {site.digest}", markup=False)
    console.print(f"Next: review it (`migrator show {out}`), then `migrator apply {out}`")


class SiteSections:
    """Several sites planned at once: each site's output kept apart while they run, then
    printed in the order given, each under a rule with its name, then a summary."""

    def __init__(self, env: Environment, domains: Sequence[str]) -> None:
        self.env = env
        self.buffers = {domain: io.StringIO() for domain in domains}
        self.sections = {domain: Environment(stdout=buffer, stderr=buffer, stdin_isatty=False,
                                             variables=env.variables, width=env.console.width)
                         for domain, buffer in self.buffers.items()}

    def progress_for(self, domain: str) -> PlanProgress:
        return FindingsShown(self.sections[domain].console)

    def show(self, outcomes: Sequence[Outcome[PlannedSite]]) -> int:
        for outcome in outcomes:
            section = self.sections[outcome.label]
            if outcome.result is not None:
                planned(section, outcome.result, as_json=False)
            else:
                section.err_console.print(f"error: {outcome.error}", markup=False)
        for domain, buffer in self.buffers.items():
            self.env.console.print(Rule(domain))
            self.env.stdout.write(buffer.getvalue())
        return summary(self.env, outcomes, f"{len(outcomes)} plans",
                       lambda site: str(site.path))


def sites_found(console: Console, found: Discovery) -> None:
    """The wizard's candidates, and what the search left out."""
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


# --- show, check, status ------------------------------------------------------------------------

def plan_review(env: Environment, result: PlanReview, fmt: str) -> None:
    """text (the account changes, then the steps and the phase), markdown or json."""
    from migrator.core import review

    if fmt == "json":
        json_document(env, json.dumps({**result.plan.to_dict(), "sha256": result.digest,
                                       "account_changes": review.to_dict(result.changes)}))
    elif fmt == "markdown":
        env.stdout.write(review.markdown(result.plan, result.changes))  # exactly, no markup
    else:
        account_changes(env.console, result)
        env.console.print()
        env.console.print(render.plan_table(result.plan))
        env.console.print(f"Status: {result.phase}")


def account_changes(console: Console, result: PlanReview) -> None:
    """What the plan changes in the account, and its sha256 (`show`, and the wizard)."""
    from migrator.core import review

    review.print_text(console, result.changes, result.digest)


def plan_check(env: Environment, result: PlanCheck) -> None:
    plan = result.plan
    if not result.differences:
        env.console.print(f"Plan {plan.id} for {', '.join(plan.domains)} still applies: the "
                          f"account is as planned (sha256 {result.digest}).", soft_wrap=True,
                          markup=False)
    for difference in result.differences:
        env.console.print(f"- {difference}", soft_wrap=True, markup=False)


def plan_status(env: Environment, result: PlanStatus, *, as_json: bool) -> None:
    summary_ = result.summary
    if as_json:
        json_document(env, json.dumps(result.to_dict()))
        return
    if result.sites:
        sites_status(env.console, result)
        return
    console, plan = env.console, result.plan
    console.print(f"Plan {plan.id} for {plan.domain}: [bold]{summary_['phase']}[/]")
    step_lines(console, summary_["steps"])
    if summary_["load_balancer"]:
        joined = plan.snapshot.load_balancer
        console.print(f"Load balancer: {summary_['load_balancer']}" + (
            f" (joined: {joined.name}; this plan added its site to it)" if joined else ""),
            markup=False)
    switch_lines(console, summary_)
    if result.health is not None:
        site_health(console, result.health)


def step_lines(console: Console, steps: Sequence[dict[str, Any]],
               name: Callable[[str], str] = str) -> None:
    for step in steps:
        mark = render.MARKS.get(step["status"], "?")
        line = f"  {mark} {name(step['id']):<22} {step['status']}"
        if step["error"]:
            line += f"  ({step['error']})"
        console.print(line, markup=False)


def sites_status(console: Console, result: PlanStatus) -> None:
    """A plan for several sites: the shared load balancer and its steps, then a section per
    site (its phase, steps under their single-site ids, switch, and health)."""
    plan, summary_ = result.plan, result.to_dict()
    console.print(f"Plan {plan.id} for {len(result.sites)} sites on one load balancer "
                  f"({', '.join(plan.domains)}): [bold]{summary_['phase']}[/]")
    shared = summary_["shared"]
    lb = shared["load_balancer"]
    console.print(Rule(f"Shared load balancer {lb['name'] or ''}".strip()))
    if lb["dns_name"]:
        console.print(f"Load balancer: {lb['dns_name']}", soft_wrap=True, markup=False)
    step_lines(console, shared["steps"])
    for site in result.sites:
        console.print(Rule(site.domain))
        console.print(f"{site.domain}: [bold]{site.phase}[/]"
                      + (", switched" if site.switched else ""))
        if site.reverted is not None:
            console.print(f"Reverted alone after failed checks: {site.reverted}. Its records, "
                          "rule, certificate and groups were put back as they were; the other "
                          "sites stay on the load balancer. Once it is fixed, put it there "
                          f"with `migrator plan --domain {site.domain} --load-balancer "
                          f"{lb['name'] or lb['arn']}`.", soft_wrap=True, markup=False)
        step_lines(console, [{"id": sid, "status": plan.state(sid).status,
                              "error": plan.state(sid).error} for sid in site.steps],
                   name=lambda sid: sid.partition("@")[0])
        switch_lines(console, site.summary)
        if site.health is not None:
            site_health(console, site.health)


def switch_lines(console: Console, summary_: dict[str, Any]) -> None:
    """Where a plan's (or a site's) DNS switch stands: stopped before it, the canary, the
    moment every client has moved."""
    ready = summary_.get("ready_to_switch")
    if ready:
        console.print(f"Stopped before the DNS switch at {ready['since'][:19]}Z, as asked: DNS "
                      "is untouched. apply switches it; rollback undoes the rest without "
                      "touching it.", soft_wrap=True, markup=False)
    canary = summary_.get("canary")
    if canary:
        canary_line(console, canary)
    moved = summary_["all_clients_moved_at"]
    if moved and summary_["phase"].startswith("applied"):
        console.print(
            f"DNS switched at {summary_['switched_at'][:19]}Z; resolvers may keep the old answer "
            f"for its TTL ({summary_['old_ttl']} s): every client reaches the load balancer by "
            f"{moved}. Keep the instance serving directly until then.", soft_wrap=True)


def canary_line(console: Console, canary: dict[str, Any]) -> None:
    """Where a staged switch stands (status of a plan whose canary is running or failed)."""
    stage = (f"canary stage {canary['stage']}/{canary['of']} ({canary['weight']}% to the load "
             "balancer)")
    reverted = canary.get("reverted")
    if reverted and reverted.get("failed"):
        text = (f"{stage} broke its bounds ({', '.join(reverted['failed'])}): every name is back "
                "on its original record; apply starts the canary again from stage 1")
    elif canary.get("soak_started_at"):
        text = f"{stage}: soaking since {canary['soak_started_at'][:19]}Z; apply resumes it"
    else:
        text = f"{stage}: moving the records; apply resumes it"
    console.print(text[0].upper() + text[1:] + ".", soft_wrap=True, markup=False)


def site_health(console: Console, health: SiteHealth) -> None:
    """The health view of a migrated site: a table of every check (the area named on its first
    row; the target over the finding, the hint under it), a summary line, then what to change
    on the origin."""
    from rich import box
    from rich.text import Text

    from migrator.checks.render import LEVEL_STYLES

    if not health.checked:
        console.print(f"Health: {health.reason}.", markup=False)
        return
    table = Table(title=f"Health of {health.plan.domain}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Check", no_wrap=True)
    table.add_column("Level", no_wrap=True, min_width=4)
    table.add_column("Finding", overflow="fold", ratio=1)
    area = target = None
    for check in health.checks:
        if check.category != area:
            table.add_row(Text(check.category, style="bold"), "", "")
            area, target = check.category, None
        text = Text()
        if check.target and check.target != target:
            text.append(f"{check.target}\n", style="dim")
        target = check.target
        text.append(check.message)
        if check.hint:
            text.append(f"\n→ {check.hint}", style="dim")
        table.add_row(f"  {check.check}",
                      Text(check.level.upper(), style=LEVEL_STYLES[check.level]), text)
    console.print(table)
    attention = health.attention
    if attention:
        console.print(Text(f"Health: {len(attention)} of {len(health.checks)} checks need "
                           "attention.", style="bold red"))
    else:
        console.print(Text(f"Health: {len(health.checks)} checks, none needs attention.",
                           style="bold"))
    if health.advice is not None:
        origin_advice(console, health.advice)


def origin_advice(console: Console, advice: OriginAdvice) -> None:
    """What to change on the origin now that it is behind the load balancer (end of apply, and
    status): each change's reason, then its configuration lines, unwrapped for copying."""
    from rich.text import Text

    server = {"generic": "its web server"}.get(advice.server, advice.server)
    seen = f' (its Server header: "{advice.server_header}")' if advice.server_header else \
        " (it sent no Server header)"
    console.print(Text(f"On the origin now, for {server}{seen}:", style="bold"))
    for item in advice.items:
        console.print(Text(f"- {item.topic}: {item.why}"))
        for line in item.config:
            console.print(f"    {line}", soft_wrap=True, markup=False, highlight=False)


def origin_advice_after_apply(env: Environment, plan: Plan) -> None:
    """The origin advice at the end of apply (one call in its success path), once the plan's
    DNS switch is done: before it, no visitor reaches the load balancer yet."""
    from migrator.core import actions
    from migrator.core.plan import DONE
    from migrator.core.sites import site_views
    from migrator.usecases.origin_advice import origin_advice as advice_for

    views = site_views(plan)  # a plan for several sites: each switched site's origin
    for view in views:
        switch = actions.dns_switch(view.steps)
        if switch is not None and view.state(switch.id).status == DONE:
            if len(views) > 1:
                env.console.print(Rule(view.domain))
            origin_advice(env.console, advice_for(view))


# --- apply, rollback ----------------------------------------------------------------------------

def plans_before_apply(env: Environment, plans: Sequence[Plan]) -> None:
    for plan in plans:
        env.console.print(render.plan_table(plan, with_inverse=False))


def sites_in_words(plan: Plan) -> tuple[str, str]:
    """The plan's sites as a sentence's subject, and its verb: ("www.example.com", "is"),
    ("www.example.com and shop.example.com", "are")."""
    domains = list(plan.domains)
    if len(domains) == 1:
        return domains[0], "is"
    return f"{', '.join(domains[:-1])} and {domains[-1]}", "are"


def applied_message(applied: Applied) -> str:
    sites, verb = sites_in_words(applied.plan)
    if applied.ready is not None:
        return (f"Ready to switch. {sites} {verb} served by {applied.load_balancer}; "
                f"DNS is untouched.")
    message = f"Applied. {sites} {verb} served by {applied.load_balancer}."
    return f"{message}\nNot yet: {applied.deferred}." if applied.deferred else message


def applied(env: Environment, result: Applied) -> None:
    if result.ready is not None:
        ready_to_switch(env.console, result.ready, continue_with=f"migrator apply {result.path}",
                        undo_with=f"migrator rollback {result.path}")
        return
    env.console.print(applied_message(result))
    env.console.print(f"To undo: migrator rollback {result.path}")


def several_applied(env: Environment, outcomes: Sequence[Outcome[Applied]]) -> int:
    """The summary of several plans applied, then how to try each one stopped before its switch;
    returns the worst exit status."""
    status = summary(env, outcomes, f"{len(outcomes)} plans applied", applied_message)
    for outcome in outcomes:
        if outcome.result is not None and outcome.result.ready is not None:
            env.console.print(Rule(outcome.label))
            applied(env, outcome.result)
    return status


def ready_to_switch(console: Console, ready: ReadyToSwitch, *, continue_with: str,
                    undo_with: str) -> None:
    """The stage `apply --stop-before-switch` stops at: how to try the site through the load
    balancer before any visitor reaches it, then the commands that switch or undo."""
    checked = ("checked through its own address" if ready.verified
               else "not checked (--skip-verify)")
    verb, where = ("is", "the instance") if ready.sites == 1 else ("are", "the instances")
    console.print(f"[bold]Ready to switch.[/] {ready.domain} {verb} served by the load balancer "
                  f"{ready.load_balancer}, {checked}. DNS is untouched: visitors still reach "
                  f"{where} directly.")
    console.print("Try it yourself through the load balancer:")
    for name in ready.names:
        console.print(f"  curl --connect-to {name}:443:{ready.load_balancer}:443 "
                      f"https://{name}{ready.health_check_path}", soft_wrap=True, markup=False)
    if ready.address is not None:
        console.print("Or, for a quick try in a browser, add this line to /etc/hosts, and "
                      "remove it afterwards (the load balancer's addresses change):")
        console.print(f"  {ready.address} {' '.join(ready.names)}", soft_wrap=True,
                      markup=False)
    else:
        console.print(f"No /etc/hosts line: {ready.no_address}.", markup=False)
    console.print("Switch DNS to the load balancer when you are ready (the checks through it "
                  "run again first):")
    console.print(f"  {continue_with}", soft_wrap=True, markup=False)
    console.print("Or undo everything (DNS was never touched):")
    console.print(f"  {undo_with}", soft_wrap=True, markup=False)


def switched_already(env: Environment, path: Path, plan: Plan) -> None:
    """`apply --stop-before-switch` on a plan whose DNS switch has begun: said in one line."""
    from migrator.core.plan import DONE, FAILED
    from migrator.core.status import switch_begun

    switch = switch_begun(plan)
    status = plan.state(switch.id).status if switch is not None else DONE
    how = {DONE: "is done already", FAILED: "was tried and failed"}.get(
        status, "was begun by a run that did not finish")
    env.console.print(
        f"{path}: the DNS switch of {plan.domain} {how}, so --stop-before-switch has nothing "
        f"to stop before; nothing was done. `migrator apply {path}` goes on from there, "
        f"`migrator status {path}` says where it stands.", soft_wrap=True, markup=False)


def rolled_back_message(result: RolledBack) -> str:
    sites, verb = sites_in_words(result.plan)
    where = "the instance" if verb == "is" else "their instances"
    if result.plan.snapshot.load_balancer is not None:
        return (f"Rolled back. {sites} {verb} served by {where} again; load balancer "
                f"{result.plan.snapshot.load_balancer.name} serves its other sites as before.")
    return f"Rolled back. {sites} {verb} served by {where} again."


def rolled_back(env: Environment, result: RolledBack) -> None:
    env.console.print(rolled_back_message(result))


def summary(env: Environment, outcomes: Sequence[Outcome[T]], title: str,
            message_of: Callable[[T], str]) -> int:
    """A row per site (✓ and what it gave, or ✗ and why not); returns the worst exit status."""
    from migrator.usecases.several_sites import worst_status

    table = Table(title=title, title_justify="left")
    table.add_column("site")
    table.add_column("result")
    for outcome in outcomes:
        mark = "[green]✓[/]" if outcome.status == ExitStatus.SUCCESS else "[red]✗[/]"
        message = (message_of(outcome.result) if outcome.result is not None
                   else str(outcome.error))
        table.add_row(outcome.label, f"{mark} {message}")
    env.console.print(table)
    return worst_status(outcomes)


# --- verify, iam-policy -------------------------------------------------------------------------

def verification(env: Environment, result: Verification, *, as_json: bool) -> None:
    """The checks; for a plan for several sites, a table per site (and, in JSON, every check
    as for one site, then "sites": each site's document)."""
    if as_json:
        from migrator.checks.verify.model import checks_to_dict, checks_to_json

        if not result.sites:
            json_document(env, checks_to_json(result.checks))
            return
        json_document(env, json.dumps({
            **checks_to_dict(result.checks),
            "sites": [{"domain": site.domain, **checks_to_dict(site.checks)}
                      for site in result.sites]}, ensure_ascii=False))
    elif result.sites:
        for site in result.sites:
            checks(env.console, site.checks, title=site.domain)
        bad = [site.domain for site in result.sites if site.failed]
        env.console.print(f"{len(result.sites) - len(bad)} of {len(result.sites)} sites "
                          "passed" + (f"; failed: {', '.join(bad)}" if bad else ""),
                          markup=False)
    else:
        checks(env.console, result.checks)


def checks(console: Console, shown: Sequence[Check], *, title: str | None = None) -> None:
    from migrator.checks.verify import render_checks

    render_checks(console, list(shown), title=title)


def iam_policy(env: Environment, result: IamPolicy) -> None:
    if result.written_to is None:
        env.stdout.write(result.text)  # exactly the JSON (no console markup), ready to pipe
        return
    plan = result.plan
    scope = f"plan {plan.id} ({plan.domain})" if plan else "any migrator plan"
    env.console.print(f"IAM policy for {scope}, {result.actions} actions, written to "
                      f"{result.written_to}", markup=False)
