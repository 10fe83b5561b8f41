"""The running sandbox, seen by an independent client: DNS, the origin, and load balancers that
appear, serve and disappear as the test changes moto through the AWS API (boto3)."""

from __future__ import annotations

import datetime as dt
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest
from cryptography import x509

from migrator_sandbox.moto_server import set_acm_delay
from migrator_sandbox.runner import Sandbox
from tests.support.sandbox import (
    a_record,
    add_listeners,
    addresses,
    alias_to,
    client_context,
    connect_to_map,
    create_alb,
    eventually,
    issuer_cn,
    issuer_org,
    loopback_guard,
    query,
    refused,
    request,
    request_certificate,
    resolver,
    upsert,
    wait_issued,
)

DOMAIN = "www.example.com"
ZONE = "example.com"
ORIGIN = "127.0.0.10"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with loopback_guard() as violations:
        sb = Sandbox(acm_delay=1, workdir=tmp_path_factory.mktemp("sandbox"))
        with sb:
            yield sb
    assert violations == [], violations


@pytest.fixture(scope="module")
def env(sandbox: Sandbox) -> dict[str, str]:
    return sandbox.env


@pytest.fixture(scope="module")
def session(sandbox: Sandbox) -> Any:
    return sandbox.session()


@pytest.fixture(scope="module")
def origin_page(env: dict[str, str]) -> bytes:
    response = request(env, ORIGIN, DOMAIN)
    assert response.status == 200
    return response.body


# -- the environment -------------------------------------------------------------------------


def test_env_names_every_part_on_loopback(sandbox: Sandbox, env: dict[str, str]) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", env["AWS_ENDPOINT_URL"])
    assert env["AWS_REGION"] == "ap-northeast-1"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["MIGRATOR_NAMESERVERS"])
    assert env["MIGRATOR_SANDBOX_DOMAIN"] == DOMAIN
    assert Path(env["MIGRATOR_CA_BUNDLE"]).is_absolute()
    assert Path(env["MIGRATOR_CA_BUNDLE"]).read_text().count("BEGIN CERTIFICATE") == 2
    table = connect_to_map(env)
    pool = [f"127.0.0.{i}" for i in range(20, 28)]
    for host in [ORIGIN, *pool]:
        for port in (443, 80):
            real_host, real_port = table[(host, port)]
            assert real_host == host and real_port >= 1024
    # one real port per well-known port, the same on every address
    assert len({table[(h, 443)][1] for h in [ORIGIN, *pool]}) == 1
    assert len({table[(h, 80)][1] for h in [ORIGIN, *pool]}) == 1


def test_env_file_is_sourceable_export_lines(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_env_file(tmp_path / "sb.env")
    lines = path.read_text().splitlines()
    assert all(line.startswith("export ") for line in lines)
    names = {line.split()[1].split("=", 1)[0] for line in lines}
    assert {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "MIGRATOR_NAMESERVERS",
        "MIGRATOR_CONNECT_TO",
        "MIGRATOR_CA_BUNDLE",
        "MIGRATOR_SANDBOX_DOMAIN",
    } <= names


def test_aws_api_holds_the_seeded_world(sandbox: Sandbox, session: Any) -> None:
    world = sandbox.world
    ec2 = session.client("ec2")
    (address,) = ec2.describe_addresses(AllocationIds=[world.allocation_id])["Addresses"]
    assert address["PublicIp"] == ORIGIN and address["InstanceId"] == world.instance_id
    zones = session.client("route53").list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
    assert zones[0]["Id"].endswith(world.zone_id)


# -- the origin ------------------------------------------------------------------------------


def test_origin_serves_the_site_with_a_soon_expiring_origin_ca_cert(env: dict[str, str]) -> None:
    response = request(env, ORIGIN, DOMAIN)
    assert response.status == 200
    assert b"origin" in response.body and DOMAIN.encode() in response.body
    assert response.cert is not None
    assert issuer_cn(response.cert) == "Sandbox Origin CA"
    left = response.cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=11) < left <= dt.timedelta(days=12)
    assert response.tls_version in ("TLSv1.2", "TLSv1.3")


def test_origin_paths(env: dict[str, str]) -> None:
    health = request(env, ORIGIN, DOMAIN, "/health")
    assert (health.status, health.body) == (200, b"ok")
    assert request(env, ORIGIN, DOMAIN, "/no-such-page").status == 404


def test_origin_http_redirects_to_https(env: dict[str, str]) -> None:
    response = request(env, ORIGIN, DOMAIN, "/a/b?c=1", tls=False)
    assert response.status == 301
    assert response.headers["Location"] == f"https://{DOMAIN}/a/b?c=1"


def test_origin_certificate_does_not_verify_without_the_bundle(env: dict[str, str]) -> None:
    bare = ssl.create_default_context(cafile=None, capath=None, cadata=None)
    bare.load_verify_locations(cadata=_unrelated_ca_pem())
    with pytest.raises(ssl.SSLCertVerificationError):
        request(env, ORIGIN, DOMAIN, context=bare)


def _unrelated_ca_pem() -> str:
    from migrator_sandbox import pki

    return pki.CertificateAuthority.create("Unrelated", "Nobody").issued.cert_pem().decode()


# -- DNS -------------------------------------------------------------------------------------


def test_dns_answers_the_seeded_zone(env: dict[str, str]) -> None:
    assert addresses(env, DOMAIN) == [ORIGIN]
    reply = query(env, DOMAIN, "A")
    assert reply.flags & dns.flags.AA
    assert reply.answer[0].ttl == 300
    mx = resolver(env).resolve(ZONE, "MX")
    assert [r.exchange.to_text() for r in mx] == ["mail.example.net."]
    txt = resolver(env).resolve(ZONE, "TXT")
    assert any(b"v=spf1" in s for r in txt for s in r.strings)
    ns = resolver(env).resolve(ZONE, "NS")
    assert len(ns) == 4
    soa = resolver(env).resolve(ZONE, "SOA")
    assert soa[0].rname.to_text() == "hostmaster.example.com."


def test_dns_negative_answers(env: dict[str, str]) -> None:
    missing = query(env, f"nope.{ZONE}", "A")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.flags & dns.flags.AA
    assert missing.authority and missing.authority[0].rdtype == dns.rdatatype.SOA
    nodata = query(env, DOMAIN, "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    outside = query(env, "www.example.org", "A")
    assert outside.rcode() == dns.rcode.REFUSED
    assert not outside.flags & dns.flags.AA


def test_dns_follows_route53_changes_live(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    zone_id = sandbox.world.zone_id
    name = f"live.{ZONE}"
    assert query(env, name, "A").rcode() == dns.rcode.NXDOMAIN
    upsert(session, zone_id, a_record(name, "127.0.0.77", ttl=42))
    reply = query(env, name, "A")
    assert [r.address for r in reply.answer[0]] == ["127.0.0.77"]
    assert reply.answer[0].ttl == 42
    upsert(session, zone_id, a_record(name, "127.0.0.78", ttl=42))
    assert addresses(env, name) == ["127.0.0.78"]
    upsert(
        session,
        zone_id,
        {"Name": f"alias.{ZONE}", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": name}]},
    )
    chased = query(env, f"alias.{ZONE}", "A")
    assert [rr.rdtype for rr in chased.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    session.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "DELETE", "ResourceRecordSet": a_record(name, "127.0.0.78", ttl=42)}
            ]
        },
    )
    assert query(env, name, "A").rcode() == dns.rcode.NXDOMAIN
    # the CNAME stays, pointing at a name that no longer exists
    dangling = query(env, f"alias.{ZONE}", "A")
    assert dangling.rcode() == dns.rcode.NXDOMAIN
    assert dangling.answer[0].rdtype == dns.rdatatype.CNAME


def test_dns_over_tcp(env: dict[str, str]) -> None:
    reply = query(env, DOMAIN, "A", tcp=True)
    assert [r.address for r in reply.answer[0]] == [ORIGIN]


# -- load balancers --------------------------------------------------------------------------


def test_migration_to_an_alb_is_served_like_aws(
    sandbox: Sandbox, env: dict[str, str], session: Any, origin_page: bytes
) -> None:
    """The whole move: ALB + certificate + listeners + alias, then tear down the listener."""
    world = sandbox.world
    elb = session.client("elbv2")
    alb = create_alb(session, world, "web-alb")
    try:
        # the load balancer's own name resolves (to its sandbox address) from creation on
        lb_address = eventually(lambda: addresses(env, alb.dns_name))[0]
        assert lb_address.startswith("127.0.0.") and lb_address != ORIGIN
        assert addresses(env, f"dualstack.{alb.dns_name}") == [lb_address]
        # no listener yet: nothing accepts connections there
        assert refused(env, lb_address, 443)

        cert_arn = request_certificate(session, DOMAIN, [DOMAIN, ZONE])
        add_listeners(session, alb, cert_arn)
        # HTTP listener is served at once; HTTPS only once ACM issued the certificate
        eventually(lambda: request(env, lb_address, DOMAIN, tls=False).status == 301)
        wait_issued(session, cert_arn)
        served = eventually(lambda: request(env, lb_address, DOMAIN))

        assert served.status == 200, served
        assert served.body == origin_page
        assert served.cert is not None and issuer_org(served.cert) == "Amazon"
        described = session.client("acm").describe_certificate(CertificateArn=cert_arn)
        assert served.cert.serial_number == int(described["Certificate"]["Serial"])
        assert sorted(described["Certificate"]["SubjectAlternativeNames"]) == sorted([DOMAIN, ZONE])
        assert served.tls_version in ("TLSv1.2", "TLSv1.3")

        # the origin saw the proxied request, with the forwarding headers
        seen = [r for r in sandbox.origin.requests if r.client == lb_address and r.path == "/"]
        assert seen, "the origin never saw a request from the load balancer"
        headers = {k.lower(): v for k, v in seen[-1].headers.items()}
        assert headers["x-forwarded-proto"] == "https"
        assert headers["x-forwarded-port"] == "443"
        assert headers["x-forwarded-for"] == served.extra["local"]  # the client's address
        assert headers["host"] == DOMAIN
        assert headers["x-amzn-trace-id"].startswith("Root=1-")

        redirect = request(env, lb_address, DOMAIN, "/a/b?q=1", tls=False)
        assert redirect.status == 301
        assert redirect.headers["Location"] == f"https://{DOMAIN}:443/a/b?q=1"

        # switch DNS: the site's A record becomes an alias of the load balancer
        upsert(session, world.zone_id, alias_to(DOMAIN, alb))
        assert addresses(env, DOMAIN) == [lb_address]
        reply = query(env, DOMAIN, "A")
        assert reply.answer[0].ttl == 60
        via_dns = request(env, addresses(env, DOMAIN)[0], DOMAIN)
        assert via_dns.body == origin_page and issuer_org(via_dns.cert) == "Amazon"

        # target health is real: the health check reached /health on the instance
        def healthy() -> bool:
            states = elb.describe_target_health(TargetGroupArn=alb.target_group_arn)
            return states["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy"

        eventually(healthy)
        assert any(r.path == "/health" and r.client == lb_address for r in sandbox.origin.requests)

        # deleting the HTTPS listener stops HTTPS; HTTP keeps redirecting
        elb.delete_listener(ListenerArn=alb.https_listener_arn)
        eventually(lambda: refused(env, lb_address, 443))
        assert request(env, lb_address, DOMAIN, tls=False).status == 301
    finally:
        upsert(session, world.zone_id, a_record(DOMAIN, ORIGIN))
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)
    # the whole load balancer gone: its name no longer resolves, its address refuses
    eventually(lambda: addresses(env, alb.dns_name) == [])
    assert query(env, alb.dns_name, "A").rcode() == dns.rcode.NXDOMAIN
    eventually(lambda: refused(env, lb_address, 80))
    assert addresses(env, DOMAIN) == [ORIGIN]


def test_https_listener_waits_for_the_certificate(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    alb = create_alb(session, sandbox.world, "pending-alb")
    try:
        lb_address = eventually(lambda: addresses(env, alb.dns_name))[0]
        set_acm_delay(3600)  # keep the certificate pending for as long as this takes
        try:
            cert_arn = request_certificate(session, f"pending.{ZONE}", [f"pending.{ZONE}"])
            add_listeners(session, alb, cert_arn)
            eventually(lambda: request(env, lb_address, DOMAIN, tls=False).status == 301)
            sandbox.dataplane.wait_synced()
            acm = session.client("acm")
            status = acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]["Status"]
            assert status == "PENDING_VALIDATION"
            assert refused(env, lb_address, 443)
        finally:
            set_acm_delay(1)
        wait_issued(session, cert_arn)
        served = eventually(lambda: request(env, lb_address, f"pending.{ZONE}"))
        assert served.status == 200
        # the certificate is for pending.example.com only: www must fail host name checks
        with pytest.raises(ssl.SSLCertVerificationError):
            request(env, lb_address, DOMAIN)
    finally:
        session.client("elbv2").delete_load_balancer(LoadBalancerArn=alb.arn)


def test_security_groups_are_enforced(
    sandbox: Sandbox, env: dict[str, str], session: Any, origin_page: bytes
) -> None:
    """A closed ALB security group turns clients away; an instance that only admits the ALB's
    security group still serves through the ALB but no longer directly."""
    world = sandbox.world
    ec2 = session.client("ec2")
    elb = session.client("elbv2")
    alb = create_alb(session, world, "closed-alb", open_ports=(80,))
    try:
        lb_address = eventually(lambda: addresses(env, alb.dns_name))[0]
        cert_arn = request_certificate(session, DOMAIN, [DOMAIN])
        wait_issued(session, cert_arn)
        add_listeners(session, alb, cert_arn)
        eventually(lambda: request(env, lb_address, DOMAIN, tls=False).status == 301)
        with pytest.raises((ConnectionResetError, ssl.SSLError, ConnectionAbortedError)):
            request(env, lb_address, DOMAIN)

        ec2.authorize_security_group_ingress(
            GroupId=alb.security_group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )
        assert eventually(lambda: request(env, lb_address, DOMAIN)).body == origin_page

        # lock the instance down to the ALB's security group
        open_https = {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
        }
        from_alb = {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "UserIdGroupPairs": [{"GroupId": alb.security_group_id}],
        }
        ec2.authorize_security_group_ingress(
            GroupId=world.security_group_id, IpPermissions=[from_alb]
        )
        ec2.revoke_security_group_ingress(
            GroupId=world.security_group_id, IpPermissions=[open_https]
        )
        try:
            with pytest.raises((ConnectionResetError, ssl.SSLError, ConnectionAbortedError)):
                request(env, ORIGIN, DOMAIN)
            assert request(env, lb_address, DOMAIN).body == origin_page
        finally:
            ec2.authorize_security_group_ingress(
                GroupId=world.security_group_id, IpPermissions=[open_https]
            )
            ec2.revoke_security_group_ingress(
                GroupId=world.security_group_id, IpPermissions=[from_alb]
            )
        assert request(env, ORIGIN, DOMAIN).status == 200
    finally:
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)


def test_unhealthy_target_is_reported_and_still_tried(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    """A health check on a path the origin 404s makes the target unhealthy (ALB then fails
    open to all targets); a target group no listener uses reports 'unused'."""
    world = sandbox.world
    elb = session.client("elbv2")
    alb = create_alb(session, world, "sick-alb")
    spare = elb.create_target_group(
        Name="spare-tg", Protocol="HTTPS", Port=443, VpcId=world.vpc_id, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    try:
        elb.register_targets(TargetGroupArn=spare, Targets=[{"Id": world.instance_id}])
        elb.modify_target_group(TargetGroupArn=alb.target_group_arn, HealthCheckPath="/missing")
        lb_address = eventually(lambda: addresses(env, alb.dns_name))[0]
        cert_arn = request_certificate(session, DOMAIN, [DOMAIN])
        wait_issued(session, cert_arn)
        add_listeners(session, alb, cert_arn)

        def health(arn: str) -> dict[str, Any]:
            return elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0][
                "TargetHealth"
            ]

        eventually(lambda: health(alb.target_group_arn)["State"] == "unhealthy")
        assert health(alb.target_group_arn)["Reason"] == "Target.ResponseCodeMismatch"
        assert "[404]" in health(alb.target_group_arn)["Description"]
        assert health(spare)["State"] == "unused"
        assert eventually(lambda: request(env, lb_address, DOMAIN)).status == 200
    finally:
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)
        elb.delete_target_group(TargetGroupArn=spare)


def test_tls_1_2_is_enough(env: dict[str, str]) -> None:
    """Clients limited to TLS 1.2 still get in (the floor is 1.2, not 1.3)."""
    ctx = client_context(env)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    response = request(env, ORIGIN, DOMAIN, context=ctx)
    assert (response.status, response.tls_version) == (200, "TLSv1.2")


def test_sni_and_certificate_changes(sandbox: Sandbox, env: dict[str, str], session: Any) -> None:
    """SNI picks among the listener's certificates; a new default certificate is served at once
    (no restart: the same listener, new handshakes)."""
    elb = session.client("elbv2")
    alb = create_alb(session, sandbox.world, "sni-alb")
    try:
        lb_address = eventually(lambda: addresses(env, alb.dns_name))[0]
        www = request_certificate(session, DOMAIN, [DOMAIN])
        api = request_certificate(session, f"api.{ZONE}", [f"api.{ZONE}"])
        wait_issued(session, www)
        wait_issued(session, api)
        add_listeners(session, alb, www)
        elb.add_listener_certificates(
            ListenerArn=alb.https_listener_arn, Certificates=[{"CertificateArn": api}]
        )

        def names(host: str) -> list[str]:
            cert = request(env, lb_address, host).cert
            assert cert is not None
            return cert.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value.get_values_for_type(x509.DNSName)

        assert eventually(lambda: names(f"api.{ZONE}")) == [f"api.{ZONE}"]
        assert names(DOMAIN) == [DOMAIN]

        both = request_certificate(session, DOMAIN, [DOMAIN, f"new.{ZONE}"])
        wait_issued(session, both)
        elb.modify_listener(
            ListenerArn=alb.https_listener_arn, Certificates=[{"CertificateArn": both}]
        )
        assert eventually(lambda: f"new.{ZONE}" in names(DOMAIN))
    finally:
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)


def test_changes_take_effect_when_the_api_call_returns(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    """No polling lag: the name resolves once CreateLoadBalancer returned, a listener serves once
    CreateListener returned, and refuses once DeleteListener returned."""
    elb = session.client("elbv2")
    alb = create_alb(session, sandbox.world, "instant-alb")
    try:
        (lb_address,) = addresses(env, alb.dns_name)
        listener = elb.create_listener(
            LoadBalancerArn=alb.arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {
                        "StatusCode": "503",
                        "ContentType": "text/plain",
                        "MessageBody": "maintenance",
                    },
                }
            ],
        )["Listeners"][0]["ListenerArn"]
        answer = request(env, lb_address, DOMAIN, tls=False)
        assert (answer.status, answer.body) == (503, b"maintenance")
        assert answer.headers["Server"] == "awselb/2.0"
        elb.delete_listener(ListenerArn=listener)
        assert refused(env, lb_address, 80)
    finally:
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)
    assert addresses(env, alb.dns_name) == []
