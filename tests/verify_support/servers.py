"""Small HTTP and HTTPS servers on 127.0.0.x high ports, serving fixed routes."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .pki import Leaf


@dataclass(frozen=True)
class Reply:
    """A fixed answer; header values may use ``{host}`` and ``{path}``."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Routes = Mapping[str, Reply]


class _Handler(BaseHTTPRequestHandler):
    server: TestServer

    def do_GET(self) -> None:
        self.server.requests.append((self.headers.get("Host", ""), self.path))
        reply = self.server.routes.get(self.path.split("?", 1)[0], Reply(404, b"not found\n"))
        self.send_response(reply.status)
        host = (
            self.headers.get("Host", "").rsplit(":", 1)[0]
            if "]" not in self.headers.get("Host", "")
            else self.headers.get("Host", "")
        )
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
    """HTTP, or HTTPS when given a context; TLS handshakes run in the request thread."""

    __test__ = False
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, routes: Routes, context: ssl.SSLContext | None = None):
        super().__init__((host, 0), _Handler)
        self.routes = dict(routes)
        self.context = context
        self.requests: list[tuple[str, str]] = []
        self.sni: list[str | None] = []
        if context is not None:
            context.sni_callback = self._on_sni
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.daemon = True

    @property
    def host(self) -> str:
        return self.server_address[0]

    @property
    def port(self) -> int:
        return self.server_address[1]

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


def tls_context(leaf: Leaf, *, legacy: bool = False) -> ssl.SSLContext:
    """Server context for *leaf*; ``legacy`` caps the protocol at TLS 1.1."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(leaf.chain, leaf.key)
    if legacy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def free_port(host: str) -> int:
    """A high port on *host* with nothing listening (for connection-refused cases)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
