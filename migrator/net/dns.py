"""DNS resolution for the checks: what the site's names resolve to, recursively and as the zone's
own servers answer, and single questions (NS, CAA, ...) for preflight. Nothing here judges an
answer; the checks do.

Every query goes through :class:`~migrator.net.config.NetConfig`: when
``MIGRATOR_NAMESERVERS`` is set, both the recursive and the authoritative questions go to those
servers only (authoritative ones without the RD bit, and the answer must carry the AA flag).
Otherwise recursive questions use the system resolver and authoritative ones go straight to the
hosted zone's own name servers. Resolvers are fresh and cache-less, so a poller sees a change at
once.

A site whose public address is a loopback address is a rehearsal world (the sandbox, tests): the
public DNS knows nothing about it, so :func:`dns_skip_reason` says its names are only looked up
when MIGRATOR_NAMESERVERS is set.
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

from migrator.net.config import NetConfig, format_hostport, is_loopback

__all__ = [
    "Dns",
    "DnsAnswer",
    "Lookup",
    "LookupFailed",
    "describe_servers",
    "dns_skip_reason",
    "lookup_authoritative",
    "lookup_recursive",
    "normalize_name",
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


# -- names and servers ----------------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """Lower-case, IDNA-encoded, no trailing dot."""
    return dns.name.from_text(name).to_text(omit_final_dot=True).lower()


def describe_servers(net: NetConfig) -> str:
    """Who is asked: ``127.0.0.53:53, ...`` or ``the system resolver``."""
    if net.nameservers:
        return ", ".join(str(ns) for ns in net.nameservers)
    return "the system resolver"


def dns_skip_reason(net: NetConfig, site_address: str) -> str | None:
    """Why DNS must not be asked about this site, or None when it may be."""
    if is_loopback(site_address) and not net.pinned_dns:
        return (f"the site's address {site_address} is a loopback (rehearsal) address and "
                "MIGRATOR_NAMESERVERS is not set, so no DNS server knows its names")
    return None


def _sorted_addresses(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=lambda a: ipaddress.ip_address(a)))


def _dns_error_text(exc: BaseException, net: NetConfig) -> str:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "NXDOMAIN"
    if isinstance(exc, dns.exception.Timeout):
        return f"timed out after {net.dns_timeout:g} s asking {describe_servers(net)}"
    if isinstance(exc, dns.resolver.NoNameservers):
        return f"no usable answer from {describe_servers(net)} (SERVFAIL or refused)"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return "no name servers configured"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


# -- single questions (preflight) -----------------------------------------------------------------


@dataclass(frozen=True)
class DnsAnswer:
    """Record values of one name and type; ``error`` set means no usable answer."""

    values: tuple[str, ...] = ()
    nxdomain: bool = False
    error: str | None = None


class Dns:
    """Questions through NetConfig's resolver. After one timeout or server failure every
    further question gets the same error at once, so a dead server costs one timeout."""

    def __init__(self, net: NetConfig) -> None:
        self.net = net
        self.dead: str | None = None
        self._resolver: dns.resolver.Resolver | None = None

    def query(self, name: str, rdtype: str) -> DnsAnswer:
        if self.dead:
            return DnsAnswer(error=self.dead)
        try:
            if self._resolver is None:
                self._resolver = self.net.resolver()
            answer = self._resolver.resolve(dns.name.from_text(name), rdtype,
                                            raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return DnsAnswer(nxdomain=True)
        except dns.exception.Timeout:
            self.dead = (f"no answer within {self.net.dns_timeout:g} s from "
                         f"{describe_servers(self.net)}")
            return DnsAnswer(error=self.dead)
        except dns.resolver.NoNameservers:
            self.dead = f"no usable answer from {describe_servers(self.net)} (SERVFAIL or refused)"
            return DnsAnswer(error=self.dead)
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            text = f"{type(exc).__name__}: {exc}".splitlines()[0]
            return DnsAnswer(error=f"{rdtype} {name}: {text}")
        if answer.rrset is None:
            return DnsAnswer()
        return DnsAnswer(values=tuple(r.to_text() for r in answer.rrset))


# -- recursive ------------------------------------------------------------------------------------


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


# -- authoritative --------------------------------------------------------------------------------


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
