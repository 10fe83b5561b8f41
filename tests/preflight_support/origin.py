"""An HTTPS server on a loopback address and a high port that answers chosen statuses per path,
presenting a self-signed certificate for chosen names and expiry (made with cryptography)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b"ok\n"


def self_signed(names: Sequence[str], *, days_left: float, issuer: str = "Test Origin CA"
                ) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for names, expiring in days_left days."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer),
                                x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=days_left))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                       critical=False)
        .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class _Handler(BaseHTTPRequestHandler):
    server: Origin

    def do_GET(self) -> None:
        self.server.requests.append({"path": self.path, "host": self.headers.get("Host", ""),
                                     "user_agent": self.headers.get("User-Agent", "")})
        reply = self.server.routes.get(self.path, Reply(404, body=b"not found\n"))
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Origin(ThreadingHTTPServer):
    """HTTPS on host:0 with fixed routes; remembers each request's path, Host and User-Agent."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, routes: Mapping[str, Reply], context: ssl.SSLContext):
        super().__init__((host, 0), _Handler)
        self.routes = dict(routes)
        self.context = context
        self.requests: list[dict[str, str]] = []
        self._thread = threading.Thread(target=self.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def connect_to(self, address: str = "127.0.0.10") -> str:
        """The MIGRATOR_CONNECT_TO rule that sends address:443 here."""
        return f"{address}:443:{self.server_address[0]}:{self.port}"

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        request.settimeout(5)
        with self.context.wrap_socket(request, server_side=True) as tls:
            self.RequestHandlerClass(tls, client_address, self)

    def handle_error(self, request: object, client_address: object) -> None:
        pass

    def start(self) -> Origin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def start_origin() -> Iterator[object]:
    """start_origin(routes, names=[...], days_left=60, host="127.0.0.10") -> a running Origin."""
    started: list[Origin] = []

    def start(routes: Mapping[str, Reply], *, names: Sequence[str] = ("www.example.com",),
              days_left: float = 60, host: str = "127.0.0.10") -> Origin:
        cert, key = self_signed(list(names), days_left=days_left)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "c.pem").write_bytes(cert)
            Path(tmp, "k.pem").write_bytes(key)
            ctx.load_cert_chain(Path(tmp, "c.pem"), Path(tmp, "k.pem"))
        server = Origin(host, routes, ctx).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def closed_port(host: str = "127.0.0.10") -> int:
    """A high port on host where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
