"""ELBv2 actions: the target group and its target, the load balancer and its attributes, the
listeners, and the waits for the load balancer and the instance's health."""

from __future__ import annotations

import contextlib
from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.model import (
    LOAD_BALANCER,
    TARGET_GROUP,
    Action,
    NamedResource,
    Traits,
    Undo,
)
from migrator.core.snapshot import Snapshot
from migrator.errors import AwsError, AwsNotFoundError, StalePlanError, WaitTimeoutError


def _adopted(ctx: Context, found: dict[str, Any] | None, arn_key: str, kind: str,
             name: str) -> dict[str, Any] | None:
    """What a lookup by name found, once it is known to be this plan's (refused otherwise)."""
    if found is not None:
        _adopt(ctx, found[arn_key], kind, name)
    return found


def _adopt(ctx: Context, arn: str, kind: str, name: str) -> None:
    if not ctx.mine(ctx.aws.elbv2.tags([arn]).get(arn, {})):
        raise StalePlanError(f"a {kind} named {name} already exists and is not this plan's",
                             hint="delete it or re-plan (a new plan picks new names)")


def create_target_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    group = ctx.create_or_adopt(
        lambda: _adopted(ctx, ctx.aws.elbv2.target_group_named(p["Name"]), "TargetGroupArn",
                         "target group", p["Name"]),
        lambda: ctx.aws.elbv2.create_target_group(**p), f"target group {p['Name']}")
    return {"arn": group["TargetGroupArn"]}


def delete_target_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("TargetGroupArn")
    if not arn:
        found = ctx.aws.elbv2.target_group_named(p["Name"])
        if not found:
            return {}
        _adopt(ctx, found["TargetGroupArn"], "target group", p["Name"])
        arn = found["TargetGroupArn"]
    ctx.delete(lambda: ctx.aws.elbv2.delete_target_group(arn), f"delete target group {p['Name']}")
    return {}


def register_targets(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.elbv2.register_targets(p["TargetGroupArn"], p["Targets"]),
                      f"target group {p['TargetGroupArn']}")
    return {}


def deregister_targets(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("TargetGroupArn"):
        with contextlib.suppress(AwsNotFoundError):
            # Only what is still registered: a rollback killed after AWS deregistered the
            # instance must not fail on the rerun (DeregisterTargets answers InvalidTarget).
            # A draining target is deregistered already (AWS lists it while connections
            # drain, and refuses to deregister it again).
            registered = {h["Target"]["Id"]
                          for h in ctx.aws.elbv2.target_health(p["TargetGroupArn"])
                          if h.get("TargetHealth", {}).get("State") != "draining"}
            targets = [t for t in p["Targets"] if t["Id"] in registered]
            if targets:
                try:
                    ctx.aws.elbv2.deregister_targets(p["TargetGroupArn"], targets)
                except AwsError as exc:
                    if exc.code != "InvalidTarget":  # not registered (any more): done
                        raise
    return {}


def create_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    found = ctx.create_or_adopt(
        lambda: _adopted(ctx, ctx.aws.elbv2.load_balancer_named(p["Name"]), "LoadBalancerArn",
                         "load balancer", p["Name"]),
        lambda: ctx.until_visible(lambda: ctx.aws.elbv2.create_load_balancer(**p),
                                  f"security groups {', '.join(p['SecurityGroups'])}"),
        f"load balancer {p['Name']}")
    return {"arn": found["LoadBalancerArn"], "dns_name": found["DNSName"],
            "zone_id": found["CanonicalHostedZoneId"]}


def delete_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("LoadBalancerArn")
    if not arn:
        found = ctx.aws.elbv2.load_balancer_named(p["Name"])
        if not found:
            return {}
        _adopt(ctx, found["LoadBalancerArn"], "load balancer", p["Name"])
        arn = found["LoadBalancerArn"]
    if ctx.aws.elbv2.load_balancer(arn):
        ctx.aws.elbv2.delete_load_balancer(arn, timeout=ctx.delete_timeout)
    return {}


def wait_load_balancer_active(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.aws.elbv2.wait_available(p["LoadBalancerArn"], timeout=900)
    return {}


def create_listener(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((x for x in ctx.aws.elbv2.listeners(p["LoadBalancerArn"])
                     if x["Port"] == p["Port"]), None)

    listener = ctx.create_or_adopt(
        find, lambda: ctx.until_visible(
            lambda: ctx.aws.elbv2.create_listener(**p),
            f"the port {p['Port']} listener's target group and certificate"),
        f"the port {p['Port']} listener")
    return {"arn": listener["ListenerArn"]}


def set_load_balancer_attributes(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.elbv2.set_attributes(p["LoadBalancerArn"], p["Attributes"]),
                      f"load balancer {p['LoadBalancerArn']}")
    return {}


def delete_listener(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("ListenerArn")
    if not arn and p.get("LoadBalancerArn"):
        arn = next((x["ListenerArn"] for x in ctx.aws.elbv2.listeners(p["LoadBalancerArn"])
                    if x["Port"] == p["Port"]), None)
    if arn:
        with contextlib.suppress(AwsNotFoundError):
            ctx.aws.elbv2.delete_listener(arn)
    return {}


def wait_target_healthy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.elbv2.target_health(p["TargetGroupArn"]),
                      f"target group {p['TargetGroupArn']}")
    try:
        ctx.aws.elbv2.wait_in_service(p["TargetGroupArn"], p["Targets"],
                                      timeout=p["TimeoutSeconds"])
    except (WaitTimeoutError, AwsError) as exc:
        health = ctx.aws.elbv2.target_health(p["TargetGroupArn"])
        reasons = "; ".join(
            f"{h['Target']['Id']}: {h['TargetHealth'].get('State')} "
            f"({h['TargetHealth'].get('Reason', '')} {h['TargetHealth'].get('Description', '')})"
            for h in health)
        raise WaitTimeoutError(f"the instance never became healthy: {reasons}",
                               hint="check the health check path answers 200-399 over HTTPS "
                                    "(a redirect fails it); fix, then run apply again") from exc
    return {}


def _named_target_group(p: dict[str, Any], _snap: Snapshot) -> list[NamedResource]:
    return [NamedResource(TARGET_GROUP, p["Name"])]


def _named_load_balancer(p: dict[str, Any], _snap: Snapshot) -> list[NamedResource]:
    return [NamedResource(LOAD_BALANCER, p["Name"])]


DELETE_TARGET_GROUP = Undo("elbv2.delete_target_group", delete_target_group)
DEREGISTER_TARGETS = Undo("elbv2.deregister_targets", deregister_targets)
DELETE_LOAD_BALANCER = Undo("elbv2.delete_load_balancer", delete_load_balancer)
DELETE_LISTENER_UNDO = Undo("elbv2.delete_listener", delete_listener)

CREATE_TARGET_GROUP = Action("elbv2.create_target_group", create_target_group,
                             DELETE_TARGET_GROUP, Traits(creates=_named_target_group))
REGISTER_TARGETS = Action("elbv2.register_targets", register_targets, DEREGISTER_TARGETS)
CREATE_LOAD_BALANCER = Action("elbv2.create_load_balancer", create_load_balancer,
                              DELETE_LOAD_BALANCER, Traits(creates=_named_load_balancer))
WAIT_LOAD_BALANCER_ACTIVE = Action("elbv2.wait_load_balancer_active",
                                   wait_load_balancer_active, None)
# The load balancer's own undo deletes it with its attributes.
SET_LOAD_BALANCER_ATTRIBUTES = Action("elbv2.set_load_balancer_attributes",
                                      set_load_balancer_attributes, None)
CREATE_LISTENER = Action("elbv2.create_listener", create_listener, DELETE_LISTENER_UNDO)
# As a step of its own it removes the temporary listener for good (whose own undo, deleting it,
# tolerates its being gone).
DELETE_LISTENER = Action("elbv2.delete_listener", delete_listener, None)
WAIT_TARGET_HEALTHY = Action("elbv2.wait_target_healthy", wait_target_healthy, None)

ACTIONS = (CREATE_TARGET_GROUP, REGISTER_TARGETS, CREATE_LOAD_BALANCER, WAIT_LOAD_BALANCER_ACTIVE,
           SET_LOAD_BALANCER_ATTRIBUTES, CREATE_LISTENER, DELETE_LISTENER, WAIT_TARGET_HEALTHY)
