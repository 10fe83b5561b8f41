"""Loopback addresses and ports: the guard, port reservation and the connect-to table.

Everything the sandbox opens lives on 127.0.0.0/8 at ports >= 1024. The well-known ports a client
believes it talks to (443, 80 on a sandbox address) are mapped to real ports with curl's
``--connect-to`` syntax, ``HOST:PORT:CONNECT_HOST:CONNECT_PORT``, comma-separated in
``MIGRATOR_CONNECT_TO``.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import random
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
PREFERRED_PORTS = (18443, 18080)
_SEARCH_RANGE = (20000, 32000)  # below Linux's default ephemeral range


class NotLoopbackError(ValueError):
    """Raised when something would listen on or talk to an address outside 127.0.0.0/8."""


def ensure_loopback(host: str) -> str:
    """Return ``host`` if it is an IPv4 address in 127.0.0.0/8, else raise NotLoopbackError."""
    try:
        addr = ipaddress.IPv4Address(host)
    except ValueError as exc:
        raise NotLoopbackError(f"{host!r} is not a loopback IPv4 address") from exc
    if addr not in LOOPBACK:
        raise NotLoopbackError(f"{host} is outside 127.0.0.0/8; the sandbox stays on loopback")
    return host


def is_loopback(host: str) -> bool:
    try:
        ensure_loopback(host)
    except NotLoopbackError:
        return False
    return True


def address_pool(first: str, count: int) -> list[str]:
    """``count`` consecutive loopback addresses starting at ``first``."""
    start = ipaddress.IPv4Address(ensure_loopback(first))
    pool = [str(start + i) for i in range(count)]
    ensure_loopback(pool[-1])
    return pool


def bound_socket(host: str, port: int, *, reuse: bool = True) -> socket.socket:
    """A TCP socket bound (not listening) to host:port: it holds the port, connects get refused.

    Without ``reuse`` the bind is exclusive (it also fails while old connections on the port
    linger in TIME_WAIT), which is what a first reservation wants.
    """
    ensure_loopback(host)
    if port != 0 and port < 1024:
        raise ValueError(f"port {port} is privileged; the sandbox uses ports >= 1024")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class PortReservation:
    """Bound-but-not-listening sockets holding one port number on a set of addresses.

    ``take(host)`` hands the socket over (e.g. to a server that will ``listen()`` on it);
    ``give_back(host)`` re-binds a fresh placeholder after that server closed its socket.
    """

    def __init__(self, port: int, sockets: dict[str, socket.socket]):
        self.port = port
        self._sockets = sockets

    def take(self, host: str) -> socket.socket:
        sock = self._sockets.pop(host, None)
        return sock if sock is not None else bound_socket(host, self.port)

    def give_back(self, host: str) -> None:
        if host in self._sockets:
            return
        # if someone else took it meanwhile, the next take() reports the error
        with contextlib.suppress(OSError):
            self._sockets[host] = bound_socket(host, self.port)

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()


def _try_reserve(hosts: Sequence[str], port: int) -> PortReservation | None:
    sockets: dict[str, socket.socket] = {}
    try:
        for host in hosts:
            sockets[host] = bound_socket(host, port, reuse=False)
    except OSError as exc:
        for sock in sockets.values():
            sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return None
        if exc.errno == errno.EADDRNOTAVAIL:
            host = hosts[len(sockets)]
            raise OSError(
                exc.errno,
                f"{host} is not an address of this machine's loopback interface "
                f"(Linux answers all of 127.0.0.0/8; on macOS: sudo ifconfig lo0 alias {host})",
            ) from exc
        raise
    return PortReservation(port, sockets)


def _candidates(preferred: int | None, rng: random.Random) -> Iterator[int]:
    if preferred:
        yield preferred
    for _ in range(200):
        yield rng.randrange(*_SEARCH_RANGE)


def reserve_common_port(
    hosts: Sequence[str], preferred: int | None = None, *, avoid: Iterable[int] = ()
) -> PortReservation:
    """Find one port that is free on every host and hold it there."""
    rng = random.Random()
    avoided = set(avoid)
    for port in _candidates(preferred, rng):
        if port in avoided:
            continue
        reservation = _try_reserve(hosts, port)
        if reservation is not None:
            return reservation
    raise OSError(errno.EADDRINUSE, f"no port free on all of {', '.join(hosts)}")


@dataclass(frozen=True)
class ConnectTo:
    """One ``HOST:PORT:CONNECT_HOST:CONNECT_PORT`` entry."""

    host: str
    port: int
    connect_host: str
    connect_port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}:{self.connect_host}:{self.connect_port}"


class ConnectToTable(Mapping[tuple[str, int], tuple[str, int]]):
    """(host, port) as a client sees it -> (host, port) where the sandbox really listens."""

    def __init__(self, entries: Iterable[ConnectTo] = ()):
        self._entries: dict[tuple[str, int], ConnectTo] = {}
        for entry in entries:
            self._entries[(entry.host, entry.port)] = entry

    @classmethod
    def parse(cls, text: str) -> ConnectToTable:
        entries = []
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            parts = item.split(":")
            if len(parts) != 4:
                raise ValueError(f"bad connect-to entry {item!r}; want HOST:PORT:HOST:PORT")
            host, port, chost, cport = parts
            entries.append(ConnectTo(host, int(port), chost, int(cport)))
        return cls(entries)

    def __getitem__(self, key: tuple[str, int]) -> tuple[str, int]:
        entry = self._entries[key]
        return entry.connect_host, entry.connect_port

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """Where to really connect for host:port; unmapped pairs go to host:port itself."""
        return self.get((host, port), (host, port))

    def to_env(self) -> str:
        return ",".join(str(e) for e in self._entries.values())
