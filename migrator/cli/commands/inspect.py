"""`migrator inspect`: the read-only report of the setup behind a domain."""

from __future__ import annotations

import argparse

from migrator.cli import output
from migrator.cli.commands.shell import Shell, account_of
from migrator.exit_status import ExitStatus
from migrator.usecases.inspect_site import InspectRequest, inspect_site


def run(args: argparse.Namespace, shell: Shell) -> int:
    request = InspectRequest(domain=args.domain, sans=tuple(args.san),
                             origin_idle_probe=args.origin_idle_probe, account=account_of(args))
    result = inspect_site(request, connect=shell.connect, variables=shell.env.variables)
    output.inspection(shell.env, result, as_json=args.json)
    return ExitStatus.SUCCESS
