"""An autouse fixture that records (and refuses) any packet not bound for 127.0.0.0/8 or ::1,
and any name look-up through the system resolver: the preflight probes must only ever use
NetConfig's servers and addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple) or len(address) < 2:
        return False
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    violations: list[str] = []
    real_connect, real_sendto = socket.socket.connect, socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def vet(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            violations.append(f"{sock.type.name} to {address!r}")
            raise PermissionError(f"loopback guard: refused {address!r}")

    def connect(self: socket.socket, address: object) -> None:
        vet(self, address)
        return real_connect(self, address)

    def sendto(self: socket.socket, data: bytes, *args: object) -> int:
        vet(self, args[-1])
        return real_sendto(self, data, *args)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host is not None:
            text = host.decode() if isinstance(host, bytes) else str(host)
            try:
                ipaddress.ip_address(text.split("%")[0])
            except ValueError:
                if text != "localhost":
                    violations.append(f"system resolver asked for {text!r}")
                    raise socket.gaierror(socket.EAI_NONAME, "loopback guard") from None
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield violations
    assert not violations, f"packets outside loopback: {violations}"
