"""`migrator inspect`: the read-only report of the setup behind a domain, and the load balancers
of its VPC that could take it."""

from __future__ import annotations

import argparse

from migrator.cli import candidates
from migrator.cli.commands.shell import Shell, account_of
from migrator.exit_status import ExitStatus
from migrator.usecases.inspect_site import InspectRequest, inspect_site


def run(args: argparse.Namespace, shell: Shell) -> int:
    account = account_of(args)
    request = InspectRequest(domain=args.domain, sans=tuple(args.san),
                             origin_idle_probe=args.origin_idle_probe, account=account)
    result = inspect_site(request, connect=shell.connect, variables=shell.env.variables)
    # The join command carries the account flags this inspect was given.
    flags = [*(["--profile", account.profile] if account.profile else []),
             *(["--region", account.region] if account.region else [])]
    candidates.inspection(shell.env, result, as_json=args.json, flags=flags)
    return ExitStatus.SUCCESS
