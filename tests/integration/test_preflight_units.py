"""Preflight pieces on their own: CAA rules, prices, rendering, target classification with a
stub Lightsail, and probes that must give up quickly (dead DNS, a silent HTTPS port)."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from migrator.aws.session import connect
from migrator.checks.preflight import (
    Finding,
    findings_to_json,
    inspect_or_refuse,
    proposals,
    raise_on_failure,
    render_findings,
    run_preflight,
)
from migrator.checks.preflight.caa import Caa, amazon_may_issue, names_up_to_zone
from migrator.checks.preflight.cost import check_cost, monthly_base
from migrator.core.inspector import inspect_site
from migrator.core.plan import PlanOptions
from migrator.errors import PreflightError
from migrator.net.config import NetConfig

pytestmark = pytest.mark.usefixtures("loopback_only")


def caa(*texts: str) -> list[Caa]:
    parsed = [Caa.parse(t) for t in texts]
    assert all(parsed)
    return parsed  # type: ignore[return-value]


@pytest.mark.parametrize(("records", "wildcard", "ok"), [
    (['0 issue "amazon.com"'], False, True),
    (['0 issue "AmazonTrust.com; account=123"'], False, True),
    (['0 issue "letsencrypt.org"', '0 issue "awstrust.com"'], False, True),
    (['0 issue "letsencrypt.org"'], False, False),
    (['0 issue ";"'], False, False),
    (['0 iodef "mailto:sec@example.com"'], False, True),
    (['0 issuewild "letsencrypt.org"', '0 issue "amazonaws.com"'], False, True),
    (['0 issuewild "letsencrypt.org"', '0 issue "amazonaws.com"'], True, False),
    (['0 issue "letsencrypt.org"', '0 issuewild "amazon.com"'], True, True),
    (['0 issue "amazon.com"'], True, True),
    (['128 futuretag "x"', '0 issue "amazon.com"'], False, False),
    (['0 futuretag "x"', '0 issue "amazon.com"'], False, True),
])
def test_caa_rules(records: list[str], wildcard: bool, ok: bool) -> None:
    allowed, why = amazon_may_issue(caa(*records), wildcard=wildcard)
    assert allowed is ok, why


def test_caa_walk_stops_at_the_zone() -> None:
    assert names_up_to_zone("a.b.example.com", "example.com.") == [
        "a.b.example.com", "b.example.com", "example.com"]
    assert names_up_to_zone("example.com", "example.com") == ["example.com"]


def test_prices() -> None:
    assert monthly_base("ap-northeast-1") == 17.74   # 0.0243 x 730
    assert monthly_base("us-east-1") == 16.43        # 0.0225 x 730
    assert monthly_base("eu-west-1") == 18.40        # 0.0252 x 730
    unknown = check_cost("xx-test-1")
    assert unknown.message.startswith("price unknown for xx-test-1")
    tokyo = check_cost("ap-northeast-1")
    assert "$17.74 a month" in tokyo.message and "LCU-hour" in tokyo.message
    assert tokyo.data["source"].startswith("https://aws.amazon.com/elasticloadbalancing/pricing")


FINDINGS = [
    Finding("subnets", "fail", "the load balancer needs public subnets in at least two "
            "Availability Zones of vpc-0123456789abcdef0; public subnets are in: us-east-1a",
            hint="add a subnet in another zone with a route to the internet gateway"),
    Finding("health-check", "warn", "GET / answers 302", hint="use --health-check-path /login",
            data={"proposed_path": "/login", "proposed_matcher": None}),
    Finding("certificate-names", "warn", "also covers example.com",
            data={"uncovered_names": ["example.com", "*.example.com"]}),
    Finding("records", "warn", "apex", data={"suggested_sans": ["example.com"]}),
    Finding("cost", "info", "about $16.43 a month"),
    Finding("zone", "pass", "public hosted zone example.com holds www.example.com"),
]


def test_render_fits_80_columns_without_colour() -> None:
    out = io.StringIO()
    render_findings(Console(file=out, width=80, no_color=True, color_system=None), FINDINGS)
    text = out.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for word in ("FAIL", "WARN", "INFO", "PASS", "→ add a subnet"):
        assert word in text
    assert "\x1b[" not in text
    assert "1 fail, 3 warn, 1 info, 1 pass; the plan is refused" in text


def test_json_proposals_and_refusal() -> None:
    assert [f["check"] for f in __import__("json").loads(findings_to_json(FINDINGS))] == [
        f.check for f in FINDINGS]
    assert proposals(FINDINGS) == {"sans": ["example.com"], "health_check_path": "/login"}
    with pytest.raises(PreflightError, match="preflight refused the plan: the load balancer "
                                             "needs public subnets"):
        raise_on_failure(FINDINGS)
    raise_on_failure(FINDINGS[1:])  # no fail: no error


class StubLightsail:
    def __init__(self, ips: list[dict[str, Any]]) -> None:
        self.ips = ips

    def static_ip_at(self, address: str) -> dict[str, Any] | None:
        return next((ip for ip in self.ips if ip["ipAddress"] == address), None)


def test_lightsail_static_ip_is_named_with_the_right_path(world: Any, session: Any) -> None:
    session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "CREATE",
            "ResourceRecordSet": {"Name": "blog.example.com", "Type": "A", "TTL": 60,
                                  "ResourceRecords": [{"Value": "127.0.0.77"}]}}]})
    aws = connect()
    aws.lightsail = StubLightsail([  # type: ignore[misc]
        {"name": "wp-static", "ipAddress": "127.0.0.77", "isAttached": True,
         "attachedTo": "wordpress-1"}])
    with pytest.raises(PreflightError) as caught:
        inspect_or_refuse(aws, "blog.example.com")
    assert caught.value.message == (
        "blog.example.com points at 127.0.0.77, Lightsail static IP wp-static attached to "
        "Lightsail instance wordpress-1: an Application Load Balancer cannot send traffic to a "
        "Lightsail instance")
    assert "Lightsail load balancer" in (caught.value.hint or "")
    # An address that is an EC2 instance's is inspected as usual.
    assert inspect_or_refuse(aws, "www.example.com").instance.id == world.instance_id


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never speaks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.10", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_dead_dns_and_silent_https_are_warnings_not_hangs(world: Any, silent_port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))  # receives queries, never answers
        net = replace(NetConfig.from_env({
            "MIGRATOR_NAMESERVERS": f"127.0.0.1:{udp.getsockname()[1]}",
            "MIGRATOR_CONNECT_TO": f"127.0.0.10:443:127.0.0.10:{silent_port}"}),
            dns_timeout=0.5, connect_timeout=0.5, read_timeout=0.5)
        aws = connect()
        snap = inspect_site(aws, "www.example.com")
        import time
        started = time.monotonic()
        findings = run_preflight(aws, snap, net, PlanOptions(), "mig-00000000")
        assert time.monotonic() - started < 10
    by_check = {f.check: f for f in findings if f.level != "pass"}
    assert by_check["delegation"].level == "warn"
    assert "could not look up the NS records of example.com: no answer within 0.5 s" in \
        by_check["delegation"].message
    assert any(f.check == "caa" and f.level == "warn" for f in findings)
    assert by_check["https"].level == "warn"
    assert "no TLS handshake within 0.5 s" in by_check["https"].message
    assert not any(f.failed for f in findings)


def test_private_zone_of_the_same_name_is_reported_not_used(world: Any, session: Any) -> None:
    from migrator.checks.preflight.zone import check_zone

    private = session.client("route53").create_hosted_zone(
        Name="example.com", CallerReference="private-example",
        HostedZoneConfig={"PrivateZone": True, "Comment": "internal"},
        VPC={"VPCRegion": "ap-northeast-1", "VPCId": world.vpc_id})["HostedZone"]["Id"]
    aws = connect()
    findings = check_zone(aws, inspect_site(aws, "www.example.com"))
    assert [f.level for f in findings] == ["pass", "info"]
    assert findings[0].data["zone_id"] == world.zone_id
    assert findings[1].message.startswith(
        f"private hosted zone example.com ({private.split('/')[-1]}) is not used")


def test_redirect_targets_on_the_same_server() -> None:
    from migrator.checks.preflight.healthcheck import _same_host
    from migrator.core.snapshot import Instance, Snapshot, Zone

    snap = Snapshot(
        account="123456789012", region="us-east-1", domain="www.example.com",
        names=("www.example.com", "example.com"), zone=Zone("Z1", "example.com."), records=(),
        instance=Instance("i-1", "running", "web", "vpc-1", "subnet-1", "us-east-1a",
                          "203.0.113.10", "10.0.0.5", ("sg-1",)),
        security_groups=(), subnets=())
    same = [("/login", "/login"), ("login?next=%2F", "/app/login?next=%2F"),
            ("https://example.com/home", "/home"), ("http://10.0.0.5/x", "/x"),
            ("//www.example.com/y", "/y")]
    for location, path in same:
        assert _same_host(location, "/app/", snap, "10.0.0.5") == path, location
    for location in ("https://sso.example.net/start", "ftp://www.example.com/f"):
        assert _same_host(location, "/", snap, "10.0.0.5") is None, location
