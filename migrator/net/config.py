"""Network configuration shared by every outgoing connection migrator makes for checks.

Three standard environment variables steer where packets go, so that the same code
runs against AWS and the public internet, or entirely on loopback in the sandbox:

``MIGRATOR_NAMESERVERS``
    ``HOST[:PORT]`` entries, comma-separated; HOST is an IPv4 or IPv6 address, IPv6
    with a port is written ``[::1]:5353``; the port defaults to 53. When set, every
    DNS query goes to these servers and nowhere else.
``MIGRATOR_CONNECT_TO``
    curl's ``--connect-to`` form ``HOST1:PORT1:HOST2:PORT2``, comma-separated. Before
    a TCP connection is opened, the first entry whose HOST1 equals the URL's host
    name or the address about to be connected to, and whose PORT1 equals the port,
    redirects it to HOST2:PORT2. An empty HOST1/PORT1 matches anything, an empty
    HOST2/PORT2 keeps the original. HOST2 must be an IP address (no name look-ups).
``MIGRATOR_CA_BUNDLE``
    A PEM file of extra CA certificates trusted in addition to the system store.

Parsing errors are ``ValueError`` with a one-line message naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import dns.nameserver
import dns.resolver

ENV_NAMESERVERS = "MIGRATOR_NAMESERVERS"
ENV_CONNECT_TO = "MIGRATOR_CONNECT_TO"
ENV_CA_BUNDLE = "MIGRATOR_CA_BUNDLE"

__all__ = [
    "ENV_CA_BUNDLE",
    "ENV_CONNECT_TO",
    "ENV_NAMESERVERS",
    "ConnectTo",
    "NameServer",
    "NetConfig",
    "format_hostport",
    "is_ip",
    "is_loopback",
    "where",
]


@dataclass(frozen=True)
class NameServer:
    """One DNS server: an IP address literal and a UDP/TCP port."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        return format_hostport(self.address, self.port)


@dataclass(frozen=True)
class ConnectTo:
    """One ``--connect-to`` rule; ``None`` fields mean "any" (match) or "keep" (target)."""

    host: str | None
    port: int | None
    to_host: str | None
    to_port: int | None

    def matches(self, host: str, ip: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is None:
            return True
        wanted = self.host.lower()
        return wanted in (_norm_host(host), _norm_host(ip))

    def __str__(self) -> str:
        def part(value: object) -> str:
            if value is None:
                return ""
            text = str(value)
            return f"[{text}]" if ":" in text else text

        return ":".join(part(v) for v in (self.host, self.port, self.to_host, self.to_port))


@dataclass(frozen=True)
class NetConfig:
    """Where DNS queries and TCP connections go, and which CAs are trusted.

    The timeouts are not read from the environment; tests shorten them with
    ``dataclasses.replace``.
    """

    nameservers: tuple[NameServer, ...] = ()
    connect_to: tuple[ConnectTo, ...] = ()
    ca_bundle: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    dns_timeout: float = 3.0

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NetConfig:
        """Build from ``MIGRATOR_*`` variables (``os.environ`` when *env* is None)."""
        if env is None:
            env = os.environ
        nameservers = _parse_nameservers(env.get(ENV_NAMESERVERS, ""))
        connect_to = _parse_connect_to(env.get(ENV_CONNECT_TO, ""))
        bundle = env.get(ENV_CA_BUNDLE, "").strip() or None
        if bundle is not None:
            _check_bundle(bundle)
        return cls(nameservers=nameservers, connect_to=connect_to, ca_bundle=bundle)

    def to_env(self) -> dict[str, str]:
        """The environment variables that ``from_env`` reads back into an equal config."""
        env: dict[str, str] = {}
        if self.nameservers:
            env[ENV_NAMESERVERS] = ",".join(str(ns) for ns in self.nameservers)
        if self.connect_to:
            env[ENV_CONNECT_TO] = ",".join(str(rule) for rule in self.connect_to)
        if self.ca_bundle:
            env[ENV_CA_BUNDLE] = self.ca_bundle
        return env

    # -- DNS ----------------------------------------------------------------------

    @property
    def pinned_dns(self) -> bool:
        """True when DNS is pinned to ``MIGRATOR_NAMESERVERS`` (nothing else is asked)."""
        return bool(self.nameservers)

    def resolver(self) -> dns.resolver.Resolver:
        """A fresh, cache-less resolver: the configured servers, else the system's."""
        if self.nameservers:
            res = dns.resolver.Resolver(configure=False)
            res.nameservers = [
                dns.nameserver.Do53Nameserver(ns.address, ns.port) for ns in self.nameservers
            ]
        else:
            res = dns.resolver.Resolver()
        res.cache = None
        # each server gets its share of the lifetime, so a dead first server
        # still leaves time to ask the next one
        res.timeout = self.dns_timeout / max(1, len(self.nameservers))
        res.lifetime = self.dns_timeout
        res.retry_servfail = False
        return res

    # -- TCP ----------------------------------------------------------------------

    def connect_target(self, host: str, ip: str, port: int) -> tuple[str, int]:
        """Where a connection for URL host *host*, meant for *ip*:*port*, really goes."""
        for rule in self.connect_to:
            if rule.matches(host, ip, port):
                return (rule.to_host or ip, rule.to_port or port)
        return (ip, port)

    # -- TLS ----------------------------------------------------------------------

    def ssl_context(self, *, verify: bool = True, legacy: bool = False) -> ssl.SSLContext:
        """A client context trusting the system store, certifi and the CA bundle.

        Hostname checking is left off: callers check names themselves so that a
        mismatch is reported separately from an untrusted chain. ``legacy`` lowers
        the floor to TLS 1.0 (OpenSSL security level 0) purely so that a server
        stuck on an old protocol can be identified rather than just refused.
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if legacy:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if verify:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
            cafile = _certifi_where()
            if cafile:
                ctx.load_verify_locations(cafile=cafile)
            if self.ca_bundle:
                ctx.load_verify_locations(cafile=self.ca_bundle)
        else:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def describe_trust(self) -> str:
        """Human wording of the trust anchors, for check details."""
        if self.ca_bundle:
            return f"system store + {self.ca_bundle}"
        return "system store"


# -- helpers ------------------------------------------------------------------------


def format_hostport(host: str, port: int) -> str:
    """``127.0.0.1:53`` / ``[::1]:53``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 address literal (no brackets)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(text: str) -> bool:
    """True for an address in 127.0.0.0/8 or ::1: a rehearsal world (the sandbox, tests)."""
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def where(ip: str, port: int, target: tuple[str, int]) -> str:
    """``127.0.0.20:443``, plus the real destination when MIGRATOR_CONNECT_TO moved it:
    ``127.0.0.20:443 (via 127.0.0.20:40123)``. Every connection error text names it so."""
    text = format_hostport(ip, port)
    if target != (ip, port):
        text += f" (via {format_hostport(*target)})"
    return text


def _norm_host(host: str) -> str:
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _certifi_where() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi ships with requests
        return None
    return certifi.where()


def _parse_ip(text: str, var: str, entry: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"{var}: {text!r} in {entry!r} is not an IP address") from None


def _parse_port(text: str, var: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{var}: {text!r} in {entry!r} is not a port number (1-65535)")
    return int(text)


def _parse_nameservers(value: str) -> tuple[NameServer, ...]:
    var = ENV_NAMESERVERS
    result: list[NameServer] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry.startswith("["):
            host, sep, rest = entry[1:].partition("]")
            if not sep:
                raise ValueError(f"{var}: missing ']' in {entry!r}")
            if rest and not rest.startswith(":"):
                raise ValueError(f"{var}: expected ':PORT' after ']' in {entry!r}")
            port = _parse_port(rest[1:], var, entry) if rest else 53
        elif entry.count(":") == 1:
            host, _, port_text = entry.partition(":")
            port = _parse_port(port_text, var, entry)
        else:
            # a bare IPv4 address, or a bare IPv6 address (several colons, no port)
            host, port = entry, 53
        result.append(NameServer(_parse_ip(host, var, entry), port))
    return tuple(result)


def _split_connect_to(entry: str) -> list[str]:
    """Split on ':' outside brackets; bracketed parts lose their brackets."""
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(entry):
        ch = entry[i]
        if ch == "[":
            end = entry.find("]", i)
            if end < 0:
                raise ValueError(f"{ENV_CONNECT_TO}: missing ']' in {entry!r}")
            current += entry[i + 1 : end]
            i = end + 1
            continue
        if ch == ":":
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return parts


def _parse_connect_to(value: str) -> tuple[ConnectTo, ...]:
    var = ENV_CONNECT_TO
    rules: list[ConnectTo] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        parts = _split_connect_to(entry)
        if len(parts) != 4:
            raise ValueError(f"{var}: {entry!r} is not HOST1:PORT1:HOST2:PORT2")
        host, port, to_host, to_port = (p.strip() for p in parts)
        rules.append(
            ConnectTo(
                host=_norm_host(host) or None,
                port=_parse_port(port, var, entry) if port else None,
                to_host=_parse_ip(to_host, var, entry) if to_host else None,
                to_port=_parse_port(to_port, var, entry) if to_port else None,
            )
        )
    return tuple(rules)


def _check_bundle(path: str) -> None:
    var = ENV_CA_BUNDLE
    if not os.path.isfile(path):
        raise ValueError(f"{var}: no such file: {path}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"{var}: {path} is not a PEM file of CA certificates ({exc})") from None
