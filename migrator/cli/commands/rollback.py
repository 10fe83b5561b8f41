"""`migrator rollback`: undo every completed step of plans, after a go-ahead."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.cli.progress import ConsoleReporter, SiteLines
from migrator.exit_status import ExitStatus
from migrator.usecases.rollback_plans import (
    RollbackRequest,
    plans_to_roll_back,
    rollback_plan,
    rollback_plans,
)


def run(args: argparse.Namespace, shell: Shell) -> int:
    env = shell.env
    request = RollbackRequest(paths=tuple(Path(f) for f in args.file),
                              dns_drain_seconds=args.dns_drain, parallel=args.parallel,
                              account=account_of(args))
    loaded = plans_to_roll_back(request)
    names = ", ".join(f"{item.plan.id} ({item.plan.domain})" for item in loaded)
    if not shell.go_ahead(f"Undo {names}: restore DNS, delete what it created?", args.yes):
        return ExitStatus.ERROR
    if len(loaded) > 1:
        with SiteLines(env.console, [str(item.path) for item in loaded]) as lines:
            outcomes = rollback_plans(
                request, connect=shell.connect, variables=env.variables,
                reporter_for=lambda path: lines.reporter(str(path)),
                on_done=lambda done: lines.finished(
                    done.label, output.rolled_back_message(done.result) if done.result else None))
        return output.summary(env, outcomes, f"{len(loaded)} plans rolled back",
                              output.rolled_back_message)
    result = rollback_plan(loaded[0].path, request.dns_drain_seconds, request.account,
                           connect=shell.connect, variables=env.variables,
                           reporter=ConsoleReporter(env.console))
    output.rolled_back(env, result)
    return ExitStatus.SUCCESS
