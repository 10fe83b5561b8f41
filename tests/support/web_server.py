"""A small HTTP or HTTPS server on a 127.0.0.x high port serving fixed routes (verify and
preflight tests), its TLS context, and a helper that stops every server a fixture started.

Certificates come from ``migrator_sandbox.pki`` (``Issued``); the TLS context is the sandbox's
``server_context``, optionally capped at TLS 1.1 to play an outdated server.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar

from migrator_sandbox.pki import Issued, server_context


@dataclass(frozen=True)
class Reply:
    """A fixed answer; header values may use ``{host}`` and ``{path}``."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Routes = Mapping[str, Reply]
NOT_FOUND = Reply(404, b"not found\n")


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    host: str
    path: str
    user_agent: str


class _Handler(BaseHTTPRequestHandler):
    server: TestServer

    def do_GET(self) -> None:
        host_header = self.headers.get("Host", "")
        self.server.note(Seen(host_header, self.path, self.headers.get("User-Agent", "")))
        reply = self.server.routes.get(self.path.split("?", 1)[0], NOT_FOUND)
        self.send_response(reply.status)
        host = host_header.rsplit(":", 1)[0] if "]" not in host_header else host_header
        for key, value in reply.headers.items():
            # "{host}" and "{path}" let one redirect reply serve several names
            self.send_header(key, value.format(host=host, path=self.path))
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TestServer(ThreadingHTTPServer):
    """HTTP, or HTTPS when given a context, on host:0; TLS handshakes run in the request thread.

    ``requests`` lists what each request looked like, as ``record`` spells it (here
    ``(Host header, path)``); ``sni`` the server names the TLS clients sent.
    """

    __test__ = False
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, routes: Routes, context: ssl.SSLContext | None = None):
        super().__init__((host, 0), _Handler)
        self.routes = dict(routes)
        self.context = context
        self.requests: list[Any] = []
        self.sni: list[str | None] = []
        if context is not None:
            context.sni_callback = self._on_sni
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.daemon = True

    @property
    def host(self) -> str:
        return str(self.server_address[0])

    @property
    def port(self) -> int:
        return self.server_address[1]

    def connect_to(self, address: str = "127.0.0.10", port: int = 443) -> str:
        """The MIGRATOR_CONNECT_TO rule that sends address:port here."""
        return f"{address}:{port}:{self.host}:{self.port}"

    def record(self, seen: Seen) -> Any:
        return (seen.host, seen.path)

    def note(self, seen: Seen) -> None:
        self.requests.append(self.record(seen))

    def _on_sni(self, _obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.sni.append(name)

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        if self.context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(5)
        with self.context.wrap_socket(request, server_side=True) as tls:
            self.RequestHandlerClass(tls, client_address, self)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed handshakes are the point of several tests

    def start(self) -> TestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def tls_context(leaf: Issued, *, legacy: bool = False) -> ssl.SSLContext:
    """Server context presenting *leaf*; ``legacy`` caps the protocol at TLS 1.1."""
    if not legacy:
        return server_context(leaf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = server_context(leaf, minimum_version=ssl.TLSVersion.TLSv1)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


class _Stoppable(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=_Stoppable)


class Running:
    """``run(server)`` starts the server and returns it, remembering it to stop later."""

    def __init__(self) -> None:
        self.servers: list[_Stoppable] = []

    def __call__(self, server: S) -> S:
        server.start()
        self.servers.append(server)
        return server


@contextlib.contextmanager
def started() -> Iterator[Running]:
    """Yields a ``Running``; every server it started is stopped on exit (fixture teardown)."""
    run = Running()
    try:
        yield run
    finally:
        for server in run.servers:
            server.stop()
