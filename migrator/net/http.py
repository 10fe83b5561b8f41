"""HTTP(S) for every check, on ``requests``: one request to one address under test, curl-style.

:func:`pinned_session` is a ``requests.Session`` whose transport adapter,
:class:`PinnedAdapter`, sends each request for ``scheme://NAME:PORT/...`` to the address under
test instead of resolving NAME: that address, or where MIGRATOR_CONNECT_TO sends NAME:PORT (or
the address:PORT). TLS sends SNI = NAME (none for an address) and, when verifying, checks the
chain against the system store plus MIGRATOR_CA_BUNDLE (the same trust as
:mod:`migrator.net.tls`) and the certificate against NAME; the Host header is NAME. The session
ignores the environment (``trust_env`` off: a proxy would take the traffic off the address
under test, and REQUESTS_CA_BUNDLE would change the trust), sends what a health checker sends,
follows no redirect unless asked, and retries nothing.

:func:`fetch` is the one request every check makes (preflight's health check probe unverified,
as the load balancer's health checker does; verification's health, redirect and parity checks
verified). It never raises: trouble is one line in ``Fetched.error`` naming the address.
"""

from __future__ import annotations

import hashlib
import ssl
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InsecureRequestWarning,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.ssl_match_hostname import CertificateError

from migrator.net.config import NetConfig, is_ip, where
from migrator.net.tls import client_context, connect_error_text

__all__ = [
    "MAX_BODY",
    "USER_AGENT",
    "Fetched",
    "OtherHost",
    "PinnedAdapter",
    "StatusMatcher",
    "fetch",
    "pinned_session",
]

MAX_BODY = 16 * 1024 * 1024
USER_AGENT = "migrator-verify/1"
DEFAULT_PORTS = {"http": 80, "https": 443}


class OtherHost(requests.RequestException):
    """A request for a host the session is not pinned for (a redirect elsewhere, in practice):
    refused, since reaching it would mean resolving its name outside MIGRATOR_NAMESERVERS."""


class PinnedAdapter(HTTPAdapter):
    """Transport for requests to NAME, connecting to ``address`` (after MIGRATOR_CONNECT_TO).

    Built on requests' documented extension points: the pool key decides where the connection
    goes and how TLS is set up, ``add_headers`` sets Host. ``verify`` (the session's or the
    request's) only says whether to verify; what is trusted is NetConfig's.
    """

    def __init__(self, net: NetConfig, name: str, address: str) -> None:
        self.net = net
        self.name = name.rstrip(".").lower()
        self.address = address
        super().__init__(pool_connections=2, pool_maxsize=1, max_retries=0)

    def target(self, port: int) -> tuple[str, int]:
        """Where a connection for NAME:port really goes."""
        return self.net.connect_target(self.name, self.address, port)

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        host = (urlsplit(request.url or "").hostname or "").rstrip(".")
        if host != self.name:
            raise OtherHost(f"{host} is not {self.name}, the name tested at {self.address}",
                            request=request)
        return super().send(request, *args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str | None, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if isinstance(verify, str):
            raise ValueError("a CA bundle is NetConfig's (MIGRATOR_CA_BUNDLE), not the request's")
        parts = urlsplit(request.url or "")
        scheme = parts.scheme.lower()
        host, port = self.target(parts.port or DEFAULT_PORTS[scheme])
        host_params = {"scheme": scheme, "host": host, "port": port}
        if scheme != "https":
            return host_params, {}
        verified = bool(verify)
        return host_params, {
            "ssl_context": client_context(self.net, verify=verified),
            "cert_reqs": "CERT_REQUIRED" if verified else "CERT_NONE",
            "server_hostname": None if is_ip(self.name) else self.name,
            # urllib3 checks the name itself (the context leaves it off, see NetConfig)
            "assert_hostname": self.name if verified else False,
        }

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # Deliberately nothing: requests would load its own CA file into the pool's shared
        # ssl_context on every connection; the trust anchors are already in that context.
        return

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        request.headers["Host"] = urlsplit(request.url or "").netloc


def pinned_session(net: NetConfig, name: str, address: str, *, verify: bool = True,
                   user_agent: str = USER_AGENT) -> requests.Session:
    """A session sending requests for ``http(s)://name/...`` to ``address``: see the module."""
    session = requests.Session()
    session.trust_env = False
    session.verify = verify
    session.headers.clear()
    # what a health checker sends; no Accept-Encoding, so a body is hashed as served
    session.headers.update({"User-Agent": user_agent, "Accept": "*/*", "Connection": "close"})
    adapter = PinnedAdapter(net, name, address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass(frozen=True)
class Fetched:
    """The outcome of one request; ``error`` set means there was no response."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None
    length: int = 0
    truncated: bool = False
    error: str | None = None

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

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


def _url(scheme: str, name: str, port: int, path: str) -> str:
    host = f"[{name}]" if ":" in name else name
    netloc = host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: requests and urllib3 nest the socket's error in
    ``args[0]``, ``reason`` (MaxRetryError) and ``__cause__``/``__context__``."""
    queue, seen = [exc], set()
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__,
                 current.reason if isinstance(current, MaxRetryError) else None,
                 *current.args[:1]]
        queue += [e for e in inner if isinstance(e, BaseException)]


def _error_text(exc: BaseException, scheme: str, at: str, net: NetConfig) -> str:
    """The one line for a request that got no response, from its most telling cause."""
    causes = list(_causes(exc))

    def first(*kinds: type[BaseException]) -> Any:
        return next((c for c in causes if isinstance(c, kinds)), None)

    if (unverified := first(ssl.SSLCertVerificationError)) is not None:
        return f"TLS verification failed at {at}: {unverified.verify_message or unverified.reason}"
    if first(ConnectionRefusedError) is not None:
        return f"connection refused at {at}"
    if (other := first(OtherHost)) is not None:
        return f"not followed: {other}"
    if first(NewConnectionError) is not None:
        # requests' own exceptions are OSErrors too: the socket's is the one that tells
        cause = next((c for c in causes if isinstance(c, OSError)
                      and not isinstance(c, requests.RequestException)), None)
        return connect_error_text(cause, at, net) if cause else f"cannot connect to {at}"
    if first(ConnectTimeoutError, requests.ConnectTimeout) is not None:
        return f"connect timed out after {net.connect_timeout:g} s at {at}"
    if first(ReadTimeoutError, requests.ReadTimeout, TimeoutError) is not None:
        return f"no response within {net.read_timeout:g} s from {at}"
    if (tls := first(CertificateError, ssl.SSLError)) is not None:
        return f"TLS failed at {at}: {tls}"  # a name mismatch is urllib3's CertificateError
    if (dropped := first(ProtocolError)) is not None:
        return f"connection dropped by {at}: {dropped.args[0] if dropped.args else dropped}"
    inner = causes[-1]
    return f"{scheme.upper()} request to {at} failed: {type(inner).__name__}: {inner}"


def fetch(
    scheme: str,
    name: str,
    ip: str,
    port: int,
    path: str,
    net: NetConfig,
    *,
    want_body: bool = False,
    verify: bool = True,
    user_agent: str = USER_AGENT,
    follow_redirects: bool = False,
) -> Fetched:
    """GET *path* from *ip*:*port* as if for ``scheme://name/``; never raises.

    ``verify=False`` accepts any certificate (as a load balancer's health checker does);
    ``want_body`` hashes the body (at most MAX_BODY bytes); ``follow_redirects`` follows
    redirects that stay on *name* (one elsewhere is an error, never a look-up).
    """
    if not is_ip(ip):
        return Fetched(error=f"{ip!r} is not an IP address")
    at = where(ip, port, net.connect_target(name, ip, port))
    session = pinned_session(net, name, ip, verify=verify, user_agent=user_agent)
    try:
        with warnings.catch_warnings():
            if not verify:
                warnings.simplefilter("ignore", InsecureRequestWarning)  # unverified on purpose
            response = session.get(_url(scheme, name, port, path), stream=True,
                                   allow_redirects=follow_redirects,
                                   timeout=(net.connect_timeout, net.read_timeout))
        with response:
            digest = hashlib.sha256()
            length = 0
            truncated = False
            if want_body:
                for chunk in response.iter_content(64 * 1024):
                    digest.update(chunk)
                    length += len(chunk)
                    if length >= MAX_BODY:
                        truncated = True
                        break
            return Fetched(
                status=response.status_code,
                headers=_lower(response.headers),
                sha256=digest.hexdigest() if want_body else None,
                length=length,
                truncated=truncated,
            )
    except (requests.RequestException, OSError) as exc:
        return Fetched(error=_error_text(exc, scheme, at, net))
    finally:
        session.close()


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}
