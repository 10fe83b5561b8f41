"""The loopback guard every networked test runs under, and a free-port helper.

The guard refuses (and records) any connect/sendto that is not bound for 127.0.0.0/8 on a port
>= 1024, and any name look-up through the system resolver, from any thread. Port 443/80 on
loopback is refused too: code that reaches it has ignored MIGRATOR_CONNECT_TO, which is the bug
the guard exists to catch.

* ``loopback_guard()`` -- a context manager yielding the list of violations (the caller asserts);
* ``loopback_only`` -- the same as a fixture that fails the test on any violation (a test
  module puts every test under it with ``pytestmark = pytest.mark.usefixtures("loopback_only")``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def allowed(address: object) -> bool:
    """True for an (IPv4 address in 127.0.0.0/8, port >= 1024) socket address."""
    if not isinstance(address, tuple) or len(address) < 2:
        return False
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        return False
    return ip.version == 4 and ip in LOOPBACK and int(address[1]) >= 1024


@contextlib.contextmanager
def loopback_guard() -> Iterator[list[str]]:
    """Refuse (and record) any connect/sendto off 127.0.0.0/8 or below port 1024, and any
    system-resolver look-up of a name, from any thread, for the duration."""
    violations: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def vet(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address):
            violations.append(f"{sock.type.name} to {address!r}")
            raise PermissionError(f"loopback guard: refused {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        vet(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        vet(self, address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: Any) -> int:
        vet(self, args[-1])
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            text = host.decode() if isinstance(host, bytes) else str(host)
            try:
                ipaddress.ip_address(text.split("%")[0])
            except ValueError:
                violations.append(f"system resolver asked for {text!r}")
                raise socket.gaierror(socket.EAI_NONAME, "loopback guard: no look-ups") from None
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket.socket, "sendto", sendto)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        yield violations


@pytest.fixture
def loopback_only() -> Iterator[list[str]]:
    """The guard around one test; the test fails if anything was refused (a test that provokes
    violations on purpose clears the list)."""
    with loopback_guard() as violations:
        yield violations
    assert not violations, f"packets outside loopback/high ports: {violations}"


def free_port(host: str = "127.0.0.10") -> int:
    """A high port on *host* with nothing listening (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
