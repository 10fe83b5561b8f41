"""Verification library: prove, with evidence, that a site is served correctly.

It checks DNS (authoritative and recursive answers equal the load balancer's),
HTTPS at every address (protocol, chain, name, issuer, expiry, health), the plain
HTTP redirect, and origin/load-balancer parity. It takes plain data (names,
addresses, DNS names) and a :class:`~migrator.net.config.NetConfig`; it never
imports boto3, never prints (except :func:`render_checks`) and never raises on
network failure: a failure is a failed :class:`Check` carrying the reason. The look-ups it
re-exports (``resolve_fresh``, ``resolve_authoritative``) are :mod:`migrator.net.dns`'s.
"""

from migrator.checks.render import render_checks, summary_line
from migrator.checks.verify.checks import check_http_redirect, check_https, check_parity
from migrator.checks.verify.dnscheck import check_dns
from migrator.checks.verify.model import Check, all_passed, checks_to_dict, checks_to_json
from migrator.checks.verify.site import verify_load_balancer, verify_site
from migrator.net.dns import LookupFailed, resolve_authoritative, resolve_fresh

__all__ = [
    "Check",
    "LookupFailed",
    "all_passed",
    "check_dns",
    "check_http_redirect",
    "check_https",
    "check_parity",
    "checks_to_dict",
    "checks_to_json",
    "render_checks",
    "resolve_authoritative",
    "resolve_fresh",
    "summary_line",
    "verify_load_balancer",
    "verify_site",
]
