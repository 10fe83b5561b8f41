"""The origin the preflight tests probe: the shared loopback HTTPS test server
(``tests.support.web_server``) answering chosen statuses per path, presenting a certificate for chosen
names and expiry from a "Test Origin CA" (``migrator_sandbox.pki``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from migrator_sandbox.pki import CertificateAuthority
from tests.support import web_server
from tests.support.loopback import free_port
from tests.support.web_server import Seen, TestServer, started, tls_context

ORIGIN_CA = "Test Origin CA"
closed_port = free_port  # a high port on a host (127.0.0.10 by default) where nothing listens


def Reply(
    status: int = 200, headers: Mapping[str, str] | None = None, body: bytes = b"ok\n"
) -> web_server.Reply:
    """The preflight tests' spelling of a reply: status, then headers; the body is "ok"."""
    return web_server.Reply(status, body, dict(headers or {}))


class Origin(TestServer):
    """HTTPS with fixed routes; ``requests`` holds each request's path, Host and User-Agent."""

    def record(self, seen: Seen) -> dict[str, str]:
        return {"path": seen.path, "host": seen.host, "user_agent": seen.user_agent}


@functools.cache
def _origin_ca() -> CertificateAuthority:
    return CertificateAuthority.create(ORIGIN_CA, ORIGIN_CA)


@pytest.fixture
def start_origin() -> Iterator[Any]:
    """start_origin(routes, names=[...], days_left=60, host="127.0.0.10") -> a running Origin."""
    with started() as run:

        def start(routes: Mapping[str, web_server.Reply], *,
                  names: Sequence[str] = ("www.example.com",), days_left: float = 60,
                  host: str = "127.0.0.10") -> Origin:
            now = dt.datetime.now(dt.UTC)
            leaf = _origin_ca().issue(list(names), not_before=now - dt.timedelta(days=30),
                                      not_after=now + dt.timedelta(days=days_left))
            return run(Origin(host, routes, tls_context(leaf)))

        yield start
