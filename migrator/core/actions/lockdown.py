"""The lockdown's actions: wait until no resolver can still hold the old address (deferring
apply until then), then copy the instance's public groups without their public web rules (the
copies replace them on the interface through ec2.set_interface_groups)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.ec2 import authorize_ingress, my_group
from migrator.core.actions.model import (
    SECURITY_GROUP,
    Action,
    Deferred,
    NamedResource,
    Traits,
    Undo,
)
from migrator.core.inspector import normalize_permissions
from migrator.core.lockdown import copy_description, without_public_web
from migrator.core.names import lockdown_copy_name
from migrator.core.snapshot import Snapshot


def wait_old_ttl(ctx: Context, p: dict[str, Any]) -> dict[str, Any] | Deferred:
    switched = datetime.strptime(p["SwitchedAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    ready = switched + timedelta(seconds=int(p["TTL"]) + 1)
    remaining = (ready - ctx.clock.now()).total_seconds()
    if remaining > 0 and not ctx.wait_for_ttl:
        return Deferred(
            ready, f"the lockdown waits until {ready:%Y-%m-%d %H:%M:%S}Z, when no resolver can "
                   "still hold the old address",
            hint="run apply again after that (or now with --wait-for-ttl)")
    if remaining > 0:
        ctx.clock.sleep(remaining)
    return {"ready_at": ready.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _copy_name(ctx: Context, group_id: str, suffix: str) -> str:
    original = ctx.aws.ec2.security_groups(group_ids=[group_id])[0]
    return lockdown_copy_name(original["GroupName"], suffix)


def copy_groups_without_public_web(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    copies: dict[str, str] = {}
    for group_id in p["GroupIds"]:
        original = ctx.aws.ec2.security_groups(group_ids=[group_id])[0]
        name = lockdown_copy_name(original["GroupName"], p["NameSuffix"])
        copy_id = ctx.create_or_adopt(
            lambda n=name: my_group(ctx, n, p["VpcId"]),  # type: ignore[misc]  # mypy#15459: default-arg lambda
            lambda n=name, o=original, g=group_id: ctx.aws.ec2.create_security_group(  # type: ignore[misc]  # mypy#15459: default-arg lambda
                GroupName=n, VpcId=p["VpcId"],
                Description=copy_description(o["GroupName"], g, ctx.plan.id),
                TagSpecifications=[{"ResourceType": "security-group", "Tags": p["Tags"]}]),
            f"security group {name}")
        ctx.until_visible(lambda c=copy_id: ctx.aws.ec2.security_groups(group_ids=[c]),  # type: ignore[misc]  # mypy#15459: default-arg lambda
                          f"security group {copy_id}")
        rules = without_public_web(normalize_permissions(original.get("IpPermissions", [])),
                                   group_id)
        if rules:
            authorize_ingress(ctx, {"GroupId": copy_id, "IpPermissions": rules})
        _copy_egress(ctx, original, copy_id)
        copies[group_id] = copy_id
    return {"copies": copies, **copies}


def _copy_egress(ctx: Context, original: dict[str, Any], copy_id: str) -> None:
    wanted = normalize_permissions(original.get("IpPermissionsEgress", []))
    live = ctx.aws.ec2.security_groups(group_ids=[copy_id])[0]
    current = normalize_permissions(live.get("IpPermissionsEgress", []))
    if current == wanted:
        return
    if current:
        ctx.aws.ec2.revoke_egress(copy_id, current)
    if wanted:
        ctx.aws.ec2.authorize_egress(copy_id, wanted)


def delete_group_copies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    copies = p.get("Copies") or {}
    for group_id in p["GroupIds"]:
        copy_id = copies.get(group_id) or my_group(
            ctx, _copy_name(ctx, group_id, p["NameSuffix"]), p["VpcId"])
        if copy_id:
            ctx.delete(lambda c=copy_id: ctx.aws.ec2.delete_security_group(c),  # type: ignore[misc]  # mypy#15459: default-arg lambda
                       f"delete security group {copy_id}")
    return {}


def _named_copies(p: dict[str, Any], snap: Snapshot) -> list[NamedResource]:
    """The copies, named from the snapshot's groups (a group it does not know: by its id)."""
    names = {g.id: g.name for g in snap.security_groups}
    return [NamedResource(SECURITY_GROUP,
                          lockdown_copy_name(names.get(group_id, group_id), p["NameSuffix"]),
                          p["VpcId"], output=group_id, copy_of=group_id)
            for group_id in p["GroupIds"]]


WAIT_OLD_TTL = Action("dns.wait_old_ttl", wait_old_ttl, None,
                      Traits(may_defer=True, lockdown=True))
DELETE_GROUP_COPIES = Undo("ec2.delete_group_copies", delete_group_copies)
COPY_GROUPS_WITHOUT_PUBLIC_WEB = Action(
    "ec2.copy_groups_without_public_web", copy_groups_without_public_web, DELETE_GROUP_COPIES,
    Traits(lockdown=True, creates=_named_copies))

ACTIONS = (WAIT_OLD_TTL, COPY_GROUPS_WITHOUT_PUBLIC_WEB)
