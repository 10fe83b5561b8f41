"""Would IAM allow these Elastic Load Balancing calls under this policy? Not only the action (what
the session check in iam_recording.py asks) but the resource each call is authorized on and the
condition keys it brings, as the Service Authorization Reference lists them for ELB v2:

* CreateLoadBalancer / CreateTargetGroup: the resource being created (its ARN from the response,
  which ELB builds from the name), aws:RequestTag / aws:TagKeys from its Tags;
* CreateListener: the load balancer; CreateRule: the listener (and its tags, aws:ResourceTag);
  both with the request's tags, CreateListener with elasticloadbalancing:ListenerProtocol and
  SecurityPolicy;
* tags given to any create call: elasticloadbalancing:AddTags on the new resource, with
  elasticloadbalancing:CreateAction;
* every other call: the resource it names (RuleArn, ListenerArn, LoadBalancerArn,
  TargetGroupArn, each of ResourceArns), with that resource's tags as aws:ResourceTag, and
  AddTags/RemoveTags' keys (aws:TagKeys), SetSubnets' subnets (elasticloadbalancing:Subnet);
* Describe*: "*".

The tags of a resource are those the recorded calls gave it (on creation, AddTags, RemoveTags):
record a flow from before its resources exist. Allow statements only (the tool's policies have no
Deny); an operator or call this module does not know raises, so a check never passes by omission.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from migrator.core.iam_policy import iam_action
from tests.support.iam_recording import ApiCall

ConditionValue = str | tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """One authorization IAM makes for a call: an action on a resource, with the request's keys."""

    action: str
    resource: str
    context: Mapping[str, ConditionValue] = field(default_factory=dict)
    call: str = ""  # the call it comes from, for messages

    def __str__(self) -> str:
        keys = ", ".join(f"{k}={v}" for k, v in sorted(self.context.items()))
        return f"{self.action} on {self.resource} [{keys}] ({self.call})"


# --- evaluation ---------------------------------------------------------------------------------

def allows(document: Mapping[str, Any], request: Request) -> bool:
    """Whether an Allow statement of the document matches the request's action, resource and
    conditions."""
    return any(_matches(statement, request) for statement in document["Statement"]
               if statement.get("Effect") == "Allow")


def denied(document: Mapping[str, Any], requests: Iterable[Request]) -> list[Request]:
    return [r for r in requests if not allows(document, r)]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(statement: Mapping[str, Any], request: Request) -> bool:
    if not any(fnmatch.fnmatchcase(request.action, a) for a in _listed(statement["Action"])):
        return False
    if not any(fnmatch.fnmatchcase(request.resource, r) for r in _listed(statement["Resource"])):
        return False
    return all(_holds(operator, key, expected, request.context)
               for operator, keys in statement.get("Condition", {}).items()
               for key, expected in keys.items())


def _lookup(context: Mapping[str, ConditionValue], key: str) -> ConditionValue | None:
    # Condition key names are case-insensitive; their values are not.
    return next((v for k, v in context.items() if k.lower() == key.lower()), None)


def _holds(operator: str, key: str, expected: Any, context: Mapping[str, ConditionValue]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if base not in ("StringEquals", "ArnEquals", "StringLike", "ArnLike"):
        raise ValueError(f"condition operator {operator} is not evaluated here")
    like = base.endswith("Like")

    def match(value: str, pattern: str) -> bool:
        return fnmatch.fnmatchcase(value, pattern) if like else value == pattern

    patterns = _listed(expected)
    actual = _lookup(context, key)
    if qualifier == "ForAllValues":
        # True for an absent key, and when every value of the request matches a pattern.
        values = () if actual is None else _listed(actual)
        return all(any(match(v, p) for p in patterns) for v in values)
    if qualifier == "ForAnyValue":
        values = () if actual is None else _listed(actual)
        return any(match(v, p) for v in values for p in patterns)
    if qualifier:
        raise ValueError(f"condition operator {operator} is not evaluated here")
    if actual is None:
        return False  # a single-valued operator on an absent key never matches
    if not isinstance(actual, str):
        raise ValueError(f"{key} is multivalued: {operator} without ForAllValues/ForAnyValue")
    return any(match(actual, p) for p in patterns)


# --- what the calls ask IAM for -----------------------------------------------------------------

ELB = "elasticloadbalancing"
# The parameter naming the one resource each ELB call is authorized on.
NAMED = {
    "DeleteRule": "RuleArn", "ModifyRule": "RuleArn",
    "AddListenerCertificates": "ListenerArn", "RemoveListenerCertificates": "ListenerArn",
    "DeleteListener": "ListenerArn", "ModifyListener": "ListenerArn",
    "DeleteLoadBalancer": "LoadBalancerArn", "ModifyLoadBalancerAttributes": "LoadBalancerArn",
    "SetSubnets": "LoadBalancerArn", "SetSecurityGroups": "LoadBalancerArn",
    "SetIpAddressType": "LoadBalancerArn",
    "DeleteTargetGroup": "TargetGroupArn", "RegisterTargets": "TargetGroupArn",
    "DeregisterTargets": "TargetGroupArn", "ModifyTargetGroup": "TargetGroupArn",
    "ModifyTargetGroupAttributes": "TargetGroupArn",
}


class Tags:
    """The tags of ELB resources, as the recorded calls set them."""

    def __init__(self) -> None:
        self.by_arn: dict[str, dict[str, str]] = {}

    def of(self, arn: str) -> dict[str, ConditionValue]:
        return {f"aws:ResourceTag/{k}": v for k, v in self.by_arn.get(arn, {}).items()}


def _request_tags(tags: Sequence[Mapping[str, str]] | None) -> dict[str, ConditionValue]:
    if not tags:
        return {}
    found: dict[str, ConditionValue] = {f"aws:RequestTag/{t['Key']}": t.get("Value", "")
                                        for t in tags}
    found["aws:TagKeys"] = tuple(t["Key"] for t in tags)
    return found


def _created_arn(call: ApiCall, arn_prefix: str) -> str:
    """The ARN of what a create call made (from its response), or, when it failed, the form ELB
    authorizes it under before it exists (NAME/*: built from the name)."""
    response = call.response or {}
    key, field_name, kind = {
        "CreateLoadBalancer": ("LoadBalancers", "LoadBalancerArn", "loadbalancer/app"),
        "CreateTargetGroup": ("TargetGroups", "TargetGroupArn", "targetgroup"),
        "CreateListener": ("Listeners", "ListenerArn", ""),
        "CreateRule": ("Rules", "RuleArn", ""),
    }[call.operation]
    if call.ok and response.get(key):
        return str(response[key][0][field_name])
    if kind:
        return f"{arn_prefix}{kind}/{call.params.get('Name', '')}/not-created"
    parent = call.params.get("LoadBalancerArn") or call.params["ListenerArn"]
    child = ":listener/" if call.operation == "CreateListener" else ":listener-rule/"
    return str(parent).replace(":loadbalancer/", child, 1).replace(":listener/", child, 1) + \
        "/not-created"


def elb_requests(calls: Iterable[ApiCall], tags: Tags, *, arn_prefix: str) -> list[Request]:
    """What IAM authorizes for each ELB call, in order (other services' calls are skipped),
    updating `tags` as the calls change them. arn_prefix: "arn:aws:elasticloadbalancing:REGION:
    ACCOUNT:", for a create that failed."""
    found: list[Request] = []
    for call in calls:
        if call.service != "elbv2":
            continue
        found += _requests(call, tags, arn_prefix)
        if call.ok:
            _track(call, tags, arn_prefix)
    return found


def _requests(call: ApiCall, tags: Tags, arn_prefix: str) -> list[Request]:
    op, p = call.operation, call.params
    action = iam_action("elbv2", op)
    label = f"{op} {', '.join(f'{k}={v}' for k, v in sorted(p.items()) if k.endswith('Arn'))}"
    if op.startswith("Describe"):
        return [Request(action, "*", {}, label)]
    requested = _request_tags(p.get("Tags"))
    if op in ("CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule"):
        created = _created_arn(call, arn_prefix)
        if op == "CreateListener":
            on, context = p["LoadBalancerArn"], {
                **requested, **tags.of(p["LoadBalancerArn"]),
                "elasticloadbalancing:ListenerProtocol": p["Protocol"],
                **({"elasticloadbalancing:SecurityPolicy": (p["SslPolicy"],)}
                   if p.get("SslPolicy") else {})}
        elif op == "CreateRule":
            on, context = p["ListenerArn"], {**requested, **tags.of(p["ListenerArn"])}
        else:
            on, context = created, dict(requested)
        found = [Request(action, on, context, label)]
        if requested:  # tags on a create: AddTags on the new resource (a dependent action)
            found.append(Request(f"{ELB}:AddTags", created, {
                **requested, "elasticloadbalancing:CreateAction": op}, f"{label} (its Tags)"))
        return found
    if op in ("AddTags", "RemoveTags"):
        keys = {"aws:TagKeys": tuple(p["TagKeys"])} if op == "RemoveTags" else requested
        return [Request(action, arn, {**keys, **tags.of(arn)}, label)
                for arn in p["ResourceArns"]]
    if op in NAMED:
        arn = p[NAMED[op]]
        context = tags.of(arn)
        if op == "SetSubnets":
            context["elasticloadbalancing:Subnet"] = tuple(p["Subnets"])
        if op == "SetSecurityGroups":
            context["elasticloadbalancing:SecurityGroup"] = tuple(p["SecurityGroups"])
        return [Request(action, arn, context, label)]
    raise ValueError(f"the ELB call {op} is not evaluated here: add it to iam_evaluation.py")


def _track(call: ApiCall, tags: Tags, arn_prefix: str) -> None:
    op, p = call.operation, call.params
    if op in ("CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule"):
        tags.by_arn[_created_arn(call, arn_prefix)] = {
            t["Key"]: t.get("Value", "") for t in p.get("Tags") or ()}
    elif op == "AddTags":
        for arn in p["ResourceArns"]:
            tags.by_arn.setdefault(arn, {}).update(
                {t["Key"]: t.get("Value", "") for t in p["Tags"]})
    elif op == "RemoveTags":
        for arn in p["ResourceArns"]:
            for key in p["TagKeys"]:
                tags.by_arn.get(arn, {}).pop(key, None)
