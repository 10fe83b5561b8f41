"""The two composite verifications: the load balancer before the switch, the site after."""

from __future__ import annotations

from collections.abc import Sequence

from migrator.checks.verify.checks import (
    DEFAULT_STATUS,
    check_http_redirect,
    check_https,
    check_parity,
)
from migrator.checks.verify.dnscheck import check_dns, check_lb_resolves
from migrator.checks.verify.model import Check
from migrator.net.config import NetConfig
from migrator.net.dns import lookup_recursive

__all__ = ["verify_load_balancer", "verify_site"]


def verify_load_balancer(
    lb_dns_name: str,
    names: Sequence[str],
    health_path: str,
    net: NetConfig,
    *,
    expected_issuer_org: str | None = "Amazon",
    min_days: int = 30,
    expected_status: str = DEFAULT_STATUS,
    check_redirect: bool = True,
) -> list[Check]:
    """Pre-switch: resolve the load balancer, then for each name run the HTTPS
    checks (and the HTTP redirect check) against every load balancer address with
    SNI and Host = that name. DNS of the site itself is not looked at.
    """
    lb = lookup_recursive(lb_dns_name, net)
    checks = [check_lb_resolves(lb_dns_name, net, lb)]
    if not lb.addresses:
        return checks
    for name in names:
        checks += check_https(
            name,
            lb.addresses,
            net,
            health_path=health_path,
            expected_issuer_org=expected_issuer_org,
            min_days=min_days,
            expected_status=expected_status,
        )
    if check_redirect:
        for name in names:
            checks += check_http_redirect(name, lb.addresses, net)
    return checks


def verify_site(
    names: Sequence[str],
    lb_dns_name: str,
    zone_nameservers: Sequence[str],
    origin_address: str | None,
    health_path: str,
    net: NetConfig,
    *,
    parity_paths: Sequence[str] | None = None,
    expected_issuer_org: str | None = "Amazon",
    min_days: int = 30,
    expected_status: str = DEFAULT_STATUS,
) -> list[Check]:
    """Post-switch, everything: DNS (authoritative and recursive) points at the load
    balancer; HTTPS and the HTTP redirect work at every address each name resolves
    to; and, when *origin_address* is given, the origin and the load balancer answer
    *parity_paths* (default ``/`` and *health_path*) alike.
    """
    lb = lookup_recursive(lb_dns_name, net)
    checks = check_dns(names, lb_dns_name, zone_nameservers, net, lb_lookup=lb)
    resolved = {name: lookup_recursive(name, net) for name in names}
    # grouped by category (all HTTPS, then all HTTP) so the table reads in sections
    for name, found in resolved.items():
        if not found.addresses:
            reason = found.error or ("NXDOMAIN" if found.nxdomain else "no A/AAAA records")
            checks.append(
                Check("tls handshake", name, False, f"name does not resolve: {reason}", "https")
            )
            continue
        checks += check_https(
            name,
            found.addresses,
            net,
            health_path=health_path,
            expected_issuer_org=expected_issuer_org,
            min_days=min_days,
            expected_status=expected_status,
        )
    for name, found in resolved.items():
        if found.addresses:
            checks += check_http_redirect(name, found.addresses, net)
    if origin_address and lb.addresses:
        paths = list(parity_paths) if parity_paths is not None else ["/", health_path]
        paths = list(dict.fromkeys(paths))
        for name in names:
            checks += check_parity(name, origin_address, lb.addresses, paths, net)
    return checks
