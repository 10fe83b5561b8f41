"""DNS checks: do the site's names point at the load balancer, authoritatively and in caches?

Every query goes through :class:`~migrator.net.config.NetConfig`: when
``MIGRATOR_NAMESERVERS`` is set, both the recursive and the authoritative questions
go to those servers only (authoritative ones without the RD bit, and the answer
must carry the AA flag). Otherwise recursive questions use the system resolver and
authoritative ones go straight to the hosted zone's own name servers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from migrator.checks.verify.model import Check
from migrator.net.config import NetConfig, format_hostport

__all__ = [
    "LookupFailed",
    "check_dns",
    "resolve_authoritative",
    "resolve_fresh",
]

_MAX_CNAME_HOPS = 8


class LookupFailed(Exception):
    """A DNS question got no usable answer (timeout, SERVFAIL, no servers)."""


@dataclass(frozen=True)
class Lookup:
    """Addresses of one name. ``error`` set means the lookup itself failed."""

    name: str
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    ttl: int | None = None
    error: str | None = None
    nxdomain: bool = False
    server: str | None = None  # which server answered (authoritative lookups)
    authoritative: bool = False
    cname: str | None = None  # out-of-answer CNAME target, authoritative lookups only

    @property
    def addresses(self) -> list[str]:
        return [*self.v4, *self.v6]

    def describe(self) -> str:
        parts = []
        if self.v4:
            parts.append("A " + ", ".join(self.v4))
        if self.v6:
            parts.append("AAAA " + ", ".join(self.v6))
        if self.cname:
            parts.append(f"CNAME {self.cname}")
        return "; ".join(parts) or "no A/AAAA records"


# -- names ------------------------------------------------------------------------


def _norm(name: str) -> str:
    """Lower-case, IDNA-encoded, no trailing dot."""
    return dns.name.from_text(name).to_text(omit_final_dot=True).lower()


def _sorted_addresses(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=lambda a: ipaddress.ip_address(a)))


def _describe_servers(net: NetConfig) -> str:
    if net.nameservers:
        return ", ".join(str(ns) for ns in net.nameservers)
    return "the system resolver"


def _dns_error_text(exc: BaseException, net: NetConfig) -> str:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "NXDOMAIN"
    if isinstance(exc, dns.exception.Timeout):
        return f"timed out after {net.dns_timeout:g} s asking {_describe_servers(net)}"
    if isinstance(exc, dns.resolver.NoNameservers):
        return f"no usable answer from {_describe_servers(net)} (SERVFAIL or refused)"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return "no name servers configured"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


# -- recursive ----------------------------------------------------------------------


def lookup_recursive(name: str, net: NetConfig) -> Lookup:
    """A and AAAA for *name* through a fresh, cache-less resolver."""
    res = net.resolver()
    qname = dns.name.from_text(name)
    found: dict[str, list[str]] = {"A": [], "AAAA": []}
    ttls: list[int] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = res.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return Lookup(name=name, nxdomain=True)
        except dns.exception.DNSException as exc:
            if rdtype == "AAAA" and found["A"]:
                break  # IPv4 answer is enough; a broken AAAA path is not our question
            return Lookup(name=name, error=_dns_error_text(exc, net))
        if answer.rrset is not None:
            found[rdtype] = [r.address for r in answer.rrset]
            ttls.append(answer.rrset.ttl)
    return Lookup(
        name=name,
        v4=_sorted_addresses(found["A"]),
        v6=_sorted_addresses(found["AAAA"]),
        ttl=min(ttls) if ttls else None,
    )


def resolve_fresh(name: str, net: NetConfig) -> list[str]:
    """Current addresses of *name* (A then AAAA), asked anew with no cache.

    Returns ``[]`` for NXDOMAIN or no records; raises :class:`LookupFailed` when no
    server gave an answer, so a poller can tell "not yet" from "cannot tell".
    """
    result = lookup_recursive(name, net)
    if result.error:
        raise LookupFailed(f"{name}: {result.error}")
    return result.addresses


# -- authoritative ------------------------------------------------------------------


def _authoritative_servers(
    zone_nameservers: Sequence[str], net: NetConfig
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """(address, port, label) of the servers to ask, and reasons some are missing."""
    if net.nameservers:
        return [(ns.address, ns.port, str(ns)) for ns in net.nameservers], []
    servers: list[tuple[str, int, str]] = []
    problems: list[str] = []
    for host in zone_nameservers:
        try:
            ip = str(ipaddress.ip_address(host.strip("[]")))
            servers.append((ip, 53, format_hostport(ip, 53)))
            continue
        except ValueError:
            pass
        lookup = lookup_recursive(host, net)
        if not lookup.v4:
            problems.append(f"{host}: {lookup.error or 'no address'}")
        for ip in lookup.v4:
            servers.append((ip, 53, f"{host.rstrip('.')} ({ip})"))
    if not servers and not problems:
        problems.append("the zone has no name servers")
    return servers, problems


def _follow(
    response: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> tuple[list[str], int | None, str | None]:
    """Addresses for *qname* in the answer section, following CNAMEs inside it."""
    current = qname
    for _ in range(_MAX_CNAME_HOPS):
        rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, rdtype)
        if rrset is not None:
            return [r.address for r in rrset], rrset.ttl, None
        cname = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None:
            break
        current = cname[0].target
    target = None if current == qname else current.to_text(omit_final_dot=True).lower()
    return [], None, target


def _ask_authoritative(
    qname: dns.name.Name, rdtype: dns.rdatatype.RdataType,
    servers: Sequence[tuple[str, int, str]], net: NetConfig,
) -> tuple[dns.message.Message | None, str, list[str]]:
    query = dns.message.make_query(qname, rdtype)
    query.flags &= ~dns.flags.RD
    problems: list[str] = []
    for address, port, label in servers:
        try:
            response = dns.query.udp(
                query, address, port=port, timeout=net.dns_timeout, ignore_unexpected=True
            )
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(query, address, port=port, timeout=net.dns_timeout)
        except dns.exception.Timeout:
            problems.append(f"{label}: timed out after {net.dns_timeout:g} s")
            continue
        except (OSError, dns.exception.DNSException) as exc:
            problems.append(f"{label}: {exc}")
            continue
        rcode = response.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            problems.append(f"{label}: {dns.rcode.to_text(rcode)}")
            continue
        return response, label, problems
    return None, "", problems


def lookup_authoritative(name: str, zone_nameservers: Sequence[str], net: NetConfig) -> Lookup:
    """A and AAAA for *name* as the zone's own servers answer them (RD off)."""
    servers, problems = _authoritative_servers(zone_nameservers, net)
    if not servers:
        return Lookup(name=name, error="; ".join(problems))
    qname = dns.name.from_text(name)
    found: dict[int, list[str]] = {}
    ttls: list[int] = []
    label = ""
    authoritative = True
    cname: str | None = None
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        response, answered_by, more = _ask_authoritative(qname, rdtype, servers, net)
        if response is None:
            if rdtype == dns.rdatatype.AAAA and found.get(dns.rdatatype.A):
                break  # as for recursive look-ups: the IPv4 answer stands on its own
            return Lookup(name=name, error="; ".join(problems + more))
        label = answered_by
        authoritative = authoritative and bool(response.flags & dns.flags.AA)
        if response.rcode() == dns.rcode.NXDOMAIN:
            return Lookup(name=name, nxdomain=True, server=label, authoritative=authoritative)
        addresses, ttl, target = _follow(response, qname, rdtype)
        found[rdtype] = addresses
        if ttl is not None:
            ttls.append(ttl)
        cname = cname or target
    return Lookup(
        name=name,
        v4=_sorted_addresses(found.get(dns.rdatatype.A, [])),
        v6=_sorted_addresses(found.get(dns.rdatatype.AAAA, [])),
        ttl=min(ttls) if ttls else None,
        server=label,
        authoritative=authoritative,
        cname=cname,
    )


def resolve_authoritative(name: str, zone_nameservers: Sequence[str], net: NetConfig) -> list[str]:
    """Addresses the hosted zone itself serves for *name* (no caches anywhere).

    Returns ``[]`` for NXDOMAIN or no records; raises :class:`LookupFailed` when no
    server answered or the answer was not authoritative.
    """
    result = lookup_authoritative(name, zone_nameservers, net)
    if result.error:
        raise LookupFailed(f"{name}: {result.error}")
    if not result.authoritative:
        raise LookupFailed(f"{name}: {result.server} answered without the AA flag")
    return result.addresses


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
        if auth.cname == _norm(lb_dns_name):
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
        return Check(title, name, False, f"NXDOMAIN (asked {_describe_servers(net)})", "dns")
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
