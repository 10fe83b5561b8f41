"""`migrator wizard` (plain `migrator` in a terminal): the interactive flow."""

from __future__ import annotations

import argparse

from migrator.cli.commands.shell import Shell, account_of
from migrator.cli.wizard import run_wizard
from migrator.usecases.guided_plan import GuidedRequest


def run(args: argparse.Namespace, shell: Shell) -> int:
    request = GuidedRequest(
        domain=args.domain, sans=tuple(args.san) if args.san is not None else None,
        health_check_path=args.health_check_path, ssl_policy=args.ssl_policy,
        http_redirect=False if args.no_http_redirect else None,
        lockdown=False if args.no_lockdown else None,
        wait_for_ttl=True if args.wait_for_ttl else None,
        stop_before_switch=True if args.stop_before_switch else None,
        idle_timeout=args.idle_timeout, origin_idle_probe=args.origin_idle_probe,
        skip_verify=args.skip_verify, load_balancer=args.load_balancer,
        add_subnet=args.add_subnet, account=account_of(args))
    return run_wizard(request, shell.env, shell.ask(args.yes), shell.connect,
                      assume_yes=args.yes)
