"""A small threaded HTTP(S) server that can be stopped at once, used by the origin and the LBs.

It listens on a socket the caller already bound (see ``ports.PortReservation``), wraps accepted
connections in TLS with a context that can be swapped while running, can turn connections away
(``admit``) the way a security group would, and on ``stop()`` closes its listening socket *and*
every open connection, so a stopped server looks like nothing is there any more.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import socketserver
import ssl
import struct
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

log = logging.getLogger(__name__)

Admit = Callable[[str], bool]


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with an RST instead of a FIN, like a dropped/blocked connection."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class SandboxHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    """HTTPServer on a pre-bound socket, optionally TLS, with connection tracking."""

    daemon_threads = True
    block_on_close = False
    _handle_request_noblock: Callable[[], None]  # socketserver.BaseServer's; not in typeshed

    def __init__(
        self,
        sock: socket.socket,
        handler: type[BaseHTTPRequestHandler],
        *,
        tls_context: ssl.SSLContext | None = None,
        admit: Admit | None = None,
        name: str = "http",
        attributes: dict[str, Any] | None = None,
    ):
        super().__init__(sock.getsockname(), handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()
        self.tls_context = tls_context
        self.admit = admit
        self.name = name
        # free-form state for the handler class (e.g. the origin's site, an LB's identity)
        self.attributes: dict[str, Any] = dict(attributes or {})
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server_activate()  # listen()
        self._thread = threading.Thread(
            target=self._serve, name=f"sandbox-{self.name}", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self.socket, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r or self._stopping:
                        return
                    self._handle_request_noblock()

    def stop(self) -> None:
        """Stop listening and drop every open connection. Idempotent."""
        if self._stopping:
            return
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.server_close()
        with self._lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def stopped(self) -> bool:
        return self._stopping

    # -- per connection ---------------------------------------------------------------------

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if self.admit is not None and not self.admit(client_address[0]):
            log.debug("%s: turned away %s", self.name, client_address[0])
            reset(request)
            return False
        return True

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if self._stopping:
                reset(request)
                return
            self._connections.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        ctx = self.tls_context
        if ctx is not None:
            try:
                request.settimeout(10)
                tls = ctx.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError) as exc:
                log.debug("%s: TLS handshake with %s failed: %s", self.name, client_address, exc)
                self.shutdown_request(request)
                return
            with self._lock:
                self._connections.discard(request)
                self._connections.add(tls)
            request = tls
        super().process_request_thread(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: error serving %s", self.name, client_address, exc_info=True)


class QuietHandler(BaseHTTPRequestHandler):
    """Base handler: HTTP/1.1 keep-alive, idle timeout, logs to ``logging`` instead of stderr."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: %s - %s", self.server.name, self.address_string(), format % args)

    def discard_body(self) -> None:
        """Read and drop a request body we do not use, so the connection can be kept alive;
        a chunked one is not parsed: the connection is closed after the reply instead."""
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            remaining = int(length)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)
        elif self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def send_simple(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
        *,
        server_header: str | None = None,
    ) -> None:
        """A complete response with a body (suppressed for HEAD)."""
        self.send_response_only(status)
        if server_header:
            self.send_header("Server", server_header)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
