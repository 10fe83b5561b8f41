"""`migrator apply`: carry out (or resume) plans, after a go-ahead; several concurrently; with
--stop-before-switch, up to the DNS switch (ready to switch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.cli.progress import ConsoleReporter, SiteLines
from migrator.exit_status import ExitStatus
from migrator.usecases.apply_plans import (
    ApplyRequest,
    ApplySettings,
    apply_plan,
    apply_plans,
    plans_to_apply,
    set_aside_switched,
)


def run(args: argparse.Namespace, shell: Shell) -> int:
    env = shell.env
    request = ApplyRequest(paths=tuple(Path(f) for f in args.file),
                           settings=ApplySettings(skip_verify=args.skip_verify,
                                                  wait_for_ttl=args.wait_for_ttl,
                                                  stop_before_switch=args.stop_before_switch),
                           expect_sha256=args.expect_sha256, parallel=args.parallel,
                           account=account_of(args))
    request, loaded, switched = set_aside_switched(request, plans_to_apply(request))
    for item in switched:
        output.switched_already(env, item.path, item.plan)
    if not loaded:
        return ExitStatus.SUCCESS
    if not args.yes:
        output.plans_before_apply(env, [item.plan for item in loaded])
    where = ", ".join(sorted({f"{item.plan.snapshot.account} {item.plan.snapshot.region}"
                              for item in loaded}))
    these = "these plans" if len(loaded) > 1 else "this plan"
    until = ", stopping before the DNS switch" if args.stop_before_switch else ""
    if not shell.go_ahead(f"Apply {these} to {where}{until}?", args.yes):
        return ExitStatus.ERROR
    if len(loaded) > 1:
        with SiteLines(env.console, [str(item.path) for item in loaded]) as lines:
            outcomes = apply_plans(
                request, connect=shell.connect, variables=env.variables,
                reporter_for=lambda path: lines.reporter(str(path)),
                on_done=lambda done: lines.finished(
                    done.label, output.applied_message(done.result) if done.result else None))
        return output.several_applied(env, outcomes)
    applied = apply_plan(loaded[0].path, request.settings, request.account,
                         connect=shell.connect, variables=env.variables,
                         reporter=ConsoleReporter(env.console))
    output.applied(env, applied)
    output.origin_advice_after_apply(env, applied.plan)
    return ExitStatus.SUCCESS
