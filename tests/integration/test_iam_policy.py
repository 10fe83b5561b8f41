"""`migrator iam-policy`: the policy covers every AWS call in migrator/aws (read from the source),
is scoped to a plan's resources, and an AccessDenied error names the IAM action to grant."""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import functools
import json
import re
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
import pytest

import migrator.aws
from migrator.aws.calls import translate_client_error, wrap_service
from migrator.core import iam_policy, planfile
from migrator.core.iam_policy import (
    ACTIONS,
    GRANTS,
    PERMISSION_ONLY,
    Scope,
    iam_action,
    policy,
    uncovered,
)
from migrator.errors import AccessDeniedError, AwsError
from tests.support.iam_recording import client_hooks
from tests.support.plans import example_plan, with_web_interface

AWS_PACKAGE = Path(migrator.aws.__file__).parent
NOT_SERVICES = {"__init__", "calls", "session", "profiles", "iam_names"}
EXAMPLE_PLAN = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"

# Issue #12 changes migrator/aws alongside this policy: groups set on the web interface
# (ModifyNetworkInterfaceAttribute, no more ModifyInstanceAttribute), the load balancer's idle
# timeout, Availability Zone types. Until that code is in, the source may still call what the
# policy dropped, or not yet call what it added: reported as xfail, not hidden. Once it is in,
# the tests below hold strictly and these two sets can go.
DROPPED_FROM_POLICY = {"ec2:ModifyInstanceAttribute"}
ADDED_TO_POLICY = {"ec2:ModifyNetworkInterfaceAttribute", "ec2:DescribeAvailabilityZones",
                   "elasticloadbalancing:ModifyLoadBalancerAttributes"}


@functools.cache
def source_calls() -> frozenset[tuple[str, str]]:
    """(botocore service, operation) of every call the wrappers in migrator/aws make through
    their client: direct calls, paginators, waiters (the operation they poll) and helpers given
    `self._client` and an operation name."""
    found: set[tuple[str, str]] = set()
    for module in sorted(AWS_PACKAGE.glob("*.py")):
        if module.stem in NOT_SERVICES:
            continue
        client = botocore.session.get_session().create_client(
            module.stem, region_name="us-east-1", aws_access_key_id="x",
            aws_secret_access_key="x")
        api = client.meta.method_to_api_mapping
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Call):
                continue
            names = [a.value for a in node.args
                     if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            func = node.func
            if isinstance(func, ast.Attribute) and _is_client(func.value):
                if func.attr in ("get_waiter", "get_paginator") and not names:
                    continue  # in a helper given the operation's name: its callers name it
                if func.attr == "get_waiter":
                    found.add((module.stem, client.get_waiter(names[0]).config.operation))
                elif func.attr == "get_paginator":
                    found.add((module.stem, api[names[0]]))
                else:
                    found.add((module.stem, api[func.attr]))
            elif any(_is_client(a) for a in node.args) and names:
                found.add((module.stem, api[names[0]]))  # e.g. _paginate(self._client, "op")
            elif _is_own_method(func) and names and names[0] in api:
                found.add((module.stem, api[names[0]]))  # e.g. self._pages("describe_rules", ..)
    return frozenset(found)


def _is_client(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "_client"


def _is_own_method(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
        and node.value.id == "self"


def assert_covered(calls: frozenset[tuple[str, str]], document: dict[str, Any]) -> None:
    missing = uncovered(calls, document)
    assert not missing, f"AWS calls the IAM policy does not allow: {missing}"


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in document["Statement"] if s["Sid"] == sid)


def allows_changes(document: dict[str, Any], changes: list[tuple[str, str]]) -> bool:
    """Whether ChangePlanRecords' conditions admit a ChangeResourceRecordSets request with these
    (name, type) changes: ForAllValues over the request's normalized names and types, as IAM
    evaluates them (StringLike: * any run, ? one character)."""
    condition = statement(document, "ChangePlanRecords")["Condition"]
    types = condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"]
    names = condition.get("ForAllValues:StringLike", {}).get(
        "route53:ChangeResourceRecordSetsNormalizedRecordNames", ["*"])
    return all(rtype in types and any(fnmatch.fnmatchcase(iam_policy._normalized(name), p)
                                      for p in names) for name, rtype in changes)


def test_the_source_scan_finds_the_calls_it_should() -> None:
    calls = source_calls()
    assert ("elbv2", "CreateLoadBalancer") in calls
    assert ("acm", "DescribeCertificate") in calls  # the certificate_validated waiter
    assert ("route53", "GetChange") in calls  # the resource_record_sets_changed waiter
    assert ("ec2", "DescribeSubnets") in calls  # through _paginate(self._client, ...)
    assert ("acm", "ListCertificates") in calls  # a paginator
    assert ("elbv2", "DescribeRules") in calls  # through self._pages("describe_rules", ...)
    assert {("elbv2", op) for op in (
        "CreateRule", "DeleteRule", "AddListenerCertificates", "RemoveListenerCertificates",
        "DescribeListenerCertificates", "DescribeAccountLimits", "SetSubnets", "AddTags",
        "RemoveTags")} <= calls
    assert len(calls) >= 45


def test_every_call_in_migrator_aws_is_in_the_policy() -> None:
    missing = set(uncovered(source_calls(), policy()))
    if missing and missing <= DROPPED_FROM_POLICY:
        pytest.xfail(f"migrator/aws still calls {sorted(missing)} (issue #12 in progress)")
    assert_covered(source_calls(), policy())


def test_the_check_fails_when_an_action_is_missing() -> None:
    reduced = [dataclasses.replace(g, actions=tuple(
        a for a in g.actions if a != "elasticloadbalancing:CreateLoadBalancer")) for g in GRANTS]
    with pytest.raises(AssertionError, match="elasticloadbalancing:CreateLoadBalancer"):
        assert_covered(source_calls(), policy(grants=reduced))


def test_no_action_is_listed_that_migrator_never_calls() -> None:
    needed = {iam_action(s, o) for s, o in source_calls()}
    # Authorized as a side effect of a call, never called themselves: tags given to a create,
    # the service-linked role of the account's first load balancer.
    permission_only = {"acm:AddTagsToCertificate", "ec2:CreateTags",
                       "elasticloadbalancing:AddTags", "iam:CreateServiceLinkedRole"}
    assert permission_only == PERMISSION_ONLY
    unused = ACTIONS - needed - PERMISSION_ONLY
    if unused and unused <= ADDED_TO_POLICY:
        pytest.xfail(f"migrator/aws does not call {sorted(unused)} yet (issue #12 in progress)")
    assert not unused
    assert PERMISSION_ONLY <= ACTIONS


def test_policy_shape() -> None:
    document = policy()
    assert document["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids)
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"]
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", a) for a in statement["Action"])
    # Nothing but reads is granted on "*" without a condition; the certificate request (no
    # resource type) is bound to the plan's tag and DNS validation.
    unscoped = {a for s in document["Statement"] if s["Resource"] == "*" and "Condition" not in s
                for a in s["Action"]}
    assert all(re.match(r"[a-z0-9-]+:(Describe|List|Get)", a) for a in unscoped), unscoped
    assert "ec2:ModifyInstanceAttribute" not in ACTIONS


def test_iam_policy_command_prints_the_generic_policy(cli: Any) -> None:
    result = cli("iam-policy")
    assert result.status == 0, result.stderr
    assert json.loads(result.stdout) == policy()
    text = json.dumps(policy())
    assert '"StringLike": {"aws:ResourceTag/migrator:plan": "mig-*"}' in text


def test_iam_policy_for_a_plan_names_its_resources(world: Any, cli: Any) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    plan = planfile.load("p.json")
    result = cli("iam-policy", "p.json", "--out", "policy.json")
    assert result.status == 0, result.stderr
    assert "written to policy.json" in result.stdout
    document = json.loads(Path("policy.json").read_text())
    assert document == policy(plan)
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    account, region = plan.snapshot.account, plan.snapshot.region

    zone_arn = f"arn:aws:route53:::hostedzone/{plan.snapshot.zone.id}"
    assert by_sid["ReadZone"]["Resource"] == zone_arn
    records = by_sid["ChangePlanRecords"]
    assert records["Resource"] == zone_arn
    assert records["Condition"]["ForAllValues:StringLike"] == {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
            "_" + "?" * 32 + ".www.example.com", "www.example.com"]}
    assert records["Condition"]["ForAllValues:StringEquals"] == {
        "route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA", "CNAME"]}

    vpc_arn = f"arn:aws:ec2:{region}:{account}:vpc/{plan.snapshot.instance.vpc_id}"
    assert by_sid["CreateSecurityGroupsInPlanVpc"]["Resource"] == vpc_arn
    interface = by_sid["SetWebInterfaceGroups"]
    assert interface["Condition"] == {"ArnEquals": {"ec2:Vpc": vpc_arn}}
    assert f"arn:aws:ec2:{region}:{account}:security-group/*" in interface["Resource"]
    web = getattr(plan.snapshot.instance, "web_interface_id", "")
    eni = f"arn:aws:ec2:{region}:{account}:network-interface/{web or '*'}"
    assert eni in interface["Resource"]
    assert by_sid["SetWebInterfaceGroupsOfInstance"]["Resource"] == \
        f"arn:aws:ec2:{region}:{account}:instance/{plan.snapshot.instance.id}"
    assert by_sid["CreateLoadBalancingServiceLinkedRole"]["Resource"] == (
        f"arn:aws:iam::{account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
        "AWSServiceRoleForElasticLoadBalancing")
    groups = by_sid["ChangePlanSecurityGroups"]["Condition"]
    assert groups == {"StringEquals": {"ec2:ResourceTag/migrator:plan": plan.id},
                      "ArnEquals": {"ec2:Vpc": vpc_arn}}

    lb_name = next(s.params["Name"] for s in plan.steps
                   if s.action == "elbv2.create_load_balancer")
    elb = by_sid["ChangePlanLoadBalancing"]
    assert f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{lb_name}/*" in \
        elb["Resource"]
    assert elb["Condition"] == {"StringEquals": {"aws:ResourceTag/migrator:plan": plan.id}}
    assert "elasticloadbalancing:ModifyLoadBalancerAttributes" in elb["Action"]
    assert by_sid["CreatePlanLoadBalancing"]["Resource"] == [
        r for r in elb["Resource"] if ":listener/" not in r]
    assert "mig-*" not in json.dumps(document)


def test_wildcard_names_are_escaped_as_route53_normalizes_them() -> None:
    scope = Scope(zone_ids=("Z1",), names=("example.com", "*.example.com"))
    condition = iam_policy._record_changes(scope)["Condition"]["ForAllValues:StringLike"]
    assert condition["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == [
        "\\052.example.com", "_" + "?" * 32 + ".example.com", "example.com"]


VALIDATION = "_a79865eb4cd1a6ab990a45779b4e0b96"  # ACM's form: "_" and 32 hexadecimal characters


@pytest.mark.parametrize(("name", "allowed"), [
    (f"{VALIDATION}.www.example.com.", True),
    (f"{VALIDATION.upper()}.WWW.example.com.", True),  # compared normalized (lower case)
    ("www.example.com.", True),
    ("_acme-challenge.www.example.com.", False),  # another CA's DNS-01 record
    (f"{VALIDATION}0.www.example.com.", False),
    (f"{VALIDATION}.x.www.example.com.", False),
    (f"_{VALIDATION[1:-1]}.www.example.com.", False),
    ("example.com.", False),
])
def test_validation_records_are_only_acms_form(name: str, allowed: bool) -> None:
    document = policy(example_plan())
    assert allows_changes(document, [(name, "CNAME")]) is allowed


def test_a_dualstack_switch_and_its_restore_are_allowed() -> None:
    """A and AAAA aliases to the load balancer on the way in, the original A and AAAA back on
    rollback: one request each, both types."""
    document = policy(example_plan())
    switch = [("www.example.com.", "A"), ("www.example.com.", "AAAA")]
    assert allows_changes(document, switch)
    assert allows_changes(policy(), switch)
    assert not allows_changes(document, [("www.example.com.", "TXT")])


def test_the_interface_changed_is_the_plans() -> None:
    example = example_plan()
    # The snapshot's interface alone (steps naming none, as in plans made before interfaces).
    def unnamed_params(params: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in params.items() if k != "NetworkInterfaceId"}

    unnamed = tuple(dataclasses.replace(
        s, params=unnamed_params(s.params),
        inverse=s.inverse and dataclasses.replace(s.inverse, params=unnamed_params(
            s.inverse.params))) for s in example.steps)
    plan = with_web_interface(dataclasses.replace(example, steps=unnamed), "eni-0aaa")
    interface = statement(policy(plan), "SetWebInterfaceGroups")
    region, account = plan.snapshot.region, plan.snapshot.account
    assert interface["Resource"] == [f"arn:aws:ec2:{region}:{account}:network-interface/eni-0aaa",
                                     f"arn:aws:ec2:{region}:{account}:security-group/*"]
    # A step naming another interface (planner: NetworkInterfaceId) is granted too.
    steps = tuple(dataclasses.replace(s, params={**s.params, "NetworkInterfaceId": "eni-0bbb"})
                  if s.action.startswith("ec2.set_") else s for s in plan.steps)
    both = statement(policy(dataclasses.replace(plan, steps=steps)), "SetWebInterfaceGroups")
    assert [r.rsplit("/", 1)[1] for r in both["Resource"]] == ["eni-0aaa", "eni-0bbb", "*"]
    # Without a plan: any interface and group (of any VPC), no condition.
    generic = statement(policy(), "SetWebInterfaceGroups")
    assert generic["Resource"] == ["arn:aws:ec2:*:*:network-interface/*",
                                   "arn:aws:ec2:*:*:security-group/*"]
    assert "Condition" not in generic


def test_certificate_requests_and_their_tags_are_the_plans() -> None:
    plan = example_plan()
    document = policy(plan)
    request = statement(document, "RequestCertificate")["Condition"]
    assert request == {
        "StringEquals": {"aws:RequestTag/migrator:plan": plan.id, "acm:ValidationMethod": "DNS",
                         "acm:KeyAlgorithm": "RSA_2048"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["migrator:plan"],
                                      "acm:DomainNames": ["www.example.com"]}}
    params = next(s.params for s in plan.steps if s.action == "acm.request_certificate")
    assert params["Tags"] == [{"Key": "migrator:plan", "Value": plan.id}]
    assert params["ValidationMethod"] == "DNS" and params["KeyAlgorithm"] == "RSA_2048"
    # Tagging: only the migrator:plan key, only this plan's id.
    tagging = statement(document, "TagPlanCertificateOnRequest")
    assert tagging["Action"] == ["acm:AddTagsToCertificate"]
    assert tagging["Condition"] == {
        "StringEquals": {"aws:RequestTag/migrator:plan": plan.id},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["migrator:plan"]}}
    generic = statement(policy(), "TagPlanCertificateOnRequest")["Condition"]
    assert generic["StringLike"] == {"aws:RequestTag/migrator:plan": "mig-*"}


def test_the_load_balancing_service_linked_role_only() -> None:
    role = statement(policy(), "CreateLoadBalancingServiceLinkedRole")
    assert role["Action"] == ["iam:CreateServiceLinkedRole"]
    assert role["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}
    assert role["Resource"].endswith(
        ":role/aws-service-role/elasticloadbalancing.amazonaws.com/"
        "AWSServiceRoleForElasticLoadBalancing")
    cn = Scope(partition="aws-cn", account="123456789012")
    assert iam_policy._service_linked_role(cn)["Resource"].startswith(
        "arn:aws-cn:iam::123456789012:role/")


def test_reads_the_tool_now_makes_are_granted() -> None:
    read = statement(policy(), "Read")
    assert "ec2:DescribeAvailabilityZones" in read["Action"] and read["Resource"] == "*"


# --- AccessDenied names the IAM action ----------------------------------------------------------

def client_error(code: str, message: str, operation: str, status: int = 403
                 ) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": message},
         "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@pytest.mark.parametrize(("service", "code", "operation", "action"), [
    ("elbv2", "AccessDenied", "CreateLoadBalancer", "elasticloadbalancing:CreateLoadBalancer"),
    ("ec2", "UnauthorizedOperation", "CreateSecurityGroup", "ec2:CreateSecurityGroup"),
    ("acm", "AccessDeniedException", "RequestCertificate", "acm:RequestCertificate"),
    ("route53", "AccessDenied", "ChangeResourceRecordSets", "route53:ChangeResourceRecordSets"),
])
def test_access_denied_names_the_iam_action(service: str, code: str, operation: str,
                                            action: str) -> None:
    error = translate_client_error(
        client_error(code, "You are not authorized to perform this operation.", operation),
        service)
    assert isinstance(error, AccessDeniedError)
    assert error.message.startswith(f"AWS denied {action} ({operation})")
    assert error.hint is not None and f"allow {action}" in error.hint
    assert "migrator iam-policy" in error.hint


def test_access_denied_names_the_dependent_action_aws_reports() -> None:
    message = ("User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
               "elasticloadbalancing:AddTags on resource: arn:aws:elasticloadbalancing:"
               "ap-northeast-1:123456789012:loadbalancer/app/x/1")
    error = translate_client_error(client_error("AccessDenied", message, "CreateLoadBalancer"),
                                   "elbv2")
    assert error.message.startswith("AWS denied elasticloadbalancing:AddTags (CreateLoadBalancer)")


def test_refused_credentials_are_not_reported_as_a_missing_permission() -> None:
    error = translate_client_error(
        client_error("InvalidClientTokenId", "The security token included in the request is "
                     "invalid.", "GetCallerIdentity"), "sts")
    assert isinstance(error, AccessDeniedError)
    assert "refused the credentials" in error.message and "sts:GetCallerIdentity" in error.message
    assert error.hint is not None and "session token" in error.hint


def test_wrapped_methods_know_their_service() -> None:
    class Meta:
        class service_model:  # mimics botocore's attribute
            service_name = "elbv2"

    class Client:
        meta = Meta

        def create_load_balancer(self, **_: Any) -> Any:
            raise client_error("AccessDenied", "denied", "CreateLoadBalancer")

    @wrap_service
    class Wrapper:
        def __init__(self) -> None:
            self._client = Client()

        def create(self) -> Any:
            return self._client.create_load_balancer()

    with pytest.raises(AccessDeniedError, match="elasticloadbalancing:CreateLoadBalancer"):
        Wrapper().create()


def test_the_cli_names_the_denied_action(world: Any, cli: Any) -> None:
    """Through botocore's parser, the error translation and the CLI: a real 403 response."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: Any) -> Any:
            yield self.body

    body = (b'<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not '
            b'authorized to perform this operation.</Message></Error></Errors>'
            b'<RequestID>1</RequestID></Response>')

    def deny(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 403, {}, Raw(body))

    with client_hooks(("before-send.ec2.DescribeAddresses", deny)):
        result = cli("plan", "--domain", "www.example.com", "--out", "p.json")
    assert result.status == 1
    assert "AWS denied ec2:DescribeAddresses (DescribeAddresses)" in result.stderr
    assert "allow ec2:DescribeAddresses" in result.stderr


def test_other_errors_are_unchanged() -> None:
    error = translate_client_error(client_error("ValidationError", "bad name", "CreateTargetGroup",
                                                400), "elbv2")
    assert type(error) is AwsError
    assert error.message == "CreateTargetGroup failed: bad name (ValidationError)"
