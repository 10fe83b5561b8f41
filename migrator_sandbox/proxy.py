"""HTTP reverse proxying for the sandbox load balancers: one request, streamed both ways.

The request body (Content-Length or chunked) and the response body are streamed in chunks, never
buffered whole. Hop-by-hop headers are dropped; the caller adds the X-Forwarded-* headers. The
upstream connection may use TLS (no verification, SNI as given -- what an ALB does towards HTTPS
targets) and may be opened from a chosen source address.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from io import BufferedIOBase

from .ports import ensure_loopback

CHUNK = 64 * 1024
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class UpstreamError(Exception):
    """The target could not be reached or did not answer; ``status`` is 502 or 504."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upstream:
    """Where to send the request: a real (loopback) address, and how to talk to it."""

    host: str
    port: int
    tls: bool = False
    sni: str | None = None
    source_address: str | None = None
    timeout: float = 30.0


class UpstreamConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a loopback address with optional TLS, SNI and source address."""

    def __init__(self, upstream: Upstream):
        super().__init__(ensure_loopback(upstream.host), upstream.port, timeout=upstream.timeout)
        self.upstream = upstream

    def connect(self) -> None:
        source = (self.upstream.source_address, 0) if self.upstream.source_address else None
        sock = socket.create_connection(
            (self.host, self.port), timeout=self.timeout, source_address=source
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.upstream.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sni = self.upstream.sni
            sock = ctx.wrap_socket(sock, server_hostname=sni or None)
        self.sock = sock


def _request_body(handler: BaseHTTPRequestHandler) -> Iterator[bytes] | bytes | None:
    """The client's request body as an iterator of chunks (or None when there is none)."""
    headers = handler.headers
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():

        def chunked() -> Iterator[bytes]:
            while True:
                line = handler.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers are dropped
                    return
                yield from _read_exactly(handler.rfile, size)
                handler.rfile.readline(3)

        return chunked()
    length = headers.get("Content-Length")
    if length is None:
        return None
    total = int(length)
    if total == 0:
        return b""

    return _read_exactly(handler.rfile, total)


def _read_exactly(stream: BufferedIOBase, total: int) -> Iterator[bytes]:
    """total bytes of a request body from stream, in pieces of at most CHUNK."""
    remaining = total
    while remaining:
        data = stream.read(min(remaining, CHUNK))
        if not data:
            raise ConnectionError("client closed mid-body")
        remaining -= len(data)
        yield data


def forward(
    handler: BaseHTTPRequestHandler,
    upstream: Upstream,
    add_headers: dict[str, str],
) -> int:
    """Send the handler's request upstream and stream the answer back; returns the status.

    Raises UpstreamError when nothing was sent to the client yet (the caller answers 502/504).
    """
    conn = UpstreamConnection(upstream)
    body = _request_body(handler)
    headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP]
    names = {k.lower() for k in add_headers}
    headers = [(k, v) for k, v in headers if k.lower() not in names]
    headers += list(add_headers.items())
    chunked = (
        body is not None
        and not isinstance(body, bytes)
        and not any(k.lower() == "content-length" for k, _ in headers)
    )
    try:
        conn.putrequest(handler.command, handler.path, skip_host=True, skip_accept_encoding=True)
        for key, value in headers:
            conn.putheader(key, value)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        if isinstance(body, bytes):
            if body:
                conn.send(body)
        elif body is not None:
            for data in body:
                conn.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            if chunked:
                conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
    except TimeoutError as exc:
        conn.close()
        raise UpstreamError(504, f"target timed out: {exc}") from exc
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise UpstreamError(502, f"target failed: {exc}") from exc

    try:
        return _relay(handler, response)
    finally:
        with contextlib.suppress(Exception):
            response.close()
        conn.close()


def _relay(handler: BaseHTTPRequestHandler, response: http.client.HTTPResponse) -> int:
    handler.send_response_only(response.status, response.reason)
    length = response.getheader("Content-Length")
    no_body = (
        handler.command == "HEAD" or response.status in (204, 304) or (100 <= response.status < 200)
    )
    for key, value in response.getheaders():
        if key.lower() not in HOP_BY_HOP:
            handler.send_header(key, value)
    rechunk = not no_body and length is None
    if rechunk:
        handler.send_header("Transfer-Encoding", "chunked")
    if handler.close_connection:
        handler.send_header("Connection", "close")
    handler.end_headers()
    if no_body:
        return response.status
    while True:
        data = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
        if not data:
            break
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if rechunk else data)
    if rechunk:
        handler.wfile.write(b"0\r\n\r\n")
    return response.status
