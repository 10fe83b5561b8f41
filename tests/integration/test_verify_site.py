"""End-to-end verification on loopback, the table, the JSON, and the loopback guard."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys

import pytest
from rich.console import Console

from migrator.checks.verify import (
    Check,
    all_passed,
    checks_to_json,
    render_checks,
    verify_load_balancer,
    verify_site,
)
from tests.support.verify.fixtures import (
    LB_NAME,
    World,
    loopback_only,
    pki,
    site_world,
    start_dns,
    start_server,
)

__all__ = ["loopback_only", "pki", "site_world", "start_dns", "start_server"]


def run_site(w: World, origin: str | None = "127.0.0.10") -> list[Check]:
    return verify_site(w.names, w.lb_name, w.zone_ns, origin, "/health", w.net())


def test_verify_site_all_green(site_world: World) -> None:
    checks = run_site(site_world)
    failed = [c for c in checks if not c.ok]
    assert not failed, failed
    assert all_passed(checks)
    counts = {cat: sum(c.category == cat for c in checks) for cat in ("dns", "https", "http")}
    # 1 LB + 2 names x (authoritative, recursive); 2 names x 2 addresses x 6; 2 x 2
    assert counts == {"dns": 5, "https": 24, "http": 4}
    # 2 names x 2 paths ("/" and the health path) x 2 load balancer addresses
    assert sum(c.category == "parity" for c in checks) == 8
    # categories come in order, so the table groups them
    order = [c.category for c in checks]
    assert order == sorted(order, key=["dns", "https", "http", "parity"].index)


def test_verify_site_before_the_switch_fails_everywhere_it_should(
    site_world: World, start_server
) -> None:
    # www still points at the origin: the zone, and so the caches
    site_world.dns.zone["www.example.com"] = {"A": (["127.0.0.10"], 300)}
    site_world.pin("127.0.0.10", 80, None)  # the origin has no port 80 here
    checks = run_site(site_world)
    bad = {(c.name, c.target) for c in checks if not c.ok}
    assert bad == {
        ("authoritative answer", "www.example.com"),
        ("recursive answer", "www.example.com"),
        ("certificate issuer", "www.example.com @ 127.0.0.10:443"),
        ("http redirect", "www.example.com @ 127.0.0.10:80"),
    }
    assert not all_passed(checks)


def test_verify_site_without_origin_skips_parity(site_world: World) -> None:
    checks = run_site(site_world, origin=None)
    assert all_passed(checks)
    assert not any(c.category == "parity" for c in checks)


def test_verify_site_name_that_does_not_resolve(site_world: World) -> None:
    checks = verify_site(
        ["shop.example.com"], LB_NAME, site_world.zone_ns, None, "/health", site_world.net()
    )
    https = [c for c in checks if c.category == "https"]
    assert https == [
        Check(
            "tls handshake", "shop.example.com", False, "name does not resolve: NXDOMAIN", "https"
        )
    ]


def test_verify_load_balancer(site_world: World) -> None:
    checks = verify_load_balancer(LB_NAME, site_world.names, "/health", site_world.net())
    assert all_passed(checks), [c for c in checks if not c.ok]
    assert checks[0].name == "load balancer resolves"
    assert len(checks) == 1 + 2 * (2 * 6 + 2)
    assert not any(c.category in ("dns", "parity") for c in checks[1:])
    # SNI = each name in turn, on every load balancer node
    for server in site_world.lb_https:
        assert set(server.sni) == {"www.example.com", "example.com"}


def test_verify_load_balancer_catches_a_bad_node(site_world: World, start_server) -> None:
    site_world.pin("127.0.0.21", 443, start_server("127.0.0.21", {}, site_world.pki.expiring))
    checks = verify_load_balancer(
        LB_NAME, ["www.example.com"], "/health", site_world.net(), check_redirect=False
    )
    bad = [(c.name, c.target) for c in checks if not c.ok]
    assert bad == [
        ("certificate expiry", "www.example.com @ 127.0.0.21:443"),
        ("health", "www.example.com @ 127.0.0.21:443"),
    ]


def test_verify_load_balancer_that_does_not_resolve(site_world: World) -> None:
    checks = verify_load_balancer(
        "gone.elb.amazonaws.com", ["x.example.com"], "/", site_world.net()
    )
    assert checks == [
        Check("load balancer resolves", "gone.elb.amazonaws.com", False, "NXDOMAIN", "dns")
    ]


# -- rendering -----------------------------------------------------------------------


SAMPLE = [
    Check("load balancer resolves", LB_NAME, True, "A 127.0.0.20, 127.0.0.21 (TTL 60 s)", "dns"),
    Check(
        "recursive answer",
        "www.example.com",
        False,
        "cache still holds old value A 127.0.0.10, 240 s left "
        "(load balancer: A 127.0.0.20, 127.0.0.21)",
        "dns",
    ),
    Check(
        "certificate expiry",
        "www.example.com @ 127.0.0.20:443",
        False,
        "certificate expires in 12 days (< 30), on 2030-01-01",
        "https",
    ),
    Check(
        "http redirect",
        "www.example.com @ 127.0.0.20:80",
        True,
        "301 -> https://www.example.com/",
        "http",
    ),
]


def render(checks: list[Check], **console_kw: object) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, **console_kw)  # type: ignore[arg-type]
    render_checks(console, checks)
    return buffer.getvalue()


def test_table_fits_80_columns_and_reads_without_colour() -> None:
    text = render(SAMPLE, color_system=None)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "\x1b[" not in text
    assert sum("PASS" in line for line in lines) == 2
    assert sum("FAIL" in line for line in lines) == 2
    assert lines[-1] == "4 checks: 2 passed, 2 failed"
    words = set(text.split())
    for check in SAMPLE:  # long cells wrap at spaces; nothing is cut off
        assert set(check.detail.split()) <= words, check.detail
        assert set(check.name.split()) <= words, check.name
    assert "www.example.com @ 127.0.0.20:443" in text
    assert "…" not in text  # no ellipsis anywhere


def test_no_color_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = render(SAMPLE, force_terminal=True, color_system="standard")
    assert "\x1b[31m" in coloured or "\x1b[1;31m" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    plain = render(SAMPLE, force_terminal=True, color_system="standard")
    assert "\x1b[31m" not in plain and "\x1b[1;31m" not in plain
    assert "FAIL" in plain


def test_summary_when_all_pass() -> None:
    text = render(SAMPLE[:1], color_system=None)
    assert text.splitlines()[-1] == "1 check: all passed"


def test_checks_to_json() -> None:
    doc = json.loads(checks_to_json(SAMPLE))
    assert doc["ok"] is False
    assert (doc["passed"], doc["failed"]) == (2, 2)
    assert doc["checks"][1] == {
        "name": "recursive answer",
        "target": "www.example.com",
        "ok": False,
        "detail": SAMPLE[1].detail,
        "category": "dns",
    }
    assert json.loads(checks_to_json(SAMPLE[:1]))["ok"] is True
    assert json.loads(checks_to_json([]))["ok"] is False  # nothing verified is not a pass


# -- the guard the other tests rely on ------------------------------------------------


def test_loopback_guard_refuses_and_reports(loopback_only: list[str]) -> None:
    with socket.socket() as sock, pytest.raises(PermissionError):
        sock.connect(("127.0.0.1", 443))  # low port: a connect-to rule was missed
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(PermissionError):
        udp.sendto(b"x", ("192.0.2.1", 5353))
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    assert len(loopback_only) == 3
    loopback_only.clear()  # expected violations; the fixture would fail the test otherwise


def test_library_does_not_import_boto3() -> None:
    code = (
        "import sys, migrator.net.config, migrator.checks.verify;"
        "sys.exit(1 if 'boto3' in sys.modules or 'botocore' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
