"""The origin: what nginx on the EC2 instance serves today, on the instance's Elastic IP.

HTTPS with a certificate from the "Sandbox Origin CA" that expires soon (the reason to migrate),
plus plain HTTP that only redirects to HTTPS. Paths:

* ``GET /``       -> 200, an HTML page naming the instance. The body is the same whoever asks
                     (directly or through the load balancer), so a parity check can compare.
* ``GET /health`` -> 200 ``ok``
* anything else   -> 404; methods other than GET/HEAD -> 405.
* port 80, any path -> 301 to ``https://$host$request_uri``.

Idle keep-alive connections are closed after ``keepalive_seconds`` (75 s, nginx's default
``keepalive_timeout``), and every response advertises it as ``Keep-Alive: timeout=75`` (what
nginx sends with ``keepalive_timeout 75s 75s``). Both are attributes that may be changed while
it runs (for new connections): ``advertise_keepalive=False`` with ``keepalive_seconds=5`` plays
an Apache (``KeepAliveTimeout 5``) that does not say so.

Every request is remembered (``Origin.requests``) like an access log, headers included, so tests
can see what the load balancer forwarded.

``fail_forwarded`` (a status, e.g. 500; None by default) plays an application that breaks behind
a proxy: requests carrying X-Forwarded-For (those the load balancer forwards) get that status,
while direct visitors and the health checker are served as usual. A test sets it during a
canary's soak to see the gate revert.
"""

from __future__ import annotations

import datetime as dt
import html
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

from . import pki
from .servers import Admit, QuietHandler, SandboxHTTPServer

SERVER_HEADER = "nginx"
HEALTH_BODY = b"ok"
KEEPALIVE_SECONDS = 75.0  # nginx's default keepalive_timeout


@dataclass(frozen=True)
class Site:
    """What the instance serves."""

    domain: str
    instance_id: str = ""

    def page(self) -> bytes:
        who = f"instance {self.instance_id}" if self.instance_id else "the instance"
        name = html.escape(self.domain)
        text = (
            "<!doctype html>\n"
            '<html lang="en">\n'
            f'<head><meta charset="utf-8"><title>{name}</title></head>\n'
            "<body>\n"
            f"<h1>{name}</h1>\n"
            f"<p>Served by the origin: nginx on EC2 {html.escape(who)}.</p>\n"
            "</body>\n"
            "</html>\n"
        )
        return text.encode()


@dataclass(frozen=True)
class RequestRecord:
    """One line of the origin's access log."""

    scheme: str
    client: str
    method: str
    path: str
    headers: dict[str, str]
    status: int
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def origin_certificate(
    ca: pki.CertificateAuthority,
    names: list[str],
    *,
    days_left: float = 12,
    lifetime_days: float = 90,
) -> pki.Issued:
    """A 90-day certificate for ``names`` that has ``days_left`` days to live."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_after = now + dt.timedelta(days=days_left)
    return ca.issue(
        names,
        not_before=not_after - dt.timedelta(days=lifetime_days),
        not_after=not_after,
    )


class _OriginHandler(QuietHandler):
    def _origin(self) -> Origin:
        origin: Origin = self.server.attributes["origin"]
        return origin

    def setup(self) -> None:
        super().setup()
        # the idle timeout of a keep-alive connection (BaseHTTPRequestHandler closes on timeout)
        self.connection.settimeout(self._origin().keepalive_seconds)

    def keepalive_headers(self) -> dict[str, str]:
        origin = self._origin()
        if not origin.advertise_keepalive or self.close_connection:
            return {}
        return {"Keep-Alive": f"timeout={origin.keepalive_seconds:g}"}

    def _record(self, scheme: str, status: int) -> None:
        self._origin().record(
            RequestRecord(
                scheme=scheme,
                client=self.client_address[0],
                method=self.command,
                path=self.path,
                headers={k: v for k, v in self.headers.items()},
                status=int(status),
            )
        )


class _HTTPSHandler(_OriginHandler):
    def _serve(self) -> None:
        path = self.path.split("?", 1)[0]
        origin = self._origin()
        if self.command not in ("GET", "HEAD"):
            self.discard_body()
            status, body, ctype = HTTPStatus.METHOD_NOT_ALLOWED, b"405 Not Allowed\n", "text/plain"
        elif origin.fail_forwarded is not None and "X-Forwarded-For" in self.headers:
            status = HTTPStatus(origin.fail_forwarded)
            body, ctype = f"{status.value} {status.phrase}\n".encode(), "text/plain"
        elif path == "/":
            status, body, ctype = HTTPStatus.OK, origin.site.page(), "text/html; charset=utf-8"
        elif path == "/health":
            status, body, ctype = HTTPStatus.OK, HEALTH_BODY, "text/plain"
        else:
            status, body, ctype = HTTPStatus.NOT_FOUND, b"404 Not Found\n", "text/plain"
        self._record("https", status)
        self.send_simple(status, body, ctype, self.keepalive_headers(),
                         server_header=SERVER_HEADER)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve


class _HTTPHandler(_OriginHandler):
    def _serve(self) -> None:
        self.discard_body()
        host = (self.headers.get("Host") or self._origin().site.domain).rsplit(":", 1)[0]
        if host.startswith("[") or not host:
            host = self._origin().site.domain
        location = f"https://{host}{self.path}"
        self._record("http", HTTPStatus.MOVED_PERMANENTLY)
        body = b"301 Moved Permanently\n"
        self.send_simple(
            HTTPStatus.MOVED_PERMANENTLY,
            body,
            "text/plain",
            {"Location": location, **self.keepalive_headers()},
            server_header=SERVER_HEADER,
        )

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve


class Origin:
    """The instance's web server: HTTPS and HTTP listeners on the instance's address."""

    def __init__(
        self,
        site: Site,
        https_socket: socket.socket,
        http_socket: socket.socket,
        certificate: pki.Issued,
        *,
        admit_https: Admit | None = None,
        admit_http: Admit | None = None,
        log_size: int = 1000,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        advertise_keepalive: bool = True,
    ):
        self.site = site
        self.keepalive_seconds = keepalive_seconds
        self.advertise_keepalive = advertise_keepalive
        self.fail_forwarded: int | None = None
        self.certificate = certificate
        self.requests: deque[RequestRecord] = deque(maxlen=log_size)
        self._lock = threading.Lock()
        attrs = {"origin": self}
        self.https = SandboxHTTPServer(
            https_socket,
            _HTTPSHandler,
            tls_context=pki.server_context(certificate),
            admit=admit_https,
            name="origin-https",
            attributes=attrs,
        )
        self.http = SandboxHTTPServer(
            http_socket,
            _HTTPHandler,
            admit=admit_http,
            name="origin-http",
            attributes=attrs,
        )

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.requests.append(entry)

    def start(self) -> None:
        self.https.start()
        self.http.start()

    def stop(self) -> None:
        self.https.stop()
        self.http.stop()
