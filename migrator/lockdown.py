"""The lockdown: which of the instance's security group rules admit web traffic from the whole
internet, and the same rules without that.

After the cutover the instance should accept HTTP/HTTPS only from the load balancer. Groups are
never edited (another instance may share them): a copy without the public web rules replaces
the original on this instance. SSH and every other port stay exactly as they were.
"""

from __future__ import annotations

import copy
from typing import Any

from migrator.errors import PreflightError

WEB_PORTS = (80, 443)
PUBLIC = {"IpRanges": ("CidrIp", "0.0.0.0/0"), "Ipv6Ranges": ("CidrIpv6", "::/0")}


def _covers_web(rule: dict[str, Any]) -> bool:
    if rule["IpProtocol"] == "-1":
        return True
    if rule["IpProtocol"] not in ("tcp", "6"):
        return False
    low, high = rule.get("FromPort", 0), rule.get("ToPort", 65535)
    return any(low <= port <= high for port in WEB_PORTS)


def _public_sources(rule: dict[str, Any]) -> bool:
    return any(item.get(key) == cidr for field, (key, cidr) in PUBLIC.items()
               for item in rule.get(field, []))


def is_public_web(rule: dict[str, Any]) -> bool:
    """Whether a rule admits port 80 or 443 from anywhere."""
    return _covers_web(rule) and _public_sources(rule)


def has_public_web(rules: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> bool:
    return any(is_public_web(r) for r in rules)


def without_public_web(rules: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """The rules with web access from anywhere taken out and everything else kept: other
    sources of the same rule stay, and a port range around 80/443 is split so the other
    ports stay open to the internet as before."""
    out: list[dict[str, Any]] = []
    for rule in rules:
        if not is_public_web(rule):
            out.append(rule)
            continue
        if rule["IpProtocol"] == "-1":
            raise PreflightError(
                f"security group {group} admits all traffic from anywhere; locking the "
                "instance down would mean rewriting that rule",
                hint="narrow the rule first, or plan with --no-lockdown")
        private = copy.deepcopy(rule)
        for field, (key, cidr) in PUBLIC.items():
            private[field] = [i for i in rule.get(field, []) if i.get(key) != cidr]
            if not private[field]:
                del private[field]
        if any(private.get(f) for f in ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs",
                                        "PrefixListIds")):
            out.append(private)
        public = {k: v for k, v in rule.items() if k not in
                  ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")}
        for field, (key, cidr) in PUBLIC.items():
            kept = [i for i in rule.get(field, []) if i.get(key) == cidr]
            if kept:
                public[field] = kept
        for low, high in _split(rule.get("FromPort", 0), rule.get("ToPort", 65535)):
            out.append({**public, "FromPort": low, "ToPort": high})
    return out


def _split(low: int, high: int) -> list[tuple[int, int]]:
    """The port range [low, high] without 80 and 443."""
    ranges, start = [], low
    for port in WEB_PORTS:
        if start <= port <= high:
            if start <= port - 1:
                ranges.append((start, port - 1))
            start = port + 1
    if start <= high:
        ranges.append((start, high))
    return ranges
