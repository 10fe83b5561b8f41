"""EC2 actions: security groups and their ingress rules, and the groups of the network
interface that holds the site's address."""

from __future__ import annotations

from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.model import SECURITY_GROUP, Action, NamedResource, Traits, Undo
from migrator.core.inspector import instance_interfaces, web_interface
from migrator.core.snapshot import Snapshot
from migrator.errors import AwsConflictError, AwsError, AwsNotFoundError, StalePlanError


def my_group(ctx: Context, name: str, vpc_id: str) -> str | None:
    """The id of the group of that name in the VPC, if it is this plan's (refused if another's)."""
    found = ctx.aws.ec2.security_groups(filters=[
        {"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc_id]}])
    if not found:
        return None
    group = found[0]
    if not ctx.mine({t["Key"]: t.get("Value", "") for t in group.get("Tags", [])}):
        raise StalePlanError(f"a security group named {name} exists and is not this plan's",
                             hint="delete it or re-plan")
    return group["GroupId"]


def create_security_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": ctx.create_or_adopt(
        lambda: my_group(ctx, p["GroupName"], p["VpcId"]),
        lambda: ctx.aws.ec2.create_security_group(**p), f"security group {p['GroupName']}")}


def delete_security_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    group_id = p.get("GroupId") or my_group(ctx, p["GroupName"], p["VpcId"])
    if group_id:
        ctx.delete(lambda: ctx.aws.ec2.delete_security_group(group_id),
                   f"delete security group {p['GroupName']}")
    return {}


def authorize_ingress(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    try:
        ctx.until_visible(lambda: ctx.aws.ec2.authorize_ingress(p["GroupId"], p["IpPermissions"]),
                          f"security group {p['GroupId']}")
    except AwsConflictError as exc:
        if exc.code != "InvalidPermission.Duplicate":
            raise
    return {}


def revoke_ingress(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("GroupId") or _unresolved(p["IpPermissions"]):
        return {}  # the group was never created, so neither were its rules
    try:
        ctx.aws.ec2.revoke_ingress(p["GroupId"], p["IpPermissions"])
    except AwsNotFoundError:
        pass
    except AwsError as exc:
        if exc.code != "InvalidPermission.NotFound":
            raise
    return {}


def _unresolved(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_unresolved(v) for v in value)
    return False


def set_interface_groups(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Give one network interface exactly these groups (security groups belong to interfaces;
    AWS refuses to set an instance's groups when it has several). Its own undo: the same, with
    the groups it had before."""
    groups = [g for g in p["Groups"] if g]
    raw = ctx.aws.ec2.instances(instance_ids=[p["InstanceId"]])[0]
    interfaces = instance_interfaces(raw)
    wanted = p.get("NetworkInterfaceId")
    interface = next((i for i in interfaces if i.id == wanted), None) if wanted else \
        web_interface(interfaces, ctx.snapshot.instance.public_ip)
    if interface is None:
        raise StalePlanError(
            f"network interface {wanted or '(primary)'} is no longer attached to "
            f"{p['InstanceId']}", hint="re-plan; nothing was changed on the instance")
    current = list(interface.security_group_ids)
    if sorted(current) != sorted(groups):
        ctx.until_visible(lambda: ctx.aws.ec2.set_interface_groups(interface.id, groups),
                          f"security groups {', '.join(groups)}")
    return {"before": current, "interface": interface.id}


def _named_group(p: dict[str, Any], _snap: Snapshot) -> list[NamedResource]:
    return [NamedResource(SECURITY_GROUP, p["GroupName"], p["VpcId"], output="group_id")]


# Plans made before groups were set per interface name it ec2.set_instance_groups.
RETIRED_SET_INSTANCE_GROUPS = "ec2.set_instance_groups"

DELETE_SECURITY_GROUP = Undo("ec2.delete_security_group", delete_security_group)
REVOKE_INGRESS = Undo("ec2.revoke_ingress", revoke_ingress)
RESTORE_INTERFACE_GROUPS = Undo("ec2.set_interface_groups", set_interface_groups,
                                former_names=(RETIRED_SET_INSTANCE_GROUPS,))

CREATE_SECURITY_GROUP = Action("ec2.create_security_group", create_security_group,
                               DELETE_SECURITY_GROUP, Traits(creates=_named_group))
AUTHORIZE_INGRESS = Action("ec2.authorize_ingress", authorize_ingress, REVOKE_INGRESS)
SET_INTERFACE_GROUPS = Action("ec2.set_interface_groups", set_interface_groups,
                              RESTORE_INTERFACE_GROUPS,
                              former_names=(RETIRED_SET_INSTANCE_GROUPS,))

ACTIONS = (CREATE_SECURITY_GROUP, AUTHORIZE_INGRESS, SET_INTERFACE_GROUPS)
