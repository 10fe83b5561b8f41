"""`show`, `check`, `status` and `verify` of plans that put sites on one load balancer, through
the CLI on the strict AWS world: a plan for two sites behind a new load balancer is shown,
checked, applied and reported site by site (what the sites share apart), and a third site's
plan joining that load balancer says it joins it and what it adds; a plan joining a load
balancer migrator did not make (no HTTPS listener, not in the instance's zone) says it adds
the listener, the subnet and an HTTP rule. verify on moto has no DNS: its failure names each
site (the sandbox's test verifies them for real)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planfile
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, World, WorldSpec, seed_world

SITES = (SiteSpec("shop.example.com", "127.0.0.11"), SiteSpec("blog.example.com", "127.0.0.12"))
REGION = "ap-northeast-1"
SHARED_TITLE = "── Shared by every site: the load balancer and its listeners "


@pytest.fixture
def world(strict_aws: StrictAWS, session: boto3.Session) -> World:
    with strict_aws.relaxed():
        return seed_world(session, WorldSpec(more_sites=SITES))


def elbv2(session: boto3.Session) -> Any:
    return session.client("elbv2", region_name=REGION)


def review_part(text: str) -> str:
    """What `show` prints before the steps' table."""
    return text[:text.index("\nPlan mig-")]


def groups(text: str) -> dict[str, str]:
    """The review's groups of a plan for several sites: title -> its text."""
    found = re.split(r"^── (.+?) ─+$", review_part(text), flags=re.M)
    return {title: body for title, body in zip(found[1::2], found[2::2], strict=True)}


def flat(text: str) -> str:
    return " ".join(text.split())


def kinds(resources: list[dict[str, Any]]) -> list[str]:
    return [r["kind"] for r in resources]


def set_ttl(session: boto3.Session, world: World, name: str, address: str, ttl: int) -> None:
    session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT",
            "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": ttl,
                                  "ResourceRecords": [{"Value": address}]}}]})


def test_a_plan_for_two_sites_then_a_third_joining_seen_site_by_site(
        world: World, strict_aws: StrictAWS, session: boto3.Session, cli: Any) -> None:
    planned = cli("plan", "--domain", "www.example.com", "--domain", "shop.example.com",
                  "--shared-load-balancer", "--out", "plans/shared.json")
    assert planned.status == 0, planned.stderr
    plan = planfile.load(Path("plans/shared.json"))
    www_instance, shop_instance = (s.instance.id for s in plan.snapshots)

    # show: what the sites share, then each site's own, then the steps.
    shown = cli("show", "plans/shared.json")
    assert shown.status == 0, shown.stderr
    text = shown.stdout
    review = review_part(text)
    assert all(len(line) <= 80 for line in review.splitlines()), review
    assert (f"What plan {plan.id} changes in account {plan.snapshot.account} ({REGION}) for "
            "2 sites on one new load balancer: www.example.com, shop.example.com"
            ) in flat(review)
    assert "+ 17 to create  ~ 4 to change  - 0 to destroy  = 8 left untouched" in review
    shared, www, shop = (groups(text)[t] for t in (
        SHARED_TITLE.strip("─ "), "www.example.com", "shop.example.com"))
    assert re.findall(r"^\+ (load balancer|listener|security group) (\S+)", shared, re.M) == [
        ("security group", f"migrator-alb-www.example.com-{plan.id[4:]}"),
        ("load balancer", f"www-example-com-shared-{plan.id[4:]}"),
        ("listener", "HTTP:80"), ("listener", "HTTPS:443")]
    assert "answer 404 to a host no rule routes" in shared
    assert "certificate     the new certificate of www.example.com" in shared
    assert "by SNI          the certificates of shop.example.com" in shared
    assert "target group" not in shared and "DNS record" not in shared
    for site, body, instance, other in (("www.example.com", www, www_instance, "shop"),
                                        ("shop.example.com", shop, shop_instance, "www")):
        assert f"+ ACM certificate {site}" in body
        assert f"+ DNS record _<ACM's hash>.{site}. CNAME" in body
        assert f"+ target group {site.replace('.', '-')}-tg-" in body
        assert f"+ listener rule {site} on HTTPS:443 of www-example-com-shared-" in body
        assert f"host header {site}" in body
        assert "~ network interface" in body and f"of instance {instance}" in body
        assert f"~ DNS record {site}. A" in body
        assert f"= EC2 instance {instance}" in body
        assert other not in body.replace("www-example-com-shared", "").replace(
            "migrator-alb-www.example.com", ""), body
        assert "+ load balancer" not in body
    assert "listener certificate" not in www
    assert ("+ listener certificate the new certificate of shop.example.com on HTTPS:443 of "
            f"www-example-com-shared-{plan.id[4:]}") in flat(shop)
    assert "by SNI, to clients asking for shop.example.com" in flat(shop)
    assert "priority 2" in flat(shop) and "priority 1" in flat(www)
    assert ("one load balancer for 2 sites: $25.04 a month instead of $50.08 for a load "
            "balancer each (saves $25.04)") in flat(review)
    steps = text[text.index("\nPlan mig-"):]
    assert f"Plan {plan.id} for www.example.com, shop.example.com ({REGION})" in steps
    assert "listener_certificate@shop.example.com" in flat(steps).replace(" │ ", "")

    # show --json: the same, as data, each resource with the plan's own step ids.
    data = json.loads(cli("show", "plans/shared.json", "--json").stdout)
    changes = data["account_changes"]
    assert [s["domain"] for s in changes["sites"]] == ["www.example.com", "shop.example.com"]
    assert kinds(changes["create"]) == ["security group", "load balancer", "listener",
                                        "listener"]
    assert "joins" not in changes
    by_site = {s["domain"]: s for s in changes["sites"]}
    assert kinds(by_site["shop.example.com"]["create"]) == [
        "ACM certificate", "DNS record", "target group", "security group", "security group",
        "listener rule", "listener certificate"]
    shop_tg = next(r for r in by_site["shop.example.com"]["create"]
                   if r["kind"] == "target group")
    assert shop_tg["steps"] == ["target_group@shop.example.com",
                                "register_instance@shop.example.com"]
    www_cert = by_site["www.example.com"]["create"][0]
    assert (www_cert["kind"], www_cert["steps"]) == ("ACM certificate", ["certificate"])
    assert [r["name"] for r in by_site["shop.example.com"]["change"]][-1] == \
        "shop.example.com. A"

    markdown = cli("show", "plans/shared.json", "--format", "markdown").stdout
    assert "#### Shared by every site: the load balancer and its listeners" in markdown
    assert markdown.index("#### www.example.com") < markdown.index("#### shop.example.com")
    assert "##### Created" in markdown and "2 sites on one new load balancer" in markdown

    # check: every site's setup compared, a difference named with its site.
    checked = cli("check", "plans/shared.json")
    assert checked.status == 0, checked.stderr
    assert (f"Plan {plan.id} for www.example.com, shop.example.com still applies"
            in checked.stdout)
    with strict_aws.relaxed():
        set_ttl(session, world, "shop.example.com.", "127.0.0.11", 120)
    stale = cli("check", "plans/shared.json")
    assert stale.status == 2, stale.stdout + stale.stderr
    assert ("- shop.example.com: shop.example.com. A is now 127.0.0.11 TTL 120 (was "
            "127.0.0.11 TTL 300)") in stale.stdout
    assert "www.example.com:" not in stale.stdout
    with strict_aws.relaxed():
        set_ttl(session, world, "shop.example.com.", "127.0.0.11", 300)
    assert cli("check", "plans/shared.json").status == 0

    applied = cli("apply", "plans/shared.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    # what to change on each site's origin, once each is switched
    assert applied.stdout.count("On the origin now, for") == 2
    assert "-subj /CN=shop.example.com" in applied.stdout
    plan = planfile.load(Path("plans/shared.json"))
    lb = plan.state("load_balancer").outputs
    lb_name = f"www-example-com-shared-{plan.id[4:]}"

    # status: the shared load balancer, then each site, its health.
    status = cli("status", "plans/shared.json")
    assert status.status == 0, status.stdout + status.stderr
    out = status.stdout
    assert (f"Plan {plan.id} for 2 sites on one load balancer (www.example.com, "
            "shop.example.com): applied (lockdown pending)") in flat(out)
    assert out.index(f"Shared load balancer {lb_name}") < out.index(
        "www.example.com: applied (lockdown pending), switched") < out.index(
        "shop.example.com: applied (lockdown pending), switched")
    assert f"Load balancer: {lb['dns_name']}" in out
    www_part = out[out.index("Health of www.example.com"):out.index("Health of shop")]
    shop_part = out[out.index("Health of shop.example.com"):]
    for part in (www_part, shop_part):
        assert "none needs attention" in part and "FAIL" not in part
        assert "an alias to the load balancer" in part and "forwards them to the site's " \
            "target group" in flat(part)
    assert "SNI certificate" not in www_part
    assert "the plan's certificate is on the listener, presented to clients asking for " \
        "shop.example.com" in flat(shop_part)
    assert "rule 2 forwards them" in shop_part and "rule 1 forwards them" in www_part
    report = json.loads(cli("status", "plans/shared.json", "--json").stdout)
    assert report["shared"]["load_balancer"] == {"name": lb_name, "arn": lb["arn"],
                                                 "dns_name": lb["dns_name"]}
    assert [s["id"] for s in report["shared"]["steps"]] == [
        "lb_security_group", "lb_ingress", "load_balancer", "load_balancer_active",
        "load_balancer_attributes", "http_listener", "https_listener"]
    entries = {s["domain"]: s for s in report["sites"]}
    assert list(entries) == ["www.example.com", "shop.example.com"]
    for entry in entries.values():
        assert entry["switched"] is True and entry["reverted"] is None
        assert entry["phase"] == "applied (lockdown pending)"
        assert entry["health"]["checked"] and entry["health"]["ok"]
    assert entries["www.example.com"]["steps"][0]["id"] == "certificate"
    assert {s["id"] for s in entries["shop.example.com"]["steps"]} >= {
        "certificate@shop.example.com", "listener_certificate@shop.example.com"}
    assert report["health"] == {"checked": True, "ok": True, "attention": 0, "sites": {
        "www.example.com": True, "shop.example.com": True}}

    # Someone takes shop's certificate off the listener: status says so for shop alone.
    client = elbv2(session)
    listener = plan.state("https_listener").outputs["arn"]
    shop_cert = plan.state("certificate@shop.example.com").outputs["arn"]
    client.remove_listener_certificates(ListenerArn=listener,
                                        Certificates=[{"CertificateArn": shop_cert}])
    broken = cli("status", "plans/shared.json", "--json")
    assert broken.status == 1, broken.stderr
    assert "error: shop.example.com needs attention: " in broken.stderr
    broken_report = json.loads(broken.stdout)
    assert broken_report["health"]["sites"] == {"www.example.com": True,
                                                "shop.example.com": False}
    failed = {(c["area"], c["check"]) for c in broken_report["sites"][1]["health"]["checks"]
              if c["level"] == "fail"}
    assert failed == {("certificate", "renewal"), ("certificate", "in use"),
                      ("load balancer", "SNI certificate")}, failed
    client.add_listener_certificates(ListenerArn=listener,
                                     Certificates=[{"CertificateArn": shop_cert}])
    assert cli("status", "plans/shared.json").status == 0

    # verify checks every site; on moto nothing resolves, and the failure names both sites.
    verified = cli("verify", "plans/shared.json")
    assert verified.status == 1
    assert re.match(r"error: 2 of 2 sites failed verification: www\.example\.com: 4 of 4 "
                    r"checks failed, first: .*; shop\.example\.com: 4 of 4 checks failed",
                    verified.stderr), verified.stderr
    assert verified.stdout.index("www.example.com") < verified.stdout.index("shop.example.com")
    assert "0 of 2 sites passed; failed: www.example.com, shop.example.com" in verified.stdout
    as_json = json.loads(cli("verify", "plans/shared.json", "--json").stdout)
    assert [s["domain"] for s in as_json["sites"]] == ["www.example.com", "shop.example.com"]
    assert as_json["ok"] is False and as_json["failed"] == 8

    # A third site joins the load balancer: the plan says so, and what it adds.
    joined = cli("plan", "--domain", "blog.example.com", "--load-balancer", lb["arn"],
                 "--out", "plans/blog.json")
    assert joined.status == 0, joined.stderr
    join_plan = planfile.load(Path("plans/blog.json"))
    text = cli("show", "plans/blog.json").stdout
    review = review_part(text)
    assert all(len(line) <= 80 for line in review.splitlines()), review
    assert (f"Joins load balancer {lb_name} ({lb['dns_name']}): no new load balancer. It adds "
            f"to it: + tag migrator:site:{join_plan.id}=blog.example.com + listener rule "
            f"blog.example.com on HTTPS:443 of {lb_name} + listener certificate the new "
            f"certificate of blog.example.com on HTTPS:443 of {lb_name}") in flat(review)
    assert "+ load balancer" not in review and "+ listener HTTPS" not in review
    assert f"~ load balancer {lb_name}" in review
    assert f"→ migrator:site:{join_plan.id}=blog.example.com" in review
    assert "the lowest free one, found at apply" in flat(review)
    assert (f"= load balancer {lb_name}: its listeners' default actions, TLS policy and "
            "default certificate, and every other site's rule and certificate") in flat(review)
    assert "2 rule(s) and 2 certificate(s)" in review
    assert "inbound         tcp/443 from sg-" in review and f"({lb_name}'s group)" in \
        flat(review)
    assert "alias to load balancer " + lb_name in flat(review)
    assert "before $0.00 → after $0.00 a month" in review and "saves $25.04 a month" in \
        flat(review)
    joins = json.loads(cli("show", "plans/blog.json", "--json").stdout)["account_changes"][
        "joins"]
    assert (joins["name"], joins["arn"], joins["dns_name"]) == (lb_name, lb["arn"],
                                                                lb["dns_name"])
    assert [a.split(" ")[0] + " " + a.split(" ")[1] for a in joins["adds"]] == [
        f"tag migrator:site:{join_plan.id}=blog.example.com", "listener rule",
        "listener certificate"]

    # check compares the joined load balancer too.
    assert cli("check", "plans/blog.json").status == 0
    forward = [{"Type": "forward", "TargetGroupArn": lb_target_group(session, plan)}]
    rule = client.create_rule(ListenerArn=listener, Priority=40, Actions=forward, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["blog.example.com"]}}])
    stale = cli("check", "plans/blog.json")
    assert stale.status == 2
    assert f"- blog.example.com is now routed by rule 40 of {lb_name}" in stale.stdout
    client.delete_rule(RuleArn=rule["Rules"][0]["RuleArn"])

    applied = cli("apply", "plans/blog.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    status = cli("status", "plans/blog.json")
    assert status.status == 0, status.stdout + status.stderr
    out = flat(status.stdout)
    assert (f"Load balancer: {lb['dns_name']} (joined: {lb_name}; this plan added its site to "
            "it)") in out
    for expected in (f"state PASS {lb_name} active", "SNI certificate PASS",
                     "presented to clients asking for blog.example.com",
                     "rule 3 forwards them to the site's target group", "in use PASS by the "
                     "load balancer", "record PASS blog.example.com A an alias to the load "
                     "balancer", "none needs attention"):
        assert expected in out, (expected, status.stdout)
    # the origin advice: the joined load balancer's idle timeout, which the plan leaves
    assert f"- keep-alive: {lb_name} keeps idle connections to the origin for " in out
    assert "which this plan does not" in out
    report = json.loads(cli("status", "plans/blog.json", "--json").stdout)
    assert report["joined_load_balancer"] == {"name": lb_name, "arn": lb["arn"],
                                              "dns_name": lb["dns_name"]}
    assert report["health"]["ok"] and "sites" not in report


def lb_target_group(session: boto3.Session, plan: Any) -> str:
    """A target group to forward a rule made by hand to (shop's)."""
    return str(plan.state("target_group@shop.example.com").outputs["arn"])


@pytest.fixture
def far_world(strict_aws: StrictAWS, session: boto3.Session) -> World:
    with strict_aws.relaxed():
        return seed_world(session, WorldSpec())


def test_joining_a_load_balancer_without_https_and_missing_the_zone(
        far_world: World, strict_aws: StrictAWS, session: boto3.Session, cli: Any) -> None:
    """A load balancer made by hand, in the instance's other zone and a third one, with only an
    HTTP listener that does not redirect: the plan adds the instance's subnet, the HTTPS
    listener and a redirect rule for the site, and says so."""
    world = far_world
    ec2 = session.client("ec2", region_name=REGION)
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    own_zone = ec2.describe_instances(InstanceIds=[world.instance_id])["Reservations"][0][
        "Instances"][0]["Placement"]["AvailabilityZone"]
    other = next(s for z, s in world.subnet_ids.items() if z != own_zone)
    client = elbv2(session)
    with strict_aws.relaxed():
        spare = next(z for z in zones if z not in world.subnet_ids)
        third = ec2.create_subnet(VpcId=world.vpc_id, CidrBlock="10.20.77.0/24",
                                  AvailabilityZone=spare)["Subnet"]["SubnetId"]
        arn = client.create_load_balancer(
            Name="by-hand", Subnets=[other, third], Scheme="internet-facing",
            SecurityGroups=[world.security_group_id])["LoadBalancers"][0]["LoadBalancerArn"]
        client.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])
    planned = cli("plan", "--domain", "www.example.com", "--load-balancer", "by-hand",
                  "--add-subnet", "--out", "plans/www.json")
    assert planned.status == 0, planned.stderr + planned.stdout
    own_subnet = world.subnet_ids[own_zone]
    text = cli("show", "plans/www.json").stdout
    review = review_part(text)
    assert all(len(line) <= 80 for line in review.splitlines()), review
    out = flat(review)
    assert ("Joins load balancer by-hand (" in out and "no new load balancer. It adds to it: "
            "+ tag migrator:site:" in out)
    assert (f"+ subnet {own_subnet} + listener HTTPS:443 of by-hand + listener rule "
            "www.example.com on HTTPS:443 of by-hand + listener rule www.example.com on "
            "HTTP:80 of by-hand") in out
    other_zone = next(z for z, s in world.subnet_ids.items() if s == other)
    assert (f"subnets {other} ({other_zone}), {third} ({spare}) → {other} ({other_zone}), "
            f"{third} ({spare}), {own_subnet} ({own_zone})") in out
    assert "+ listener HTTPS:443 of by-hand" in review
    assert "answer 404 to a host no rule routes" in review
    assert "redirect 301 to HTTPS:443, same host, path and query" in review
    assert "HTTPS:443 none yet: the plan adds it (above)" in out
    assert "HTTP:80 does not redirect" in out
    assert "listener certificate" not in review  # the new listener's default is the site's

    applied = cli("apply", "plans/www.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr + applied.stdout
    status = cli("status", "plans/www.json")
    assert status.status == 0, status.stdout + status.stderr
    out = flat(status.stdout)
    assert "(joined: by-hand; this plan added its site to it)" in out
    assert "state PASS by-hand active" in out and "in use PASS by the load balancer" in out
    assert "SNI certificate" not in out and "rule 1 forwards them" in out
