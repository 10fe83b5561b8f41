"""`migrator demo`: the sandbox plus the whole flow, narrated for a newcomer.

Two sites, www.example.com and shop.example.com, each on an EC2 instance of its own, move behind
ONE load balancer (a host rule and a certificate chosen by SNI per site): inspect → plan (a file
under ./plans, both sites, each DNS switch a two-stage canary) → show → apply (with its checks
and gates) → verify → both names answered by the one load balancer, each with its own
certificate and page → status → rollback → both sites answer from their origins again. A
visitor per site fetches its page every 100 ms from before the apply until after the rollback:
not one request may fail. The demo drives the ordinary CLI commands with the sandbox's standard
variables, exactly as a user would in a shell after `source .sandbox.env`. Exits 0 only if
every step and check passed.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.rule import Rule

from migrator.core import planfile
from migrator.core.status import load_balancer_outputs
from migrator.errors import Interrupted, VerificationError
from migrator.exit_status import ExitStatus
from migrator.net.config import NetConfig
from migrator.net.dns import LookupFailed, resolve_fresh
from migrator.net.http import fetch, pinned_session
from migrator.net.tls import CertInfo, cert_covers, probe_tls

from .runner import Sandbox

DEMO_SITES = 2  # www.example.com and shop.example.com, on one load balancer
DEMO_DNS_DRAIN_SECONDS = 3.0
# The switch in two weighted stages, each soaked briefly: the data plane publishes the load
# balancer's CloudWatch figures, which the gates read between stages.
DEMO_CANARY = "50,100"
DEMO_SOAK_SECONDS = 2.0
VISIT_INTERVAL = 0.1


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
                  "server, two sites' nginx stand-ins and a load balancer data plane. Nothing "
                  "leaves this machine.")
    with console.status("Starting the sandbox (strict AWS, two sites)..."):
        sandbox = Sandbox(acm_delay=acm_delay, strict=True, sites=DEMO_SITES).start()
    try:
        return _narrate(host, sandbox, assume_yes)
    finally:
        sandbox.stop()


def _narrate(host: Host, sandbox: Sandbox, assume_yes: bool) -> int:
    console = host.console
    sites = sandbox.world.sites
    domains = [site.domain for site in sites]
    first, second = domains[0], domains[1]
    origins = {site.domain: site.address for site in sites}
    net = NetConfig.from_env({**host.variables, **sandbox.env})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    plan_file = Path("plans") / f"demo-{first}-shared-{stamp}.json"

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

    visitors = [_Visitor(domain, net) for domain in domains]
    with _variables(sandbox.env), _visiting(visitors):
        try:
            console.print(
                f"Two sites, [bold]https://{first}/[/] and [bold]https://{second}/[/], each "
                f"served by an EC2 instance of its own ({origins[first]}, {origins[second]}) "
                "whose certificate expires soon. Both move behind ONE load balancer: a "
                "host-header rule and a certificate (chosen by SNI) per site, one load "
                "balancer's price instead of two.", soft_wrap=True)
            for domain in domains:
                _expect_issuer(console, domain, net, origins[domain], "the origin (before)")
            cli("1. Inspect: what serves the first site today (read-only)",
                "inspect", "--domain", first)
            cli("2. Plan: both sites behind one load balancer, every step and its undo, "
                "written to a file (read-only)",
                "plan", "--domain", first, "--domain", second, "--shared-load-balancer",
                "--health-check-path", "/health", "--canary", DEMO_CANARY,
                "--soak", f"{DEMO_SOAK_SECONDS:g}", "--out", str(plan_file))
            cli("3. Show: review the plan as you would before committing it",
                "show", str(plan_file))
            pause("Apply this plan to the sandbox?")
            for visitor in visitors:
                visitor.start()
            stages = DEMO_CANARY.replace(",", "% then ")
            console.print(f"(A visitor per site now fetches its page every "
                          f"{VISIT_INTERVAL * 1000:g} ms until the end: not one request may "
                          f"fail. Each site's DNS switch is a canary: {stages}% of the "
                          "resolvers' answers go to the load balancer, each stage soaked for "
                          f"{DEMO_SOAK_SECONDS:g} s while its CloudWatch figures stay within "
                          "bounds; on AWS a soak takes minutes.)", soft_wrap=True)
            cli("4. Apply: certificates, one load balancer, a rule per site, checks, then "
                "each site's DNS switch in stages", "apply", str(plan_file), "--yes")
            cli("5. Verify: DNS and HTTPS through each site's name", "verify", str(plan_file))
            console.print(Rule("6. One load balancer answers both names, each with its own "
                               "certificate and page", align="left"))
            lb_addresses = _one_load_balancer(console, plan_file, domains, net)
            cli("7. Status: where the plan stands and the health of each site",
                "status", str(plan_file))
            pause("Roll everything back now?")
            console.print(f"(Rollback waits {DEMO_DNS_DRAIN_SECONDS:g} s after restoring DNS; on "
                          "AWS it waits the alias TTL, 60 s, so no cached client reaches a "
                          "deleted load balancer.)")
            cli("8. Rollback: DNS first, then everything the plan created",
                "rollback", str(plan_file), "--yes", "--dns-drain",
                f"{DEMO_DNS_DRAIN_SECONDS:g}")
            for domain in domains:
                _expect_issuer(console, domain, net, origins[domain],
                               "the origin (after rollback)")
            _stop(visitors)
            _report_visits(console, visitors, lb_addresses)
            console.print(Rule("Done"))
            console.print(f"[green]Every step and check passed.[/] Both sites moved to one "
                          f"load balancer ({', '.join(lb_addresses)}) and back to their instances "
                          f"({', '.join(origins[d] for d in domains)}) without a failed "
                          f"request. The plan is {plan_file}, unchanged since it was written; "
                          f"its journal is {planfile.state_path(plan_file)}.", soft_wrap=True)
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
    cert = _certificate(domain, addresses[0], net)
    if address is None and cert.issuer_org != "Amazon":
        raise VerificationError(f"the load balancer's certificate is issued by {cert.issuer}")
    console.print(
        f"  {domain} → {addresses[0]}: {label}, certificate issued by {cert.issuer}, "
        f"valid until {cert.not_after:%Y-%m-%d}", soft_wrap=True)
    return addresses[0]


def _certificate(domain: str, address: str, net: NetConfig) -> CertInfo:
    """The certificate `address` presents for SNI `domain`, verified (chain and name)."""
    handshake = probe_tls(domain, address, 443, net)
    cert = handshake.cert
    if handshake.error or not handshake.chain_ok or cert is None:
        reason = handshake.error or handshake.chain_error
        raise VerificationError(f"HTTPS to {domain} at {address} failed: {reason}")
    if not cert_covers(cert, domain):
        raise VerificationError(f"{address} presents a certificate for "
                                f"{', '.join(cert.names)} to {domain}")
    return cert


def _one_load_balancer(console: Console, plan_file: Path, domains: Sequence[str],
                       net: NetConfig) -> list[str]:
    """Every site resolves to the plan's one load balancer, which presents each its own
    certificate (Amazon's) by SNI and forwards each to its own instance (the page names it)."""
    outputs = load_balancer_outputs(planfile.load(plan_file))
    dns_name = str(outputs.get("dns_name") or "")
    if not dns_name:
        raise VerificationError(f"{plan_file} records no load balancer")
    lb_addresses = resolve_fresh(dns_name, net)
    if not lb_addresses:
        raise VerificationError(f"the load balancer's name {dns_name} does not resolve")
    console.print(f"  the load balancer: {dns_name} → {', '.join(lb_addresses)}",
                  soft_wrap=True)
    subjects: dict[str, str] = {}
    for domain in domains:
        addresses = resolve_fresh(domain, net)
        if addresses != lb_addresses:
            raise VerificationError(f"{domain} resolves to {', '.join(addresses) or 'nothing'}, "
                                    f"not to the load balancer ({', '.join(lb_addresses)})")
        cert = _certificate(domain, addresses[0], net)
        if cert.issuer_org != "Amazon":
            raise VerificationError(f"the load balancer presents {domain} a certificate issued "
                                    f"by {cert.issuer}")
        subjects[domain] = f"CN={cert.subject_cn}, DNS {', '.join(cert.dns_names)}"
        heading, served_by = _page(domain, addresses[0], net)
        if heading != domain:
            raise VerificationError(f"the load balancer answers {domain} with the page of "
                                    f"{heading or 'no site'}")
        console.print(f"  {domain} → {addresses[0]}: by SNI its own certificate "
                      f"({subjects[domain]}; issued by {cert.issuer}); its page: "
                      f"“{heading}: {served_by}”", soft_wrap=True)
    if len(set(subjects.values())) != len(subjects):
        raise VerificationError("the sites were presented the same certificate: "
                                f"{next(iter(subjects.values()))}")
    return lb_addresses


_HEADING = re.compile(r"<h1>(.*?)</h1>", re.S)
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


def _page(domain: str, address: str, net: NetConfig) -> tuple[str, str]:
    """GET https://DOMAIN/ at `address`: the page's heading (the site it names) and its line
    saying which instance served it."""
    session = pinned_session(net, domain, address)
    try:
        response = session.get(f"https://{domain}/", allow_redirects=False,
                               timeout=(net.connect_timeout, net.read_timeout))
        text = response.text
    except OSError as exc:  # requests' exceptions are OSErrors
        raise VerificationError(f"GET https://{domain}/ at {address} failed: {exc}") from exc
    finally:
        session.close()
    if response.status_code != 200:
        raise VerificationError(f"GET https://{domain}/ at {address}: HTTP "
                                f"{response.status_code}")
    heading, paragraph = _HEADING.search(text), _PARAGRAPH.search(text)
    return (html.unescape(heading.group(1)).strip() if heading else "",
            html.unescape(paragraph.group(1)).strip() if paragraph else "")


class _Visitor(threading.Thread):
    """A visitor of one site: resolves its name afresh (no cache) through the sandbox's DNS and
    fetches https://NAME/ every VISIT_INTERVAL, counting the answers by the address that gave
    them, and every failure."""

    def __init__(self, domain: str, net: NetConfig) -> None:
        super().__init__(daemon=True, name=f"demo-visitor-{domain}")
        self.domain, self.net = domain, net
        self.halt = threading.Event()
        self.served: Counter[str] = Counter()
        self.failed: list[str] = []

    def run(self) -> None:
        while not self.halt.wait(VISIT_INTERVAL):
            try:
                addresses = resolve_fresh(self.domain, self.net)
            except LookupFailed as exc:
                self.failed.append(str(exc))
                continue
            if not addresses:
                self.failed.append(f"{self.domain} does not resolve")
                continue
            got = fetch("https", self.domain, addresses[0], 443, "/", self.net)
            if got.status == 200:
                self.served[addresses[0]] += 1
            else:
                self.failed.append(got.error or f"{addresses[0]}: HTTP {got.status}")


@contextlib.contextmanager
def _visiting(visitors: Sequence[_Visitor]) -> Iterator[None]:
    try:
        yield
    finally:
        _stop(visitors)


def _stop(visitors: Sequence[_Visitor]) -> None:
    for visitor in visitors:
        visitor.halt.set()
    for visitor in visitors:
        if visitor.is_alive():
            visitor.join(10)


def _report_visits(console: Console, visitors: Sequence[_Visitor],
                   lb_addresses: Sequence[str]) -> None:
    """One line per site: its requests, by who answered; a failed one fails the demo."""
    console.print(Rule("The visitors", align="left"))
    for visitor in visitors:
        answered = ", ".join(
            f"{count} by {'the load balancer' if address in lb_addresses else 'the origin'} "
            f"({address})" for address, count in visitor.served.items())
        total = sum(visitor.served.values()) + len(visitor.failed)
        console.print(f"  {visitor.domain}: {total} requests, {len(visitor.failed)} failed; "
                      f"{answered}", soft_wrap=True)
        if visitor.failed:
            raise VerificationError(f"{len(visitor.failed)} of {visitor.domain}'s {total} "
                                    f"requests failed, the first: {visitor.failed[0]}")
        if not set(lb_addresses) & set(visitor.served) or len(visitor.served) < 2:
            raise VerificationError(f"{visitor.domain}'s visitor did not see both the origin and "
                                    "the load balancer answer")
