"""`migrator status`: where a plan stands, and the health of the site it migrated (exit 1 when
something needs attention, so that it can run from cron or CI)."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.exit_status import ExitStatus
from migrator.usecases.plan_status import StatusRequest, plan_status


def run(args: argparse.Namespace, shell: Shell) -> int:
    path = Path(args.file)
    result = plan_status(StatusRequest(path, account_of(args)), connect=shell.connect,
                         variables=shell.env.variables)
    output.plan_status(shell.env, result, as_json=args.json)
    result.raise_if_attention(path)  # any site's failed check: exit 1
    return ExitStatus.SUCCESS
