"""Several sites in the seeded world (moto in server mode), and the parts of the data plane that
decide who answers them: ALB's rule patterns and priorities, the certificate chosen by SNI, and
a listener's default certificate and certificate list as the ELBv2 API keeps them."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec

from migrator_sandbox import cli_plugin, pki
from migrator_sandbox.dataplane import ServedCertificate, choose_certificate
from migrator_sandbox.moto_state import Action, Listener, Rule
from migrator_sandbox.routing import Request, condition_matches, select_actions, wildcard_matches
from migrator_sandbox.runner import DEFAULT_LB_FIRST_ADDRESS, Sandbox
from migrator_sandbox.world import (
    MAX_SITES,
    OFFICE_RANGE,
    SiteSpec,
    WorldSpec,
    default_sites,
    seed_world,
    with_sites,
)
from tests.support.sandbox import loopback_guard
from tests.support.worlds import seeded

SHOP = SiteSpec("shop.example.com", "127.0.0.11")
# another zone, and an Availability Zone (index 2) where the world has no subnet yet
ORG = SiteSpec("www.example.org", "127.0.0.12", zone="example.org", availability_zone=2)
SPEC = WorldSpec(more_sites=(SHOP, ORG))


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    with loopback_guard() as violations:
        yield
    assert violations == []


# -- seed_world ------------------------------------------------------------------------------


def _records(session: boto3.Session, zone_id: str) -> dict[tuple[str, str], tuple[int, list[str]]]:
    sets = session.client("route53").list_resource_record_sets(HostedZoneId=zone_id)
    return {(r["Name"], r["Type"]): (r.get("TTL", 0), [v["Value"] for v in r.get(
        "ResourceRecords", [])]) for r in sets["ResourceRecordSets"]}


def test_a_world_without_more_sites_has_one_site_made_of_its_fields(
    session: boto3.Session,
) -> None:
    world = seeded(session)
    (site,) = world.sites
    assert (site.domain, site.address, site.zone, site.zone_id) == (
        "www.example.com", "127.0.0.10", "example.com", world.zone_id)
    assert (site.instance_id, site.allocation_id, site.security_group_id) == (
        world.instance_id, world.allocation_id, world.security_group_id)
    assert site.subnet_id == next(iter(world.subnet_ids.values()))
    assert site.availability_zone == next(iter(world.subnet_ids))
    assert world.site("www.example.com") is site
    assert WorldSpec().sites == (SiteSpec("www.example.com", "127.0.0.10", "example.com"),)
    ec2 = session.client("ec2")
    assert len(ec2.describe_instances()["Reservations"]) == 1
    assert len(ec2.describe_addresses()["Addresses"]) == 1


def test_more_sites_are_instances_of_their_own_in_the_same_vpc(session: boto3.Session) -> None:
    world = seeded(session, SPEC)
    www, shop, org = world.sites
    assert [s.domain for s in world.sites] == ["www.example.com", "shop.example.com",
                                               "www.example.org"]
    assert www.instance_id == world.instance_id
    ec2 = session.client("ec2")
    described = ec2.describe_instances(InstanceIds=[s.instance_id for s in world.sites])
    instances = {i["InstanceId"]: i for r in described["Reservations"] for i in r["Instances"]}
    assert len(instances) == 3
    for site in world.sites:
        instance = instances[site.instance_id]
        assert instance["State"]["Name"] == "running"
        assert instance["VpcId"] == world.vpc_id
        assert instance["SubnetId"] == site.subnet_id
        assert instance["Placement"]["AvailabilityZone"] == site.availability_zone
        assert instance["PublicIpAddress"] == site.address
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [site.security_group_id]
        (address,) = ec2.describe_addresses(AllocationIds=[site.allocation_id])["Addresses"]
        assert (address["PublicIp"], address["InstanceId"]) == (site.address, site.instance_id)
    # shop: the first subnet; the .org site: a public subnet of its own in the third zone,
    # which is not one of the world's subnets (where a test's load balancer goes)
    assert (shop.subnet_id, shop.availability_zone) == (www.subnet_id, www.availability_zone)
    assert org.availability_zone == "ap-northeast-1d" and org.availability_zone not in \
        world.subnet_ids
    assert org.subnet_id not in world.subnet_ids.values()
    (subnet,) = ec2.describe_subnets(SubnetIds=[org.subnet_id])["Subnets"]
    assert subnet["CidrBlock"] == "10.20.2.0/24" and subnet["VpcId"] == world.vpc_id
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [org.subnet_id]}])["RouteTables"]
    assert any(r.get("GatewayId", "").startswith("igw-") and r.get("DestinationCidrBlock")
               == "0.0.0.0/0" for t in tables for r in t["Routes"])


def test_each_site_has_a_web_server_group_of_its_own(session: boto3.Session) -> None:
    world = seeded(session, SPEC)
    ec2 = session.client("ec2")
    groups = {g["GroupId"]: g for g in ec2.describe_security_groups(
        GroupIds=[s.security_group_id for s in world.sites])["SecurityGroups"]}
    assert len(groups) == 3
    assert groups[world.security_group_id]["GroupName"] == "web-server"
    for site in world.sites:
        group = groups[site.security_group_id]
        assert group["VpcId"] == world.vpc_id
        rules = sorted((p["FromPort"], r["CidrIp"]) for p in group["IpPermissions"]
                       for r in p["IpRanges"])
        assert rules == [(22, OFFICE_RANGE), (80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    assert groups[world.sites[1].security_group_id]["GroupName"] == "web-server-shop.example.com"


def test_each_site_has_its_a_record_in_its_zone(session: boto3.Session) -> None:
    world = seeded(session, WorldSpec(ttl=120, more_sites=(SHOP, ORG)))
    www, shop, org = world.sites
    assert shop.zone_id == www.zone_id == world.zone_id and shop.zone == "example.com"
    assert org.zone == "example.org" and org.zone_id != world.zone_id
    main = _records(session, world.zone_id)
    assert main[("www.example.com.", "A")] == (120, ["127.0.0.10"])
    assert main[("shop.example.com.", "A")] == (120, ["127.0.0.11"])
    assert ("mail.example.com.", "A") in main  # the unrelated records are still there
    other = _records(session, org.zone_id)
    assert other[("www.example.org.", "A")] == (120, ["127.0.0.12"])
    assert {t for _, t in other} == {"A", "NS", "SOA"}
    zone = session.client("route53").get_hosted_zone(Id=org.zone_id)["HostedZone"]
    assert zone["Name"] == "example.org." and not zone["Config"]["PrivateZone"]


@pytest.mark.parametrize(("sites", "message"), [
    ((SiteSpec("shop.example.com", "127.0.0.10"),), "address 127.0.0.10 is already taken"),
    ((SHOP, SiteSpec("SHOP.example.com", "127.0.0.12")), "already a name of the world"),
    ((SiteSpec("shop.example.org", "127.0.0.11"),), "is not in zone example.com"),
    ((SiteSpec("shop.example.com", "127.0.0.11", availability_zone=7),),
     "has 3 Availability Zones, no index 7"),
])
def test_sites_that_collide_are_refused(session: boto3.Session, sites: tuple[SiteSpec, ...],
                                        message: str) -> None:
    with pytest.raises(ValueError, match=message):
        seed_world(session, WorldSpec(more_sites=sites))


def test_default_sites_are_named_and_numbered_below_the_load_balancer_pool() -> None:
    three = with_sites(WorldSpec(), 3)
    assert [(s.domain, s.address) for s in three.sites] == [
        ("www.example.com", "127.0.0.10"), ("shop.example.com", "127.0.0.11"),
        ("blog.example.com", "127.0.0.12")]
    assert with_sites(WorldSpec(), 1) == WorldSpec()
    assert [s.domain for s in default_sites(2, "example.org")] == ["shop.example.org",
                                                                   "blog.example.org"]
    every = with_sites(WorldSpec(), MAX_SITES).sites
    names = [s.domain for s in every]
    assert len(set(names)) == MAX_SITES and "mail.example.com" not in names
    last = max(ipaddress.IPv4Address(s.address) for s in every)
    assert last < ipaddress.IPv4Address(DEFAULT_LB_FIRST_ADDRESS)
    assert cli_plugin.MAX_SITES == MAX_SITES  # the CLI's bound, kept without importing world
    for wrong in (0, MAX_SITES + 1):
        with pytest.raises(ValueError):
            with_sites(WorldSpec(), wrong)


def test_sandbox_takes_a_number_of_sites_or_a_spec() -> None:
    assert [s.domain for s in Sandbox(sites=2).spec.sites] == ["www.example.com",
                                                               "shop.example.com"]
    assert Sandbox().spec == WorldSpec() and Sandbox(sites=1).spec == WorldSpec()
    assert Sandbox(spec=SPEC).spec is SPEC and Sandbox(spec=SPEC, sites=3).spec is SPEC
    with pytest.raises(ValueError, match="the spec names 3 sites"):
        Sandbox(spec=SPEC, sites=2)


# -- rules: ALB's patterns and priorities ----------------------------------------------------------


def _request(host: str = "www.example.com", path: str = "/", **headers: str) -> Request:
    return Request.parse("GET", path, {"Host": host, **headers}, "127.0.0.1", "HTTPS", 443,
                         "127.0.0.20")


def _host(*values: str) -> dict[str, Any]:
    return {"Field": "host-header", "HostHeaderConfig": {"Values": list(values)}}


@pytest.mark.parametrize(("pattern", "host", "matches"), [
    ("www.example.com", "WWW.EXAMPLE.COM", True),
    ("WWW.Example.Com", "www.example.com", True),
    ("*.example.com", "shop.example.com", True),
    ("*.example.com", "a.b.example.com", True),  # * is any run of characters, dots included
    ("*.example.com", "example.com", False),
    ("*example.com", "example.com", True),  # zero characters
    ("sh?p.example.com", "shop.example.com", True),
    ("sh?p.example.com", "shp.example.com", False),  # ? is exactly one
    ("sh?p.example.com", "shoop.example.com", False),
    ("www.example.*", "www.example.org", True),
    ("[sw]hop.example.com", "shop.example.com", False),  # no character classes: [ is itself
    ("www.example.com", "www.example.com.evil.org", False),  # the whole name
    ("www.example.com", "www.example.com:443", True),  # the port is not the host's
])
def test_host_header_patterns(pattern: str, host: str, matches: bool) -> None:
    assert condition_matches(_host(pattern), _request(host)) is matches


def test_other_patterns_follow_alb_too() -> None:
    assert wildcard_matches(r"a\*b", "a*b", ignore_case=False)
    assert not wildcard_matches(r"a\*b", "axb", ignore_case=False)
    path = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/Shop/*"]}}
    assert condition_matches(path, _request(path="/Shop/cart"))
    assert not condition_matches(path, _request(path="/shop/cart"))  # paths: case-sensitive
    header = {"Field": "http-header",
              "HttpHeaderConfig": {"HttpHeaderName": "X-Site", "Values": ["SH?P"]}}
    assert condition_matches(header, _request(**{"x-site": "shop"}))
    query = {"Field": "query-string",
             "QueryStringConfig": {"Values": [{"Key": "Site", "Value": "B*"}]}}
    assert condition_matches(query, _request(path="/?site=blog"))
    assert not condition_matches(query, _request(path="/?site=shop"))


def _answer(status: str) -> tuple[Action, ...]:
    return (Action("fixed-response", 1, {"Type": "fixed-response",
                                         "FixedResponseConfig": {"StatusCode": status}}),)


def test_rules_are_evaluated_lowest_priority_first_and_the_default_last() -> None:
    www, shop, wildcard, default = (_answer(s) for s in ("200", "201", "202", "404"))
    listener = Listener(
        arn="l", load_balancer_arn="lb", port=443, protocol="HTTPS", certificate_arns=("c",),
        ssl_policy=None, default_actions=default,
        # in an order that is not the priorities'
        rules=(Rule(30, (_host("*.example.com"),), wildcard),
               Rule(5, (_host("WWW.example.com"),), www),
               Rule(12, (_host("shop.example.com", "store.example.com"),), shop)),
    )
    assert select_actions(listener, _request("www.example.com")) == www
    assert select_actions(listener, _request("Store.Example.com")) == shop
    assert select_actions(listener, _request("blog.example.com")) == wildcard
    assert select_actions(listener, _request("www.example.org")) == default
    both = dataclasses.replace(listener, rules=(
        Rule(1, (_host("www.example.com"), {"Field": "path-pattern", "Values": ["/api/*"]}),
             shop),))
    assert select_actions(both, _request(path="/api/x")) == shop  # every condition must hold
    assert select_actions(both, _request(path="/")) == default


# -- certificates by SNI -------------------------------------------------------------------------


def _served(ca: pki.CertificateAuthority, arn: str, names: list[str],
            key: Any = None) -> ServedCertificate:
    issued = ca.issue(names, key=key) if key is not None else ca.issue(names)
    return ServedCertificate(arn, arn.encode(), tuple(names), issued, pki.server_context(issued))


def test_sni_picks_the_matching_certificate_else_the_default() -> None:
    ca = pki.amazon_ca()
    www = _served(ca, "www", ["www.example.com", "example.com"])
    shop = _served(ca, "shop", ["shop.example.com"])
    wild = _served(ca, "wild", ["*.example.org"])
    listener = (www, shop, wild)
    assert choose_certificate(listener, None) is www
    assert choose_certificate(listener, "") is www
    assert choose_certificate(listener, "unknown.example.net") is www
    assert choose_certificate(listener, "SHOP.Example.com") is shop
    assert choose_certificate(listener, "example.com") is www
    assert choose_certificate(listener, "blog.example.org") is wild
    assert choose_certificate(listener, "a.blog.example.org") is www  # one label only
    # several match: ECDSA before RSA, then the longer key, then the default first
    ecdsa = _served(ca, "ecdsa", ["shop.example.com"], key=ec.generate_private_key(ec.SECP256R1()))
    assert choose_certificate((www, shop, ecdsa), "shop.example.com") is ecdsa
    again = _served(ca, "again", ["www.example.com"])
    assert choose_certificate((www, again), "www.example.com") is www


# -- a listener's default certificate and certificate list (moto_fixes) ------------------------------


def _issued_certificate(session: boto3.Session, domain: str) -> str:
    acm = session.client("acm")
    arn: str = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")[
        "CertificateArn"]
    return arn


def test_the_certificate_list_is_kept_as_aws_keeps_it(session: boto3.Session) -> None:
    world = seeded(session)
    elb = session.client("elbv2")
    lb = elb.create_load_balancer(Name="certs", Subnets=list(world.subnet_ids.values()),
                                  Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    www, shop, blog, renewed = (_issued_certificate(session, d) for d in (
        "www.example.com", "shop.example.com", "blog.example.com", "www.example.com"))
    listener = elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": www}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"]

    def listed() -> list[tuple[str, bool]]:
        found = elb.describe_listener_certificates(ListenerArn=listener)["Certificates"]
        return [(c["CertificateArn"], c["IsDefault"]) for c in found]

    elb.add_listener_certificates(ListenerArn=listener, Certificates=[
        {"CertificateArn": shop}, {"CertificateArn": blog}])
    elb.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": shop}])
    assert listed() == [(www, True), (shop, False), (blog, False)]  # added once
    # a new default certificate replaces the default only
    elb.modify_listener(ListenerArn=listener, Certificates=[{"CertificateArn": renewed}])
    assert listed() == [(renewed, True), (shop, False), (blog, False)]
    # the default certificate cannot be removed
    with pytest.raises(ClientError) as refused:
        elb.remove_listener_certificates(ListenerArn=listener,
                                         Certificates=[{"CertificateArn": renewed}])
    assert refused.value.response["Error"]["Code"] == "OperationNotPermitted"
    assert listed() == [(renewed, True), (shop, False), (blog, False)]
    elb.remove_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": shop}])
    assert listed() == [(renewed, True), (blog, False)]
    # a listener change that names no certificate keeps them all
    elb.modify_listener(ListenerArn=listener, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert listed() == [(renewed, True), (blog, False)]
