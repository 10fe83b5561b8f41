"""A DNS responder serving a dict of records, on the sandbox's DNS server's transport
(``migrator_sandbox.dns_server.DNSServer``: UDP and TCP on one loopback port).

The sandbox server answers like Route 53 from hosted zones; these tests need a name server
that misbehaves on purpose instead, so only the answering is replaced:

``zone`` is what the server is authoritative for: queries without RD get it with
the AA flag. ``cache`` imitates a recursive resolver's cache: queries with RD get
those records (no AA, the TTL as given, i.e. what is "left") when present, else
the zone's. Names not in either table are NXDOMAIN.
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from migrator_sandbox.dns_server import DNSServer, StaticSource

# name -> {rdtype text: (values, ttl)}
Records = dict[str, dict[str, tuple[list[str], int]]]


def _key(name: str | dns.name.Name) -> str:
    return str(name).rstrip(".").lower()


class DnsResponder(DNSServer):
    """The sandbox's DNS server (UDP and TCP on one port) answering from ``zone`` and ``cache``
    instead of from Route 53's zones, with failure modes: ``mode`` is "answer", "drop" (never
    reply) or "servfail"; ``truncate_udp`` answers every UDP query with an empty, truncated
    response. ``queries`` records (name, type, RD, "udp"/"tcp") for each query."""

    def __init__(
        self,
        host: str = "127.0.0.53",
        zone: Records | None = None,
        cache: Records | None = None,
        authoritative: bool = True,
        mode: str = "answer",
        truncate_udp: bool = False,
    ):
        super().__init__(StaticSource(), host=host)  # the zones come from ``zone``/``cache``
        self.zone: Records = zone if zone is not None else {}
        self.cache: Records = cache if cache is not None else {}
        self.authoritative = authoritative
        self.mode = mode
        self.truncate_udp = truncate_udp
        self.queries: list[tuple[str, str, bool, str]] = []

    def handle_wire(self, wire: bytes, *, tcp: bool) -> bytes | None:
        response = self._answer(dns.message.from_wire(wire), "tcp" if tcp else "udp")
        return None if response is None else response.to_wire()

    # -- answering ----------------------------------------------------------------

    def _answer(self, query: dns.message.Message, proto: str) -> dns.message.Message | None:
        question = query.question[0]
        rd = bool(query.flags & dns.flags.RD)
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((_key(question.name), rdtype, rd, proto))
        if self.mode == "drop":
            return None
        response = dns.message.make_response(query)
        if self.mode == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        use_cache = rd and _key(question.name) in self.cache
        table = self.cache if use_cache else self.zone
        if not use_cache and self.authoritative:
            response.flags |= dns.flags.AA
        if rd:
            response.flags |= dns.flags.RA
        name = question.name
        for _ in range(8):
            records = table.get(_key(name))
            if records is None:
                if name == question.name:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
            if rdtype in records:
                values, ttl = records[rdtype]
                response.answer.append(dns.rrset.from_text_list(name, ttl, "IN", rdtype, values))
                break
            if "CNAME" in records:
                values, ttl = records["CNAME"]
                response.answer.append(dns.rrset.from_text_list(name, ttl, "IN", "CNAME", values))
                name = dns.name.from_text(values[0])
                continue
            break
        if proto == "udp" and self.truncate_udp:
            response.answer.clear()
            response.flags |= dns.flags.TC
        return response
