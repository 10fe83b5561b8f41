"""DNS checks: do the site's names point at the load balancer, authoritatively and in caches?

The look-ups themselves are :mod:`migrator.net.dns`'s; this module judges their answers against
the load balancer's and says so as :class:`~migrator.checks.verify.model.Check` results.
"""

from __future__ import annotations

from collections.abc import Sequence

from migrator.checks.verify.model import Check
from migrator.net.config import NetConfig
from migrator.net.dns import (
    Lookup,
    describe_servers,
    lookup_authoritative,
    lookup_recursive,
    normalize_name,
)

__all__ = ["check_dns", "check_lb_resolves"]


# -- checks -------------------------------------------------------------------------


def _matches_lb(found: Lookup, lb: Lookup) -> bool:
    """Same IPv4 set as the load balancer, and the same IPv6 set if the name has any."""
    if not (found.v4 or found.v6):
        return False
    if set(found.v4) != set(lb.v4):
        return False
    return not found.v6 or set(found.v6) == set(lb.v6)


def check_lb_resolves(lb_dns_name: str, net: NetConfig, lookup: Lookup | None = None) -> Check:
    """The load balancer's DNS name resolves to at least one address."""
    lb = lookup or lookup_recursive(lb_dns_name, net)
    if lb.error:
        detail, ok = f"lookup failed: {lb.error}", False
    elif lb.nxdomain:
        detail, ok = "NXDOMAIN", False
    elif not lb.addresses:
        detail, ok = "no A/AAAA records", False
    else:
        ttl = f" (TTL {lb.ttl} s)" if lb.ttl is not None else ""
        detail, ok = lb.describe() + ttl, True
    return Check("load balancer resolves", lb_dns_name, ok, detail, "dns")


def _check_authoritative(name: str, auth: Lookup, lb: Lookup, lb_dns_name: str) -> Check:
    title = "authoritative answer"
    if auth.error:
        return Check(title, name, False, f"no answer: {auth.error}", "dns")
    source = f"{auth.server}, {'authoritative' if auth.authoritative else 'NOT authoritative'}"
    if not auth.authoritative:
        return Check(
            title,
            name,
            False,
            f"{auth.server} answered without the AA flag ({auth.describe()})",
            "dns",
        )
    if auth.nxdomain:
        return Check(title, name, False, f"NXDOMAIN ({source})", "dns")
    if auth.cname and not auth.addresses:
        if auth.cname == normalize_name(lb_dns_name):
            return Check(title, name, True, f"CNAME to the load balancer ({source})", "dns")
        return Check(
            title, name, False, f"CNAME {auth.cname}, not the load balancer ({source})", "dns"
        )
    if not auth.addresses:
        return Check(title, name, False, f"no A/AAAA records ({source})", "dns")
    if lb.error or not lb.addresses:
        return Check(title, name, False, f"{auth.describe()}; load balancer address unknown", "dns")
    if _matches_lb(auth, lb):
        return Check(title, name, True, f"{auth.describe()} = load balancer ({source})", "dns")
    return Check(
        title,
        name,
        False,
        f"{auth.describe()}, but load balancer has {lb.describe()} ({source})",
        "dns",
    )


def _check_recursive(
    name: str, rec: Lookup, lb: Lookup, lb_dns_name: str, auth_ok: bool, net: NetConfig
) -> Check:
    title = "recursive answer"
    if rec.error:
        return Check(title, name, False, f"lookup failed: {rec.error}", "dns")
    if rec.nxdomain:
        return Check(title, name, False, f"NXDOMAIN (asked {describe_servers(net)})", "dns")
    if not rec.addresses:
        return Check(title, name, False, "no A/AAAA records", "dns")
    if lb.error or not lb.addresses:
        return Check(title, name, False, f"{rec.describe()}; load balancer address unknown", "dns")
    ttl = f"TTL {rec.ttl} s" if rec.ttl is not None else "TTL unknown"
    if _matches_lb(rec, lb):
        return Check(title, name, True, f"{rec.describe()} = load balancer ({ttl})", "dns")
    if auth_ok:
        left = f"{rec.ttl} s left" if rec.ttl is not None else "TTL unknown"
        return Check(
            title,
            name,
            False,
            f"cache still holds old value {rec.describe()}, {left} "
            f"(load balancer: {lb.describe()})",
            "dns",
        )
    return Check(
        title,
        name,
        False,
        f"{rec.describe()}, not the load balancer ({lb.describe()}; {ttl})",
        "dns",
    )


def check_dns(
    names: Sequence[str],
    lb_dns_name: str,
    zone_nameservers: Sequence[str],
    net: NetConfig,
    *,
    lb_lookup: Lookup | None = None,
) -> list[Check]:
    """For each name: authoritative and recursive answers equal the load balancer's.

    Returns one "load balancer resolves" check, then per name an
    "authoritative answer" and a "recursive answer" check (category ``dns``).
    """
    lb = lb_lookup or lookup_recursive(lb_dns_name, net)
    checks = [check_lb_resolves(lb_dns_name, net, lb)]
    for name in names:
        auth = lookup_authoritative(name, zone_nameservers, net)
        auth_check = _check_authoritative(name, auth, lb, lb_dns_name)
        checks.append(auth_check)
        rec = lookup_recursive(name, net)
        checks.append(_check_recursive(name, rec, lb, lb_dns_name, auth_check.ok, net))
    return checks
