"""What makes a load balancer unable to take a site (shared_planner.refuse_to_join, preflight's
joining findings), and the plan a joining site gets: nothing created and the reason said for
each refusal; the listener's default action, TLS policy and other rules never touched."""

from __future__ import annotations

from dataclasses import replace

import pytest

from migrator.checks.preflight.idle import OriginIdle, joined_idle_timeout
from migrator.checks.preflight.joining import allows_old_tls, check_joining
from migrator.core.plan import PlanOptions
from migrator.core.shared_planner import build_join_plan, refuse_to_join
from migrator.core.snapshot import ListenerRule, LoadBalancer, Snapshot
from migrator.errors import PreflightError
from migrator.usecases.plan_sites import Preflight, build
from tests.support.snapshots import snapshot

LB = LoadBalancer(
    arn="arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188",
    name="shared", dns_name="shared-1.ap-northeast-1.elb.amazonaws.com", zone_id="Z14GRHDCWA56QT",
    type="application", scheme="internet-facing", vpc_id="vpc-1", state="active",
    ip_address_type="ipv4",
    subnets=(("ap-northeast-1a", "subnet-a"), ("ap-northeast-1c", "subnet-c")),
    security_group_ids=("sg-lb",),
    https_listener_arn="arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
    ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06", certificate_arns=("arn:aws:acm:cert/other",),
    rules=(ListenerRule("arn:rule/1", 1, ("shop.example.com",)),),
    http_listener_arn="arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/app/shared/50dc6c495c0c9188/0467ef3c8400ae65",
    http_redirects=True)


def joining(lb: LoadBalancer = LB, **changes: object) -> Snapshot:
    return replace(snapshot(**changes), load_balancer=lb)


def refusal(lb: LoadBalancer, *, add_subnet: bool = False, **changes: object) -> str:
    snap = joining(lb, **changes)
    with pytest.raises(PreflightError) as caught:
        refuse_to_join(snap, lb, add_subnet=add_subnet)
    with pytest.raises(PreflightError):
        build_join_plan(snap, PlanOptions(), add_subnet=add_subnet)
    findings = check_joining(snap, add_subnet=add_subnet)
    assert [f.level for f in findings if f.check == "load-balancer"] == ["fail"]
    return str(caught.value)  # its message and hint


def test_a_usable_load_balancer_is_joined_without_touching_what_is_not_the_sites() -> None:
    plan = build_join_plan(joining(), PlanOptions(), plan_id="mig-0a1b2c3d")
    actions = [s.action for s in plan.steps]
    assert "elbv2.create_load_balancer" not in actions
    assert not {"elbv2.create_listener", "elbv2.set_load_balancer_attributes",
                "elbv2.set_subnets"} & set(actions)
    rule = next(s for s in plan.steps if s.id == "site_rule")
    assert rule.params["ListenerArn"] == LB.https_listener_arn
    assert rule.params["Conditions"] == [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["www.example.com"]}}]
    assert "Priority" not in rule.params  # the lowest free one, found when it runs
    cert = next(s for s in plan.steps if s.id == "listener_certificate")
    assert cert.params["ListenerArn"] == LB.https_listener_arn
    assert cert.inverse is not None and cert.inverse.action == "elbv2.remove_listener_certificate"
    ingress = next(s for s in plan.steps if s.id == "origin_ingress")
    assert ingress.params["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == "sg-lb"
    switch = next(s for s in plan.steps if s.id == "switch_dns")
    assert switch.params["Alias"]["DNSName"] == LB.dns_name
    tag = next(s for s in plan.steps if s.id == "join_tag")
    assert tag.params["Tags"] == {"migrator:site:mig-0a1b2c3d": "www.example.com"}


def test_a_network_or_internal_load_balancer_is_refused() -> None:
    assert "network load balancer" in refusal(replace(LB, type="network"))
    assert "internal" in refusal(replace(LB, scheme="internal"))


def test_a_load_balancer_of_another_vpc_is_refused() -> None:
    assert "vpc-2" in refusal(replace(LB, vpc_id="vpc-2"))


def test_a_missing_zone_is_refused_unless_the_subnet_may_be_added() -> None:
    lb = replace(LB, subnets=(("ap-northeast-1c", "subnet-c"), ("ap-northeast-1d", "subnet-d")))
    message = refusal(lb)
    assert "ap-northeast-1a" in message and "--add-subnet" in message
    plan = build_join_plan(joining(lb), PlanOptions(), add_subnet=True)
    step = next(s for s in plan.steps if s.id == "add_subnet")
    assert step.params["Subnets"] == ["subnet-c", "subnet-d", "subnet-a"]
    assert step.inverse is not None and step.inverse.params["Subnets"] == ["subnet-c",
                                                                           "subnet-d"]
    assert [s.id for s in plan.steps].index("add_subnet") < [
        s.id for s in plan.steps].index("site_rule")


def test_a_full_listener_is_refused() -> None:
    certs = tuple(f"arn:aws:acm:cert/{n}" for n in range(25))
    assert "25 certificates" in refusal(replace(LB, certificate_arns=certs))
    rules = tuple(ListenerRule(f"arn:rule/{n}", n, (f"s{n}.example.net",))
                  for n in range(1, 100))
    assert "quota of 100" in refusal(replace(LB, rules=rules, other_rules=1))
    assert "quota of 150" in refusal(replace(LB, rules=rules, other_rules=51, rule_quota=150))


def test_a_host_already_routed_is_refused() -> None:
    routed = replace(LB, rules=(ListenerRule("arn:rule/7", 7, ("*.example.com",)),))
    assert "already routed by rule 7" in refusal(routed)


def test_a_rule_for_every_host_must_leave_room_before_it() -> None:
    crowded = replace(LB, rules=(ListenerRule("arn:rule/1", 1, (), ("path-pattern",)),))
    assert "matches every host" in refusal(crowded)
    roomy = replace(LB, rules=(ListenerRule("arn:rule/5", 5, (), ("path-pattern",)),))
    plan = build_join_plan(joining(roomy), PlanOptions())
    assert next(s for s in plan.steps if s.id == "site_rule").params["Before"] == 5


def test_an_ipv4_load_balancer_cannot_take_a_site_with_an_aaaa_record() -> None:
    base = snapshot()
    records = (*base.records, replace(base.records[0], type="AAAA", values=("2001:db8::1",)))
    assert "AAAA" in refusal(LB, records=records)


def test_an_old_tls_policy_is_reported_not_changed() -> None:
    assert allows_old_tls("ELBSecurityPolicy-2016-08")
    assert allows_old_tls("ELBSecurityPolicy-TLS-1-1-2017-01")
    assert not allows_old_tls("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")
    old = replace(LB, ssl_policy="ELBSecurityPolicy-2016-08")
    findings = check_joining(joining(old))
    warned = [f for f in findings if f.check == "tls-policy"]
    assert warned and warned[0].level == "warn" and "TLS 1.0/1.1" in warned[0].message
    plan = build_join_plan(joining(old), PlanOptions())
    assert all("SslPolicy" not in s.params for s in plan.steps)


def test_a_load_balancer_without_https_gets_one_its_rollback_removes() -> None:
    bare = replace(LB, https_listener_arn=None, ssl_policy=None, certificate_arns=(), rules=())
    plan = build_join_plan(joining(bare), PlanOptions())
    ids = [s.id for s in plan.steps]
    listener = plan.steps[ids.index("https_listener")]
    assert listener.params["SslPolicy"] == PlanOptions().ssl_policy
    assert listener.params["DefaultActions"][0]["Type"] == "fixed-response"
    assert listener.inverse is not None and listener.inverse.action == "elbv2.delete_listener"
    assert ids.index("certificate_issued") < ids.index("https_listener") < ids.index("site_rule")
    assert "listener_certificate" not in ids  # its certificate is the listener's default


def test_an_http_listener_that_does_not_redirect_gets_a_redirect_rule_for_the_site() -> None:
    plan = build_join_plan(joining(replace(LB, http_redirects=False)), PlanOptions())
    rule = next(s for s in plan.steps if s.id == "http_rule")
    assert rule.params["ListenerArn"] == LB.http_listener_arn
    assert rule.params["Actions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    assert "http_rule" not in [s.id for s in build_join_plan(joining(), PlanOptions()).steps]


def test_the_joined_load_balancers_idle_timeout_is_its_own_and_checked_against_the_origin() -> None:
    short = OriginIdle(seconds=5.0, advertised=True, detail="Keep-Alive: timeout=5")
    warned = joined_idle_timeout(short, "shared", 60)
    assert warned.finding.level == "warn" and warned.idle_timeout_seconds == 60
    assert "502" in warned.finding.message and "leaves alone" in warned.finding.message
    long = OriginIdle(seconds=75.0, advertised=True, detail="Keep-Alive: timeout=75")
    assert joined_idle_timeout(long, "shared", 60).finding.level == "pass"
    unknown = OriginIdle(seconds=None, advertised=False, detail="not probed", error="skipped")
    assert joined_idle_timeout(unknown, "shared", 60).finding.level == "info"


def test_a_joining_plan_records_the_load_balancers_idle_timeout_and_never_sets_it() -> None:
    snap = joining(replace(LB, idle_timeout_seconds=120))
    plan = build(snap, PlanOptions(), Preflight((), "mig-0a1b2c3d"))
    assert plan.options.idle_timeout_seconds == 120  # what origin advice is given against
    assert all(s.action != "elbv2.set_load_balancer_attributes" for s in plan.steps)
