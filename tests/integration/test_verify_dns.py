"""DNS checks against a loopback responder: authoritative, recursive, caches, failures."""

from __future__ import annotations

import pytest

from migrator.checks.verify import LookupFailed, check_dns, resolve_authoritative, resolve_fresh
from migrator.checks.verify.model import Check
from tests.support.verify.fixtures import (
    LB_NAME,
    NAMES,
    ZONE_NS,
    loopback_only,
    make_net,
    pki,
    site_records,
    start_dns,
)

__all__ = ["loopback_only", "pki", "start_dns"]

LB_IPS = ("127.0.0.20", "127.0.0.21")


def by_key(checks: list[Check]) -> dict[tuple[str, str], Check]:
    return {(c.name, c.target): c for c in checks}


def test_all_names_point_at_the_load_balancer(start_dns) -> None:
    server = start_dns(zone=site_records(LB_IPS))
    checks = check_dns(NAMES, LB_NAME, ZONE_NS, make_net(dns=[server]))
    assert [(c.name, c.target, c.ok) for c in checks] == [
        ("load balancer resolves", LB_NAME, True),
        ("authoritative answer", "www.example.com", True),
        ("recursive answer", "www.example.com", True),
        ("authoritative answer", "example.com", True),
        ("recursive answer", "example.com", True),
    ]
    assert all(c.category == "dns" for c in checks)
    got = by_key(checks)
    assert got[("load balancer resolves", LB_NAME)].detail == "A 127.0.0.20, 127.0.0.21 (TTL 60 s)"
    assert got[("authoritative answer", "www.example.com")].detail == (
        f"A 127.0.0.20, 127.0.0.21 = load balancer ({server.address}, authoritative)"
    )
    assert got[("recursive answer", "example.com")].detail == (
        "A 127.0.0.20, 127.0.0.21 = load balancer (TTL 60 s)"
    )
    # authoritative questions go without RD, recursive ones with it; the zone's
    # NS host names are never looked up when the name servers are pinned
    asked = {(name, rd) for name, rdtype, rd, _ in server.queries if rdtype == "A"}
    assert ("www.example.com", False) in asked
    assert ("www.example.com", True) in asked
    assert not any(q[0].startswith("ns-") for q in server.queries)


def test_authoritative_answer_not_switched_yet(start_dns) -> None:
    records = site_records(LB_IPS)
    records["www.example.com"] = {"A": (["192.0.2.10"], 300)}
    server = start_dns(zone=records)
    got = by_key(check_dns(["www.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    auth = got[("authoritative answer", "www.example.com")]
    assert not auth.ok
    assert auth.detail == (
        "A 192.0.2.10, but load balancer has A 127.0.0.20, 127.0.0.21 "
        f"({server.address}, authoritative)"
    )
    rec = got[("recursive answer", "www.example.com")]
    assert not rec.ok
    assert rec.detail.startswith("A 192.0.2.10, not the load balancer")


def test_cache_still_holds_old_value_with_remaining_ttl(start_dns) -> None:
    server = start_dns(
        zone=site_records(LB_IPS), cache={"www.example.com": {"A": (["127.0.0.10"], 240)}}
    )
    got = by_key(check_dns(["www.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    assert got[("authoritative answer", "www.example.com")].ok
    rec = got[("recursive answer", "www.example.com")]
    assert not rec.ok
    assert rec.detail == (
        "cache still holds old value A 127.0.0.10, 240 s left "
        "(load balancer: A 127.0.0.20, 127.0.0.21)"
    )


def test_answer_without_aa_flag_is_not_authoritative(start_dns) -> None:
    server = start_dns(zone=site_records(LB_IPS), authoritative=False)
    got = by_key(check_dns(["www.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    auth = got[("authoritative answer", "www.example.com")]
    assert not auth.ok
    assert "answered without the AA flag" in auth.detail
    assert got[("recursive answer", "www.example.com")].ok


def test_nxdomain(start_dns) -> None:
    server = start_dns(zone=site_records(LB_IPS))
    got = by_key(check_dns(["shop.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    assert got[("authoritative answer", "shop.example.com")].detail == (
        f"NXDOMAIN ({server.address}, authoritative)"
    )
    rec = got[("recursive answer", "shop.example.com")]
    assert not rec.ok
    assert rec.detail.startswith("NXDOMAIN")


def test_cname_to_load_balancer_is_followed(start_dns) -> None:
    records = site_records(LB_IPS)
    records["www.example.com"] = {"CNAME": ([LB_NAME + "."], 300)}
    records["old.example.com"] = {"CNAME": (["origin.example.net."], 300)}
    records["origin.example.net"] = {"A": (["127.0.0.10"], 300)}
    server = start_dns(zone=records)
    got = by_key(
        check_dns(["www.example.com", "old.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server]))
    )
    assert got[("authoritative answer", "www.example.com")].ok
    assert got[("recursive answer", "www.example.com")].ok
    assert not got[("authoritative answer", "old.example.com")].ok
    assert "A 127.0.0.10" in got[("authoritative answer", "old.example.com")].detail


def test_stray_aaaa_record_fails(start_dns) -> None:
    records = site_records(LB_IPS)
    records["www.example.com"] = {"A": (list(LB_IPS), 60), "AAAA": (["::1"], 60)}
    server = start_dns(zone=records)
    got = by_key(check_dns(["www.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    auth = got[("authoritative answer", "www.example.com")]
    assert not auth.ok
    assert "AAAA ::1" in auth.detail


def test_truncated_udp_answer_is_retried_over_tcp(start_dns) -> None:
    server = start_dns(zone=site_records(LB_IPS), truncate_udp=True)
    got = by_key(check_dns(["www.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    assert got[("authoritative answer", "www.example.com")].ok
    assert ("www.example.com", "A", False, "tcp") in server.queries


def test_unresponsive_name_server_is_a_failed_check_not_an_exception(start_dns) -> None:
    server = start_dns(mode="drop")
    net = make_net(dns=[server], dns_timeout=0.3)
    checks = check_dns(["www.example.com"], LB_NAME, ZONE_NS, net)
    assert [c.ok for c in checks] == [False, False, False]
    got = by_key(checks)
    assert got[("load balancer resolves", LB_NAME)].detail == (
        f"lookup failed: timed out after 0.3 s asking {server.address}"
    )
    assert got[("authoritative answer", "www.example.com")].detail == (
        f"no answer: {server.address}: timed out after 0.3 s"
    )


def test_servfail_is_reported(start_dns) -> None:
    server = start_dns(mode="servfail")
    got = by_key(check_dns(["www.example.com"], LB_NAME, ZONE_NS, make_net(dns=[server])))
    assert "SERVFAIL" in got[("load balancer resolves", LB_NAME)].detail
    assert got[("authoritative answer", "www.example.com")].detail == (
        f"no answer: {server.address}: SERVFAIL"
    )


def test_resolve_fresh_sees_changes_immediately(start_dns) -> None:
    server = start_dns(zone=site_records(LB_IPS))
    net = make_net(dns=[server])
    assert resolve_fresh("www.example.com", net) == list(LB_IPS)
    server.zone["www.example.com"] = {"A": (["127.0.0.30"], 3600)}
    assert resolve_fresh("www.example.com", net) == ["127.0.0.30"]
    assert resolve_fresh("nothing.example.com", net) == []


def test_resolve_fresh_raises_lookup_failed_when_nobody_answers(start_dns) -> None:
    server = start_dns(mode="drop")
    with pytest.raises(LookupFailed, match="timed out"):
        resolve_fresh("www.example.com", make_net(dns=[server], dns_timeout=0.2))


def test_resolve_authoritative(start_dns) -> None:
    server = start_dns(
        zone=site_records(LB_IPS), cache={"www.example.com": {"A": (["127.0.0.10"], 240)}}
    )
    net = make_net(dns=[server])
    assert resolve_authoritative("www.example.com", ZONE_NS, net) == list(LB_IPS)
    assert resolve_fresh("www.example.com", net) == ["127.0.0.10"]
    lame = start_dns(zone=site_records(LB_IPS), authoritative=False)
    with pytest.raises(LookupFailed, match="without the AA flag"):
        resolve_authoritative("www.example.com", ZONE_NS, make_net(dns=[lame]))
