"""End to end through the CLI on the strict AWS world (moto in server mode, made to behave like
AWS: eventual consistency, provisioning, validation by DNS, groups on interfaces, Route53
PENDING and throttling): plan, apply, apply again, rollback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from migrator.core.names import valid_elb_name
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.sandbox import eventually

TAG = "migrator:plan"


@pytest.fixture
def strict(strict_aws: StrictAWS) -> StrictAWS:
    return strict_aws


@pytest.fixture
def world(strict: StrictAWS, session: boto3.Session) -> Any:
    return seed(strict, session, WorldSpec())


def seed(strict: StrictAWS, session: boto3.Session, spec: WorldSpec) -> Any:
    """The world a migration starts from: old and settled, so seeded without the delays."""
    with strict.relaxed():
        return seed_world(session, spec)


def plan_and_apply(cli: Any, *args: str) -> tuple[Path, dict[str, Any]]:
    result = cli("plan", *args, "--out", "plans/site.json")
    assert result.status == 0, result.stderr
    applied = cli("apply", "plans/site.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr
    path = Path("plans/site.json")
    return path, planfile.load(path).to_dict()


def outputs(plan: dict[str, Any], step: str) -> dict[str, Any]:
    return next(s for s in plan["steps"] if s["id"] == step)["state"]["outputs"]


def test_plan_writes_nothing_to_aws(world: Any, session: boto3.Session, cli: Any) -> None:
    before = account_state(session)
    result = cli("plan", "--domain", "www.example.com")
    assert result.status == 0, result.stderr
    assert account_state(session) == before
    files = list(Path("plans").glob("www.example.com-*.json"))
    assert len(files) == 1
    plan = json.loads(files[0].read_text())
    assert plan["format"] == "migrator.plan/v1"
    assert "journal" not in plan and all("state" not in s for s in plan["steps"])
    assert not planfile.state_path(files[0]).exists()  # not applied
    assert {st.status for st in planfile.load(files[0]).states.values()} == {"pending"}
    assert "secret" not in files[0].read_text().lower()


def test_www_apply_reaches_end_state(world: Any, session: boto3.Session, cli: Any) -> None:
    _, plan = plan_and_apply(cli, "--domain", "www.example.com", "--health-check-path",
                             "/health")
    plan_id = plan["id"]
    ec2, elbv2 = session.client("ec2"), session.client("elbv2")
    acm, route53 = session.client("acm"), session.client("route53")

    cert_arn = outputs(plan, "certificate")["arn"]
    cert = acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]
    assert cert["Status"] == "ISSUED" and cert["DomainName"] == "www.example.com"
    assert {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(
        CertificateArn=cert_arn)["Tags"]}[TAG] == plan_id
    records = route53.list_resource_record_sets(HostedZoneId=world.zone_id)["ResourceRecordSets"]
    for option in cert["DomainValidationOptions"]:
        rr = option["ResourceRecord"]
        match = [r for r in records if r["Name"] == rr["Name"] and r["Type"] == "CNAME"]
        assert match and match[0]["ResourceRecords"] == [{"Value": rr["Value"]}]

    tg = elbv2.describe_target_groups()["TargetGroups"]
    assert len(tg) == 1
    tg = tg[0]
    assert (tg["Protocol"], tg["Port"], tg["TargetType"]) == ("HTTPS", 443, "instance")
    assert (tg["HealthCheckProtocol"], tg["HealthCheckPath"]) == ("HTTPS", "/health")
    assert tg["Matcher"] == {"HttpCode": "200-399"}
    assert valid_elb_name(tg["TargetGroupName"])
    health = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    assert [(h["Target"]["Id"], h["Target"]["Port"]) for h in
            health["TargetHealthDescriptions"]] == [(world.instance_id, 443)]

    lb = elbv2.describe_load_balancers()["LoadBalancers"]
    assert len(lb) == 1
    lb = lb[0]
    assert (lb["Scheme"], lb["Type"]) == ("internet-facing", "application")
    assert valid_elb_name(lb["LoadBalancerName"])
    zones = {az["ZoneName"]: az["SubnetId"] for az in lb["AvailabilityZones"]}
    assert zones == world.subnet_ids  # one public subnet per AZ, never the private one
    lb_sg = lb["SecurityGroups"][0]
    state = account_state(session)
    assert state["security_groups"][lb_sg]["ingress"] == sorted(
        f"tcp:{p}-{p}:{src}" for p in (80, 443) for src in ("0.0.0.0/0", "::/0"))
    origin_groups = state["instance_groups"][world.instance_id]
    assert world.security_group_id in origin_groups and len(origin_groups) == 2
    new_group = next(g for g in origin_groups if g != world.security_group_id)
    assert state["security_groups"][new_group]["ingress"] == [f"tcp:443-443:{lb_sg}"]
    # The original group is untouched.
    assert state["security_groups"][world.security_group_id]["ingress"] == sorted(
        ["tcp:22-22:198.51.100.0/24", "tcp:80-80:0.0.0.0/0", "tcp:443-443:0.0.0.0/0"])
    for group in (lb_sg, new_group):
        tags = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["Tags"]
        assert {"Key": TAG, "Value": plan_id} in tags

    listeners = {li["Port"]: li for li in elbv2.describe_listeners(
        LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert set(listeners) == {80, 443}  # the health-check warm-up listener is gone
    https, http = listeners[443], listeners[80]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert https["Certificates"][0]["CertificateArn"] == cert_arn
    assert https["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    redirect = http["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    for arn in (lb["LoadBalancerArn"], tg["TargetGroupArn"]):
        tags = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        assert {"Key": TAG, "Value": plan_id} in tags

    a = next(r for r in records if r["Name"] == "www.example.com." and r["Type"] == "A")
    assert "ResourceRecords" not in a
    assert a["AliasTarget"]["DNSName"].rstrip(".").endswith(lb["DNSName"])
    assert a["AliasTarget"]["HostedZoneId"] == lb["CanonicalHostedZoneId"]
    assert a["AliasTarget"]["EvaluateTargetHealth"] is True
    unrelated = {(r["Name"], r["Type"]) for r in records}
    assert {("example.com.", "MX"), ("example.com.", "TXT"), ("mail.example.com.", "A")} <= unrelated


def test_second_apply_changes_nothing(world: Any, session: boto3.Session, cli: Any) -> None:
    path, first = plan_and_apply(cli, "--domain", "www.example.com")
    before = account_state(session)
    again = cli("apply", str(path), "--yes", "--skip-verify")
    assert again.status == 0, again.stderr
    assert account_state(session) == before
    second = planfile.load(path).to_dict()
    assert [s["state"]["outputs"] for s in second["steps"]] == \
        [s["state"]["outputs"] for s in first["steps"]]


def test_rollback_restores_original_state_exactly(world: Any, session: boto3.Session,
                                                  cli: Any) -> None:
    before = account_state(session)
    path, _ = plan_and_apply(cli, "--domain", "www.example.com")
    assert account_state(session) != before
    result = cli("rollback", str(path), "--yes", "--dns-drain", "0")
    assert result.status == 0, result.stderr
    assert account_state(session) == before
    plan = planfile.load(path).to_dict()
    # The lockdown never ran (the old TTL had not passed), so there is nothing of it to undo.
    assert {s["id"]: s["state"]["status"] for s in plan["steps"] if s["state"]["status"]
            != "reverted"} == {"lockdown_ready": "pending", "lockdown_groups": "pending",
                               "lockdown_attach": "pending"}
    status = cli("status", str(path), "--json")
    assert json.loads(status.stdout)["phase"] == "rolled back"
    # A rolled-back plan is not applied again by accident.
    assert cli("apply", str(path), "--yes", "--skip-verify").status == 2


@pytest.fixture
def apex_world(strict: StrictAWS, session: boto3.Session) -> Any:
    return seed(strict, session, WorldSpec(domain="example.com",
                                           extra_a_names=("www.example.com",),
                                           cname_names=("shop.example.com",)))


def test_apex_with_www_san(apex_world: Any, session: boto3.Session, cli: Any) -> None:
    before = account_state(session)
    path, plan = plan_and_apply(cli, "--domain", "example.com", "--san", "www.example.com")
    acm, route53 = session.client("acm"), session.client("route53")
    cert = acm.describe_certificate(CertificateArn=outputs(plan, "certificate")["arn"])
    assert cert["Certificate"]["DomainName"] == "example.com"
    assert set(cert["Certificate"]["SubjectAlternativeNames"]) == {"example.com",
                                                                    "www.example.com"}
    records = {(r["Name"], r["Type"]): r for r in route53.list_resource_record_sets(
        HostedZoneId=apex_world.zone_id)["ResourceRecordSets"]}
    assert "AliasTarget" in records[("example.com.", "A")]
    assert "AliasTarget" in records[("www.example.com.", "A")]
    # A name that CNAMEs to the site is left as it is.
    assert records[("shop.example.com.", "CNAME")]["ResourceRecords"] == [
        {"Value": "example.com"}]
    result = cli("rollback", str(path), "--yes", "--dns-drain", "0")
    assert result.status == 0, result.stderr
    assert account_state(session) == before


def test_rollback_keeps_validation_record_that_existed_before(
        world: Any, session: boto3.Session, cli: Any) -> None:
    acm, route53 = session.client("acm"), session.client("route53")
    # An earlier certificate for the same name, validated with the same CNAME ACM will give ours.
    old = acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS")
    rr = eventually(lambda: acm.describe_certificate(CertificateArn=old["CertificateArn"])[
        "Certificate"]["DomainValidationOptions"][0].get("ResourceRecord"))
    route53.change_resource_record_sets(HostedZoneId=world.zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": rr["Name"], "Type": "CNAME",
                                                   "TTL": 300,
                                                   "ResourceRecords": [{"Value": rr["Value"]}]}}]})
    acm.delete_certificate(CertificateArn=old["CertificateArn"])
    before = account_state(session)
    path, plan = plan_and_apply(cli, "--domain", "www.example.com")
    assert outputs(plan, "validation_records")["created"] == []
    assert cli("rollback", str(path), "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == before


def test_rollback_keeps_validation_record_another_certificate_uses(
        world: Any, session: boto3.Session, cli: Any) -> None:
    path, plan = plan_and_apply(cli, "--domain", "www.example.com")
    created = outputs(plan, "validation_records")["created"]
    assert len(created) == 1
    acm = session.client("acm")
    # Requested a moment before the rollback: ACM has not even said its record yet.
    other = acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS")
    assert "ResourceRecord" not in acm.describe_certificate(CertificateArn=other[
        "CertificateArn"])["Certificate"]["DomainValidationOptions"][0]
    result = cli("rollback", str(path), "--yes", "--dns-drain", "0")
    assert result.status == 0, result.stderr
    assert "another certificate still validates with it" in result.stdout
    names = {r["Name"] for r in session.client("route53").list_resource_record_sets(
        HostedZoneId=world.zone_id)["ResourceRecordSets"]}
    assert created[0]["Name"] in names
    arns = [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
    assert arns == [other["CertificateArn"]]


def test_status_tells_when_the_last_cached_client_has_moved(world: Any, cli: Any) -> None:
    path, plan = plan_and_apply(cli, "--domain", "www.example.com")
    switched = outputs(plan, "switch_dns")
    assert switched["old_ttl"] == 300
    status = json.loads(cli("status", str(path), "--json").stdout)
    assert status["phase"] == "applied (lockdown pending)"
    from datetime import datetime, timedelta
    at = datetime.strptime(switched["switched_at"][:19], "%Y-%m-%dT%H:%M:%S")
    assert status["all_clients_moved_at"] == (at + timedelta(seconds=300)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    text = cli("status", str(path)).stdout
    assert "every client reaches the load balancer by" in text


def test_lockdown_once_the_old_ttl_has_passed(strict: StrictAWS, session: boto3.Session,
                                              cli: Any) -> None:
    world = seed(strict, session, WorldSpec(ttl=2, share_security_group=True))
    original = account_state(session)
    result = cli("plan", "--domain", "www.example.com", "--out", "p.json")
    assert result.status == 0, result.stderr
    first = cli("apply", "p.json", "--yes", "--skip-verify")
    assert first.status == 0, first.stderr
    plan = planfile.load("p.json").to_dict()
    if outputs(plan, "lockdown_attach") == {}:
        assert "the lockdown waits until" in " ".join(first.stdout.split())
        done = cli("apply", "p.json", "--yes", "--skip-verify", "--wait-for-ttl")
        assert done.status == 0, done.stderr
    plan = planfile.load("p.json").to_dict()
    assert {s["state"]["status"] for s in plan["steps"]} == {"done", "skipped"}
    state = account_state(session)
    copy = outputs(plan, "lockdown_groups")["copies"][world.security_group_id]
    origin_group = outputs(plan, "origin_security_group")["group_id"]
    lb_group = session.client("elbv2").describe_load_balancers()["LoadBalancers"][0][
        "SecurityGroups"][0]
    assert state["instance_groups"][world.instance_id] == sorted([copy, origin_group])
    # SSH from the office stays; the web comes only from the load balancer.
    assert state["security_groups"][copy]["ingress"] == ["tcp:22-22:198.51.100.0/24"]
    assert state["security_groups"][copy]["egress"] == \
        state["security_groups"][world.security_group_id]["egress"]
    assert state["security_groups"][origin_group]["ingress"] == [f"tcp:443-443:{lb_group}"]
    # The shared original group is untouched and still on the other instance.
    assert state["security_groups"][world.security_group_id] == \
        original["security_groups"][world.security_group_id]
    assert state["instance_groups"][world.other_instance_id] == [world.security_group_id]

    result = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert result.status == 0, result.stderr
    assert account_state(session) == original


def test_no_lockdown_when_asked(world: Any, cli: Any) -> None:
    _, plan = plan_and_apply(cli, "--domain", "www.example.com", "--no-lockdown")
    assert not [s for s in plan["steps"] if s["id"].startswith("lockdown")]
    assert {s["state"]["status"] for s in plan["steps"]} == {"done", "skipped"}


def test_aaaa_record_moves_to_a_dualstack_load_balancer(strict: StrictAWS, session: boto3.Session,
                                                        cli: Any) -> None:
    world = seed(strict, session, WorldSpec(ipv6=True, aaaa=True))
    original = account_state(session)
    _, plan = plan_and_apply(cli, "--domain", "www.example.com")
    lb = session.client("elbv2").describe_load_balancers()["LoadBalancers"][0]
    assert lb["IpAddressType"] == "dualstack"
    records = {(r["Name"], r["Type"]): r for r in session.client("route53")
               .list_resource_record_sets(HostedZoneId=world.zone_id)["ResourceRecordSets"]}
    for rtype in ("A", "AAAA"):
        alias = records[("www.example.com.", rtype)]["AliasTarget"]
        assert alias["DNSName"].rstrip(".").endswith(lb["DNSName"])
    assert outputs(plan, "switch_dns")["old_ttl"] == 300
    assert cli("rollback", "plans/site.json", "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == original
