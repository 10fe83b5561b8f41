"""The sandbox's commands for `migrator`: `sandbox up` and `demo`, registered as entry points
in the `migrator.commands` group. Importing this module imports nothing heavy: moto and the
rest load when a command runs."""

from __future__ import annotations

import argparse
from typing import Any

from migrator.errors import UsageError

SANDBOX_MODULES = ("moto", "cryptography", "werkzeug", "flask")
# world.MAX_SITES, not imported: this module must import nothing heavy (see test_startup_imports)
MAX_SITES = 10


def _site_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_SITES:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_SITES}, not {text!r}")
    return count


def _refuse_missing(exc: ModuleNotFoundError) -> None:
    if exc.name and exc.name.split(".")[0] in SANDBOX_MODULES:
        raise UsageError(f"the sandbox needs {exc.name}, which is not installed",
                         hint="install the sandbox extra: pip install 'migrator[sandbox]'"
                         ) from exc


class SandboxCommand:
    name = "sandbox"
    help = "A local rehearsal world: AWS, DNS and HTTPS on loopback."

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="sandbox_command", metavar="ACTION")
        up = sub.add_parser("up", help="start the sandbox in the foreground")
        up.add_argument("--env-file", default=".sandbox.env", metavar="FILE",
                        help="where to write the export lines (default .sandbox.env)")
        up.add_argument("--acm-delay", type=float, default=5.0, metavar="SECONDS",
                        help="seconds before ACM issues a requested certificate (default 5)")
        up.add_argument("--sites", type=_site_count, default=1, metavar="N",
                        help="how many sites the world holds, each on an instance of its own "
                             "in the same VPC: www.example.com, then shop.example.com, "
                             f"blog.example.com, ... (default 1, at most {MAX_SITES})")
        up.add_argument("--strict", action="store_true",
                        help="behave like AWS where it differs from moto: eventual consistency, "
                             "provisioning and health check delays, validation by DNS, groups "
                             "on interfaces, Route53 PENDING and throttling (delays scaled down)")

    def run(self, args: argparse.Namespace, host: Any) -> int:
        if args.sandbox_command != "up":
            raise UsageError("sandbox needs an action", hint="migrator sandbox up")
        try:
            from migrator_sandbox.command import sandbox_up
        except ModuleNotFoundError as exc:
            _refuse_missing(exc)
            raise
        return int(sandbox_up(args.env_file, args.acm_delay, host.console, strict=args.strict,
                              sites=args.sites))


class DemoCommand:
    name = "demo"
    help = "Run the whole migration on the sandbox, narrated, then roll it back."

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--yes", "-y", action="store_true", help="ask nothing")
        parser.add_argument("--acm-delay", type=float, default=5.0, metavar="SECONDS")

    def run(self, args: argparse.Namespace, host: Any) -> int:
        try:
            from migrator_sandbox.demo import run_demo
        except ModuleNotFoundError as exc:
            _refuse_missing(exc)
            raise
        return int(run_demo(host, assume_yes=args.yes, acm_delay=args.acm_delay))


SANDBOX = SandboxCommand()
DEMO = DemoCommand()
