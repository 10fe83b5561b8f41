"""One HTTP(S) request to one address, curl-style: pinned address, chosen SNI and Host.

Used by the health, redirect and parity checks. urllib3 connects to the address
(after MIGRATOR_CONNECT_TO) and never resolves a name; TLS uses SNI = the site's
name, verifies the chain against the system store plus the CA bundle, and checks
the certificate against the site's name. No retries, no redirects followed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
from dataclasses import dataclass, field

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from migrator.net.config import NetConfig
from migrator.net.tls import client_context, connect_error_text, where

__all__ = ["MAX_BODY", "Fetched", "StatusMatcher", "fetch"]

MAX_BODY = 16 * 1024 * 1024
USER_AGENT = "migrator-verify/1"


@dataclass(frozen=True)
class Fetched:
    """The outcome of one request; ``error`` set means there was no response."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None
    length: int = 0
    truncated: bool = False
    error: str | None = None

    def short_hash(self) -> str:
        return f"sha256:{self.sha256[:12]}" if self.sha256 else "no body"


class StatusMatcher:
    """A target group's HttpCode matcher: ``"200"``, ``"200,302"``, ``"200-399"``."""

    def __init__(self, spec: str) -> None:
        self.spec = spec.replace(" ", "")
        self._ranges: list[tuple[int, int]] = []
        for part in self.spec.split(","):
            low, sep, high = part.partition("-")
            if not low.isdigit() or (sep and not high.isdigit()):
                raise ValueError(f"invalid status matcher {spec!r}: use e.g. 200, 200,302, 200-399")
            self._ranges.append((int(low), int(high) if sep else int(low)))

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and any(lo <= status <= hi for lo, hi in self._ranges)

    def __str__(self) -> str:
        return self.spec


def _host_header(name: str, scheme: str, port: int) -> str:
    host = f"[{name}]" if ":" in name else name
    default = 443 if scheme == "https" else 80
    return host if port == default else f"{host}:{port}"


def _error_text(exc: BaseException, scheme: str, at: str, net: NetConfig) -> str:
    # urllib3 wraps the socket error; find the most telling cause.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS verification failed at {at}: {seen.verify_message or seen.reason}"
        if isinstance(seen, ConnectionRefusedError):
            return f"connection refused at {at}"
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, ConnectTimeoutError):
        return f"connect timed out after {net.connect_timeout:g} s at {at}"
    if isinstance(exc, ReadTimeoutError):
        return f"no response within {net.read_timeout:g} s from {at}"
    if isinstance(exc, NewConnectionError):
        cause = exc.__cause__
        if isinstance(cause, OSError):
            return connect_error_text(cause, at, net)
        return f"cannot connect to {at}"
    if isinstance(exc, SSLError):
        # urllib3's own hostname check raises CertificateError wrapped in SSLError
        text = str(exc.args[0] if exc.args else exc)
        return f"TLS failed at {at}: {text}"
    if isinstance(exc, ProtocolError):
        return f"connection dropped by {at}: {exc.args[0] if exc.args else exc}"
    return f"{scheme.upper()} request to {at} failed: {type(exc).__name__}: {exc}"


def fetch(
    scheme: str,
    name: str,
    ip: str,
    port: int,
    path: str,
    net: NetConfig,
    *,
    want_body: bool = False,
) -> Fetched:
    """GET *path* from *ip*:*port* as if for ``scheme://name/``; never raises."""
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return Fetched(error=f"{ip!r} is not an IP address")
    target = net.connect_target(name, ip, port)
    at = where(ip, port, target)
    timeout = urllib3.Timeout(connect=net.connect_timeout, read=net.read_timeout)
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            host=target[0],
            port=target[1],
            timeout=timeout,
            retries=False,
            maxsize=1,
            ssl_context=client_context(net),
            server_hostname=name,
            assert_hostname=name,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            host=target[0], port=target[1], timeout=timeout, retries=False, maxsize=1
        )
    headers = {
        "Host": _host_header(name, scheme, port),
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Connection": "close",
    }
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            digest = hashlib.sha256()
            length = 0
            truncated = False
            if want_body:
                for chunk in response.stream(64 * 1024):
                    digest.update(chunk)
                    length += len(chunk)
                    if length >= MAX_BODY:
                        truncated = True
                        break
            return Fetched(
                status=response.status,
                headers={k.lower(): v for k, v in response.headers.items()},
                sha256=digest.hexdigest() if want_body else None,
                length=length,
                truncated=truncated,
            )
        finally:
            response.release_conn()
            response.close()
    except (HTTPError, OSError) as exc:
        return Fetched(error=_error_text(exc, scheme, at, net))
    finally:
        pool.close()
