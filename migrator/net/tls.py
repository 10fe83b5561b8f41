"""TLS handshake probing: protocol, chain trust and the served certificate's facts.

The probe does what a strict client does (TLS 1.2+, chain verified against the
system store plus ``MIGRATOR_CA_BUNDLE``), and only when that fails does it look
again more leniently, to say *why*: the old protocol the server insists on, or the
name, issuer and dates of the certificate that did not validate.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from migrator.net.config import NetConfig, is_ip, where

__all__ = [
    "CertInfo",
    "Handshake",
    "cert_covers",
    "client_context",
    "connect_error_text",
    "probe_tls",
]

MODERN_PROTOCOLS = ("TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class CertInfo:
    """The facts of a leaf certificate that the checks look at."""

    subject_cn: str | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    issuer_org: str | None
    issuer_cn: str | None
    not_after: datetime

    @property
    def names(self) -> tuple[str, ...]:
        return self.dns_names + self.ip_addresses

    @property
    def issuer(self) -> str:
        parts = []
        if self.issuer_org:
            parts.append(f"O={self.issuer_org}")
        if self.issuer_cn:
            parts.append(f"CN={self.issuer_cn}")
        return ", ".join(parts) or "(empty issuer)"

    @classmethod
    def from_peercert(cls, cert: dict) -> CertInfo:
        """From ``SSLSocket.getpeercert()`` of a verified connection."""

        def attr(rdns: tuple, key: str) -> str | None:
            for rdn in rdns:
                for k, v in rdn:
                    if k == key:
                        return v
            return None

        sans = cert.get("subjectAltName", ())
        not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)
        return cls(
            subject_cn=attr(cert.get("subject", ()), "commonName"),
            dns_names=tuple(v for k, v in sans if k == "DNS"),
            ip_addresses=tuple(_canon_ip(v) for k, v in sans if k == "IP Address"),
            issuer_org=attr(cert.get("issuer", ()), "organizationName"),
            issuer_cn=attr(cert.get("issuer", ()), "commonName"),
            not_after=not_after,
        )

    @classmethod
    def from_der(cls, der: bytes) -> CertInfo | None:
        """Decode a certificate that did not validate; needs ``cryptography``."""
        try:
            from cryptography import x509
            from cryptography.x509.oid import NameOID
        except ImportError:  # pragma: no cover - cryptography is in the sandbox extra
            return None
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            return None

        def first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
            values = name.get_attributes_for_oid(oid)
            return str(values[0].value) if values else None

        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns_names = tuple(san.get_values_for_type(x509.DNSName))
            ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            dns_names, ips = (), ()
        return cls(
            subject_cn=first(cert.subject, NameOID.COMMON_NAME),
            dns_names=dns_names,
            ip_addresses=ips,
            issuer_org=first(cert.issuer, NameOID.ORGANIZATION_NAME),
            issuer_cn=first(cert.issuer, NameOID.COMMON_NAME),
            not_after=cert.not_valid_after_utc,
        )


@dataclass(frozen=True)
class Handshake:
    """What one probe learned. ``error`` set means no handshake completed at all."""

    version: str | None = None
    cipher: str | None = None
    cert: CertInfo | None = None
    chain_ok: bool = False
    chain_error: str | None = None
    error: str | None = None


def client_context(net: NetConfig, *, verify: bool = True, legacy: bool = False) -> ssl.SSLContext:
    """``net.ssl_context(...)``, shared: loading the trust stores costs ~40 ms a time.

    The key includes the bundle file's identity, so a regenerated bundle is reloaded.
    """
    stamp: tuple[int, int] | None = None
    if net.ca_bundle:
        try:
            st = os.stat(net.ca_bundle)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
    return _cached_context(net, verify, legacy, stamp)


@functools.lru_cache(maxsize=16)
def _cached_context(
    net: NetConfig, verify: bool, legacy: bool, _stamp: tuple[int, int] | None
) -> ssl.SSLContext:
    return net.ssl_context(verify=verify, legacy=legacy)


def _canon_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()


def _wildcard_match(pattern: str, name: str) -> bool:
    """RFC 6125 rules as browsers apply them: '*' is the whole left-most label."""
    pattern = pattern.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[2:]
    if "*" in suffix or suffix.count(".") < 1:
        return False  # no '*.com', no nested wildcards
    head, _, tail = name.partition(".")
    return bool(head) and tail == suffix


def cert_covers(cert: CertInfo, name: str) -> bool:
    """Does the certificate's subjectAltName cover *name*? (CN is ignored, as browsers do.)"""
    name = name.rstrip(".").lower()
    if is_ip(name):
        return _canon_ip(name) in cert.ip_addresses
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return any(_wildcard_match(p, name) for p in cert.dns_names)


def connect_error_text(exc: OSError, at: str, net: NetConfig) -> str:
    """One line for a TCP connection that did not open (refused, timed out, unreachable)."""
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused at {at}"
    if isinstance(exc, TimeoutError):
        return f"connect timed out after {net.connect_timeout:g} s at {at}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot connect to {at}: {reason}"


def _ssl_reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return exc.verify_message
    if isinstance(exc, ssl.SSLError):
        return (exc.reason or str(exc)).replace("_", " ").lower()
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


class _ConnectFailed(Exception):
    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _HandshakeTimeout(Exception):
    pass


def _handshake(
    name: str, target: tuple[str, int], ctx: ssl.SSLContext, net: NetConfig
) -> ssl.SSLSocket:
    try:
        sock = socket.create_connection(target, timeout=net.connect_timeout)
    except OSError as exc:
        raise _ConnectFailed(exc) from exc
    try:
        sock.settimeout(net.read_timeout)
        return ctx.wrap_socket(sock, server_hostname=None if is_ip(name) else name)
    except TimeoutError:
        sock.close()
        raise _HandshakeTimeout from None
    except BaseException:
        sock.close()
        raise


def _lenient(
    name: str, target: tuple[str, int], net: NetConfig, *, legacy: bool
) -> tuple[str | None, str | None, CertInfo | None]:
    """An unverified handshake, only to read the protocol and the certificate."""
    try:
        with _handshake(name, target, client_context(net, verify=False, legacy=legacy), net) as tls:
            der = tls.getpeercert(binary_form=True)
            cipher = tls.cipher()
            return (
                tls.version(),
                cipher[0] if cipher else None,
                (CertInfo.from_der(der) if der else None),
            )
    except (OSError, _ConnectFailed, _HandshakeTimeout):
        return None, None, None


def probe_tls(name: str, ip: str, port: int, net: NetConfig) -> Handshake:
    """Handshake with *ip*:*port* (after MIGRATOR_CONNECT_TO) using SNI *name*."""
    target = net.connect_target(name, ip, port)
    at = where(ip, port, target)
    first_error: str | None = None
    for legacy in (False, True):
        try:
            with _handshake(name, target, client_context(net, legacy=legacy), net) as tls:
                cipher = tls.cipher()
                peer = tls.getpeercert()
                assert peer is not None  # a verified handshake always has the peer's certificate
                return Handshake(
                    version=tls.version(),
                    cipher=cipher[0] if cipher else None,
                    cert=CertInfo.from_peercert(peer),
                    chain_ok=True,
                )
        except ssl.SSLCertVerificationError as exc:
            version, suite, cert = _lenient(name, target, net, legacy=legacy)
            return Handshake(
                version=version, cipher=suite, cert=cert, chain_error=_ssl_reason(exc)
            )
        except _ConnectFailed as exc:
            if first_error is None:
                return Handshake(error=connect_error_text(exc.error, at, net))
            break
        except _HandshakeTimeout:
            if first_error is None:
                return Handshake(error=f"no TLS handshake within {net.read_timeout:g} s at {at}")
            break
        except OSError as exc:  # ssl.SSLError included
            # A strict failure may be an old-protocol server: the legacy pass tells.
            first_error = first_error or _ssl_reason(exc)
    return Handshake(error=f"TLS handshake failed at {at}: {first_error}")
