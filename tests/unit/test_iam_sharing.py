"""The IAM policy for the plans of issue #14: a plan joining a load balancer that exists may change
only that listener's certificates and rules (and its own tag on the load balancer), never the load
balancer itself; a plan that creates one, for one site or several, gets its own listener's rules
and certificates; the policy for any plan lets any plan do either.

Judged with tests/support/iam_evaluation.py: requests (action, resource, condition keys) as IAM
would see them, allowed or denied by the documents' statements.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from typing import Any

import pytest

from migrator.core.iam_policy import ACTIONS, Join, policy, rules_of
from migrator.core.plan import Plan
from tests.support.iam_evaluation import Request, allows, denied
from tests.support.iam_plans import (
    ACCOUNT,
    HTTP_LISTENER,
    HTTPS_LISTENER,
    LB_ARN,
    REGION,
    joining_plan,
    shared_plan,
)
from tests.support.plans import example_plan

ELB = "elasticloadbalancing"
PREFIX = f"arn:aws:{ELB}:{REGION}:{ACCOUNT}:"
JOIN_ID = "mig-b10cb10c"
SITE_TAG = f"migrator:site:{JOIN_ID}"
OTHER_LISTENER = LB_ARN.replace(":loadbalancer/", ":listener/") + "/aaaaaaaaaaaaaaaa"
OTHER_LB = f"{PREFIX}loadbalancer/app/someone-else/1111111111111111"
# What a joining plan may never do to the load balancer it joins, nor to anything else.
NEVER_WHEN_JOINING = {f"{ELB}:{a}" for a in (
    "CreateLoadBalancer", "DeleteLoadBalancer", "ModifyLoadBalancerAttributes", "ModifyListener",
    "SetSecurityGroups", "SetIpAddressType", "ModifyRule", "SetRulePriorities")}


@functools.cache
def plans() -> dict[str, Plan]:
    return {"joining": joining_plan(), "joining, adding its listener": joining_plan(https=False),
            "joining, adding a subnet": joining_plan(add_subnet=True, http_redirects=True)}


def tagged(plan_id: str = JOIN_ID) -> dict[str, Any]:
    return {"aws:RequestTag/migrator:plan": plan_id, "aws:TagKeys": ("migrator:plan",)}


def resources(document: dict[str, Any]) -> list[str]:
    return [r for s in document["Statement"]
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]


def actions_on(document: dict[str, Any], arn: str) -> set[str]:
    """The ELB actions some statement grants on `arn` (conditions aside), but reads: those take
    no resource ("*"), and only they are granted on "*"."""
    found = set()
    for statement in document["Statement"]:
        elb = [a for a in statement["Action"] if a.startswith(ELB)]
        if statement["Resource"] == "*":
            assert all(a.startswith(f"{ELB}:Describe") for a in elb), statement
        elif any(fnmatch.fnmatchcase(arn, r) for r in resources({"Statement": [statement]})):
            found.update(elb)
    return found


@pytest.mark.parametrize("name", ["joining", "joining, adding its listener",
                                  "joining, adding a subnet"])
def test_a_joining_plan_may_not_change_the_load_balancer_itself(name: str) -> None:
    plan = plans()[name]
    document = policy(plan)
    granted = {a for s in document["Statement"] for a in s["Action"]}
    assert not granted & NEVER_WHEN_JOINING
    assert "iam:CreateServiceLinkedRole" not in granted  # the load balancer exists already
    assert not any("*" in a for a in granted)
    steps = {s.action for s in plan.steps}
    allowed_on_lb = {f"{ELB}:AddTags", f"{ELB}:RemoveTags"}
    if "elbv2.set_subnets" in steps:
        allowed_on_lb.add(f"{ELB}:SetSubnets")
    if plan.snapshot.load_balancer and plan.snapshot.load_balancer.https_listener_arn is None:
        allowed_on_lb.add(f"{ELB}:CreateListener")
    assert actions_on(document, LB_ARN) == allowed_on_lb
    # Tags on the load balancer: only this plan's migrator:site: key.
    for statement in document["Statement"]:
        if LB_ARN in resources({"Statement": [statement]}) and \
                set(statement["Action"]) & {f"{ELB}:AddTags", f"{ELB}:RemoveTags"}:
            assert statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == [SITE_TAG]


@pytest.mark.parametrize("name", ["joining", "joining, adding its listener",
                                  "joining, adding a subnet"])
def test_a_joining_plan_names_only_its_load_balancer_listeners_and_target_group(
        name: str) -> None:
    plan = plans()[name]
    document = policy(plan)
    lb = plan.snapshot.load_balancer
    assert lb is not None
    listeners = {HTTPS_LISTENER} if lb.https_listener_arn else {
        LB_ARN.replace(":loadbalancer/", ":listener/") + "/*"}
    if any(s.id == "http_rule" for s in plan.steps):
        listeners.add(HTTP_LISTENER)
    expected = {LB_ARN, *listeners, *(rules_of(x) for x in listeners),
                f"{PREFIX}targetgroup/blog-example-com-tg-b10cb10c/*"}
    named = {r for r in resources(document) if r.startswith(f"arn:aws:{ELB}:")}
    assert named == expected
    assert "*/" not in " ".join(named) and f"{ELB}:*:*" not in json.dumps(document)
    assert all("loadbalancer/app/*" not in r and "listener/app/*" not in r for r in named)


def test_the_join_is_what_the_steps_do() -> None:
    join = Join.of_steps(LB_ARN, joining_plan(add_subnet=True, http_redirects=False).steps)
    assert join.rule_listeners == (HTTPS_LISTENER, HTTP_LISTENER)
    assert join.certificate_listeners == (HTTPS_LISTENER,)
    assert join.site_tag == (SITE_TAG, "blog.example.com")
    assert join.subnets == ("subnet-a", "subnet-c", "subnet-d")
    assert not join.adds_listener and not join.rules_on_new_listener
    added = Join.of_steps(LB_ARN, joining_plan(https=False).steps)
    assert added.adds_listener and added.rules_on_new_listener
    assert added.rule_listeners == (HTTP_LISTENER,) and added.certificate_listeners == ()
    assert added.new_listener_policies == ("ELBSecurityPolicy-TLS13-1-2-2021-06",)


# --- requests, as IAM would judge them ----------------------------------------------------------

RULE = HTTPS_LISTENER.replace(":listener/", ":listener-rule/") + "/0123456789abcdef"
OWN_RULE = {"aws:ResourceTag/migrator:plan": JOIN_ID}


def join_requests() -> list[Request]:
    """What the joining plan's apply and rollback ask IAM for on the load balancer."""
    return [
        Request(f"{ELB}:CreateRule", HTTPS_LISTENER, tagged()),
        Request(f"{ELB}:AddTags", RULE, {**tagged(),
                                         "elasticloadbalancing:CreateAction": "CreateRule"}),
        Request(f"{ELB}:CreateRule", HTTP_LISTENER, tagged()),
        Request(f"{ELB}:AddListenerCertificates", HTTPS_LISTENER),
        Request(f"{ELB}:RemoveListenerCertificates", HTTPS_LISTENER),
        Request(f"{ELB}:DeleteRule", RULE, OWN_RULE),
        Request(f"{ELB}:AddTags", LB_ARN, {f"aws:RequestTag/{SITE_TAG}": "blog.example.com",
                                           "aws:TagKeys": (SITE_TAG,)}),
        Request(f"{ELB}:RemoveTags", LB_ARN, {"aws:TagKeys": (SITE_TAG,)}),
        Request(f"{ELB}:CreateTargetGroup", f"{PREFIX}targetgroup/blog-example-com-tg-b10cb10c/1",
                tagged()),
        Request(f"{ELB}:DescribeRules", "*"),
    ]


def test_the_joining_policy_allows_what_the_join_does() -> None:
    assert denied(policy(joining_plan()), join_requests()) == []


@pytest.mark.parametrize("request_", [
    # rules: on another listener of the same load balancer, untagged, another plan's
    Request(f"{ELB}:CreateRule", OTHER_LISTENER, tagged()),
    Request(f"{ELB}:CreateRule", HTTPS_LISTENER, {}),
    Request(f"{ELB}:CreateRule", HTTPS_LISTENER, tagged("mig-0ther000")),
    Request(f"{ELB}:CreateRule", HTTPS_LISTENER,
            {**tagged(), "aws:TagKeys": ("migrator:plan", "Name")}),
    Request(f"{ELB}:DeleteRule", RULE, {}),
    Request(f"{ELB}:DeleteRule", RULE, {"aws:ResourceTag/migrator:plan": "mig-0ther000"}),
    Request(f"{ELB}:DeleteRule", OTHER_LISTENER.replace(":listener/", ":listener-rule/") + "/1",
            OWN_RULE),
    Request(f"{ELB}:ModifyRule", RULE, OWN_RULE),
    # certificates of another listener; the listener itself; the load balancer itself
    Request(f"{ELB}:RemoveListenerCertificates", OTHER_LISTENER),
    Request(f"{ELB}:ModifyListener", HTTPS_LISTENER),
    Request(f"{ELB}:DeleteListener", HTTPS_LISTENER),
    Request(f"{ELB}:DeleteLoadBalancer", LB_ARN),
    Request(f"{ELB}:ModifyLoadBalancerAttributes", LB_ARN),
    Request(f"{ELB}:SetSecurityGroups", LB_ARN),
    Request(f"{ELB}:SetSubnets", LB_ARN, {"elasticloadbalancing:Subnet": ("subnet-c",)}),
    Request(f"{ELB}:CreateListener", LB_ARN, {**tagged(),
                                              "elasticloadbalancing:ListenerProtocol": "HTTPS"}),
    # tags: another key, another plan's key, another value, another load balancer
    Request(f"{ELB}:AddTags", LB_ARN, {"aws:RequestTag/Name": "x", "aws:TagKeys": ("Name",)}),
    Request(f"{ELB}:RemoveTags", LB_ARN, {"aws:TagKeys": ("migrator:site:mig-0ther000",)}),
    Request(f"{ELB}:RemoveTags", LB_ARN, {"aws:TagKeys": (SITE_TAG, "migrator:plan")}),
    Request(f"{ELB}:AddTags", LB_ARN, {f"aws:RequestTag/{SITE_TAG}": "evil.example.com",
                                       "aws:TagKeys": (SITE_TAG,)}),
    Request(f"{ELB}:AddTags", OTHER_LB, {f"aws:RequestTag/{SITE_TAG}": "blog.example.com",
                                         "aws:TagKeys": (SITE_TAG,)}),
    Request(f"{ELB}:AddTags", HTTPS_LISTENER, {**tagged(),
                                               "elasticloadbalancing:CreateAction": "CreateRule"}),
    # a target group that is not the plan's
    Request(f"{ELB}:DeleteTargetGroup", f"{PREFIX}targetgroup/shop-example-com-tg-5ba7ed01/2",
            OWN_RULE),
], ids=str)
def test_the_joining_policy_denies_anything_else(request_: Request) -> None:
    assert not allows(policy(joining_plan()), request_)


def test_a_subnet_only_when_the_plan_adds_one_and_only_the_planned_ones() -> None:
    document = policy(joining_plan(add_subnet=True))
    planned = Request(f"{ELB}:SetSubnets", LB_ARN,
                      {"elasticloadbalancing:Subnet": ("subnet-c", "subnet-d", "subnet-a")})
    back = Request(f"{ELB}:SetSubnets", LB_ARN,
                   {"elasticloadbalancing:Subnet": ("subnet-c", "subnet-d")})
    assert allows(document, planned) and allows(document, back)
    assert not allows(document, Request(f"{ELB}:SetSubnets", LB_ARN, {
        "elasticloadbalancing:Subnet": ("subnet-c", "subnet-d", "subnet-x")}))
    assert not allows(document, Request(f"{ELB}:SetSubnets", OTHER_LB, {
        "elasticloadbalancing:Subnet": ("subnet-c",)}))
    assert not allows(policy(joining_plan()), planned)


def test_the_listener_a_joining_plan_adds_is_the_only_one_it_may_delete() -> None:
    document = policy(joining_plan(https=False))
    new = LB_ARN.replace(":loadbalancer/", ":listener/") + "/fedcba9876543210"
    create = Request(f"{ELB}:CreateListener", LB_ARN, {
        **tagged(), "elasticloadbalancing:ListenerProtocol": "HTTPS",
        "elasticloadbalancing:SecurityPolicy": ("ELBSecurityPolicy-TLS13-1-2-2021-06",)})
    assert allows(document, create)
    assert not allows(document, Request(create.action, LB_ARN, {
        **create.context, "elasticloadbalancing:ListenerProtocol": "HTTP"}))
    assert not allows(document, Request(create.action, LB_ARN, {
        **create.context, "elasticloadbalancing:SecurityPolicy": ("ELBSecurityPolicy-2016-08",)}))
    assert allows(document, Request(f"{ELB}:AddTags", new, {
        **tagged(), "elasticloadbalancing:CreateAction": "CreateListener"}))
    ours = {"aws:ResourceTag/migrator:plan": JOIN_ID}
    assert allows(document, Request(f"{ELB}:DeleteListener", new, ours))
    assert not allows(document, Request(f"{ELB}:DeleteListener", HTTP_LISTENER, {}))
    # Its rule goes on the listener it tagged, the redirect on the HTTP listener by ARN.
    assert allows(document, Request(f"{ELB}:CreateRule", new, {**tagged(), **ours}))
    assert not allows(document, Request(f"{ELB}:CreateRule", OTHER_LISTENER, tagged()))
    assert allows(document, Request(f"{ELB}:CreateRule", HTTP_LISTENER, tagged()))
    assert not allows(document, Request(f"{ELB}:AddListenerCertificates", new, ours))


# --- a plan that creates its load balancer, and the policy for any plan -------------------------

def own_listener(plan: Plan) -> str:
    name = next(s.params["Name"] for s in plan.steps if s.action == "elbv2.create_load_balancer")
    return f"{PREFIX}listener/app/{name}/0123456789abcdef/fedcba9876543210"


@pytest.mark.parametrize("plan", [example_plan(), shared_plan()], ids=["one site", "shared"])
def test_a_plan_that_creates_its_load_balancer_gets_its_own_listeners_rules(plan: Plan) -> None:
    document = policy(plan)
    listener = own_listener(plan)
    rule = listener.replace(":listener/", ":listener-rule/") + "/1"
    ours = {"aws:ResourceTag/migrator:plan": plan.id}
    assert allows(document, Request(f"{ELB}:CreateRule", listener, tagged(plan.id)))
    assert allows(document, Request(f"{ELB}:AddTags", rule, {
        **tagged(plan.id), "elasticloadbalancing:CreateAction": "CreateRule"}))
    assert allows(document, Request(f"{ELB}:DeleteRule", rule, ours))
    assert allows(document, Request(f"{ELB}:AddListenerCertificates", listener, ours))
    assert not allows(document, Request(f"{ELB}:AddListenerCertificates", listener, {}))
    assert not allows(document, Request(f"{ELB}:CreateRule", HTTPS_LISTENER, tagged(plan.id)))
    assert not allows(document, Request(f"{ELB}:AddTags", LB_ARN, {
        f"aws:RequestTag/migrator:site:{plan.id}": "x",
        "aws:TagKeys": (f"migrator:site:{plan.id}",)}))
    assert not allows(document, Request(f"{ELB}:SetSubnets", LB_ARN, {}))
    granted = {a for s in document["Statement"] for a in s["Action"]}
    assert f"{ELB}:RemoveTags" not in granted and f"{ELB}:SetSubnets" not in granted


def test_a_shared_plan_names_every_sites_target_group_zone_and_instance() -> None:
    plan = shared_plan()
    text = json.dumps(policy(plan))
    for name in ("www-example-com-tg-5ba7ed01", "shop-example-com-tg-5ba7ed01",
                 "instance/i-1", "instance/i-2", "eni-0a1b2c3d4e5f60718", "eni-0b1b2c3d4e5f60719",
                 "_" + "?" * 32 + ".shop.example.com"):
        assert name in text, name
    assert "mig-*" not in text


def test_the_policy_for_any_plan_allows_any_join() -> None:
    """With mig-* for the plan id: the joining requests of any plan, on any load balancer."""
    generic = policy()
    requests = join_requests()
    assert denied(generic, requests) == []
    assert allows(generic, Request(f"{ELB}:SetSubnets", OTHER_LB, {
        "elasticloadbalancing:Subnet": ("subnet-x",)}))
    # Still: rules only with a plan's tag, deleting only tagged rules, tags only migrator:site:.
    assert not allows(generic, Request(f"{ELB}:CreateRule", HTTPS_LISTENER, {}))
    assert not allows(generic, Request(f"{ELB}:DeleteRule", RULE, {}))
    assert not allows(generic, Request(f"{ELB}:AddTags", LB_ARN, {
        "aws:RequestTag/Name": "x", "aws:TagKeys": ("Name",)}))
    assert not allows(generic, Request(f"{ELB}:ModifyListener", HTTPS_LISTENER))
    assert {f"{ELB}:{a}" for a in (
        "CreateRule", "DeleteRule", "AddListenerCertificates", "RemoveListenerCertificates",
        "AddTags", "RemoveTags", "SetSubnets", "DescribeRules", "DescribeListenerCertificates",
        "DescribeAccountLimits")} <= ACTIONS
