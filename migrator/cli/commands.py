"""One function per CLI command; each returns an exit status and raises MigratorError on failure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from migrator.cli import render
from migrator.cli.environment import Environment
from migrator.cli.prompts import NoPrompter, Prompter
from migrator.core import planfile
from migrator.core.plan import PENDING, PlanOptions
from migrator.core.status import phase
from migrator.errors import UsageError, VerificationError
from migrator.exit_status import ExitStatus


def run(args: Any, env: Environment) -> int:
    handler = COMMANDS[args.command]
    return handler(args, env)


def connect(args: Any, env: Environment) -> Any:
    from migrator.aws.session import connect as aws_connect

    return aws_connect(getattr(args, "profile", None), getattr(args, "region", None))


def prompter(env: Environment, assume_yes: bool = False) -> Prompter:
    return Prompter() if env.interactive and not assume_yes else NoPrompter()


def cmd_inspect(args: Any, env: Environment) -> int:
    from migrator.checks import preflight
    from migrator.core.names import normalize_domain
    from migrator.core.planner import new_plan_id

    net = preflight.net_from_env(env.variables)
    aws = connect(args, env)
    snap = preflight.inspect_or_refuse(aws, args.domain, args.san)
    options = PlanOptions(sans=tuple(normalize_domain(s) for s in args.san))
    findings = preflight.run_preflight(aws, snap, net, options, new_plan_id(),
                                       idle_probe=origin_idle_probe(args))
    if args.json:
        env.console.print_json(json.dumps({"snapshot": snap.to_dict(),
                                           "findings": preflight.findings_to_dicts(findings)},
                                          default=str))
    else:
        render.snapshot_report(env.console, snap)
        preflight.render_findings(env.console, findings)
    return ExitStatus.SUCCESS


def cmd_plan(args: Any, env: Environment) -> int:
    domains = list(dict.fromkeys(args.domain))
    if len(domains) == 1:
        plan_one(args, env, domains[0], args.san, args.out)
        return ExitStatus.SUCCESS
    if args.out or args.san or args.json:
        raise UsageError("--out, --san and --json go with a single --domain",
                         hint="plan each such site with its own `migrator plan`")
    from migrator.cli import many

    return many.plan_many(env, domains, lambda sub, d: str(plan_one(args, sub, d, [], None)),
                          args.parallel)


NAME_ATTEMPTS = 5


def plan_one(args: Any, env: Environment, domain: str, sans: list[str],
             out_file: str | None) -> Path:
    """Inspect, run preflight, plan and write the plan file of one site."""
    from migrator.checks import preflight
    from migrator.checks.preflight.collisions import check_collisions
    from migrator.checks.preflight.idle import with_idle_choice
    from migrator.checks.preflight.quotas import require_acm_quotas
    from migrator.checks.preflight.records import followers_found
    from migrator.cli.main import default_plan_path
    from migrator.core import planner
    from migrator.core.names import normalize_domain
    from migrator.core.plan import plan_digest

    path = _health_path(args.health_check_path)
    idle_timeout, idle_probe = idle_timeout_flag(args), origin_idle_probe(args)
    net = preflight.net_from_env(env.variables)
    # ACM would refuse these names only once apply runs: refuse before asking AWS anything.
    require_acm_quotas([normalize_domain(n) for n in (domain, *sans)])
    aws = connect(args, env)
    snap = preflight.inspect_or_refuse(aws, domain, sans)
    options = PlanOptions(sans=tuple(normalize_domain(s) for s in sans),
                          health_check_path=path, lockdown=not args.no_lockdown)
    plan_id = planner.new_plan_id()
    findings = preflight.run_preflight(aws, snap, net, options, plan_id,
                                       idle_probe=idle_probe, idle_timeout=idle_timeout)
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
            findings.append(preflight.Finding(
                "names", "info", f"{clash[0].message}: picked other names (plan {plan_id})"))
    preflight.render_findings(env.err_console if args.json else env.console, findings)
    preflight.raise_on_failure(findings)
    options = with_idle_choice(options, findings)
    snap = replace(snap, followers=followers_found(findings))  # shown by `show` as untouched
    plan = planner.build_plan(snap, options, plan_id=plan_id)
    out = Path(out_file) if out_file else default_plan_path(snap.domain)
    planfile.save(plan, out)
    if args.json:
        env.console.print_json(json.dumps(plan.to_dict()))
    else:
        env.console.print(render.plan_table(plan))
        env.console.print(f"Plan written to [bold]{out}[/]. Nothing was changed in AWS.")
        env.console.print(f"sha256 {plan_digest(plan)}", markup=False)
        env.console.print(f"Next: review it (`migrator show {out}`), then `migrator apply {out}`")
    return out


IDLE_TIMEOUT_RANGE = (1, 4000)  # seconds; what ELB allows for idle_timeout.timeout_seconds
IDLE_PROBE_MAX = 4000.0


def idle_timeout_flag(args: Any) -> int | None:
    """--idle-timeout, checked against ELB's range (None when not given)."""
    value = getattr(args, "idle_timeout", None)
    low, high = IDLE_TIMEOUT_RANGE
    if value is not None and not low <= value <= high:
        raise UsageError(f"--idle-timeout {value} is outside {low}-{high} seconds, the range "
                         "an Application Load Balancer accepts",
                         hint="e.g. --idle-timeout 60 (the load balancer's default)")
    return int(value) if value is not None else None


def origin_idle_probe(args: Any) -> float:
    """--origin-idle-probe: how long preflight waits for the origin to close an idle
    connection (default 61 s)."""
    from migrator.checks.preflight.idle import DEFAULT_BOUND

    value = getattr(args, "origin_idle_probe", None)
    if value is None:
        return DEFAULT_BOUND
    if not 0 <= value <= IDLE_PROBE_MAX:
        raise UsageError(f"--origin-idle-probe {value:g} is outside 0-{IDLE_PROBE_MAX:g} seconds",
                         hint=f"e.g. --origin-idle-probe {DEFAULT_BOUND:g} (the default)")
    return float(value)


def _health_path(path: str) -> str:
    if not path.startswith("/") or any(c.isspace() for c in path) or len(path) > 1024:
        raise UsageError(f"health check path {path!r} must start with / and have no spaces",
                         hint="e.g. --health-check-path /health")
    return path


def cmd_show(args: Any, env: Environment) -> int:
    from migrator.core import review
    from migrator.core.plan import plan_digest

    plan = planfile.load(args.file)
    changes = review.account_changes(plan)
    fmt = "json" if args.json else args.format
    if fmt == "json":
        env.console.print_json(json.dumps({**plan.to_dict(), "sha256": plan_digest(plan),
                                           "account_changes": review.to_dict(changes)}))
    elif fmt == "markdown":
        env.stdout.write(review.markdown(plan, changes))  # exactly the Markdown, no markup
    else:
        review.print_text(env.console, changes, plan_digest(plan))
        env.console.print()
        env.console.print(render.plan_table(plan))
        env.console.print(f"Status: {phase(plan)}")
    return ExitStatus.SUCCESS


def cmd_check(args: Any, env: Environment) -> int:
    """Re-inspect read-only: does the plan still apply to the account as it is now?"""
    from migrator.checks.stale import plan_differences
    from migrator.core.executor import Executor
    from migrator.core.plan import plan_digest
    from migrator.errors import StalePlanError

    plan = planfile.load(args.file)
    if any(st.status != PENDING for st in plan.states.values()):
        raise StalePlanError(f"plan {plan.id} is {phase(plan)}: check compares the "
                             "account with a plan not applied yet",
                             hint=f"see `migrator status {args.file}`")
    aws = connect(args, env)
    executor = Executor(aws=aws, path=Path(args.file), plan=plan)
    executor.check_target()
    differences = plan_differences(plan, aws, executor.inspect)
    if not differences:
        env.console.print(f"Plan {plan.id} for {plan.domain} still applies: the account is as "
                          f"planned (sha256 {plan_digest(plan)}).", soft_wrap=True,
                          markup=False)
        return ExitStatus.SUCCESS
    for difference in differences:
        env.console.print(f"- {difference}", soft_wrap=True, markup=False)
    raise StalePlanError(f"plan {plan.id} for {plan.domain} is stale: {len(differences)} "
                         f"difference(s) with the account: {'; '.join(differences)}",
                         hint="make a new plan with `migrator plan` and have it reviewed")


def cmd_status(args: Any, env: Environment) -> int:
    from migrator.core.status import status_summary

    plan = planfile.load(args.file)
    summary = status_summary(plan)
    if args.json:
        env.console.print_json(json.dumps(summary))
        return ExitStatus.SUCCESS
    env.console.print(f"Plan {plan.id} for {plan.domain}: [bold]{summary['phase']}[/]")
    for step in summary["steps"]:
        mark = render.MARKS.get(step["status"], "?")
        line = f"  {mark} {step['id']:<22} {step['status']}"
        if step["error"]:
            line += f"  ({step['error']})"
        env.console.print(line, markup=False)
    if summary["load_balancer"]:
        env.console.print(f"Load balancer: {summary['load_balancer']}")
    moved = summary["all_clients_moved_at"]
    if moved and summary["phase"].startswith("applied"):
        env.console.print(
            f"DNS switched at {summary['switched_at'][:19]}Z; resolvers may keep the old answer "
            f"for its TTL ({summary['old_ttl']} s): every client reaches the load balancer by "
            f"{moved}. Keep the instance serving directly until then.", soft_wrap=True)
    return ExitStatus.SUCCESS


def executor_for(args: Any, env: Environment, path: str, reporter: Any = None) -> Any:
    from migrator.checks.verifier import Verifier
    from migrator.cli.progress import ConsoleReporter
    from migrator.core.executor import Executor, RunOptions

    plan = planfile.load(path)
    aws = connect(args, env)
    options = RunOptions(skip_verify=getattr(args, "skip_verify", False),
                         dns_drain_seconds=getattr(args, "dns_drain", 60.0),
                         wait_for_ttl=getattr(args, "wait_for_ttl", False))
    return Executor(aws=aws, path=Path(path), plan=plan, options=options,
                    reporter=reporter or ConsoleReporter(env.console),
                    verifier=Verifier.from_env(env.variables))


def _confirm(env: Environment, args: Any, question: str) -> bool:
    if args.yes or prompter(env).confirm(question, default=False, flag="--yes"):
        return True
    env.console.print("Nothing was changed.")
    return False


def cmd_apply(args: Any, env: Environment) -> int:
    files = list(dict.fromkeys(args.file))
    expected = getattr(args, "expect_sha256", None)
    if expected is not None:
        _check_expected_digest(expected, files)
    plans = {f: planfile.load(f) for f in files}
    if expected is not None:
        _refuse_unapproved(files[0], plans[files[0]], expected)
    if not args.yes:
        for plan in plans.values():
            env.console.print(render.plan_table(plan, with_inverse=False))
    where = ", ".join(sorted({f"{p.snapshot.account} {p.snapshot.region}"
                              for p in plans.values()}))
    if not _confirm(env, args, f"Apply {'these plans' if len(files) > 1 else 'this plan'} "
                               f"to {where}?"):
        return ExitStatus.ERROR
    if len(files) > 1:
        from migrator.cli import many

        return many.execute_many(env, files, lambda f, rep: apply_one(args, env, f, rep),
                                 args.parallel, f"{len(files)} plans applied")
    message = apply_one(args, env, files[0])
    env.console.print(message)
    env.console.print(f"To undo: migrator rollback {files[0]}")
    return ExitStatus.SUCCESS


def _check_expected_digest(expected: str, files: list[str]) -> None:
    from migrator.core.plan import SHA256_HEX

    if not SHA256_HEX.match(expected):
        raise UsageError(f"--expect-sha256 {expected!r} is not a sha256 (64 hexadecimal digits)",
                         hint="copy the digest `migrator show PLAN` prints")
    if len(files) != 1:
        raise UsageError(f"--expect-sha256 approves one plan, and {len(files)} files were given",
                         hint="apply each approved plan with its own --expect-sha256")


def _refuse_unapproved(path: str, plan: Any, expected: str) -> None:
    """Refuse, before connecting to AWS, a plan that is not the one approved."""
    from migrator.core.plan import plan_digest
    from migrator.errors import DigestMismatchError

    actual = plan_digest(plan)
    if actual != expected.lower():
        raise DigestMismatchError(
            f"{path} is not the approved plan: its sha256 is {actual}, the approved one "
            f"{expected.lower()}; nothing was changed",
            hint=f"review it again (`migrator show {path}`) and approve its digest")


def apply_one(args: Any, env: Environment, path: str, reporter: Any = None) -> str:
    with planfile.locked(path, "apply"):
        executor = executor_for(args, env, path, reporter)
        deferred = executor.apply()
    lb = executor.plan.state("load_balancer").outputs.get("dns_name")
    message = f"Applied. {executor.plan.domain} is served by {lb}."
    return f"{message}\nNot yet: {deferred}." if deferred else message


def cmd_rollback(args: Any, env: Environment) -> int:
    files = list(dict.fromkeys(args.file))
    plans = {f: planfile.load(f) for f in files}
    names = ", ".join(f"{p.id} ({p.domain})" for p in plans.values())
    if not _confirm(env, args, f"Undo {names}: restore DNS, delete what it created?"):
        return ExitStatus.ERROR
    if len(files) > 1:
        from migrator.cli import many

        return many.execute_many(env, files, lambda f, rep: rollback_one(args, env, f, rep),
                                 args.parallel, f"{len(files)} plans rolled back")
    env.console.print(rollback_one(args, env, files[0]))
    return ExitStatus.SUCCESS


def rollback_one(args: Any, env: Environment, path: str, reporter: Any = None) -> str:
    with planfile.locked(path, "rollback"):
        executor = executor_for(args, env, path, reporter)
        executor.rollback()
    return f"Rolled back. {executor.plan.domain} is served by the instance again."


def cmd_verify(args: Any, env: Environment) -> int:
    from migrator.checks.verifier import Verifier, render_checks

    verifier = Verifier.from_env(env.variables)
    if args.file:
        plan = planfile.load(args.file)
        checks = verifier.for_plan(plan, args.health_check_path)
    elif args.domain:
        checks = verifier.for_domain(connect(args, env), args.domain,
                                     args.health_check_path or "/")
    else:
        raise UsageError("verify needs a plan file or --domain",
                         hint="migrator verify plans/FILE.json")
    if args.json:
        from migrator.checks.verify.model import checks_to_json

        env.console.print_json(checks_to_json(checks))
    else:
        render_checks(env.console, checks)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise VerificationError(f"{len(failed)} of {len(checks)} checks failed; first: "
                                f"{failed[0].name} at {failed[0].target}: {failed[0].detail}")
    return ExitStatus.SUCCESS


def cmd_wizard(args: Any, env: Environment) -> int:
    from migrator.cli.wizard import run_wizard

    return run_wizard(args, env, prompter(env, args.yes))


def cmd_iam_policy(args: Any, env: Environment) -> int:
    from migrator.core.iam_policy import ACTIONS, policy_json

    plan = planfile.load(args.plan) if args.plan else None
    text = policy_json(plan)
    if not args.out:
        env.stdout.write(text)  # exactly the JSON (no console markup), ready to pipe
        return ExitStatus.SUCCESS
    Path(args.out).write_text(text, encoding="utf-8")
    scope = f"plan {plan.id} ({plan.domain})" if plan else "any migrator plan"
    env.console.print(f"IAM policy for {scope}, {len(ACTIONS)} actions, written to {args.out}",
                      markup=False)
    return ExitStatus.SUCCESS


COMMANDS = {
    "inspect": cmd_inspect,
    "plan": cmd_plan,
    "show": cmd_show,
    "check": cmd_check,
    "apply": cmd_apply,
    "rollback": cmd_rollback,
    "status": cmd_status,
    "verify": cmd_verify,
    "wizard": cmd_wizard,
    "iam-policy": cmd_iam_policy,
}
