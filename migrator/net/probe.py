"""Reachability for preflight: may the instance be contacted from here, and does a TCP
connection to it open?

Every probe goes through :class:`~migrator.net.config.NetConfig` (MIGRATOR_CONNECT_TO), has a
timeout of a few seconds and never raises: trouble comes back as an error text in the result.

A site whose public address is a loopback address is a rehearsal world (the sandbox, tests): its
address is only contacted when MIGRATOR_CONNECT_TO maps it; otherwise the probe is skipped and
the finding says why (DNS has the same rule: :func:`migrator.net.dns.dns_skip_reason`).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from migrator.net.config import NetConfig, format_hostport, is_loopback, where

__all__ = ["Reach", "https_skip_reason", "tcp_reach"]


def https_skip_reason(net: NetConfig, name: str, address: str, port: int = 443) -> str | None:
    """Why the instance must not be contacted from here, or None when it may be."""
    if is_loopback(address) and net.connect_target(name, address, port) == (address, port):
        return (f"{format_hostport(address, port)} is a loopback (rehearsal) address that "
                "MIGRATOR_CONNECT_TO does not map to a server")
    return None


@dataclass(frozen=True)
class Reach:
    """Whether a TCP connection opened; ``refused`` when the host actively said no."""

    ok: bool
    at: str
    refused: bool = False
    error: str | None = None


def tcp_reach(name: str, address: str, port: int, net: NetConfig) -> Reach:
    """Open (and close) a TCP connection to address:port after MIGRATOR_CONNECT_TO."""
    target = net.connect_target(name, address, port)
    at = where(address, port, target)
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
