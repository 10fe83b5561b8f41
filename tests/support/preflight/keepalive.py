"""The sandbox's origin (``migrator_sandbox.origin.Origin``, nginx-like: keep-alive, an idle
timeout, optionally advertised) on a 127.0.0.x high port, for the idle-connection probe tests.

``keepalive_origin(keepalive_seconds=..., advertise=...)`` starts one (stopped at teardown);
``connect_to()`` is the MIGRATOR_CONNECT_TO rule sending the instance's 443 there.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from migrator_sandbox.origin import Origin, Site, origin_certificate
from migrator_sandbox.pki import CertificateAuthority
from migrator_sandbox.ports import bound_socket

INSTANCE_ADDRESS = "127.0.0.10"  # the world's instance address (WorldSpec's default)


@functools.cache
def _ca() -> CertificateAuthority:
    return CertificateAuthority.create("Test Keep-Alive Origin CA", "Test")


class RunningOrigin:
    """A started sandbox Origin and where it listens."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        address = origin.https.socket.getsockname()
        self.host: str = address[0]
        self.port: int = address[1]

    def connect_to(self, address: str = INSTANCE_ADDRESS, port: int = 443) -> str:
        return f"{address}:{port}:{self.host}:{self.port}"


@pytest.fixture
def keepalive_origin() -> Iterator[Any]:
    """keepalive_origin(keepalive_seconds=75, advertise=True, host="127.0.0.10") -> a running
    sandbox origin serving www.example.com."""
    started: list[Origin] = []

    def start(*, keepalive_seconds: float = 75, advertise: bool = True,
              host: str = "127.0.0.10") -> RunningOrigin:
        origin = Origin(Site("www.example.com"), bound_socket(host, 0), bound_socket(host, 0),
                        origin_certificate(_ca(), ["www.example.com"], days_left=60),
                        keepalive_seconds=keepalive_seconds, advertise_keepalive=advertise)
        origin.start()
        started.append(origin)
        return RunningOrigin(origin)

    yield start
    for origin in started:
        origin.stop()
