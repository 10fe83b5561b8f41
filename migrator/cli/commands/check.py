"""`migrator check`: does the plan still apply to the account as it is now? (exit 0, or 2
naming each difference)"""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.exit_status import ExitStatus
from migrator.usecases.check_plan import CheckRequest, check_plan


def run(args: argparse.Namespace, shell: Shell) -> int:
    result = check_plan(CheckRequest(Path(args.file), account_of(args)), connect=shell.connect)
    output.plan_check(shell.env, result)
    result.raise_if_stale()
    return ExitStatus.SUCCESS
