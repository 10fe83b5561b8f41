"""Actions that put a site on a load balancer other sites use: its host-header rule (at a free
priority, retried when another plan takes the same one at once), its certificate on the HTTPS
listener by SNI, the load balancer's tag naming the plan, and the subnet `--add-subnet` adds.

Each changes only what its plan added; each undo removes exactly that and tolerates its being
gone already, so rollback can run again from any point.
"""

from __future__ import annotations

import contextlib
from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.model import Action, Undo
from migrator.core.retry import Retry
from migrator.errors import AwsError, AwsNotFoundError, StalePlanError

# Two plans joining one load balancer at once may pick the same free priority: the loser of
# the race gets PriorityInUse and picks again. A few rounds settle any realistic race.
PRIORITY_ATTEMPTS = 8
LAST_PRIORITY = 50000  # ELB's highest rule priority


def _rule_hosts(rule: dict[str, Any]) -> list[str]:
    hosts: list[str] = []
    for condition in rule.get("Conditions", []):
        if condition.get("Field") == "host-header":
            hosts += (condition.get("HostHeaderConfig") or {}).get("Values") \
                or condition.get("Values") or []
    return sorted(h.lower() for h in hosts)


def _our_rule(ctx: Context, listener: str, hosts: list[str]) -> dict[str, Any] | None:
    """This plan's rule for these hosts on the listener, if an earlier run created it."""
    candidates = [r for r in ctx.aws.elbv2.rules(listener)
                  if not r.get("IsDefault") and _rule_hosts(r) == sorted(hosts)]
    if not candidates:
        return None
    tags = ctx.aws.elbv2.tags([r["RuleArn"] for r in candidates])
    for rule in candidates:
        if ctx.mine(tags.get(rule["RuleArn"], {})):
            return rule
    taken = candidates[0]
    raise StalePlanError(f"rule {taken['Priority']} of listener {listener} already routes "
                         f"{', '.join(hosts)} and is not this plan's",
                         hint="that site is on this load balancer already; remove that rule "
                              "or re-plan")


def _free_priority(rules: list[dict[str, Any]], preferred: int | None,
                   before: int | None) -> int:
    taken = {int(r["Priority"]) for r in rules if str(r.get("Priority")) != "default"}
    if preferred is not None and preferred not in taken and (before is None
                                                             or preferred < before):
        return preferred
    top = before if before is not None else LAST_PRIORITY + 1
    for priority in range(1, top):
        if priority not in taken:
            return priority
    where = f"below {before}" if before is not None else "at all"
    raise StalePlanError(f"no rule priority is free {where} on the listener",
                         hint="remove a rule, then run apply again")


def create_rule(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    listener, hosts = p["ListenerArn"], p["Hosts"]

    def attempt() -> dict[str, Any]:
        found = ctx.until_visible(lambda: _our_rule(ctx, listener, hosts),
                                  f"listener {listener}")
        if found is not None:
            return found
        priority = _free_priority(ctx.aws.elbv2.rules(listener), p.get("Priority"),
                                  p.get("Before"))
        ctx.observe(priority=priority)
        return ctx.until_visible(
            lambda: ctx.aws.elbv2.create_rule(
                ListenerArn=listener, Priority=priority, Conditions=p["Conditions"],
                Actions=p["Actions"], Tags=p["Tags"]),
            "the rule's target group")

    races: list[float] = []
    rule = Retry(what="a free rule priority", deadline=60.0, clock=ctx.clock,
                 retry_on=lambda exc: isinstance(exc, AwsError) and exc.code == "PriorityInUse"
                 and len(races) < PRIORITY_ATTEMPTS,
                 on_wait=lambda _exc, delay: races.append(delay),
                 hint="another change to the listener is going on; run apply again")(attempt)
    if races:
        ctx.notes.append(f"rule priority taken by another change meanwhile {len(races)} "
                         f"time(s); took {rule['Priority']}")
    return {"arn": rule["RuleArn"], "priority": int(rule["Priority"])}


def delete_rule(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("RuleArn")
    if not arn:
        # Interrupted before the rule's ARN was journaled: find it by its hosts and tag.
        with contextlib.suppress(AwsNotFoundError):
            found = _our_rule(ctx, p["ListenerArn"], p["Hosts"])
            arn = found["RuleArn"] if found else None
    if arn:
        with contextlib.suppress(AwsNotFoundError):
            ctx.aws.elbv2.delete_rule(arn)
    return {}


def _listener_has(ctx: Context, listener: str, cert: str) -> bool:
    return any(c["CertificateArn"] == cert
               for c in ctx.aws.elbv2.listener_certificates(listener))


def add_listener_certificate(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    listener, cert = p["ListenerArn"], p["CertificateArn"]
    if not ctx.until_visible(lambda: _listener_has(ctx, listener, cert),
                             f"listener {listener}"):
        ctx.until_visible(lambda: ctx.aws.elbv2.add_listener_certificates(listener, [cert]),
                          f"certificate {cert}")
    return {}


def remove_listener_certificate(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    listener, cert = p.get("ListenerArn"), p.get("CertificateArn")
    if not listener or not cert:
        return {}
    with contextlib.suppress(AwsNotFoundError):
        if _listener_has(ctx, listener, cert):
            ctx.aws.elbv2.remove_listener_certificates(listener, [cert])
    return {}


def tag_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.aws.elbv2.add_tags([p["LoadBalancerArn"]], p["Tags"])
    return {}


def untag_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    with contextlib.suppress(AwsNotFoundError):
        ctx.aws.elbv2.remove_tags([p["LoadBalancerArn"]], p["TagKeys"])
    return {}


def set_subnets(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Give the load balancer exactly p["Subnets"]; refused when its subnets are no longer the
    ones the plan saw (p["Before"]) or the wanted ones, so nobody's change is overwritten."""
    lb = ctx.aws.elbv2.load_balancer(p["LoadBalancerArn"])
    if lb is None:
        return {}
    now = sorted(z["SubnetId"] for z in lb.get("AvailabilityZones", []))
    if now == sorted(p["Subnets"]):
        return {}
    if now != sorted(p["Before"]):
        raise StalePlanError(
            f"load balancer {lb['LoadBalancerName']} now has subnets {', '.join(now)}, not "
            f"{', '.join(sorted(p['Before']))} as planned",
            hint="someone changed them: set them by hand, or re-plan")
    ctx.aws.elbv2.set_subnets(p["LoadBalancerArn"], list(p["Subnets"]))
    return {}


DELETE_RULE = Undo("elbv2.delete_rule", delete_rule)
REMOVE_LISTENER_CERTIFICATE = Undo("elbv2.remove_listener_certificate",
                                   remove_listener_certificate)
UNTAG_LOAD_BALANCER = Undo("elbv2.untag_load_balancer", untag_load_balancer)
SET_SUBNETS_BACK = Undo("elbv2.set_subnets", set_subnets)

CREATE_RULE = Action("elbv2.create_rule", create_rule, DELETE_RULE)
ADD_LISTENER_CERTIFICATE = Action("elbv2.add_listener_certificate", add_listener_certificate,
                                  REMOVE_LISTENER_CERTIFICATE)
TAG_LOAD_BALANCER = Action("elbv2.tag_load_balancer", tag_load_balancer, UNTAG_LOAD_BALANCER)
SET_SUBNETS = Action("elbv2.set_subnets", set_subnets, SET_SUBNETS_BACK)

ACTIONS = (CREATE_RULE, ADD_LISTENER_CERTIFICATE, TAG_LOAD_BALANCER, SET_SUBNETS)
