"""HTTPS checks against loopback servers with good and deliberately bad certificates."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from dataclasses import replace

import pytest

from migrator.checks.verify import check_https
from migrator.checks.verify.model import Check
from migrator.net.config import NetConfig
from migrator.net.http import StatusMatcher
from migrator.net.tls import CertInfo, cert_covers
from tests.support.loopback import free_port
from tests.support.verify.fixtures import SITE_ROUTES, loopback_only, make_net, pki, start_server
from tests.support.verify.pki import TestPKI
from tests.support.web_server import Reply

pytestmark = pytest.mark.usefixtures("loopback_only")

__all__ = ["loopback_only", "pki", "start_server"]

NAME = "www.example.com"
HTTPS_CHECKS = [
    "tls protocol",
    "certificate chain",
    "certificate name",
    "certificate issuer",
    "certificate expiry",
    "health",
]


def serve(start_server, pki: TestPKI, ip: str, leaf=None, routes=SITE_ROUTES, **kw):
    """A server for *ip*:443 and a NetConfig pinning that address to it."""
    server = start_server(ip, routes, leaf or pki.lb, **kw)
    net = make_net(pins=[(ip, 443, server.host, server.port)], bundle=pki.bundle)
    return server, net


def named(checks: list[Check]) -> dict[str, Check]:
    assert len({c.name for c in checks}) == len(checks), checks
    return {c.name: c for c in checks}


def test_good_load_balancer_passes_every_check(pki: TestPKI, start_server) -> None:
    servers = [start_server(ip, SITE_ROUTES, pki.lb) for ip in ("127.0.0.20", "127.0.0.21")]
    net = make_net(pins=[(s.host, 443, s.host, s.port) for s in servers], bundle=pki.bundle)
    checks = check_https(NAME, ["127.0.0.20", "127.0.0.21"], net, health_path="/health")
    assert [(c.name, c.target) for c in checks] == [
        (n, f"{NAME} @ {ip}:443") for ip in ("127.0.0.20", "127.0.0.21") for n in HTTPS_CHECKS
    ]
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert all(c.category == "https" for c in checks)
    got = named(checks[:6])
    assert got["tls protocol"].detail.startswith(("TLSv1.3, ", "TLSv1.2, "))
    assert got["certificate chain"].detail == f"trusted (system store + {pki.bundle})"
    assert got["certificate name"].detail == f"{NAME} in example.com, *.example.com"
    assert got["certificate issuer"].detail == "O=Amazon, CN=Amazon RSA 2048 M01"
    expiry = pki.lb.cert.not_valid_after_utc.strftime("%Y-%m-%d")
    assert got["certificate expiry"].detail == f"expires {expiry}, in 88 days"
    assert got["health"].detail == "GET /health -> 200 (expected 200-399)"
    for server in servers:
        assert set(server.sni) == {NAME}  # SNI = the site's name, never the address
        assert (NAME, "/health") in server.requests  # Host = the site's name


def test_connect_to_matches_on_host_name_too(pki: TestPKI, start_server) -> None:
    server = start_server("127.0.0.20", SITE_ROUTES, pki.lb)
    # 203.0.113.9 is never contacted: the rule names the host, not the address
    net = make_net(pins=[(NAME, 443, server.host, server.port)], bundle=pki.bundle)
    checks = check_https(NAME, ["203.0.113.9"], net, health_path="/health")
    assert all(c.ok for c in checks), checks
    assert checks[0].target == f"{NAME} @ 203.0.113.9:443"


def test_untrusted_chain(pki: TestPKI, start_server) -> None:
    server, net = serve(start_server, pki, "127.0.0.20", pki.untrusted)
    got = named(check_https(NAME, ["127.0.0.20"], net, health_path="/health"))
    assert not got["certificate chain"].ok
    assert got["certificate chain"].detail == "not trusted: unable to get local issuer certificate"
    # the certificate is still read and described
    assert got["certificate name"].ok
    assert got["certificate issuer"].detail == "O=Amazon, CN=Rogue CA"
    assert not got["health"].ok
    assert got["health"].detail.startswith(
        "GET /health failed: TLS verification failed at "
        f"127.0.0.20:443 (via 127.0.0.20:{server.port})"
    )


def test_chain_needs_the_bundle(pki: TestPKI, start_server) -> None:
    server = start_server("127.0.0.20", SITE_ROUTES, pki.lb)
    net = make_net(pins=[("127.0.0.20", 443, server.host, server.port)])
    got = named(check_https(NAME, ["127.0.0.20"], net))
    assert not got["certificate chain"].ok
    assert got["certificate issuer"].ok  # read without trust, and still Amazon


def test_wrong_name(pki: TestPKI, start_server) -> None:
    _, net = serve(start_server, pki, "127.0.0.20", pki.wrong_name)
    got = named(check_https(NAME, ["127.0.0.20"], net, health_path="/health"))
    assert got["certificate chain"].ok
    assert not got["certificate name"].ok
    assert got["certificate name"].detail == f"{NAME} not covered by other.example.net"
    assert not got["health"].ok
    assert "TLS failed" in got["health"].detail


def test_expiring_soon(pki: TestPKI, start_server) -> None:
    _, net = serve(start_server, pki, "127.0.0.20", pki.expiring)
    got = named(check_https(NAME, ["127.0.0.20"], net))
    expiry = got["certificate expiry"]
    assert not expiry.ok
    date = pki.expiring.cert.not_valid_after_utc.strftime("%Y-%m-%d")
    assert expiry.detail == f"certificate expires in 9 days (< 30), on {date}"
    assert [c.name for c in got.values() if not c.ok] == ["certificate expiry"]
    relaxed = named(check_https(NAME, ["127.0.0.20"], net, min_days=7))
    assert relaxed["certificate expiry"].ok


def test_expired(pki: TestPKI, start_server) -> None:
    _, net = serve(start_server, pki, "127.0.0.20", pki.expired)
    got = named(check_https(NAME, ["127.0.0.20"], net))
    assert got["certificate chain"].detail == "not trusted: certificate has expired"
    assert got["certificate expiry"].detail.startswith("certificate expired 2 days ago")


def test_issuer_flag(pki: TestPKI, start_server) -> None:
    _, net = serve(start_server, pki, "127.0.0.10", pki.origin)
    amazon = named(check_https(NAME, ["127.0.0.10"], net))
    assert not amazon["certificate issuer"].ok
    assert amazon["certificate issuer"].detail == (
        "O=Example Origin Trust, CN=Origin Test CA, expected O=Amazon"
    )
    origin = named(
        check_https(NAME, ["127.0.0.10"], net, expected_issuer_org="Example Origin Trust")
    )
    assert all(c.ok for c in origin.values())
    anyone = named(check_https(NAME, ["127.0.0.10"], net, expected_issuer_org=None))
    assert anyone["certificate issuer"].ok


def test_old_protocol_is_identified(pki: TestPKI, start_server) -> None:
    try:
        _, net = serve(start_server, pki, "127.0.0.20", pki.lb, legacy=True)
    except ssl.SSLError as exc:  # pragma: no cover - depends on the OpenSSL build
        pytest.skip(f"local OpenSSL cannot serve TLS 1.1: {exc}")
    got = named(check_https(NAME, ["127.0.0.20"], net))
    if got.get("tls handshake") is not None:  # pragma: no cover - OpenSSL build
        pytest.skip(f"local OpenSSL cannot negotiate TLS 1.1: {got['tls handshake'].detail}")
    assert not got["tls protocol"].ok
    assert got["tls protocol"].detail == "TLSv1.1 negotiated; TLS 1.2 or newer required"
    assert got["certificate chain"].ok  # verified over the old protocol
    assert not got["health"].ok  # a TLS 1.2+ client cannot talk to it


def test_connection_refused(pki: TestPKI) -> None:
    port = free_port("127.0.0.22")
    net = make_net(pins=[("127.0.0.22", 443, "127.0.0.22", port)], bundle=pki.bundle)
    checks = check_https(NAME, ["127.0.0.22"], net)
    assert checks == [
        Check(
            "tls handshake",
            f"{NAME} @ 127.0.0.22:443",
            False,
            f"connection refused at 127.0.0.22:443 (via 127.0.0.22:{port})",
            "https",
        )
    ]


def test_plain_http_where_tls_is_expected(pki: TestPKI, start_server) -> None:
    server = start_server("127.0.0.20", SITE_ROUTES)  # no TLS
    net = make_net(pins=[("127.0.0.20", 443, server.host, server.port)], bundle=pki.bundle)
    [check] = check_https(NAME, ["127.0.0.20"], net)
    assert check.name == "tls handshake"
    assert not check.ok
    assert check.detail.startswith(
        f"TLS handshake failed at 127.0.0.20:443 (via 127.0.0.20:{server.port}): "
    )


def test_server_hanging_up_during_handshake(pki: TestPKI) -> None:
    with socket.socket() as rude:
        rude.bind(("127.0.0.24", 0))
        rude.listen(4)
        port = rude.getsockname()[1]

        def hang_up() -> None:
            for _ in range(2):  # the strict attempt, then the legacy one
                conn, _ = rude.accept()
                conn.close()

        worker = threading.Thread(target=hang_up, daemon=True)
        worker.start()
        net = make_net(pins=[("127.0.0.24", 443, "127.0.0.24", port)], bundle=pki.bundle)
        [check] = check_https(NAME, ["127.0.0.24"], net)
        worker.join(timeout=5)
    assert not check.ok
    assert check.detail.startswith(
        f"TLS handshake failed at 127.0.0.24:443 (via 127.0.0.24:{port}): "
    )


def test_silent_server_times_out(pki: TestPKI) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.23", 0))
        silent.listen(4)  # the kernel accepts; nobody ever speaks TLS
        port = silent.getsockname()[1]
        net = make_net(pins=[("127.0.0.23", 443, "127.0.0.23", port)], bundle=pki.bundle)
        net = replace(net, read_timeout=0.3)
        [check] = check_https(NAME, ["127.0.0.23"], net)
    assert not check.ok
    assert (
        check.detail == f"no TLS handshake within 0.3 s at 127.0.0.23:443 (via 127.0.0.23:{port})"
    )


def test_health_status_matcher(pki: TestPKI, start_server) -> None:
    routes = {
        "/health": Reply(503, b"down\n"),
        "/moved": Reply(302, b"", {"Location": "/elsewhere"}),
    }
    _, net = serve(start_server, pki, "127.0.0.20", pki.lb, routes=routes)
    down = named(check_https(NAME, ["127.0.0.20"], net, health_path="/health"))
    assert not down["health"].ok
    assert down["health"].detail == "GET /health -> 503 (expected 200-399)"
    moved = named(check_https(NAME, ["127.0.0.20"], net, health_path="/moved"))
    assert moved["health"].ok
    strict = named(
        check_https(NAME, ["127.0.0.20"], net, health_path="/moved", expected_status="200")
    )
    assert not strict["health"].ok
    assert strict["health"].detail == "GET /moved -> 302 (expected 200)"


def test_bad_inputs_are_failed_checks() -> None:
    net = NetConfig()
    assert check_https(NAME, [], net) == [
        Check("tls handshake", NAME, False, "no addresses to check", "https")
    ]
    [check] = check_https(NAME, ["lb.example.com"], net)
    assert not check.ok
    assert check.detail == "'lb.example.com' is not an IP address"


def _cert(*names: str) -> CertInfo:
    dns_names = tuple(n for n in names if not n[0].isdigit())
    ips = tuple(n for n in names if n[0].isdigit())
    return CertInfo("x", dns_names, ips, "Amazon", "Amazon RSA 2048 M01", dt.datetime.now(dt.UTC))


@pytest.mark.parametrize(
    ("names", "name", "covered"),
    [
        (("www.example.com",), "WWW.Example.com.", True),
        (("*.example.com",), "www.example.com", True),
        (("*.example.com",), "example.com", False),  # a wildcard is not the apex
        (("*.example.com",), "a.b.example.com", False),  # one label only
        (("*.example.com",), "www.example.org", False),
        (("*.com",), "example.com", False),  # too broad to be honoured
        (("w*.example.com",), "www.example.com", False),  # partial wildcards refused
        (("xn--bcher-kva.example",), "bücher.example", True),
        (("127.0.0.20",), "127.0.0.20", True),
        (("127.0.0.20",), "127.0.0.21", False),
        (("127.0.0.20",), "www.example.com", False),
    ],
)
def test_cert_covers(names: tuple[str, ...], name: str, covered: bool) -> None:
    assert cert_covers(_cert(*names), name) is covered


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("200-399", [200, 301, 399], [199, 400, 503]),
        ("200", [200], [201, 302]),
        ("200,302", [200, 302], [301, 404]),
        ("200-299, 404", [204, 404], [302, 500]),
    ],
)

def test_status_matcher(spec: str, inside: list[int], outside: list[int]) -> None:
    matcher = StatusMatcher(spec)
    assert all(s in matcher for s in inside)
    assert not any(s in matcher for s in outside)


def test_status_matcher_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="invalid status matcher"):
        StatusMatcher("2xx")
