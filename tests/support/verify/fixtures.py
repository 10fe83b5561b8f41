"""pytest fixtures for the verification tests; test modules import them by name.

``site_world`` builds the standard post-cutover site on loopback:

* origin ``127.0.0.10`` (HTTPS, non-Amazon certificate),
* load balancer ``127.0.0.20`` and ``127.0.0.21`` (HTTPS with an Amazon-issued
  certificate, plain HTTP answering 301 to https),
* a DNS responder on ``127.0.0.53`` authoritative for example.com and the LB name,
* a :class:`NetConfig` made from the same environment variables the sandbox writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from migrator.net.config import NetConfig
from migrator_sandbox.pki import Issued
from tests.support.loopback import free_port, loopback_only
from tests.support.web_server import Reply, Routes, TestServer, started, tls_context

from .dnsserver import DnsResponder, Records
from .pki import TestPKI, make_pki

__all__ = [
    "LB_NAME",
    "NAMES",
    "SITE_ROUTES",
    "World",
    "loopback_only",
    "make_net",
    "pki",
    "site_world",
    "start_dns",
    "start_server",
]

LB_NAME = "my-alb-123.us-east-1.elb.amazonaws.com"
NAMES = ["www.example.com", "example.com"]
ZONE_NS = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.com"]
SITE_ROUTES: Routes = {
    "/": Reply(200, b"<h1>hello from the site</h1>\n", {"Content-Type": "text/html"}),
    "/health": Reply(200, b"ok\n"),
}
REDIRECT_ROUTES: Routes = {
    "/": Reply(301, b"", {"Location": "https://{host}{path}"}),
}


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


StartServer = Callable[..., TestServer]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """``start_server(host, routes, leaf=None, legacy=False)`` -> a running server."""
    with started() as run:

        def start(
            host: str, routes: Routes, leaf: Issued | None = None, *, legacy: bool = False
        ) -> TestServer:
            context = tls_context(leaf, legacy=legacy) if leaf is not None else None
            return run(TestServer(host, routes, context))

        yield start


StartDns = Callable[..., DnsResponder]


@pytest.fixture
def start_dns() -> Iterator[StartDns]:
    """``start_dns(zone=..., cache=..., host=..., ...)`` -> a running responder."""
    with started() as run:

        def start(**kwargs: object) -> DnsResponder:
            return run(DnsResponder(**kwargs))  # type: ignore[arg-type]

        yield start


def make_net(
    *,
    dns: list[DnsResponder] | None = None,
    pins: list[tuple[str, int, str, int]] | None = None,
    bundle: Path | None = None,
    dns_timeout: float | None = None,
) -> NetConfig:
    """A NetConfig built through ``from_env``, as the CLI would build it."""
    env: dict[str, str] = {}
    if dns:
        env["MIGRATOR_NAMESERVERS"] = ",".join(d.address for d in dns)
    if pins:
        env["MIGRATOR_CONNECT_TO"] = ",".join(f"{a}:{b}:{c}:{d}" for a, b, c, d in pins)
    if bundle:
        env["MIGRATOR_CA_BUNDLE"] = str(bundle)
    net = NetConfig.from_env(env)
    if dns_timeout is not None:
        from dataclasses import replace

        net = replace(net, dns_timeout=dns_timeout)
    return net


@dataclass
class World:
    pki: TestPKI
    dns: DnsResponder
    origin: TestServer
    lb_https: list[TestServer]
    lb_http: list[TestServer]
    pins: list[tuple[str, int, str, int]] = field(default_factory=list)
    lb_name: str = LB_NAME
    names: list[str] = field(default_factory=lambda: list(NAMES))
    zone_ns: list[str] = field(default_factory=lambda: list(ZONE_NS))
    origin_ip: str = "127.0.0.10"
    lb_ips: tuple[str, ...] = ("127.0.0.20", "127.0.0.21")

    def net(self, **kwargs: object) -> NetConfig:
        return make_net(dns=[self.dns], pins=self.pins, bundle=self.pki.bundle, **kwargs)  # type: ignore[arg-type]

    def pin(self, ip: str, port: int, server: TestServer | None) -> None:
        """Send ip:port to *server*, or to a closed port when None (replaces old pins)."""
        self.pins = [p for p in self.pins if (p[0], p[1]) != (ip, port)]
        if server is None:
            self.pins.insert(0, (ip, port, ip, free_port(ip)))
        else:
            self.pins.insert(0, (ip, port, server.host, server.port))


def site_records(lb_ips: tuple[str, ...]) -> Records:
    a = (list(lb_ips), 60)
    return {
        "example.com": {"A": a},
        "www.example.com": {"A": a},
        LB_NAME: {"A": a},
    }


@pytest.fixture
def site_world(pki: TestPKI, start_server: StartServer, start_dns: StartDns) -> World:
    lb_ips = ("127.0.0.20", "127.0.0.21")
    origin = start_server("127.0.0.10", SITE_ROUTES, pki.origin)
    lb_https = [start_server(ip, SITE_ROUTES, pki.lb) for ip in lb_ips]
    lb_http = [start_server(ip, REDIRECT_ROUTES) for ip in lb_ips]
    dns = start_dns(host="127.0.0.53", zone=site_records(lb_ips))
    w = World(pki=pki, dns=dns, origin=origin, lb_https=lb_https, lb_http=lb_http)
    w.pin("127.0.0.10", 443, origin)
    for ip, s_https, s_http in zip(lb_ips, lb_https, lb_http, strict=True):
        w.pin(ip, 443, s_https)
        w.pin(ip, 80, s_http)
    return w
