"""Preflight refusals through the CLI (moto in server mode; DNS server and HTTPS origin on
loopback): each exits 2 naming the reason, writes no plan file and leaves AWS untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planner
from migrator.core.names import elb_name
from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.preflight.cli import (
    findings_of,
    one_line,
    refused,
)
from tests.support.preflight.dns import Dns
from tests.support.preflight.origin import Reply, closed_port

pytestmark = pytest.mark.usefixtures("loopback_only")

HEALTHY = {"/": Reply(200)}


# -- refusals -------------------------------------------------------------------------------


def test_single_availability_zone_is_refused(session: boto3.Session, cli: Any,
                                             dns_env: dict[str, str]) -> None:
    seed_world(session, WorldSpec(availability_zones=1))
    out = one_line(refused(cli, session, dns_env))
    assert "FAIL subnets" in out
    assert "public subnets in at least two Availability Zones" in out
    assert "public subnets are in: ap-northeast-1a" in out
    assert "add a subnet in another zone" in out


def test_caa_in_dns_forbidding_amazon_is_refused(world: Any, session: boto3.Session, cli: Any,
                                                dns_server: Dns, dns_env: dict[str, str]) -> None:
    dns_server.source.set("example.com", "CAA", '0 issue "letsencrypt.org"')
    out = one_line(refused(cli, session, dns_env))
    assert "CAA at example.com (DNS) allows only letsencrypt.org: ACM cannot issue for " \
           "www.example.com" in out
    assert 'example.com CAA 0 issue "amazon.com"' in out  # the hint


def test_caa_in_the_hosted_zone_forbidding_amazon_is_refused(
        session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    seed_world(session, WorldSpec(extra_records=(
        ("example.com", "CAA", 300, ('0 issue "digicert.com"', '0 iodef "mailto:a@b.c"')),)))
    out = one_line(refused(cli, session, dns_env))
    assert "CAA at example.com (the hosted zone) allows only digicert.com" in out
    assert "CAA at example.com (DNS) allows only digicert.com" in out


def test_ns_delegation_mismatch_is_refused(world: Any, session: boto3.Session, cli: Any,
                                          dns_server: Dns, dns_env: dict[str, str]) -> None:
    dns_server.source.set("example.com", "NS", "ns1.other-dns.example.", "ns2.other-dns.example.")
    out = one_line(refused(cli, session, dns_env))
    assert "DNS delegates example.com to ns1.other-dns.example, ns2.other-dns.example, not to " \
           "the hosted zone's ns-2048.awsdns-64.com" in out
    assert "ACM's validation record" in out


def test_aaaa_record_is_refused(session: boto3.Session, cli: Any,
                                dns_env: dict[str, str]) -> None:
    seed_world(session, WorldSpec(extra_records=(
        ("www.example.com", "AAAA", 300, ("2001:db8::10",)),)))
    out = one_line(refused(cli, session, dns_env))
    assert "www.example.com AAAA 2001:db8::10: IPv6 clients would keep reaching the instance" \
           in out
    assert "a dualstack load balancer would need IPv6 subnets" in out


@pytest.mark.parametrize("kind", ["load balancer", "security group"])
def test_colliding_name_is_refused(world: Any, session: boto3.Session, cli: Any,
                                   dns_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                   kind: str) -> None:
    monkeypatch.setattr(planner, "new_plan_id", lambda: "mig-0badcafe")
    if kind == "load balancer":
        name = elb_name("www.example.com", "0badcafe")
        session.client("elbv2").create_load_balancer(
            Name=name, Subnets=list(world.subnet_ids.values()), Type="application")
    else:
        name = "migrator-alb-www.example.com-0badcafe"
        session.client("ec2").create_security_group(
            GroupName=name, Description="someone else's", VpcId=world.vpc_id)
    out = one_line(refused(cli, session, dns_env))
    assert f"the plan would create {kind} {name}" in out
    assert "already exist" in out


def test_instance_not_answering_https_is_refused(world: Any, session: boto3.Session, cli: Any,
                                                 dns_env: dict[str, str]) -> None:
    env = {**dns_env, "MIGRATOR_CONNECT_TO": f"127.0.0.10:443:127.0.0.10:{closed_port()}"}
    out = one_line(refused(cli, session, env))
    assert "FAIL https nothing listens for HTTPS at the instance (connection refused at " \
           "127.0.0.10:443" in out


def test_health_check_4xx_is_refused_with_a_matcher_proposal(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        start_origin: Any) -> None:
    origin = start_origin({"/": Reply(401)})
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(refused(cli, session, env))
    assert "answers 401: it asks for authentication" in out
    health = next(f for f in findings_of(cli, env) if f["check"] == "health-check")
    assert health["level"] == "fail"
    assert health["data"]["proposed_matcher"] == "200,401"


def test_health_check_5xx_is_refused_and_a_working_path_proposed(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        start_origin: Any) -> None:
    origin = start_origin({"/": Reply(200), "/health": Reply(503)})
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(refused(cli, session, env, "--health-check-path", "/health"))
    assert "GET /health (Host" in out and "answers 503: an ALB only counts 200-499" in out
    assert "use --health-check-path /" in out


def test_address_that_is_no_ec2_instance_is_refused_in_one_line(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "CREATE",
            "ResourceRecordSet": {"Name": "blog.example.com", "Type": "A", "TTL": 60,
                                  "ResourceRecords": [{"Value": "127.0.0.77"}]}}]})
    before = account_state(session)
    result = cli("plan", "--domain", "blog.example.com", env=dns_env)
    assert result.status == 2
    first = result.stderr.splitlines()[0]
    # moto has no Lightsail: the look-up fails quietly and the line says so.
    assert "no EC2 instance in ap-northeast-1 has the public address 127.0.0.77" in first
    assert "Lightsail could not be asked" in first
    assert "CloudFront with a custom origin" in result.stderr
    assert not Path("plans").exists() and account_state(session) == before
