"""The lockdown: which of the instance's security group rules admit web traffic from the whole
internet, and the same rules without that.

After the cutover the instance should accept HTTP/HTTPS only from the load balancer. Groups are
never edited (another instance may share them): a copy without the public web rules replaces
the original on this instance. SSH and every other port stay exactly as they were.

A copy must fit AWS's limits before any of it is created: ``copy_quota_problems`` counts its
rules as AWS does and measures its description (preflight calls it through
``migrator.checks.preflight.quotas``; the planner may call it too); ``copy_description`` is the
description shortened to fit.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from migrator.errors import PreflightError

WEB_PORTS = (80, 443)
PUBLIC = {"IpRanges": ("CidrIp", "0.0.0.0/0"), "Ipv6Ranges": ("CidrIpv6", "::/0")}
# Amazon VPC quota "Inbound or outbound rules per security group": 60 by default (adjustable),
# enforced separately for IPv4 and IPv6 rules. Each CIDR counts as one rule of its family; a
# security group or prefix list reference counts as one of each (a customer-managed prefix list
# really counts as its maximum number of entries, which the snapshot does not know).
RULES_PER_GROUP = 60
RULES_QUOTA = "Inbound or outbound rules per security group"
DESCRIPTION_MAX = 255  # characters of a security group's description (EC2 API)


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


# -- quotas of the copies --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCount:
    """Rules as AWS counts them against the per-group quota, per address family."""

    ipv4: int = 0
    ipv6: int = 0

    def __str__(self) -> str:
        return f"{self.ipv4} IPv4 and {self.ipv6} IPv6"


def count_rules(rules: Sequence[dict[str, Any]]) -> RuleCount:
    """Each IPv4 CIDR is one IPv4 rule, each IPv6 CIDR one IPv6 rule, and each security group
    or prefix list reference one of each (AWS's counting for the rules-per-group quota)."""
    ipv4 = ipv6 = 0
    for rule in rules:
        refs = len(rule.get("UserIdGroupPairs", [])) + len(rule.get("PrefixListIds", []))
        ipv4 += len(rule.get("IpRanges", [])) + refs
        ipv6 += len(rule.get("Ipv6Ranges", [])) + refs
    return RuleCount(ipv4, ipv6)


def copy_description(group_name: str, group_id: str, plan_id: str, *,
                     fit: bool = True) -> str:
    """The description of the copy of group_id, as actions.py words it. With ``fit`` the
    group's name is shortened (ending in "...") so the whole stays within 255 characters; the
    group id and plan id are always kept whole."""
    tail = f" ({group_id}) without web access from the internet (migrator {plan_id})"
    if not fit or len(group_name) + len(tail) <= DESCRIPTION_MAX:
        return group_name + tail
    room = max(0, DESCRIPTION_MAX - len(tail) - 3)
    return (group_name[:room] + "..." + tail)[:DESCRIPTION_MAX]


def _over(copied: int, original: int, family: str) -> str | None:
    # The original exists with its rules, so the account's quota is at least its count.
    limit = max(RULES_PER_GROUP, original)
    if copied <= limit:
        return None
    return (f"{copied} inbound {family} rules (the original has {original}; the default "
            f"quota \"{RULES_QUOTA}\" is {RULES_PER_GROUP}, counting each CIDR, prefix list and "
            "group reference as a rule)")


def copy_quota_problems(group_id: str, group_name: str, ingress: Sequence[dict[str, Any]],
                        plan_id: str, *, fitted_description: bool = True) -> list[str]:
    """Why AWS would refuse the lockdown copy of a group (empty: it fits).

    The copy's inbound rules (``without_public_web``: a range around 80/443 becomes several
    rules, each with every public source) must stay within the rules-per-group quota, and its
    description within 255 characters (actions.py fits it with ``copy_description``; pass
    ``fitted_description=False`` to judge the full, unshortened text). Its outbound rules are
    the original's, copied as they are, so they fit whatever quota the original fits.
    Raises PreflightError for a rule that
    cannot be rewritten (all traffic from anywhere), as ``without_public_web`` does.
    """
    problems: list[str] = []
    copied = count_rules(without_public_web(list(ingress), group_id))
    original = count_rules(ingress)
    for family, label in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
        text = _over(getattr(copied, family), getattr(original, family), label)
        if text:
            problems.append(f"its copy would have {text}")
    description = copy_description(group_name, group_id, plan_id, fit=fitted_description)
    if len(description) > DESCRIPTION_MAX:
        problems.append(
            f"its copy's description would be {len(description)} characters (the group's "
            f"{len(group_name)}-character name and the plan's words); EC2 allows at most "
            f"{DESCRIPTION_MAX}")
    return problems
