"""Network probes for preflight: DNS questions, a TCP reachability test and an HTTPS GET.

Every probe goes through :class:`~migrator.net.config.NetConfig` (MIGRATOR_NAMESERVERS,
MIGRATOR_CONNECT_TO), has a timeout of a few seconds and never raises: trouble comes back as
an error text in the result.

A site whose public address is a loopback address is a rehearsal world (the sandbox, tests):
the public DNS knows nothing about it, so its names are only looked up when
MIGRATOR_NAMESERVERS is set, and its address is only contacted when MIGRATOR_CONNECT_TO maps
it; otherwise the probe is skipped and the finding says why.
"""

from __future__ import annotations

import ipaddress
import socket
import warnings
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.resolver
import urllib3
from urllib3.exceptions import HTTPError, InsecureRequestWarning

from migrator.net.config import NetConfig, format_hostport

__all__ = [
    "HEALTH_CHECK_USER_AGENT",
    "Dns",
    "DnsAnswer",
    "Reach",
    "Response",
    "dns_skip_reason",
    "https_get",
    "https_skip_reason",
    "tcp_reach",
]

# What an Application Load Balancer's health checker sends; some servers answer it specially.
HEALTH_CHECK_USER_AGENT = "ELB-HealthChecker/2.0 (migrator preflight)"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def dns_skip_reason(net: NetConfig, site_address: str) -> str | None:
    """Why DNS must not be asked about this site, or None when it may be."""
    if _is_loopback(site_address) and not net.pinned_dns:
        return (f"the site's address {site_address} is a loopback (rehearsal) address and "
                "MIGRATOR_NAMESERVERS is not set, so no DNS server knows its names")
    return None


def https_skip_reason(net: NetConfig, name: str, address: str, port: int = 443) -> str | None:
    """Why the instance must not be contacted from here, or None when it may be."""
    if _is_loopback(address) and net.connect_target(name, address, port) == (address, port):
        return (f"{format_hostport(address, port)} is a loopback (rehearsal) address that "
                "MIGRATOR_CONNECT_TO does not map to a server")
    return None


# -- DNS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsAnswer:
    """Record values of one name and type; ``error`` set means no usable answer."""

    values: tuple[str, ...] = ()
    nxdomain: bool = False
    error: str | None = None


class Dns:
    """Questions through NetConfig's resolver. After one timeout or server failure every
    further question gets the same error at once, so a dead server costs one timeout."""

    def __init__(self, net: NetConfig) -> None:
        self.net = net
        self.dead: str | None = None
        self._resolver: dns.resolver.Resolver | None = None

    def _servers(self) -> str:
        if self.net.nameservers:
            return ", ".join(str(ns) for ns in self.net.nameservers)
        return "the system resolver"

    def query(self, name: str, rdtype: str) -> DnsAnswer:
        if self.dead:
            return DnsAnswer(error=self.dead)
        try:
            if self._resolver is None:
                self._resolver = self.net.resolver()
            answer = self._resolver.resolve(dns.name.from_text(name), rdtype,
                                            raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return DnsAnswer(nxdomain=True)
        except dns.exception.Timeout:
            self.dead = f"no answer within {self.net.dns_timeout:g} s from {self._servers()}"
            return DnsAnswer(error=self.dead)
        except dns.resolver.NoNameservers:
            self.dead = f"no usable answer from {self._servers()} (SERVFAIL or refused)"
            return DnsAnswer(error=self.dead)
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            text = f"{type(exc).__name__}: {exc}".splitlines()[0]
            return DnsAnswer(error=f"{rdtype} {name}: {text}")
        if answer.rrset is None:
            return DnsAnswer()
        return DnsAnswer(values=tuple(r.to_text() for r in answer.rrset))


# -- TCP and HTTPS ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Whether a TCP connection opened; ``refused`` when the host actively said no."""

    ok: bool
    at: str
    refused: bool = False
    error: str | None = None


def _where(address: str, port: int, target: tuple[str, int]) -> str:
    text = format_hostport(address, port)
    if target != (address, port):
        text += f" (via {format_hostport(*target)})"
    return text


def tcp_reach(name: str, address: str, port: int, net: NetConfig) -> Reach:
    """Open (and close) a TCP connection to address:port after MIGRATOR_CONNECT_TO."""
    target = net.connect_target(name, address, port)
    at = _where(address, port, target)
    try:
        with socket.create_connection(target, timeout=net.connect_timeout):
            return Reach(ok=True, at=at)
    except ConnectionRefusedError:
        return Reach(ok=False, at=at, refused=True, error=f"connection refused at {at}")
    except TimeoutError:
        return Reach(ok=False, at=at,
                     error=f"no answer within {net.connect_timeout:g} s at {at}")
    except OSError as exc:
        return Reach(ok=False, at=at,
                     error=f"cannot connect to {at}: {exc.strerror or exc}")


@dataclass(frozen=True)
class Response:
    """One HTTP response's status and Location; ``error`` set means there was none."""

    status: int | None = None
    location: str | None = None
    error: str | None = None


def https_get(address: str, port: int, path: str, host_header: str, net: NetConfig, *,
              sni: str | None = None) -> Response:
    """GET path over HTTPS from address:port without verifying the certificate, as a load
    balancer's health checker does (it does not validate its targets' certificates)."""
    target = net.connect_target(sni or host_header, address, port)
    at = _where(address, port, target)
    pool = urllib3.HTTPSConnectionPool(
        host=target[0], port=target[1],
        timeout=urllib3.Timeout(connect=net.connect_timeout, read=net.read_timeout),
        retries=False, maxsize=1, ssl_context=net.ssl_context(verify=False),
        server_hostname=sni, assert_hostname=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)  # unverified on purpose
            response = pool.urlopen(
                "GET", path, redirect=False, retries=False, preload_content=False,
                assert_same_host=False,
                headers={"Host": host_header, "User-Agent": HEALTH_CHECK_USER_AGENT,
                         "Accept": "*/*", "Connection": "close"})
        try:
            return Response(status=response.status, location=response.headers.get("Location"))
        finally:
            response.release_conn()
            response.close()
    except (HTTPError, OSError) as exc:
        reason: BaseException = exc
        while reason.__context__ is not None and not isinstance(reason, OSError):
            reason = reason.__context__
        if isinstance(reason, ConnectionRefusedError):
            return Response(error=f"connection refused at {at}")
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Response(error=f"HTTPS GET {path} at {at} failed: {text}")
    finally:
        pool.close()

