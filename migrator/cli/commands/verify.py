"""`migrator verify`: the DNS and HTTPS checks of a migrated site, as a table or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.exit_status import ExitStatus
from migrator.usecases.verify_site import VerifyRequest, verify_site


def run(args: argparse.Namespace, shell: Shell) -> int:
    request = VerifyRequest(plan=Path(args.file) if args.file else None, domain=args.domain,
                            health_check_path=args.health_check_path, account=account_of(args))
    result = verify_site(request, connect=shell.connect, variables=shell.env.variables)
    output.verification(shell.env, result, as_json=args.json)
    result.raise_if_failed()
    return ExitStatus.SUCCESS
