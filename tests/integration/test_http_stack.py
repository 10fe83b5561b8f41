"""The one HTTP stack (migrator.net.http): a requests session whose adapter connects to the
address under test (or MIGRATOR_CONNECT_TO's override) with the site's SNI and Host, trusts the
system store plus MIGRATOR_CA_BUNDLE only, ignores the environment's proxies, follows no
redirect unless asked and retries nothing. Loopback HTTPS servers with certificates for the
site's names (tests/support/verify)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from migrator.net.http import fetch, pinned_session
from tests.support.loopback import free_port
from tests.support.verify.fixtures import SITE_ROUTES, loopback_only, make_net, pki, start_server
from tests.support.verify.pki import TestPKI
from tests.support.web_server import Reply, Seen

pytestmark = pytest.mark.usefixtures("loopback_only")

__all__ = ["loopback_only", "pki", "start_server"]

NAME = "www.example.com"
LB = "127.0.0.20"


def serve(start_server, pki: TestPKI, leaf=None, routes=SITE_ROUTES, *, bundle: bool = True):
    """An HTTPS server standing in for LB:443, and a NetConfig sending LB:443 to it."""
    server = start_server(LB, routes, leaf or pki.lb)
    net = make_net(pins=[(LB, 443, server.host, server.port)],
                   bundle=pki.bundle if bundle else None)
    return server, net


def via(server) -> str:
    return f"{LB}:443 (via {server.host}:{server.port})"


def record_everything(server) -> None:
    server.record = lambda seen: seen  # Host, path and User-Agent of every request


# -- where the connection goes, and what it says ---------------------------------------------------


def test_connects_to_the_override_with_the_sites_sni_and_host(pki: TestPKI, start_server) -> None:
    server, net = serve(start_server, pki)
    got = fetch("https", NAME, LB, 443, "/health", net)
    assert (got.status, got.error) == (200, None)
    assert server.sni == [NAME]  # SNI = the site's name, never the address
    assert server.requests == [(NAME, "/health")]  # Host = the name, port 443 not spelled out
    # the session itself, as requests users call it: the URL names the site, not the address
    with pinned_session(net, NAME, LB) as session:
        response = session.get(f"https://{NAME}/", timeout=5)
    assert response.status_code == 200
    assert response.content == SITE_ROUTES["/"].body
    assert server.requests[-1] == (NAME, "/")


def test_the_override_may_name_the_site_instead_of_the_address(pki: TestPKI,
                                                                start_server) -> None:
    server = start_server(LB, SITE_ROUTES, pki.lb)
    net = make_net(pins=[(NAME, 443, server.host, server.port)], bundle=pki.bundle)
    got = fetch("https", NAME, "203.0.113.9", 443, "/health", net)  # the address is never used
    assert got.status == 200
    assert server.sni == [NAME]


def test_a_port_other_than_the_schemes_is_in_the_host_header(pki: TestPKI, start_server) -> None:
    server = start_server(LB, SITE_ROUTES, pki.lb)
    net = make_net(pins=[(LB, 8443, server.host, server.port)], bundle=pki.bundle)
    assert fetch("https", NAME, LB, 8443, "/health", net).status == 200
    assert server.requests == [(f"{NAME}:8443", "/health")]


def test_plain_http_sends_the_host_header_too(start_server) -> None:
    server = start_server(LB, SITE_ROUTES)
    net = make_net(pins=[(LB, 80, server.host, server.port)])
    got = fetch("http", NAME, LB, 80, "/", net, want_body=True)
    assert got.status == 200
    assert got.length == len(SITE_ROUTES["/"].body)
    assert server.requests == [(NAME, "/")]


def test_unverified_requests_look_like_the_health_checker(pki: TestPKI, start_server) -> None:
    server, net = serve(start_server, pki, pki.untrusted)
    record_everything(server)
    # preflight's health check: Host is the instance's private address, so no SNI is sent
    got = fetch("https", "10.0.0.5", LB, 443, "/health", net, verify=False,
                user_agent="ELB-HealthChecker/2.0")
    assert (got.status, got.error) == (200, None)
    assert server.sni == [None]
    assert server.requests == [Seen("10.0.0.5", "/health", "ELB-HealthChecker/2.0")]


# -- what it trusts ---------------------------------------------------------------------------------


def test_trusts_the_ca_bundle_given(pki: TestPKI, start_server) -> None:
    _, net = serve(start_server, pki, pki.lb)
    assert fetch("https", NAME, LB, 443, "/health", net).status == 200


def test_an_untrusted_certificate_fails_with_the_reason_in_one_line(pki: TestPKI,
                                                                     start_server) -> None:
    server, net = serve(start_server, pki, pki.untrusted)  # its CA is not in the bundle
    got = fetch("https", NAME, LB, 443, "/health", net)
    assert got.status is None
    assert got.error == (f"TLS verification failed at {via(server)}: "
                         "unable to get local issuer certificate")
    assert server.requests == []  # nothing was sent over the untrusted connection


def test_without_the_bundle_its_cas_are_not_trusted(pki: TestPKI, start_server) -> None:
    server, net = serve(start_server, pki, pki.lb, bundle=False)
    got = fetch("https", NAME, LB, 443, "/health", net)
    assert got.error == (f"TLS verification failed at {via(server)}: "
                         "unable to get local issuer certificate")


def test_requests_ca_variables_change_nothing(pki: TestPKI, start_server,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # (SSL_CERT_FILE is OpenSSL's: it configures the system store, which is trusted)
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(pki.bundle))
    server, net = serve(start_server, pki, pki.lb, bundle=False)
    assert fetch("https", NAME, LB, 443, "/health", net).error == (
        f"TLS verification failed at {via(server)}: unable to get local issuer certificate")


def test_a_certificate_for_another_name_fails_in_one_line(pki: TestPKI, start_server) -> None:
    server, net = serve(start_server, pki, pki.wrong_name)
    got = fetch("https", NAME, LB, 443, "/health", net)
    assert got.error == (f"TLS failed at {via(server)}: hostname '{NAME}' doesn't match "
                         "'other.example.net'")
    # unverified, the name does not matter either
    assert fetch("https", NAME, LB, 443, "/health", net, verify=False).status == 200


# -- proxies, redirects, retries --------------------------------------------------------------------


class Listener:
    """A TCP server that counts connections and closes each at once (a proxy, or a server
    dropping every request)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.accepted = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener("127.0.0.30")
    yield server
    server.stop()


def test_proxies_in_the_environment_are_ignored(pki: TestPKI, start_server, listener: Listener,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = "http://{}:{}".format(*listener.address)
    for variable in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy",
                     "all_proxy"):
        monkeypatch.setenv(variable, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    https, net = serve(start_server, pki)
    plain = start_server(LB, SITE_ROUTES)
    net = replace(net, connect_to=(*net.connect_to,
                                   *make_net(pins=[(LB, 80, plain.host, plain.port)]).connect_to))
    assert fetch("https", NAME, LB, 443, "/health", net).status == 200
    assert fetch("http", NAME, LB, 80, "/health", net).status == 200
    assert https.requests == [(NAME, "/health")]
    assert plain.requests == [(NAME, "/health")]
    assert listener.accepted == 0


def test_redirects_are_followed_only_when_asked_and_only_on_the_site(pki: TestPKI,
                                                                     start_server) -> None:
    routes = {**SITE_ROUTES,
              "/old": Reply(302, b"", {"Location": "/health"}),
              "/away": Reply(301, b"", {"Location": "https://elsewhere.example.org/"})}
    server, net = serve(start_server, pki, routes=routes)
    moved = fetch("https", NAME, LB, 443, "/old", net)
    assert (moved.status, moved.location) == (302, "/health")
    assert server.requests == [(NAME, "/old")]
    followed = fetch("https", NAME, LB, 443, "/old", net, follow_redirects=True)
    assert followed.status == 200
    assert server.requests[1:] == [(NAME, "/old"), (NAME, "/health")]
    # another host would need a look-up outside MIGRATOR_NAMESERVERS: refused, in one line
    away = fetch("https", NAME, LB, 443, "/away", net, follow_redirects=True)
    assert away.error == (f"not followed: elsewhere.example.org is not {NAME}, the name tested "
                          f"at {LB}")


def test_a_dropped_connection_is_reported_once_and_not_retried(listener: Listener) -> None:
    host, port = listener.address
    net = make_net(pins=[(host, 80, host, port)])
    got = fetch("http", NAME, host, 80, "/", net)
    assert got.error is not None and got.error.startswith(
        f"connection dropped by {host}:80 (via {host}:{port}): ")
    assert "\n" not in got.error
    assert listener.accepted == 1


def test_refused_and_silent_servers(pki: TestPKI) -> None:
    port = free_port(LB)
    net = make_net(pins=[(LB, 443, LB, port)], bundle=pki.bundle)
    assert fetch("https", NAME, LB, 443, "/", net).error == (
        f"connection refused at {LB}:443 (via {LB}:{port})")
    with socket.socket() as silent:
        silent.bind(("127.0.0.23", 0))
        silent.listen(4)  # the kernel accepts; nobody ever answers
        port = silent.getsockname()[1]
        net = replace(make_net(pins=[("127.0.0.23", 80, "127.0.0.23", port)]), read_timeout=0.3)
        assert fetch("http", NAME, "127.0.0.23", 80, "/", net).error == (
            f"no response within 0.3 s from 127.0.0.23:80 (via 127.0.0.23:{port})")


def test_an_address_that_is_not_one_is_refused_before_any_connection() -> None:
    assert fetch("https", NAME, "lb.example.com", 443, "/", make_net()).error == (
        "'lb.example.com' is not an IP address")
