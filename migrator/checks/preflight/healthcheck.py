"""The target group's health check, tried in advance: GET the path over HTTPS at the instance the
way the load balancer will (no certificate validation, the instance's address as Host, the
health checker's User-Agent) and judge the answer with the plan's matcher.

A redirect or a 4xx gets a proposal that will be healthy, with the reason: the redirect's own
path when it stays on the same host (and answers 2xx), otherwise a matcher that includes the
code (an ALB accepts 200-499, as single codes "200,302" or a range "200-299"; 5xx can never be
healthy).

The answer's Server header is kept in the finding's data, for the plan's snapshot.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from migrator.checks.preflight.model import Finding, Level
from migrator.core.snapshot import Snapshot
from migrator.net.config import NetConfig
from migrator.net.http import Fetched, StatusMatcher, fetch
from migrator.net.probe import https_skip_reason

# What an Application Load Balancer's health checker sends; some servers answer it specially.
HEALTH_CHECK_USER_AGENT = "ELB-HealthChecker/2.0 (migrator preflight)"
ALB_MATCHER_RANGE = (200, 499)
REASONS = {
    401: "it asks for authentication, which the health checker cannot give",
    403: "it forbids the health checker (an IP or User-Agent rule?)",
    404: "the path does not exist on the web server",
    405: "the web server does not allow GET there",
    421: "the web server wants a name, and the health checker sends the instance's address",
}


def _same_host(location: str, asked: str, snap: Snapshot, host_header: str) -> str | None:
    """The path (and query) of a Location on the same server, or None when it leaves it."""
    parts = urlsplit(urljoin(f"https://{host_header}{asked}", location))
    hosts = {host_header, snap.instance.public_ip, snap.instance.private_ip, *snap.names}
    if (parts.hostname or "").lower().rstrip(".") not in hosts:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def origin_server_found(findings: list[Finding]) -> str | None:
    """The Server header the origin sent the health check probe (None when it sent none, or was
    not asked), for the plan's snapshot: what to change on the origin depends on it."""
    return next((f.data["server"] for f in findings
                 if f.check == "health-check" and (f.data or {}).get("server")), None)


def _matcher_with(code: int) -> str:
    return f"200,{code}"


def check_health(snap: Snapshot, net: NetConfig, path: str, matcher: str) -> Finding:
    """Probe `path` as the health checker would; pass, or warn/fail with a proposal."""
    address = snap.instance.public_ip
    host = snap.instance.private_ip or address
    skip = https_skip_reason(net, snap.domain, address)
    if skip:
        return Finding("health-check", "info", f"health check {path} not tried: {skip}")
    try:
        accepted = StatusMatcher(matcher)
    except ValueError as exc:
        return Finding("health-check", "fail", str(exc),
                       hint="an ALB matcher is codes from 200 to 499: 200, 200,302 or 200-399")

    def get(p: str) -> Fetched:
        # no SNI when Host is an address, and any certificate: as the health checker
        return fetch("https", host, address, 443, p, net, verify=False,
                     user_agent=HEALTH_CHECK_USER_AGENT)

    began = time.monotonic()
    first = get(path)
    # The origin's latency as a client sees it (connection, TLS, answer), from which a canary
    # bounds the load balancer's TargetResponseTime.
    latency = round(time.monotonic() - began, 4) if first.status is not None else None
    data: dict[str, Any] = {"path": path, "matcher": matcher, "host_header": host,
                            "latency_seconds": latency,
                            "status": first.status, "server": first.headers.get("server")}
    asked = f"GET {path} (Host {host}, as the health checker sends it)"
    if first.status is None:
        return Finding("health-check", "warn", f"{asked} got no answer: {first.error}",
                       hint="the load balancer would mark the instance unhealthy; check that "
                            "the web server answers HTTPS on 443", data=data)
    status = first.status
    healthy = status in accepted
    if 200 <= status < 300 and healthy:
        return Finding("health-check", "pass",
                       f"{asked} answers {status}, healthy with matcher {matcher}", data=data)

    level: Level = "warn" if healthy else "fail"
    proposed_path: str | None = None
    proposed_matcher: str | None = None
    if 300 <= status < 400:
        target = _same_host(first.location, path, snap, host) if first.location else None
        data["location"] = first.location
        if target and target != path:
            follow = get(target)
            if follow.status is not None and 200 <= follow.status < 300:
                proposed_path = target
                reason = (f"it redirects to {target} on the same server, which answers "
                          f"{follow.status}: check that path so the check reaches the "
                          "application")
            else:
                reason = (f"it redirects to {target}, which answers "
                          f"{follow.status or follow.error}")
        else:
            where = f"to {first.location}" if first.location else "without a Location"
            reason = f"it redirects {where}, off this server"
        if proposed_path is None:
            proposed_matcher = matcher if healthy else _matcher_with(status)
            reason += (f"; the matcher {proposed_matcher} accepts {status}, but the check then "
                       "only proves the web server answers")
        message = f"{asked} answers {status}: {reason}"
    elif 400 <= status <= ALB_MATCHER_RANGE[1]:
        why = REASONS.get(status, f"the web server refuses the request with {status}")
        alternative = None
        if path != "/":
            root = get("/")
            if root.status is not None and 200 <= root.status < 300:
                alternative = "/"
        if alternative:
            proposed_path = alternative
            reason = f"{why}; / answers 2xx and would be healthy"
        else:
            proposed_matcher = matcher if healthy else _matcher_with(status)
            reason = (f"{why}; a matcher of {proposed_matcher} would be healthy (an ALB "
                      "accepts 200-499), though a path answering 200 would prove more")
        message = f"{asked} answers {status}: {reason}"
    elif 200 <= status < 300:
        proposed_matcher = _matcher_with(status)
        message = (f"{asked} answers {status}, which matcher {matcher} does not accept; "
                   f"{proposed_matcher} would")
    else:
        level = "fail"
        message = (f"{asked} answers {status}: an ALB only counts 200-499 as healthy, so the "
                   "instance would never be")
        if path != "/":
            root = get("/")
            if root.status is not None and 200 <= root.status < 300:
                proposed_path = "/"
                message += "; / answers 2xx"
    data.update(proposed_path=proposed_path, proposed_matcher=proposed_matcher)
    if proposed_path:
        hint = f"use --health-check-path {proposed_path}"
    elif proposed_matcher and proposed_matcher != matcher:
        hint = (f"use a health check path that answers 200 (--health-check-path), or the "
                f"matcher {proposed_matcher}")
    elif level == "fail":
        hint = "fix the page, or choose a path that answers 200 (--health-check-path)"
    else:
        hint = "prefer a path that answers 200 without redirecting (--health-check-path)"
    return Finding("health-check", level, message, hint=hint, data=data)
