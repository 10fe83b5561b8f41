"""`migrator demo`: the sandbox plus the whole flow, narrated for a newcomer.

inspect → plan (a file under ./plans, the DNS switch as a two-stage canary) → show → apply
(with its checks and gates) → verify → rollback →
check that the site answers from the origin again. The demo drives the ordinary CLI commands with
the sandbox's standard variables, exactly as a user would in a shell after `source .sandbox.env`.
Exits 0 only if every step and check passed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.rule import Rule

from migrator.core import planfile
from migrator.errors import Interrupted, VerificationError
from migrator.exit_status import ExitStatus
from migrator.net.config import NetConfig
from migrator.net.dns import resolve_fresh
from migrator.net.tls import probe_tls

from .runner import Sandbox

DEMO_DNS_DRAIN_SECONDS = 3.0
# The switch in two weighted stages, each soaked briefly: the data plane publishes the load
# balancer's CloudWatch figures, which the gates read between stages.
DEMO_CANARY = "50,100"
DEMO_SOAK_SECONDS = 2.0


@contextlib.contextmanager
def _variables(values: dict[str, str]) -> Iterator[None]:
    """Set process variables for the demo (boto3 reads AWS_* from the process environment)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class Host(Protocol):
    """What `migrator` gives the demo (migrator.cli.plugins.Host): consoles, variables, a
    question, and its own command line to run."""

    console: Console
    err_console: Console
    variables: Mapping[str, str]

    def confirm(self, question: str, *, default: bool, flag: str) -> bool: ...
    def run_migrator(self, argv: Sequence[str], variables: Mapping[str, str]) -> int: ...


def run_demo(host: Host, *, assume_yes: bool, acm_delay: float = 5.0) -> int:
    console = host.console
    console.print(Rule("migrator demo"))
    console.print("A rehearsal on loopback: a simulated AWS account (moto), an authoritative DNS "
                  "server, the site's nginx stand-in and a load balancer data plane. Nothing "
                  "leaves this machine.")
    with console.status("Starting the sandbox (strict AWS)..."):
        sandbox = Sandbox(acm_delay=acm_delay, strict=True).start()
    try:
        return _narrate(host, sandbox, assume_yes)
    finally:
        sandbox.stop()


def _narrate(host: Host, sandbox: Sandbox, assume_yes: bool) -> int:
    console = host.console
    domain = sandbox.env["MIGRATOR_SANDBOX_DOMAIN"]
    net = NetConfig.from_env({**host.variables, **sandbox.env})
    origin = sandbox.world.spec.address
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    plan_file = Path("plans") / f"demo-{domain}-{stamp}.json"

    def cli(title: str, *argv: str) -> None:
        console.print(Rule(title, align="left"))
        console.print(f"$ migrator {' '.join(argv)}", style="bold", markup=False)
        status = host.run_migrator(argv, sandbox.env)
        if status != ExitStatus.SUCCESS:
            raise _StepFailed(title, status)

    def pause(question: str) -> None:
        if assume_yes:
            return
        if not host.confirm(question, default=True, flag="--yes"):
            raise Interrupted("stopped by you; the sandbox is discarded")

    with _variables(sandbox.env):
        try:
            console.print(f"The site is [bold]https://{domain}/[/], served by an EC2 instance at "
                          f"{origin} whose certificate expires soon.")
            _expect_issuer(console, domain, net, origin, "the origin (before)")
            cli("1. Inspect: what serves the site today (read-only)",
                "inspect", "--domain", domain)
            cli("2. Plan: every step and its undo, written to a file (read-only)",
                "plan", "--domain", domain, "--health-check-path", "/health",
                "--canary", DEMO_CANARY, "--soak", f"{DEMO_SOAK_SECONDS:g}",
                "--out", str(plan_file))
            cli("3. Show: review the plan as you would before committing it",
                "show", str(plan_file))
            pause("Apply this plan to the sandbox?")
            stages = DEMO_CANARY.replace(",", "% then ")
            console.print(f"(The DNS switch is a canary: {stages}% of the resolvers' answers go "
                          f"to the load balancer, each stage soaked for {DEMO_SOAK_SECONDS:g} s "
                          "while its CloudWatch figures stay within bounds; on AWS a soak takes "
                          "minutes.)", soft_wrap=True)
            cli("4. Apply: certificate, load balancer, checks, then the DNS switch in stages",
                "apply", str(plan_file), "--yes")
            cli("5. Verify: DNS and HTTPS through the site's name", "verify", str(plan_file))
            lb_address = _expect_issuer(console, domain, net, None, "the load balancer (after)")
            pause("Roll everything back now?")
            console.print(f"(Rollback waits {DEMO_DNS_DRAIN_SECONDS:g} s after restoring DNS; on "
                          "AWS it waits the alias TTL, 60 s, so no cached client reaches a "
                          "deleted load balancer.)")
            cli("6. Rollback: DNS first, then everything the plan created",
                "rollback", str(plan_file), "--yes", "--dns-drain",
                f"{DEMO_DNS_DRAIN_SECONDS:g}")
            back = _expect_issuer(console, domain, net, origin, "the origin (after rollback)")
            console.print(Rule("Done"))
            console.print(f"[green]Every step and check passed.[/] The site moved to the load "
                          f"balancer ({lb_address}) and back to the instance ({back}). The plan "
                          f"is {plan_file}, unchanged since it was written; its journal is "
                          f"{planfile.state_path(plan_file)}.", soft_wrap=True)
            return ExitStatus.SUCCESS
        except _StepFailed as failed:
            host.err_console.print(f"[red]demo failed at: {failed.title}[/]")
            return int(failed.status) or ExitStatus.ERROR
        except VerificationError as exc:
            host.err_console.print(f"[red]demo check failed:[/] {exc.message}")
            return ExitStatus.ERROR


class _StepFailed(Exception):
    def __init__(self, title: str, status: int) -> None:
        super().__init__(title)
        self.title, self.status = title, status


def _expect_issuer(console: Console, domain: str, net: NetConfig, address: str | None,
                   label: str) -> str:
    """Resolve the site afresh and show who answers it; check it is `address` when given."""
    addresses = resolve_fresh(domain, net)
    if not addresses:
        raise VerificationError(f"{domain} does not resolve")
    if address is not None and addresses != [address]:
        raise VerificationError(f"{domain} resolves to {', '.join(addresses)}, expected "
                                f"{address} ({label})")
    handshake = probe_tls(domain, addresses[0], 443, net)
    cert = handshake.cert
    if handshake.error or not handshake.chain_ok or cert is None:
        reason = handshake.error or handshake.chain_error
        raise VerificationError(f"HTTPS at {addresses[0]} failed: {reason}")
    if address is None and cert.issuer_org != "Amazon":
        raise VerificationError(f"the load balancer's certificate is issued by {cert.issuer}")
    console.print(
        f"  {domain} → {addresses[0]}: {label}, certificate issued by {cert.issuer}, "
        f"valid until {cert.not_after:%Y-%m-%d}", soft_wrap=True)
    return addresses[0]
