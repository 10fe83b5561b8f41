"""The least-privilege IAM policy migrator needs, built from one list of actions (no boto3 here).

Every AWS API action the tool calls is listed once, in GRANTS, grouped by how far AWS lets a policy
narrow it: the "Resource types" and "Condition keys" columns of the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/), cited per group.
`policy(plan)` turns the groups into IAM statements: with a plan, scoped to that plan's account,
region, hosted zone, VPC, record names, load balancer and target group names and its
`migrator:plan` tag; without one, to resources carrying a `migrator:plan` tag of any plan.

Describe/List actions cannot be narrowed ("*"): AWS lists no resource type for them. For every
operation this tool calls, the IAM action has the operation's name under the service's prefix
(`iam_action`), so a recorded botocore call maps to exactly one action.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from migrator.plan import Plan
from migrator.planner import TAG_KEY

# botocore service name -> IAM service prefix (the "service prefix" of each reference page).
IAM_PREFIX = {
    "acm": "acm",
    "ec2": "ec2",
    "elbv2": "elasticloadbalancing",
    "lightsail": "lightsail",
    "route53": "route53",
    "sts": "sts",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorizes botocore `service`'s `operation`, e.g.
    ("elbv2", "CreateLoadBalancer") -> "elasticloadbalancing:CreateLoadBalancer"."""
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Scope:
    """What the statements may name: a plan's resources, or (all None) any migrator plan's."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"
    plan_id: str | None = None
    zone_id: str | None = None
    vpc_id: str | None = None
    names: tuple[str, ...] = ()
    load_balancer: str | None = None
    target_group: str | None = None

    @classmethod
    def of_plan(cls, plan: Plan) -> Scope:
        snap = plan.snapshot
        named = {s.action: s.params.get("Name") for s in plan.steps}
        return cls(partition=partition_of(snap.region), region=snap.region,
                   account=snap.account, plan_id=plan.id, zone_id=snap.zone.id,
                   vpc_id=snap.instance.vpc_id, names=tuple(snap.names),
                   load_balancer=named.get("elbv2.create_load_balancer"),
                   target_group=named.get("elbv2.create_target_group"))

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        where = f"{self.region}:{self.account}" if regional else ":"
        return f"arn:{self.partition}:{service}:{where}:{resource}"

    def tag(self, key: str) -> dict[str, dict[str, str]]:
        """A condition: tag `key` (e.g. aws:RequestTag/migrator:plan) is this plan's id, or, with
        no plan, any plan id."""
        if self.plan_id:
            return {"StringEquals": {key: self.plan_id}}
        return {"StringLike": {key: "mig-*"}}


Statement = Callable[[Scope], dict[str, Any]]


@dataclass(frozen=True)
class Grant:
    """Actions AWS lets a policy narrow the same way, and how: Resource and Condition per scope."""

    sid: str
    actions: tuple[str, ...]
    statement: Statement = field(repr=False)


def _everything(scope: Scope) -> dict[str, Any]:
    return {"Resource": "*"}


def _certificates(scope: Scope) -> dict[str, Any]:
    # Every certificate of the account and region: inspection looks for one that already covers
    # the names, and rollback checks which validation records other certificates still use.
    return {"Resource": scope.arn("acm", "certificate/*")}


def _plan_certificate(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("acm", "certificate/*"),
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _requested_certificate(scope: Scope) -> dict[str, Any]:
    return {"Resource": "*", "Condition": {
        **scope.tag(f"aws:RequestTag/{TAG_KEY}"),
        "ForAllValues:StringEquals": {"aws:TagKeys": [TAG_KEY]}}}


def _zone(scope: Scope) -> dict[str, Any]:
    zone = scope.zone_id or "*"
    return {"Resource": scope.arn("route53", f"hostedzone/{zone}", regional=False)}


def _record_changes(scope: Scope) -> dict[str, Any]:
    condition: dict[str, Any] = {"ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsRecordTypes": ["A", "CNAME"]}}
    if scope.names:
        names = [_normalized(n) for n in scope.names]
        # The site's A records, and ACM's validation CNAMEs: "_<token>.<name>" (of the base name
        # for a wildcard).
        validation = [f"_*.{n.removeprefix(chr(92) + '052.')}" for n in names]
        condition["ForAllValues:StringLike"] = {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": sorted({*names, *validation})}
    return {**_zone(scope), "Condition": condition}


def _normalized(name: str) -> str:
    """A record name as route53:ChangeResourceRecordSetsNormalizedRecordNames holds it: lower
    case, no final dot, '*' as its octal escape."""
    return name.rstrip(".").lower().replace("*", "\\052")


def _changes(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("route53", "change/*", regional=False)}


def _elb_resources(scope: Scope, *, named: bool) -> list[str]:
    lb = scope.load_balancer if named and scope.load_balancer else "*"
    tg = scope.target_group if named and scope.target_group else "*"
    return [scope.arn("elasticloadbalancing", f"loadbalancer/app/{lb}/*"),
            scope.arn("elasticloadbalancing", f"listener/app/{lb}/*"),
            scope.arn("elasticloadbalancing", f"targetgroup/{tg}/*")]


def _elb_create(scope: Scope) -> dict[str, Any]:
    # The ARN of a resource being created is not known yet: any of the type, tagged with the plan.
    return {"Resource": _elb_resources(scope, named=False),
            "Condition": scope.tag(f"aws:RequestTag/{TAG_KEY}")}


def _elb_tag_on_create(scope: Scope) -> dict[str, Any]:
    condition: dict[str, Any] = scope.tag(f"aws:RequestTag/{TAG_KEY}")
    condition.setdefault("StringEquals", {})["elasticloadbalancing:CreateAction"] = [
        "CreateListener", "CreateLoadBalancer", "CreateTargetGroup"]
    return {"Resource": _elb_resources(scope, named=False), "Condition": condition}


def _elb_change(scope: Scope) -> dict[str, Any]:
    return {"Resource": _elb_resources(scope, named=True),
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _group_create(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("ec2", "security-group/*"),
            "Condition": scope.tag(f"aws:RequestTag/{TAG_KEY}")}


def _group_create_in_vpc(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("ec2", f"vpc/{scope.vpc_id or '*'}")}


def _group_tag_on_create(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("ec2", "security-group/*"),
            "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}}}


def _group_change(scope: Scope) -> dict[str, Any]:
    condition: dict[str, Any] = scope.tag(f"ec2:ResourceTag/{TAG_KEY}")
    if scope.vpc_id:
        condition["ArnEquals"] = {"ec2:Vpc": scope.arn("ec2", f"vpc/{scope.vpc_id}")}
    return {"Resource": scope.arn("ec2", "security-group/*"), "Condition": condition}


# THE list: every action migrator may call, once. tests/test_iam_policy.py checks that every call
# in migrator/aws is here, tests/test_zz_iam_policy.py that every call the test suite made is.
GRANTS: tuple[Grant, ...] = (
    # No resource types in the reference for these reads and lists ("*" required): EC2 Describe*
    # (VPC user guide, "Manage security groups"), ELBv2 Describe* (list_awselasticloadbalancingv2),
    # acm:ListCertificates (list_awscertificatemanager), route53:ListHostedZones and
    # ListHostedZonesByName (list_amazonroute53), lightsail:GetStaticIps (a list of every static
    # IP). sts:GetCallerIdentity needs no permission at all (STS API reference); listed for
    # completeness.
    Grant("Read", (
        "ec2:DescribeAddresses", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
        "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "acm:ListCertificates",
        "route53:ListHostedZones", "route53:ListHostedZonesByName",
        "lightsail:GetStaticIps",
        "sts:GetCallerIdentity",
    ), _everything),
    # acm DescribeCertificate, ListTagsForCertificate: resource type certificate* (required).
    Grant("ReadCertificates", ("acm:DescribeCertificate", "acm:ListTagsForCertificate"),
          _certificates),
    # acm:RequestCertificate: no resource type; condition keys aws:RequestTag/${TagKey} and
    # aws:TagKeys, so only a request carrying the plan's tag (and no other) is allowed.
    Grant("RequestCertificate", ("acm:RequestCertificate",), _requested_certificate),
    # acm:DeleteCertificate: certificate*; the certificate resource takes aws:ResourceTag.
    # (No acm:AddTagsToCertificate: the reference names no dependent action for
    # RequestCertificate, and a right to tag would let a caller tag, then delete, any
    # certificate.)
    Grant("DeletePlanCertificate", ("acm:DeleteCertificate",), _plan_certificate),
    # route53 GetHostedZone, ListResourceRecordSets: hostedzone* (required).
    Grant("ReadZone", ("route53:GetHostedZone", "route53:ListResourceRecordSets"), _zone),
    # route53:ChangeResourceRecordSets: hostedzone*; the fine-grained keys
    # route53:ChangeResourceRecordSetsNormalizedRecordNames / ...RecordTypes limit it to the
    # plan's names and their validation CNAMEs (Route 53 developer guide, "Using IAM policy
    # conditions for fine-grained access control", specifying-rrset-conditions.html).
    Grant("ChangePlanRecords", ("route53:ChangeResourceRecordSets",), _record_changes),
    # route53:GetChange: resource type change*.
    Grant("ReadChanges", ("route53:GetChange",), _changes),
    # ELBv2 CreateLoadBalancer (loadbalancer/app/), CreateTargetGroup (targetgroup*),
    # CreateListener (loadbalancer/app/): condition keys aws:RequestTag/${TagKey}.
    Grant("CreatePlanLoadBalancing", (
        "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup"), _elb_create),
    # Tags given to a create call are authorized as elasticloadbalancing:AddTags (dependent
    # action in the reference; ELB user guide "tagging-resources-during-creation"), narrowed by
    # elasticloadbalancing:CreateAction so that nothing existing can be tagged.
    Grant("TagPlanLoadBalancingOnCreate", ("elasticloadbalancing:AddTags",), _elb_tag_on_create),
    # RegisterTargets, DeregisterTargets, DeleteTargetGroup (targetgroup*), DeleteLoadBalancer
    # (loadbalancer/app/), DeleteListener (listener/app*): all take aws:ResourceTag/${TagKey}.
    Grant("ChangePlanLoadBalancing", (
        "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:RegisterTargets"), _elb_change),
    # ec2:CreateSecurityGroup authorizes the new group (security-group, aws:RequestTag) and the
    # VPC (vpc): two statements, as in the VPC user guide ("Manage security groups").
    Grant("CreatePlanSecurityGroups", ("ec2:CreateSecurityGroup",), _group_create),
    Grant("CreateSecurityGroupsInPlanVpc", ("ec2:CreateSecurityGroup",), _group_create_in_vpc),
    # TagSpecifications on CreateSecurityGroup need ec2:CreateTags, narrowed by ec2:CreateAction.
    Grant("TagPlanSecurityGroupsOnCreate", ("ec2:CreateTags",), _group_tag_on_create),
    # Rules and deletion on security-group resources, which take ec2:ResourceTag and ec2:Vpc
    # (VPC user guide, "Manage security groups" and "Manage security group rules").
    Grant("ChangePlanSecurityGroups", (
        "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress"), _group_change),
    # ec2:ModifyInstanceAttribute (attaching the groups to the instance): the reference lists no
    # resource type for it, so it cannot be narrowed to the instance.
    Grant("AttachSecurityGroups", ("ec2:ModifyInstanceAttribute",), _everything),
)

ACTIONS: frozenset[str] = frozenset(a for g in GRANTS for a in g.actions)


def policy(plan: Plan | None = None, grants: Sequence[Grant] = GRANTS) -> dict[str, Any]:
    """The IAM policy document: scoped to `plan`'s resources, or to any migrator plan's."""
    scope = Scope.of_plan(plan) if plan else Scope()
    statements = [{"Sid": g.sid, "Effect": "Allow", "Action": sorted(g.actions),
                   **g.statement(scope)} for g in grants]
    return {"Version": "2012-10-17", "Statement": statements}


def policy_json(plan: Plan | None = None) -> str:
    return json.dumps(policy(plan), indent=2) + "\n"


def allowed_actions(document: dict[str, Any]) -> set[str]:
    """The actions the document's Allow statements name (wildcards as written)."""
    found: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") == "Allow":
            actions = statement.get("Action", [])
            found.update([actions] if isinstance(actions, str) else actions)
    return found


def uncovered(calls: Iterable[tuple[str, str]], document: dict[str, Any]) -> list[str]:
    """The IAM actions of (botocore service, operation) calls that no Allow statement names."""
    allowed = allowed_actions(document)
    needed = {iam_action(service, operation) for service, operation in calls}
    return sorted(a for a in needed
                  if not any(fnmatch.fnmatchcase(a, pattern) for pattern in allowed))
