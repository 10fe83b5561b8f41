"""Plain-HTTP redirect and origin/load-balancer parity checks on loopback."""

from __future__ import annotations

from migrator.checks.verify import check_http_redirect, check_parity
from migrator.checks.verify.model import Check
from tests.support.verify.fixtures import (
    SITE_ROUTES,
    World,
    loopback_only,
    make_net,
    pki,
    site_world,
    start_dns,
    start_server,
)
from tests.support.web_server import Reply

__all__ = ["loopback_only", "pki", "site_world", "start_dns", "start_server"]

NAME = "www.example.com"
LB = "127.0.0.20"


def redirect_net(start_server, routes):
    server = start_server(LB, routes)
    return server, make_net(pins=[(LB, 80, server.host, server.port)])


def test_redirect_to_https_passes(start_server) -> None:
    server, net = redirect_net(
        start_server, {"/": Reply(301, b"", {"Location": "https://{host}{path}"})}
    )
    assert check_http_redirect(NAME, [LB], net) == [
        Check("http redirect", f"{NAME} @ {LB}:80", True, f"301 -> https://{NAME}/", "http")
    ]
    assert server.requests == [(NAME, "/")]  # Host = the name, port 80 not spelled out


def test_no_redirect_fails(start_server) -> None:
    _, net = redirect_net(start_server, SITE_ROUTES)
    [check] = check_http_redirect(NAME, [LB], net)
    assert not check.ok
    assert check.detail == f"GET / -> 200, expected 301 -> https://{NAME}/"


def test_temporary_redirect_fails(start_server) -> None:
    _, net = redirect_net(start_server, {"/": Reply(302, b"", {"Location": f"https://{NAME}/"})})
    [check] = check_http_redirect(NAME, [LB], net)
    assert not check.ok
    assert check.detail == f"GET / -> 302 -> https://{NAME}/, expected 301 -> https://{NAME}/"


def test_redirect_to_the_wrong_place_fails(start_server) -> None:
    for location in (f"http://{NAME}/", "https://example.org/", f"https://{NAME}:8443/", ""):
        headers = {"Location": location} if location else {}
        server, net = redirect_net(start_server, {"/": Reply(301, b"", headers)})
        [check] = check_http_redirect(NAME, [LB], net)
        assert not check.ok, location
        assert check.detail == (
            f"301 -> {location or '(no Location)'}, expected https://{NAME}/..."
        )
        server.stop()


def test_redirect_connection_refused_is_reported(start_server) -> None:
    from tests.support.loopback import free_port

    port = free_port(LB)
    net = make_net(pins=[(LB, 80, LB, port)])
    [check] = check_http_redirect(NAME, [LB], net)
    assert not check.ok
    assert check.detail == f"connection refused at {LB}:80 (via {LB}:{port})"
    assert check_http_redirect(NAME, [], net)[0].detail == "no addresses to check"


def test_parity_same_site(site_world: World) -> None:
    checks = check_parity(
        NAME, site_world.origin_ip, list(site_world.lb_ips), ["/", "/health"], site_world.net()
    )
    assert [(c.name, c.target, c.ok) for c in checks] == [
        ("parity GET /", f"{NAME} @ 127.0.0.20:443", True),
        ("parity GET /", f"{NAME} @ 127.0.0.21:443", True),
        ("parity GET /health", f"{NAME} @ 127.0.0.20:443", True),
        ("parity GET /health", f"{NAME} @ 127.0.0.21:443", True),
    ]
    body = checks[0].detail
    assert body.startswith("origin 200 sha256:")
    origin_hash = body.split()[2].rstrip(",")
    assert body == f"origin 200 {origin_hash}, load balancer 200 {origin_hash}"
    assert checks[2].detail == "origin 200, load balancer 200"  # status only off "/"
    assert (NAME, "/") in site_world.origin.requests
    assert set(site_world.origin.sni) == {NAME}


def test_parity_body_differs(site_world: World, start_server, pki) -> None:
    changed = dict(SITE_ROUTES)
    changed["/"] = Reply(200, b"<h1>a different page</h1>\n")
    other = start_server("127.0.0.21", changed, pki.lb)
    site_world.pin("127.0.0.21", 443, other)
    checks = check_parity(
        NAME, site_world.origin_ip, list(site_world.lb_ips), ["/"], site_world.net()
    )
    assert [c.ok for c in checks] == [True, False]
    assert checks[1].detail.startswith("body differs: origin 200 sha256:")
    hashes = [w.rstrip(",") for w in checks[1].detail.split() if w.startswith("sha256:")]
    assert len(hashes) == 2 and hashes[0] != hashes[1]


def test_parity_status_differs(site_world: World, start_server, pki) -> None:
    broken = {"/": SITE_ROUTES["/"], "/health": Reply(502, b"bad gateway\n")}
    other = start_server("127.0.0.20", broken, pki.lb)
    site_world.pin("127.0.0.20", 443, other)
    checks = check_parity(
        NAME, site_world.origin_ip, ["127.0.0.20"], ["/", "/health"], site_world.net()
    )
    assert [c.ok for c in checks] == [True, False]
    assert checks[1].detail == "status differs: origin 200, load balancer 502"


def test_parity_unreachable_sides(site_world: World) -> None:
    site_world.pin("127.0.0.21", 443, None)
    checks = check_parity(
        NAME, site_world.origin_ip, list(site_world.lb_ips), ["/"], site_world.net()
    )
    assert [c.ok for c in checks] == [True, False]
    assert checks[1].detail.startswith("load balancer: connection refused at 127.0.0.21:443")
    site_world.pin("127.0.0.10", 443, None)
    checks = check_parity(NAME, site_world.origin_ip, ["127.0.0.20"], ["/"], site_world.net())
    assert [c.ok for c in checks] == [False]
    assert checks[0].detail.startswith("origin: connection refused at 127.0.0.10:443")
