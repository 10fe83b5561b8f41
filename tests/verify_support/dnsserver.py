"""A tiny dnspython-based DNS responder (UDP and TCP) serving a dict of records.

``zone`` is what the server is authoritative for: queries without RD get it with
the AA flag. ``cache`` imitates a recursive resolver's cache: queries with RD get
those records (no AA, the TTL as given, i.e. what is "left") when present, else
the zone's. Names not in either table are NXDOMAIN.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

# name -> {rdtype text: (values, ttl)}
Records = dict[str, dict[str, tuple[list[str], int]]]


def _key(name: str | dns.name.Name) -> str:
    return str(name).rstrip(".").lower()


@dataclass
class DnsResponder:
    host: str = "127.0.0.53"
    zone: Records = field(default_factory=dict)
    cache: Records = field(default_factory=dict)
    authoritative: bool = True
    mode: str = "answer"  # "answer" | "drop" | "servfail"
    truncate_udp: bool = False
    queries: list[tuple[str, str, bool, str]] = field(default_factory=list)  # name,type,rd,proto

    def __post_init__(self) -> None:
        for _ in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            break
        else:  # pragma: no cover
            raise RuntimeError("no UDP+TCP port pair free")
        tcp.listen(8)
        self.port = port
        self._udp, self._tcp = udp, tcp
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> DnsResponder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._udp.close()
        self._tcp.close()

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

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._udp, selectors.EVENT_READ, "udp")
        sel.register(self._tcp, selectors.EVENT_READ, "tcp")
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.01):
                try:
                    if key.data == "udp":
                        wire, peer = self._udp.recvfrom(65535)
                        response = self._answer(dns.message.from_wire(wire), "udp")
                        if response is not None:
                            self._udp.sendto(response.to_wire(), peer)
                    else:
                        conn, _ = self._tcp.accept()
                        with conn:
                            conn.settimeout(2)
                            self._serve_tcp(conn)
                except (OSError, dns.exception.DNSException):
                    continue
        sel.close()

    def _serve_tcp(self, conn: socket.socket) -> None:
        def read(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    raise OSError("closed")
                data += chunk
            return data

        (length,) = struct.unpack("!H", read(2))
        response = self._answer(dns.message.from_wire(read(length)), "tcp")
        if response is not None:
            wire = response.to_wire()
            conn.sendall(struct.pack("!H", len(wire)) + wire)
