"""The command line's only argparse layer: the parser, main() (run one command, turn errors into
one line and an exit status), the plugin commands and the entry point. The commands themselves
are migrator.cli.commands; boto3 is imported only by those that talk to AWS, so --help and
`show` start fast.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from migrator import __version__
from migrator.cli.environment import Environment
from migrator.cli.plugins import Host, PluginCommand, discover
from migrator.errors import Interrupted, MigratorError, UsageError
from migrator.exit_status import ExitStatus


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so errors look like all others."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def build_parser(plugins: Sequence[PluginCommand] = ()) -> ArgumentParser:
    common = ArgumentParser(add_help=False)
    common.add_argument("--profile", default=argparse.SUPPRESS,
                        help="AWS profile (default: AWS_PROFILE or the default profile)")
    common.add_argument("--region", default=argparse.SUPPRESS,
                        help="AWS region (default: AWS_REGION or the profile's region)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and more detail")

    parser = ArgumentParser(
        prog="migrator", parents=[common],
        description="Move a site's TLS termination from one EC2 instance to an Application "
                    "Load Balancer with a free, auto-renewing ACM certificate: planned, "
                    "journaled, reversible.")
    parser.add_argument("--version", action="version", version=f"migrator {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    p = command("inspect", "Report the setup behind a domain (read-only).")
    p.add_argument("--domain", required=True, help="the site's name, e.g. www.example.com")
    p.add_argument("--san", action="append", default=[], metavar="NAME",
                   help="another name the certificate must cover (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON")
    idle_probe_flag(p)

    p = command("plan", "Write a plan file (read-only towards AWS).")
    p.add_argument("--domain", required=True, action="append",
                   help="the site's name, e.g. www.example.com (repeat to plan several sites "
                        "at once, each in its own file, or behind one load balancer with "
                        "--shared-load-balancer)")
    p.add_argument("--san", action="append", default=[], metavar="NAME",
                   help="another name the certificate must cover (repeatable)")
    p.add_argument("--health-check-path", default="/", metavar="PATH",
                   help="path the load balancer checks over HTTPS (default /)")
    g = p.add_argument_group("sharing a load balancer", "one load balancer for several sites: "
                             "a host-header rule and a certificate (by SNI) per site")
    g.add_argument("--shared-load-balancer", action="store_true",
                   help="put every --domain behind ONE new load balancer, in one plan file")
    g.add_argument("--load-balancer", metavar="NAME_OR_ARN",
                   help="put the site on this existing application load balancer instead of "
                        "a new one (never changes its default action, TLS policy or other "
                        "sites' rules and certificates)")
    g.add_argument("--add-subnet", action="store_true",
                   help="with --load-balancer: add the instance's zone's public subnet to it "
                        "when it lacks that zone (undone by rollback)")
    p.add_argument("--no-lockdown", action="store_true",
                   help="keep the instance reachable from the internet on 80/443 after the "
                        "cutover (default: once the old TTL has passed, only the load balancer)")
    p.add_argument("--out", metavar="FILE",
                   help="plan file (default plans/<domain>-<UTC timestamp>.json)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    idle_flags(p)
    canary_flags(p)

    p = command("show", "Show what a plan changes in the account, then every step of it, "
                        "its undo and its status.")
    p.add_argument("file", help="plan file")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="text (default), markdown (for a pull-request comment) or json")
    p.add_argument("--json", action="store_true", help="print JSON (same as --format json)")

    p = command("check", "Re-inspect the account (read-only): exit 0 if the plan still "
                         "applies, 2 naming each difference if it is stale.")
    p.add_argument("file", help="plan file")

    p = command("apply", "Carry out a plan; run again to resume.")
    p.add_argument("file", nargs="+", help="plan file (several: applied concurrently)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--skip-verify", action="store_true",
                   help="skip the DNS and HTTPS checks (when this machine cannot reach the site)")
    p.add_argument("--wait-for-ttl", action="store_true",
                   help="wait for the old record's TTL to pass and lock the instance down now, "
                        "instead of leaving the lockdown to a later apply")
    p.add_argument("--expect-sha256", metavar="HEX", default=None,
                   help="refuse, changing nothing, unless the plan's sha256 (printed by `plan` "
                        "and `show`) is HEX: apply exactly the plan that was approved")
    stop_before_switch_flag(p)

    p = command("rollback", "Undo every completed step of a plan, in reverse order.")
    p.add_argument("file", nargs="+", help="plan file (several: rolled back concurrently)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dns-drain", type=float, default=60.0, metavar="SECONDS",
                   help="after restoring DNS, wait this long (the alias TTL, 60 s) before "
                        "deleting the load balancer")

    p = command("status", "Where a plan stands.")
    p.add_argument("file", help="plan file")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("verify", "Check DNS and HTTPS of a migrated site.")
    p.add_argument("file", nargs="?", help="plan file (or --domain)")
    p.add_argument("--domain", help="the site's name, when there is no plan file")
    p.add_argument("--health-check-path", default=None, metavar="PATH")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("wizard", "Ask step by step, show the plan, apply it (what `migrator` runs in "
                          "a terminal).")
    p.add_argument("--domain", help="the site's name (default: chosen from the sites found)")
    p.add_argument("--san", action="append", default=None, metavar="NAME",
                   help="another name the certificate must cover (repeatable; default: the "
                        "names preflight proposes that the site serves)")
    p.add_argument("--health-check-path", default=None, metavar="PATH",
                   help="path the load balancer checks over HTTPS (default: / or the path "
                        "preflight proposes)")
    p.add_argument("--ssl-policy", default=None, metavar="POLICY",
                   help="TLS policy of the HTTPS listener "
                        "(default ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09, the one AWS "
                        "recommends)")
    p.add_argument("--no-http-redirect", action="store_true",
                   help="no HTTP:80 listener redirecting to HTTPS")
    p.add_argument("--no-lockdown", action="store_true",
                   help="keep the instance reachable from the internet on 80/443 after the "
                        "cutover (default: only the load balancer, once the old TTL has passed)")
    p.add_argument("--wait-for-ttl", action="store_true",
                   help="wait for the old TTL after the switch and lock down in this run "
                        "(default: when the TTL is at most 60 s)")
    stop_before_switch_flag(p)
    p.add_argument("--load-balancer", metavar="NAME_OR_ARN", default=None,
                   help="put the site on this existing application load balancer (default: "
                        "asked when one of the instance's VPC can take it; with --yes, a new "
                        "one of its own)")
    p.add_argument("--add-subnet", action="store_true",
                   help="with --load-balancer: add the instance's zone's public subnet to it "
                        "when it has none there (undone by rollback)")
    p.add_argument("--yes", "-y", action="store_true",
                   help="ask nothing: take the defaults and apply")
    p.add_argument("--skip-verify", action="store_true",
                   help="skip the DNS and HTTPS checks (when this machine cannot reach the site)")
    idle_flags(p)

    p = command("iam-policy", "Print the least-privilege IAM policy migrator needs (no AWS "
                              "calls); with a plan file, scoped to that plan's resources.")
    p.add_argument("plan", nargs="?", metavar="PLAN",
                   help="plan file: scope the policy to its zone, VPC, names and plan tag")
    p.add_argument("--out", metavar="FILE", help="write the policy to FILE instead of printing it")
    for plugin in plugins:
        plugin.configure(command(plugin.name, plugin.help))
    for name in ("plan", "apply", "rollback"):
        sub.choices[name].add_argument(
            "--parallel", type=int, default=4, metavar="N",
            help="with several sites, how many run at once (default 4)")

    return parser


def stop_before_switch_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stop-before-switch", action="store_true",
                   help="do every step up to the DNS switch, check the site through the load "
                        "balancer's own address, then stop, ready to switch, with DNS "
                        "untouched (a later apply switches)")


def idle_probe_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--origin-idle-probe", type=float, default=None, metavar="SECONDS",
                   help="how long preflight waits for the instance to close an idle connection "
                        "when it advertises no Keep-Alive timeout (default 61)")


def idle_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--idle-timeout", type=int, default=None, metavar="SECONDS",
                   help="the load balancer's idle timeout, 1-4000 (default: 60, or less when "
                        "the instance closes idle connections sooner); skips the wait for it")
    idle_probe_flag(p)


def canary_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("canary", "switch DNS in stages of weighted records, each held "
                                       "while the load balancer's CloudWatch figures stay "
                                       "within bounds (else every name goes back at once)")
    g.add_argument("--canary", metavar="STAGES",
                   help="percentages of the traffic for the load balancer, increasing, ending "
                        "at 100, e.g. 10,50,100")
    g.add_argument("--soak", type=int, metavar="SECONDS",
                   help="how long each stage before the last is held and watched (default 300)")
    g.add_argument("--max-target-5xx", type=int, metavar="N",
                   help="most 5XX answers of the instance through the load balancer per soak "
                        "(default 0)")
    g.add_argument("--max-elb-5xx", type=int, metavar="N",
                   help="most 5XX answers of the load balancer itself per soak (default 0)")
    g.add_argument("--max-unhealthy-hosts", type=int, metavar="N",
                   help="most targets failing the health check (default 0)")
    g.add_argument("--max-response-time-factor", type=float, metavar="X",
                   help="response time bound: X times the origin's latency measured by "
                        "preflight (default 3) ...")
    g.add_argument("--response-time-margin", type=float, metavar="SECONDS",
                   help="... plus this many seconds (default 0.25)")


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    args: argparse.Namespace | None = None
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        plugins = discover() if _may_name_plugin(argv) else []
        parser = build_parser(plugins)
        args = parser.parse_args(argv)
        by_name = {plugin.name: plugin for plugin in plugins}
        if args.command in by_name:
            host = Host(env, main, assume_yes=getattr(args, "yes", False))
            return int(by_name[args.command].run(args, host))
        if not args.command:
            if not env.interactive:
                env.console.print(parser.format_help())
                return ExitStatus.SUCCESS
            # In a terminal, plain `migrator` is the wizard (top-level flags carry over).
            args = parser.parse_args(["wizard", *argv])
        from migrator.cli import commands

        return int(commands.run(args, env))
    except KeyboardInterrupt:
        env.err_console.print("migrator: interrupted")
        return ExitStatus.INTERRUPTED
    except MigratorError as exc:
        if args is not None and getattr(args, "verbose", False):
            env.err_console.print(traceback.format_exc(), markup=False, highlight=False)
        _print_error(env, exc)
        if isinstance(exc, Interrupted):
            return ExitStatus.INTERRUPTED
        return int(exc.exit_status)
    except Exception as exc:  # a bug: still one line, and the way to see more
        verbose = args is not None and getattr(args, "verbose", False)
        if verbose:
            env.err_console.print(traceback.format_exc(), markup=False, highlight=False)
        _print_error(env, MigratorError(
            f"unexpected {type(exc).__name__}: {exc}",
            hint="this is a bug in migrator; please report it" + (
                "" if verbose else " with the traceback that -v prints")))
        return int(ExitStatus.ERROR)


BUILTIN_COMMANDS = frozenset({"inspect", "plan", "show", "check", "apply", "rollback", "status",
                              "verify", "wizard", "iam-policy"})


def _may_name_plugin(argv: Sequence[str]) -> bool:
    """Whether this command line may need a plugin command (finding them reads every installed
    package's metadata, which `show` and the other built-in commands do not need)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first not in BUILTIN_COMMANDS


def _print_error(env: Environment, exc: MigratorError) -> None:
    env.err_console.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False,
                          soft_wrap=True)
    if exc.hint:
        env.err_console.print(f"  → {exc.hint}", markup=False, highlight=False, soft_wrap=True)


def entry_point() -> None:
    sys.exit(main())
