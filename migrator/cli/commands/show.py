"""`migrator show`: what a plan changes in the account, then its steps (text, markdown, json)."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell
from migrator.exit_status import ExitStatus
from migrator.usecases.review_plan import ReviewRequest, review_plan_file


def run(args: argparse.Namespace, shell: Shell) -> int:
    result = review_plan_file(ReviewRequest(Path(args.file)))
    output.plan_review(shell.env, result, "json" if args.json else args.format)
    return ExitStatus.SUCCESS
