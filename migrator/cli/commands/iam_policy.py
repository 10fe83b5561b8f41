"""`migrator iam-policy`: the least-privilege IAM policy, printed or written to a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell
from migrator.exit_status import ExitStatus
from migrator.usecases.iam_policy import IamPolicyRequest, iam_policy


def run(args: argparse.Namespace, shell: Shell) -> int:
    request = IamPolicyRequest(plan=Path(args.plan) if args.plan else None,
                               out=Path(args.out) if args.out else None)
    output.iam_policy(shell.env, iam_policy(request))
    return ExitStatus.SUCCESS
