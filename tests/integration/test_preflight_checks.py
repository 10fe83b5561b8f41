"""Preflight passes, warnings and information through the CLI (moto in server mode; DNS server
and HTTPS origin on loopback): shown with their reason and data, the plan still written, AWS
untouched."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.preflight.cli import (
    accepted,
    finding,
    findings_of,
    one_line,
)
from tests.support.preflight.origin import Reply

pytestmark = pytest.mark.usefixtures("loopback_only")

HEALTHY = {"/": Reply(200)}


# -- a clean site -------------------------------------------------------------------------------


def test_clean_site_passes_every_check(world: Any, session: boto3.Session, cli: Any,
                                       dns_env: dict[str, str], start_origin: Any) -> None:
    origin = start_origin(HEALTHY)
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(accepted(cli, session, env))
    for check in ("delegation", "caa", "subnets", "https", "health-check", "records", "names"):
        assert f"PASS {check}" in out, check
    assert "FAIL" not in out and "WARN" not in out
    assert "DNS delegates example.com to the hosted zone's name servers" in out
    assert "$17.74 a month in ap-northeast-1" in out
    # The health check was tried the way the load balancer will: its address as Host, its UA.
    private_ip = session.client("ec2").describe_instances(InstanceIds=[world.instance_id])[
        "Reservations"][0]["Instances"][0]["PrivateIpAddress"]
    probe = [r for r in origin.requests if r["path"] == "/"][-1]
    assert probe["host"] == private_ip
    assert probe["user_agent"].startswith("ELB-HealthChecker/2.0")


def test_rehearsal_without_network_variables_asks_nothing(world: Any, session: boto3.Session,
                                                           cli: Any) -> None:
    out = one_line(accepted(cli, session, {}))
    assert "INFO delegation DNS not checked" in out
    assert "MIGRATOR_NAMESERVERS is not set" in out
    assert "HTTPS at the instance not checked" in out


def test_inspect_json_holds_snapshot_and_findings(world: Any, cli: Any,
                                                  dns_env: dict[str, str]) -> None:
    result = cli("inspect", "--domain", "www.example.com", "--json", env=dns_env)
    assert result.status == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"snapshot", "findings", "load_balancers"}
    assert data["load_balancers"] == []  # none in the VPC
    assert data["snapshot"]["domain"] == "www.example.com"
    cost = next(f for f in data["findings"] if f["check"] == "cost")
    assert cost["data"]["monthly_usd"] == 17.74 and cost["data"]["hourly_usd"] == 0.0243
    assert set(cost) == {"check", "level", "message", "hint", "data"}


# -- warnings and information ------------------------------------------------------------------


def test_closest_caa_wins(session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    seed_world(session, WorldSpec(extra_records=(
        ("example.com", "CAA", 300, ('0 issue "digicert.com"',)),
        ("www.example.com", "CAA", 300, ('0 issue "amazon.com"',)))))
    caa = finding(findings_of(cli, dns_env), "caa")
    assert caa["level"] == "pass"
    assert "CAA at www.example.com (the hosted zone) allows amazon.com" in caa["message"]
    assert "CAA at www.example.com (DNS) allows amazon.com" in caa["message"]


def test_health_check_redirect_proposes_the_target_path(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        start_origin: Any) -> None:
    origin = start_origin({"/": Reply(302, {"Location": "https://www.example.com/login"}),
                           "/login": Reply(200)})
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(accepted(cli, session, env))
    assert "WARN health-check GET / (Host" in out
    assert "answers 302: it redirects to /login on the same server, which answers 200" in out
    health = next(f for f in findings_of(cli, env) if f["check"] == "health-check")
    assert (health["level"], health["data"]["proposed_path"]) == ("warn", "/login")
    assert health["data"]["proposed_matcher"] is None


def test_health_check_redirect_off_the_server_proposes_a_matcher(
        world: Any, cli: Any, dns_env: dict[str, str], start_origin: Any) -> None:
    origin = start_origin({"/": Reply(302, {"Location": "https://sso.example.net/start"})})
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    health = next(f for f in findings_of(cli, env) if f["check"] == "health-check")
    assert health["level"] == "warn"
    assert "redirects to https://sso.example.net/start, off this server" in health["message"]
    assert health["data"]["proposed_matcher"] == "200-399"
    assert health["data"]["proposed_path"] is None


def test_old_certificate_names_and_expiry_are_warned(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        start_origin: Any) -> None:
    origin = start_origin(HEALTHY, days_left=1,
                          names=["www.example.com", "example.com", "*.example.com"])
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(accepted(cli, session, env))
    assert "also covers example.com, *.example.com, which the plan's certificate does not" in out
    assert "before the migration is safely over (TTL 300 s" in out
    findings = findings_of(cli, env)
    names = next(f for f in findings if f["check"] == "certificate-names")
    assert names["data"]["uncovered_names"] == ["example.com", "*.example.com"]
    cert = next(f for f in findings if f["check"] == "certificate")
    assert cert["data"]["issuer"] == "O=Test Origin CA, CN=Test Origin CA"
    assert finding(findings, "certificate-expiry")["level"] == "warn"
    # Covering the name clears the warning about it.
    findings = findings_of(cli, env, "--san", "example.com")
    names = next(f for f in findings if f["check"] == "certificate-names")
    assert names["data"]["uncovered_names"] == ["*.example.com"]


def test_shared_security_group_is_reported_and_left_alone(
        session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    world = seed_world(session, WorldSpec(share_security_group=True))
    out = one_line(accepted(cli, session, dns_env))
    assert f"INFO security-groups {world.security_group_id} (web-server) is also used by " \
           f"{world.other_instance_id}: it is never edited" in out
    plan = json.loads(Path("p.json").read_text())
    assert not any(s["action"] in ("ec2.authorize_ingress", "ec2.revoke_ingress")
                   and s["params"]["GroupId"] == world.security_group_id for s in plan["steps"])


def test_issued_certificate_is_reused(world: Any, session: boto3.Session, cli: Any,
                                      dns_env: dict[str, str]) -> None:
    acm = session.client("acm")
    arn = acm.request_certificate(DomainName="www.example.com",
                                  ValidationMethod="DNS")["CertificateArn"]
    deadline = time.monotonic() + 10
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline, "moto did not issue the certificate"
        time.sleep(0.3)
    out = one_line(accepted(cli, session, dns_env))
    assert "is ISSUED and covers www.example.com: the plan reuses it, and rollback never " \
           "deletes it" in out
    acm_finding = finding(findings_of(cli, dns_env), "acm")
    assert (acm_finding["level"], acm_finding["data"]["certificate_arn"]) == ("info", arn)
    plan = json.loads(Path("p.json").read_text())
    assert not any(s["action"] == "acm.request_certificate" for s in plan["steps"])


def test_apex_pointing_at_the_instance_and_cnames_are_reported(
        session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    seed_world(session, WorldSpec(extra_a_names=("example.com",),
                                  cname_names=("shop.example.com",)))
    out = one_line(accepted(cli, session, dns_env))
    assert "WARN records example.com also points at the instance (127.0.0.10) but is not in " \
           "the plan" in out
    assert "INFO records shop.example.com is a CNAME to www.example.com: left alone" in out
    findings = findings_of(cli, dns_env, "--san", "example.com")
    assert not any("also points at the instance" in f["message"] for f in findings)
