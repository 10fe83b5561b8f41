"""HTTPS, HTTP-redirect and parity checks against explicit addresses.

Each function takes a site name and the addresses to test, talks to every address
separately (a load balancer has several; one bad node is a failure), and returns
:class:`~migrator.checks.verify.model.Check` results. Network trouble is a failed check
with the reason, never an exception.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from migrator.checks.verify.model import Check
from migrator.net.config import NetConfig, format_hostport
from migrator.net.http import Fetched, StatusMatcher, fetch
from migrator.net.tls import MODERN_PROTOCOLS, Handshake, cert_covers, probe_tls

__all__ = ["check_http_redirect", "check_https", "check_parity", "target_label"]

DEFAULT_STATUS = "200-399"


def target_label(name: str, address: str, port: int) -> str:
    """``www.example.com @ 127.0.0.20:443`` - the Target column."""
    return f"{name} @ {format_hostport(address, port)}"


def _bad_address(address: str) -> str | None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return f"{address!r} is not an IP address"
    return None


def _days(seconds: float) -> str:
    days = int(seconds // 86400)
    return f"{days} day" if days == 1 else f"{days} days"


def _certificate_checks(
    hs: Handshake,
    name: str,
    target: str,
    net: NetConfig,
    expected_issuer_org: str | None,
    min_days: int,
    now: datetime,
) -> list[Check]:
    out: list[Check] = []
    if hs.chain_ok:
        out.append(
            Check("certificate chain", target, True, f"trusted ({net.describe_trust()})", "https")
        )
    else:
        out.append(
            Check("certificate chain", target, False, f"not trusted: {hs.chain_error}", "https")
        )
    cert = hs.cert
    if cert is None:
        reason = "not checked: the certificate could not be read"
        for title in ("certificate name", "certificate issuer", "certificate expiry"):
            out.append(Check(title, target, False, reason, "https"))
        return out

    shown = ", ".join(cert.names) or "no subjectAltName"
    if len(shown) > 120:
        shown = shown[:117] + "..."
    if cert_covers(cert, name):
        out.append(Check("certificate name", target, True, f"{name} in {shown}", "https"))
    else:
        out.append(
            Check("certificate name", target, False, f"{name} not covered by {shown}", "https")
        )

    if expected_issuer_org is None:
        out.append(Check("certificate issuer", target, True, f"{cert.issuer} (any)", "https"))
    elif (cert.issuer_org or "").casefold() == expected_issuer_org.casefold():
        out.append(Check("certificate issuer", target, True, cert.issuer, "https"))
    else:
        out.append(
            Check(
                "certificate issuer",
                target,
                False,
                f"{cert.issuer}, expected O={expected_issuer_org}",
                "https",
            )
        )

    left = (cert.not_after - now).total_seconds()
    date = cert.not_after.strftime("%Y-%m-%d")
    if left < 0:
        detail = f"certificate expired {_days(-left)} ago ({date})"
        out.append(Check("certificate expiry", target, False, detail, "https"))
    elif left < min_days * 86400:
        detail = f"certificate expires in {_days(left)} (< {min_days}), on {date}"
        out.append(Check("certificate expiry", target, False, detail, "https"))
    else:
        detail = f"expires {date}, in {_days(left)}"
        out.append(Check("certificate expiry", target, True, detail, "https"))
    return out


def check_https(
    name: str,
    addresses: Sequence[str],
    net: NetConfig,
    *,
    health_path: str = "/",
    expected_issuer_org: str | None = "Amazon",
    min_days: int = 30,
    expected_status: str = DEFAULT_STATUS,
    port: int = 443,
) -> list[Check]:
    """TLS and health of *name* at every address, SNI and Host = *name*.

    Per address: "tls protocol", "certificate chain", "certificate name",
    "certificate issuer" (``expected_issuer_org=None`` accepts any issuer),
    "certificate expiry" (fails under *min_days*) and "health" (GET *health_path*
    answered with a status in *expected_status*, a target-group style matcher).
    An address that cannot be reached yields a single failed "tls handshake".
    """
    matcher = StatusMatcher(expected_status)
    now = datetime.now(UTC)
    if not addresses:
        return [Check("tls handshake", name, False, "no addresses to check", "https")]
    out: list[Check] = []
    for address in addresses:
        target = target_label(name, address, port)
        bad = _bad_address(address)
        if bad:
            out.append(Check("tls handshake", target, False, bad, "https"))
            continue
        hs = probe_tls(name, address, port, net)
        if hs.error:
            out.append(Check("tls handshake", target, False, hs.error, "https"))
            continue
        if hs.version in MODERN_PROTOCOLS:
            detail = f"{hs.version}, {hs.cipher}" if hs.cipher else str(hs.version)
            out.append(Check("tls protocol", target, True, detail, "https"))
        else:
            detail = f"{hs.version or 'unknown'} negotiated; TLS 1.2 or newer required"
            out.append(Check("tls protocol", target, False, detail, "https"))
        out.extend(_certificate_checks(hs, name, target, net, expected_issuer_org, min_days, now))
        got = fetch("https", name, address, port, health_path, net)
        if got.error:
            detail = f"GET {health_path} failed: {got.error}"
            out.append(Check("health", target, False, detail, "https"))
        else:
            ok = got.status in matcher
            detail = f"GET {health_path} -> {got.status} (expected {matcher})"
            out.append(Check("health", target, ok, detail, "https"))
    return out


def _redirect_ok(location: str, name: str) -> bool:
    try:
        parts = urlsplit(location)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and (parts.hostname or "").rstrip(".") == name.rstrip(".").lower()
        and port in (None, 443)
        and (parts.path == "" or parts.path.startswith("/"))
    )


def check_http_redirect(
    name: str,
    addresses: Sequence[str],
    net: NetConfig,
    *,
    path: str = "/",
    port: int = 80,
) -> list[Check]:
    """Plain HTTP at every address answers 301 with ``Location: https://NAME/...``.

    One "http redirect" check per address, category ``http``.
    """
    if not addresses:
        return [Check("http redirect", name, False, "no addresses to check", "http")]
    out: list[Check] = []
    for address in addresses:
        target = target_label(name, address, port)
        got = fetch("http", name, address, port, path, net)
        if got.error:
            out.append(Check("http redirect", target, False, got.error, "http"))
            continue
        location = got.headers.get("location", "")
        wanted = f"301 -> https://{name}{path}"
        if got.status == 301 and _redirect_ok(location, name):
            out.append(Check("http redirect", target, True, f"301 -> {location}", "http"))
        elif got.status == 301:
            detail = f"301 -> {location or '(no Location)'}, expected https://{name}/..."
            out.append(Check("http redirect", target, False, detail, "http"))
        else:
            moved = f" -> {location}" if location else ""
            detail = f"GET {path} -> {got.status}{moved}, expected {wanted}"
            out.append(Check("http redirect", target, False, detail, "http"))
    return out


def _summary(got: Fetched, with_body: bool) -> str:
    if with_body:
        return f"{got.status} {got.short_hash()}"
    return str(got.status)


def check_parity(
    name: str,
    origin_address: str,
    lb_addresses: Sequence[str],
    paths: Sequence[str],
    net: NetConfig,
    *,
    body_paths: Sequence[str] = ("/",),
    port: int = 443,
) -> list[Check]:
    """The origin and every load balancer address answer each path alike.

    One "parity GET PATH" check per (path, load balancer address), category
    ``parity``: same status, and for paths in *body_paths* the same body (SHA-256).
    Both requests use SNI and Host = *name* and verify the certificate.
    """
    if not lb_addresses:
        return [Check("parity", name, False, "no load balancer addresses to compare", "parity")]
    out: list[Check] = []
    for path in paths:
        with_body = path in body_paths
        title = f"parity GET {path}"
        origin = fetch("https", name, origin_address, port, path, net, want_body=with_body)
        for address in lb_addresses:
            target = target_label(name, address, port)
            if origin.error:
                out.append(Check(title, target, False, f"origin: {origin.error}", "parity"))
                continue
            lb = fetch("https", name, address, port, path, net, want_body=with_body)
            if lb.error:
                out.append(Check(title, target, False, f"load balancer: {lb.error}", "parity"))
                continue
            both = f"origin {_summary(origin, with_body)}, load balancer {_summary(lb, with_body)}"
            if origin.status != lb.status:
                out.append(Check(title, target, False, f"status differs: {both}", "parity"))
            elif with_body and origin.sha256 != lb.sha256:
                out.append(Check(title, target, False, f"body differs: {both}", "parity"))
            else:
                out.append(Check(title, target, True, both, "parity"))
    return out
