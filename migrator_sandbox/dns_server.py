"""An authoritative DNS server on loopback that answers from Route 53's data, live.

The data comes from a ``RecordSource`` (a tiny protocol: the public hosted zones, and the load
balancers' addresses), read again for every query, so a change made through the Route 53 API is
visible on the next query -- exactly like Route 53's own name servers, minus propagation time.

Behaviour follows an authoritative server: AA on answers from a zone; CNAMEs chased within the
zone; alias records answered with the target's addresses; delegations answered with a referral;
wildcards; NXDOMAIN and NODATA with the zone's SOA in the authority section; REFUSED for names
outside every zone. Load balancer names (``*.elb.amazonaws.com`` and ``dualstack.`` + that) answer
with the sandbox address of that load balancer. UDP (with truncation) and TCP.
"""

from __future__ import annotations

import contextlib
import logging
import random
import selectors
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .ports import ensure_loopback

log = logging.getLogger(__name__)

ELB_SUFFIX = "elb.amazonaws.com."
ELB_TTL = 60
ELB_SOA = "ns-1119.awsdns-11.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 60"
MAX_CHAIN = 8


def normalize_name(name: str) -> str:
    """Lower case, absolute (trailing dot), Route 53's ``\\052`` escapes decoded (``*``)."""
    text = name.strip()
    if not text.endswith("."):
        text += "."
    text = text.replace("\\052", "*").replace("\\\\", "\\")
    return text.lower()


@dataclass(frozen=True)
class Alias:
    """A Route 53 alias target."""

    dns_name: str
    hosted_zone_id: str = ""
    evaluate_target_health: bool = False


@dataclass(frozen=True)
class RecordSet:
    """A Route 53 resource record set (normalized name; values as in the API)."""

    name: str
    type: str
    ttl: int = 300
    values: tuple[str, ...] = ()
    alias: Alias | None = None
    set_identifier: str | None = None
    weight: int | None = None
    failover: str | None = None
    multi_value: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", normalize_name(self.name))
        object.__setattr__(self, "type", self.type.upper())


@dataclass(frozen=True)
class Zone:
    """A public hosted zone."""

    name: str
    records: tuple[RecordSet, ...] = ()
    zone_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", normalize_name(self.name))


class RecordSource(Protocol):
    """Where the server's data comes from; called on every query."""

    def zones(self) -> Sequence[Zone]:
        """The public hosted zones."""
        ...

    def load_balancers(self) -> Mapping[str, str]:
        """Load balancer DNS name (lower case, no trailing dot) -> its IPv4 address."""
        ...


@dataclass
class StaticSource:
    """A RecordSource over fixed data (tests, or a server without moto)."""

    zone_list: list[Zone] = field(default_factory=list)
    lbs: dict[str, str] = field(default_factory=dict)

    def zones(self) -> Sequence[Zone]:
        return list(self.zone_list)

    def load_balancers(self) -> Mapping[str, str]:
        return dict(self.lbs)


def _is_under(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _parents(name: str, zone: str) -> list[str]:
    """Names strictly between ``name`` and ``zone`` walking up, then the zone apex."""
    result = []
    current = name
    while current != zone and "." in current.rstrip("."):
        current = current.split(".", 1)[1]
        result.append(current)
        if current == zone:
            break
    return result


class _ZoneView:
    """Index of one zone's record sets by name."""

    def __init__(self, zone: Zone):
        self.zone = zone
        self.by_name: dict[str, list[RecordSet]] = {}
        for record in zone.records:
            self.by_name.setdefault(record.name, []).append(record)
        self.nonterminals: set[str] = set()
        for owner in self.by_name:
            for parent in _parents(owner, zone.name):
                self.nonterminals.add(parent)

    def exists(self, name: str) -> bool:
        return name in self.by_name or name in self.nonterminals

    def soa(self) -> RecordSet | None:
        for record in self.by_name.get(self.zone.name, []):
            if record.type == "SOA":
                return record
        return None

    def delegation(self, name: str) -> str | None:
        """The closest delegation point (NS below the apex) at or above ``name``."""
        candidates = [name, *_parents(name, self.zone.name)]
        for candidate in reversed(candidates):
            if candidate == self.zone.name:
                continue
            if any(r.type == "NS" for r in self.by_name.get(candidate, [])):
                return candidate
        return None


def _pick(records: list[RecordSet], rng: random.Random) -> list[RecordSet]:
    """Apply Route 53 routing policies to the record sets sharing a name and type."""
    if len(records) <= 1:
        return records
    if all(r.multi_value for r in records):
        return records[:8]
    primaries = [r for r in records if (r.failover or "").upper() == "PRIMARY"]
    if primaries:
        return primaries[:1]
    weighted = [r for r in records if r.weight is not None]
    if weighted:
        positive = [r for r in weighted if r.weight]
        pool = positive or weighted
        weights = [r.weight or 1 for r in pool]
        return [rng.choices(pool, weights=weights)[0]]
    return records[:1]


class Authority:
    """Turns a query into an authoritative response using a RecordSource."""

    def __init__(self, source: RecordSource, *, rng: random.Random | None = None):
        self.source = source
        self.rng = rng or random.Random()

    # -- entry point ------------------------------------------------------------------------

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        qname = question.name.to_text().lower()
        qtype = dns.rdatatype.to_text(question.rdtype)

        zones = [_ZoneView(z) for z in self.source.zones()]
        lbs = {k.lower().rstrip("."): v for k, v in self.source.load_balancers().items()}
        best = max(
            (z for z in zones if _is_under(qname, z.zone.name)),
            key=lambda z: len(z.zone.name),
            default=None,
        )
        if best is None:
            if _is_under(qname, ELB_SUFFIX):
                self._answer_elb(response, question.name, qname, qtype, lbs)
            else:
                response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        self._answer_zone(response, best, zones, lbs, question.name, qname, qtype)
        return response

    # -- load balancer names ----------------------------------------------------------------

    @staticmethod
    def _lb_address(name: str, lbs: Mapping[str, str]) -> str | None:
        bare = name.lower().rstrip(".")
        if bare.startswith("dualstack."):
            bare = bare[len("dualstack.") :]
        return lbs.get(bare)

    def _answer_elb(
        self,
        response: dns.message.Message,
        owner: dns.name.Name,
        qname: str,
        qtype: str,
        lbs: Mapping[str, str],
    ) -> None:
        response.flags |= dns.flags.AA
        address = self._lb_address(qname, lbs)
        if address is not None and qtype in ("A", "ANY"):
            response.answer.append(dns.rrset.from_text(owner, ELB_TTL, "IN", "A", address))
            return
        if address is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        soa = dns.rrset.from_text(ELB_SUFFIX, ELB_TTL, "IN", "SOA", ELB_SOA)
        response.authority.append(soa)

    # -- zone data --------------------------------------------------------------------------

    def _rrset(self, owner: dns.name.Name, record: RecordSet, rtype: str) -> dns.rrset.RRset:
        rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
        for value in record.values:
            try:
                rdata = dns.rdata.from_text(
                    dns.rdataclass.IN,
                    dns.rdatatype.from_text(rtype),
                    value,
                    origin=dns.name.root,
                    relativize=False,
                )
            except (dns.exception.DNSException, ValueError) as exc:
                log.warning("skipping bad %s value %r at %s: %s", rtype, value, record.name, exc)
                continue
            rrset.add(rdata, ttl=max(0, int(record.ttl)))
        return rrset

    def _alias_rrsets(
        self,
        owner: dns.name.Name,
        record: RecordSet,
        zones: list[_ZoneView],
        lbs: Mapping[str, str],
        depth: int,
    ) -> list[dns.rrset.RRset]:
        assert record.alias is not None
        target = normalize_name(record.alias.dns_name)
        address = self._lb_address(target, lbs)
        if address is not None:
            if record.type != "A":
                return []  # sandbox load balancers are IPv4 only
            return [dns.rrset.from_text(owner, ELB_TTL, "IN", "A", address)]
        if depth >= MAX_CHAIN:
            return []
        # an alias to another record set in a hosted zone
        view = max(
            (z for z in zones if _is_under(target, z.zone.name)),
            key=lambda z: len(z.zone.name),
            default=None,
        )
        if view is None:
            return []
        result = []
        for rec in _pick(
            [r for r in view.by_name.get(target, []) if r.type == record.type], self.rng
        ):
            if rec.alias is not None:
                result += self._alias_rrsets(owner, rec, zones, lbs, depth + 1)
            else:
                result.append(self._rrset(owner, rec, rec.type))
        return result

    def _rrsets_at(
        self,
        view: _ZoneView,
        zones: list[_ZoneView],
        lbs: Mapping[str, str],
        owner: dns.name.Name,
        records: list[RecordSet],
        qtype: str,
    ) -> list[dns.rrset.RRset]:
        by_type: dict[str, list[RecordSet]] = {}
        for record in records:
            if qtype == "ANY" or record.type == qtype:
                by_type.setdefault(record.type, []).append(record)
        result: list[dns.rrset.RRset] = []
        for rtype, group in by_type.items():
            merged: dns.rrset.RRset | None = None
            for record in _pick(group, self.rng):
                parts = (
                    self._alias_rrsets(owner, record, zones, lbs, 0)
                    if record.alias is not None
                    else [self._rrset(owner, record, rtype)]
                )
                for part in parts:
                    if merged is None:
                        merged = part
                    else:
                        merged.union_update(part)
            if merged is not None and len(merged):
                result.append(merged)
        return result

    def _negative(self, response: dns.message.Message, view: _ZoneView) -> None:
        soa = view.soa()
        if soa is None or not soa.values:
            return
        rrset = self._rrset(dns.name.from_text(view.zone.name), soa, "SOA")
        if len(rrset):
            minimum = rrset[0].minimum
            rrset.update_ttl(min(rrset.ttl, minimum))
            response.authority.append(rrset)

    def _referral(self, response: dns.message.Message, view: _ZoneView, cut: str) -> None:
        response.flags &= ~dns.flags.AA
        owner = dns.name.from_text(cut)
        ns_records = [r for r in view.by_name.get(cut, []) if r.type == "NS"]
        for record in ns_records:
            ns = self._rrset(owner, record, "NS")
            response.authority.append(ns)
            for rdata in ns:
                glue_name = rdata.target.to_text().lower()
                if _is_under(glue_name, view.zone.name):
                    for glue in view.by_name.get(glue_name, []):
                        if glue.type in ("A", "AAAA") and glue.alias is None:
                            response.additional.append(
                                self._rrset(rdata.target, glue, glue.type)
                            )

    def _answer_zone(
        self,
        response: dns.message.Message,
        view: _ZoneView,
        zones: list[_ZoneView],
        lbs: Mapping[str, str],
        owner: dns.name.Name,
        qname: str,
        qtype: str,
    ) -> None:
        seen: set[str] = set()
        for _ in range(MAX_CHAIN + 1):
            seen.add(qname)
            cut = view.delegation(qname)
            if cut is not None and not (cut == qname and qtype == "DS"):
                if not response.answer:
                    self._referral(response, view, cut)
                return
            records = view.by_name.get(qname)
            if records is None and not view.exists(qname):
                records = self._wildcard(view, qname)
            if records is None:
                if view.exists(qname):
                    self._negative(response, view)  # empty non-terminal: NODATA
                else:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                    self._negative(response, view)
                return
            cnames = [r for r in records if r.type == "CNAME"]
            if cnames and qtype not in ("CNAME", "ANY"):
                rrset = self._rrset(owner, _pick(cnames, self.rng)[0], "CNAME")
                if not len(rrset):
                    return
                response.answer.append(rrset)
                target = rrset[0].target
                next_name = target.to_text().lower()
                if next_name in seen or not _is_under(next_name, view.zone.name):
                    return  # a loop, or data this zone is not authoritative for
                owner, qname = target, next_name
                continue
            found = self._rrsets_at(view, zones, lbs, owner, records, qtype)
            if found:
                response.answer.extend(found)
            else:
                self._negative(response, view)
            return

    @staticmethod
    def _wildcard(view: _ZoneView, qname: str) -> list[RecordSet] | None:
        for ancestor in _parents(qname, view.zone.name):
            if view.exists(ancestor) or ancestor == view.zone.name:
                return view.by_name.get("*." + ancestor)
        return None


# -- the server ------------------------------------------------------------------------------


class _TCPHandler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        with contextlib.suppress(Exception):
            while True:
                header = _recv_exact(sock, 2)
                if not header:
                    return
                (length,) = struct.unpack("!H", header)
                wire = _recv_exact(sock, length)
                if len(wire) != length:
                    return
                reply = self.server.dns.handle_wire(wire, tcp=True)
                if reply is None:
                    return
                sock.sendall(struct.pack("!H", len(reply)) + reply)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    dns: DNSServer
    _handle_request_noblock: Callable[[], None]  # socketserver.BaseServer's; not in typeshed


class DNSServer:
    """UDP and TCP on host:port (port 0 = a free port, the same for both)."""

    def __init__(self, source: RecordSource, host: str = "127.0.0.1", port: int = 0):
        self.host = ensure_loopback(host)
        self.authority = Authority(source)
        self._requested_port = port
        self.port = 0
        self._udp: socket.socket | None = None
        self._tcp: _TCPServer | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def address(self) -> str:
        """``HOST:PORT`` as ``MIGRATOR_NAMESERVERS`` wants it."""
        return f"{self.host}:{self.port}"

    def handle_wire(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """Answer one query in wire format; ``None`` when it is not worth an answer."""
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return None
        except dns.exception.DNSException:
            return _formerr(wire)
        if query.flags & dns.flags.QR:
            return None
        try:
            response = self.authority.respond(query)
        except Exception:
            log.exception("DNS: failed to answer %s", query.question)
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
        if tcp:
            max_size = 65535
        elif query.edns >= 0:
            max_size = min(max(512, query.payload), 4096)
        else:
            max_size = 512
        try:
            return response.to_wire(max_size=max_size)
        except dns.exception.TooBig:
            response.answer.clear()
            response.authority.clear()
            response.additional.clear()
            response.flags |= dns.flags.TC
            return response.to_wire(max_size=max_size)

    def start(self) -> None:
        for _ in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, self._requested_port))
            port = udp.getsockname()[1]
            try:
                tcp = _TCPServer((self.host, port), _TCPHandler)
            except OSError:
                udp.close()
                if self._requested_port:
                    raise
                continue
            break
        else:  # pragma: no cover - twenty collisions in a row
            raise OSError("could not find a port free for both UDP and TCP")
        tcp.dns = self
        self._udp, self._tcp, self.port = udp, tcp, port
        self._thread = threading.Thread(target=self._serve, name="sandbox-dns", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._udp, selectors.EVENT_READ)
            sel.register(self._tcp.socket, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r or self._stopping:
                        return
                    if key.fileobj is self._udp:
                        self._serve_udp()
                    else:
                        self._tcp._handle_request_noblock()

    def _serve_udp(self) -> None:
        assert self._udp is not None
        try:
            wire, peer = self._udp.recvfrom(65535)
        except OSError:
            return
        try:
            reply = self.handle_wire(wire, tcp=False)
        except Exception:
            log.exception("DNS: cannot answer a UDP query")
            return
        if reply is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(reply, peer)

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._tcp is not None:
            self._tcp.server_close()
        if self._udp is not None:
            self._udp.close()
        self._wake_r.close()
        self._wake_w.close()


def _formerr(wire: bytes) -> bytes | None:
    if len(wire) < 12:
        return None
    (qid,) = struct.unpack("!H", wire[:2])
    flags = dns.flags.QR | dns.rcode.FORMERR
    return struct.pack("!HHHHHH", qid, flags, 0, 0, 0, 0)
