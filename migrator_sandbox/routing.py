"""What an ALB listener does with a request: rule matching and the redirect/fixed-response math.

Pure functions over ``moto_state`` views, no I/O, so they are easy to test on their own.

Rules are evaluated by priority, lowest number first, and the first whose conditions all match
answers (values within one condition are alternatives); the default actions answer when none
does. Condition values are AWS's patterns, not shell globs: ``*`` matches zero or more
characters, ``?`` exactly one, ``\\*`` and ``\\?`` the character itself, and every other
character (``[`` included) only itself. Host header, HTTP header and query string values compare
case-insensitively, path patterns case-sensitively, as ALB's documentation says.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .moto_state import Action, Listener


@dataclass(frozen=True)
class Request:
    """The parts of a request that ALB rules and redirects look at."""

    method: str
    host: str  # Host header without the port, lower case
    path: str  # without the query string
    query: str  # without the "?"
    headers: Mapping[str, str]  # lower-case names
    client: str
    protocol: str  # HTTP | HTTPS (the listener's)
    port: int  # the listener's port

    @classmethod
    def parse(
        cls,
        method: str,
        target: str,
        headers: Mapping[str, str],
        client: str,
        protocol: str,
        port: int,
        default_host: str,
    ) -> Request:
        path, _, query = target.partition("?")
        lowered = {k.lower(): v for k, v in headers.items()}
        host = (lowered.get("host") or default_host).strip()
        if host.startswith("["):
            host = host.split("]", 1)[0] + "]"
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return cls(method, host.lower(), path or "/", query, lowered, client, protocol, port)


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """ALB's wildcard pattern as a regular expression (the whole value must match)."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    if escaped:
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_matches(pattern: str, value: str, *, ignore_case: bool) -> bool:
    """Does ``value`` match ALB condition value ``pattern`` (``*``, ``?``)?"""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _values(condition: Mapping[str, Any], config_key: str) -> list[Any]:
    config = condition.get(config_key) or {}
    values = config.get("Values") if isinstance(config, Mapping) else None
    return list(values or condition.get("Values") or [])


def condition_matches(condition: Mapping[str, Any], request: Request) -> bool:
    """One ALB rule condition; unknown fields never match."""
    field = str(condition.get("Field", "")).lower()
    if field == "host-header":
        return any(
            wildcard_matches(str(v), request.host, ignore_case=True)
            for v in _values(condition, "HostHeaderConfig")
        )
    if field == "path-pattern":
        return any(
            wildcard_matches(str(v), request.path, ignore_case=False)
            for v in _values(condition, "PathPatternConfig")
        )
    if field == "http-request-method":
        return request.method.upper() in {
            str(v).upper() for v in _values(condition, "HttpRequestMethodConfig")
        }
    if field == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        name = str(config.get("HttpHeaderName", "")).lower()
        value = request.headers.get(name)
        return value is not None and any(
            wildcard_matches(str(v), value, ignore_case=True) for v in config.get("Values") or []
        )
    if field == "query-string":
        pairs = parse_qsl(request.query, keep_blank_values=True)
        for wanted in _values(condition, "QueryStringConfig"):
            key = wanted.get("Key") if isinstance(wanted, Mapping) else None
            val = str(wanted.get("Value", "")) if isinstance(wanted, Mapping) else str(wanted)
            for k, v in pairs:
                if (key is None or wildcard_matches(str(key), k, ignore_case=True)) and (
                    wildcard_matches(val, v, ignore_case=True)
                ):
                    return True
        return False
    if field == "source-ip":
        try:
            client = ipaddress.ip_address(request.client)
            return any(
                client in ipaddress.ip_network(str(v), strict=False)
                for v in _values(condition, "SourceIpConfig")
            )
        except ValueError:
            return False
    return False


def select_actions(listener: Listener, request: Request) -> tuple[Action, ...]:
    """The actions of the first rule (by priority, lowest first) whose conditions all match,
    else the defaults."""
    for rule in sorted(listener.rules, key=lambda r: r.priority):
        if rule.conditions and all(condition_matches(c, request) for c in rule.conditions):
            return rule.actions
    return listener.default_actions


def final_action(actions: Sequence[Action]) -> Action | None:
    """The action that answers (authenticate-* actions are not simulated and are skipped)."""
    for action in actions:
        if action.type in ("forward", "redirect", "fixed-response"):
            return action
    return None


def _substitute(template: str, request: Request) -> str:
    return (
        template.replace("#{protocol}", request.protocol.lower())
        .replace("#{host}", request.host)
        .replace("#{port}", str(request.port))
        .replace("#{path}", request.path.lstrip("/"))
        .replace("#{query}", request.query)
    )


def redirect(config: Mapping[str, Any], request: Request) -> tuple[int, str]:
    """(status, Location) for a redirect action, with ALB's ``#{...}`` placeholders.

    Like ALB, the Location always carries the port (``https://host:443/path``) and omits an
    empty query.
    """
    protocol = _substitute(str(config.get("Protocol") or "#{protocol}"), request).lower()
    host = _substitute(str(config.get("Host") or "#{host}"), request)
    port = _substitute(str(config.get("Port") or "#{port}"), request)
    path = _substitute(str(config.get("Path") or "/#{path}"), request)
    query = _substitute(str(config.get("Query") or "#{query}"), request)
    if not path.startswith("/"):
        path = "/" + path
    location = f"{protocol}://{host}:{port}{path}"
    if query:
        location += f"?{query}"
    code = str(config.get("StatusCode") or "HTTP_301")
    status = 302 if code.endswith("302") else 301
    return status, location


def fixed_response(config: Mapping[str, Any]) -> tuple[int, str, bytes]:
    """(status, content type, body) for a fixed-response action."""
    status = int(str(config.get("StatusCode") or "200"))
    ctype = str(config.get("ContentType") or "text/plain")
    body = str(config.get("MessageBody") or "").encode()
    return status, ctype, body


def pick_target_group(action: Action, rng: random.Random) -> str | None:
    """A weighted choice among a forward action's target groups."""
    groups = action.forward_groups()
    if not groups:
        return None
    weights = [w for _, w in groups]
    if not any(weights):
        return None
    return rng.choices([arn for arn, _ in groups], weights=weights)[0]
