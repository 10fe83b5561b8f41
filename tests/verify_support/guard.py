"""A fixture that refuses (and reports) any packet not bound for 127.0.0.0/8 on a
port >= 1024, and any name look-up through the system resolver.

Port 443/80 on loopback is refused too: a check that reaches it has ignored
MIGRATOR_CONNECT_TO, which is the bug the guard exists to catch.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest


def _allowed(address: object) -> bool:
    if not isinstance(address, tuple) or len(address) < 2:
        return False
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        return False
    return ip.version == 4 and ip.is_loopback and int(address[1]) >= 1024


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    violations: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def vet(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
            violations.append(f"{sock.type.name} to {address!r}")
            raise PermissionError(f"loopback guard: refused {address!r}")

    def connect(self: socket.socket, address: object) -> None:
        vet(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        vet(self, address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: object) -> int:
        vet(self, args[-1])
        return real_sendto(self, data, *args)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host is not None:
            text = host.decode() if isinstance(host, bytes) else str(host)
            try:
                ipaddress.ip_address(text.split("%")[0])
            except ValueError:
                violations.append(f"system resolver asked for {text!r}")
                raise socket.gaierror(socket.EAI_NONAME, "loopback guard: no look-ups") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield violations
    assert not violations, f"packets outside loopback/high ports: {violations}"
