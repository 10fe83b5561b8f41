"""`migrator status`: where a plan stands."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell
from migrator.exit_status import ExitStatus
from migrator.usecases.plan_status import StatusRequest, plan_status


def run(args: argparse.Namespace, shell: Shell) -> int:
    output.plan_status(shell.env, plan_status(StatusRequest(Path(args.file))), as_json=args.json)
    return ExitStatus.SUCCESS
