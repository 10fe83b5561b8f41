"""Quotas refused in preflight, before anything is created: ACM's names per certificate and
name lengths, and the lockdown copies' rules per security group and description length. The
pure checks first, then through the CLI (exit 2, no plan file, AWS untouched)."""

# ruff: noqa: F811
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.checks.preflight.quotas import (
    acm_name_problems,
    check_acm_quotas,
    check_lockdown_quotas,
    require_acm_quotas,
)
from migrator.core.lockdown import (
    DESCRIPTION_MAX,
    RuleCount,
    copy_description,
    copy_quota_problems,
    count_rules,
    without_public_web,
)
from migrator.core.plan import PlanOptions
from migrator.core.snapshot import SecurityGroup
from migrator.errors import PreflightError
from tests.support.aws_state import account_state
from tests.support.preflight.cli import (
    accepted,
    finding,
    findings_of,
    one_line,
    refused,
)
from tests.support.snapshots import snapshot

pytestmark = pytest.mark.usefixtures("loopback_only")

PLAN_ID = "mig-0a1b2c3d"


def names(count: int) -> list[str]:
    return ["www.example.com", *(f"n{i}.example.com" for i in range(1, count))]


def name_of(octets: int, zone: str = "example.com") -> str:
    label = "a" * (octets - len(zone) - 1)
    assert len(label) <= 63
    return f"{label}.{zone}"


# -- ACM -------------------------------------------------------------------------------------


def test_ten_names_fit_and_eleven_do_not() -> None:
    assert acm_name_problems(names(10)) == []
    [problem] = acm_name_problems(names(11))
    assert "11 names" in problem and '"Domain names per ACM certificate" is 10' in problem
    assert acm_name_problems([*names(10), "www.example.com"]) == []  # duplicates count once


def test_the_first_name_may_have_64_octets_and_not_65() -> None:
    assert acm_name_problems([name_of(64)]) == []
    [problem] = acm_name_problems([name_of(65)])
    assert "is 65 octets long" in problem and "at most 64" in problem
    # A further name may be longer: only the first (the DomainName) has the 64-octet limit.
    assert acm_name_problems(["www.example.com", name_of(65)]) == []


def test_acm_refusals_name_the_quota_and_the_way_out() -> None:
    with pytest.raises(PreflightError) as raised:
        require_acm_quotas(names(11))
    assert raised.value.message.startswith("preflight refused the plan: ")
    assert "second plan" in (raised.value.hint or "")
    with pytest.raises(PreflightError) as raised:
        require_acm_quotas([name_of(65), "www.example.com"])
    assert "--san" in (raised.value.hint or "")
    require_acm_quotas(names(10))  # nothing raised
    snap = snapshot(names=tuple(names(11)))
    found = check_acm_quotas(snap)
    assert found.level == "fail" and found.check == "acm-quotas"
    assert check_acm_quotas(snapshot()).level == "pass"


# -- the lockdown's copies -------------------------------------------------------------------


def rule(low: int, high: int, *cidrs: str, groups: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": low, "ToPort": high}
    v4 = [{"CidrIp": c} for c in cidrs if ":" not in c]
    v6 = [{"CidrIpv6": c} for c in cidrs if ":" in c]
    if v4:
        out["IpRanges"] = v4
    if v6:
        out["Ipv6Ranges"] = v6
    if groups:
        out["UserIdGroupPairs"] = [{"GroupId": g} for g in groups]
    return out


def test_rules_are_counted_as_aws_counts_them() -> None:
    rules = [rule(22, 22, "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"),
             rule(5432, 5432, groups=("sg-db", "sg-app")),
             {"IpProtocol": "tcp", "FromPort": 9000, "ToPort": 9000,
              "PrefixListIds": [{"PrefixListId": "pl-1"}]}]
    assert count_rules(rules) == RuleCount(ipv4=5, ipv6=4)  # references count in both


def test_a_range_around_the_web_ports_grows_when_it_is_split() -> None:
    wide = rule(0, 65535, "0.0.0.0/0", "::/0")
    assert count_rules([wide]) == RuleCount(1, 1)
    assert count_rules(without_public_web([wide], "sg-1")) == RuleCount(3, 3)  # 0-79, 81-442, 444-


def test_a_copy_over_sixty_inbound_rules_is_a_problem() -> None:
    office = [rule(22, 22, f"198.51.{i}.0/24") for i in range(57)]
    fits = [*office, rule(0, 65535, "0.0.0.0/0")]        # 58 now, 57 + 3 = 60 in the copy
    assert copy_quota_problems("sg-1", "web", fits, PLAN_ID) == []
    over = [*office, rule(22, 22, "192.0.2.0/24"), rule(0, 65535, "0.0.0.0/0")]  # 59 -> 61
    [problem] = copy_quota_problems("sg-1", "web", over, PLAN_ID)
    assert "61 inbound IPv4 rules" in problem and "the original has 59" in problem
    assert '"Inbound or outbound rules per security group" is 60' in problem


def test_a_group_over_the_default_already_has_a_raised_quota() -> None:
    many = [rule(22, 22, f"198.51.{i}.0/24") for i in range(70)]
    public = [*many, rule(443, 443, "0.0.0.0/0")]  # 71 rules exist: the quota is at least 71
    assert copy_quota_problems("sg-1", "web", public, PLAN_ID) == []


def test_the_copys_description_must_fit_255_characters() -> None:
    web = [rule(443, 443, "0.0.0.0/0")]
    assert copy_quota_problems("sg-0123456789abcdef0", "n" * 150, web, PLAN_ID) == []
    [problem] = copy_quota_problems("sg-0123456789abcdef0", "n" * 255, web, PLAN_ID,
                                   fitted_description=False)
    assert "description would be 339 characters" in problem and "at most 255" in problem
    fitted = copy_description("n" * 255, "sg-0123456789abcdef0", PLAN_ID)
    assert len(fitted) == DESCRIPTION_MAX
    assert fitted.endswith("... (sg-0123456789abcdef0) without web access from the internet "
                           f"(migrator {PLAN_ID})")
    assert copy_quota_problems("sg-0123456789abcdef0", "n" * 255, web, PLAN_ID,
                               fitted_description=True) == []
    # Short names are left exactly as actions.py words the description.
    assert copy_description("web", "sg-1", PLAN_ID) == (
        f"web (sg-1) without web access from the internet (migrator {PLAN_ID})")


def test_lockdown_findings_per_copied_group() -> None:
    web = (rule(443, 443, "0.0.0.0/0"),)
    snap = snapshot(security_groups=(SecurityGroup("sg-web", "web-server", web),
                                     SecurityGroup("sg-wide", "wide-open", tuple(
                                         rule(i, 65535 - i, "0.0.0.0/0") for i in range(21))),
                                     SecurityGroup("sg-ssh", "ssh", (rule(22, 22, "1.2.3.4/32"),))))
    found = check_lockdown_quotas(snap, PlanOptions(), PLAN_ID)
    assert [(f.check, f.level, f.data["group_id"]) for f in found] == [
        ("lockdown", "pass", "sg-web"), ("lockdown", "fail", "sg-wide")]
    assert "--no-lockdown" in found[1].hint
    assert check_lockdown_quotas(snap, PlanOptions(lockdown=False), PLAN_ID) == []
    everything = replace(snap, security_groups=(SecurityGroup(
        "sg-all", "all", ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},)),))
    [refusal] = check_lockdown_quotas(everything, PlanOptions(), PLAN_ID)
    assert refusal.level == "fail" and "admits all traffic from anywhere" in refusal.message


# -- through the CLI: refused before anything is created ---------------------------------------


def test_eleven_names_are_refused_before_any_aws_call(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import migrator.cli.commands

    def no_aws(*_: Any) -> Any:
        raise AssertionError("AWS was asked")

    monkeypatch.setattr(migrator.cli.commands, "connect", no_aws)
    sans = [arg for n in names(11)[1:] for arg in ("--san", n)]
    out = one_line(refused(cli, session, dns_env, *sans))
    assert "11 names" in out and "Domain names per ACM certificate" in out
    assert "plan at most 10 names" in out


def test_a_first_name_over_64_octets_is_refused(world: Any, session: boto3.Session, cli: Any,
                                                dns_env: dict[str, str]) -> None:
    long_name = name_of(65)  # refused() plans www.example.com; this plans the long name
    before = account_state(session)
    result = cli("plan", "--domain", long_name, "--out", "p.json", env=dns_env)
    assert result.status == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: preflight refused the plan: ")
    assert f"{long_name} is 65 octets long" in result.stderr
    assert account_state(session) == before


def test_inspect_reports_the_acm_quota(world: Any, cli: Any, dns_env: dict[str, str]) -> None:
    sans = [arg for n in names(11)[1:] for arg in ("--san", n)]
    acm = finding(findings_of(cli, dns_env, *sans), "acm-quotas")
    assert acm["level"] == "fail" and acm["data"]["names"] == 11


def test_a_lockdown_copy_over_the_rules_quota_is_refused(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    ec2 = session.client("ec2")
    # 58 IPv6 SSH sources and every port from anywhere over IPv6: 59 IPv6 rules, whose copy
    # splits the range around 80 and 443 into three: 61.
    wide = ec2.create_security_group(GroupName="wide-v6", Description="IPv6 everything",
                                     VpcId=world.vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=wide, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "Ipv6Ranges": [{"CidrIpv6": f"2001:db8:{i:x}::/48"} for i in range(58)]},
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    ec2.modify_instance_attribute(InstanceId=world.instance_id,
                                  Groups=[world.security_group_id, wide])
    out = one_line(refused(cli, session, dns_env))
    assert f"FAIL lockdown the lockdown cannot copy {wide} (wide-v6)" in out
    assert "PASS lockdown the lockdown's copy of" in out  # the web-server group fits
    assert "61 inbound IPv6 rules (the original has 59" in out
    assert "Inbound or outbound rules per security group" in out
    accepted(cli, session, dns_env, "--no-lockdown")


def attach_group_too_big_to_copy(session: boto3.Session, world: Any) -> str:
    """A group of 21 wide port ranges open to the internet: each splits into three around
    80 and 443, so its copy would need 63 rules, over the default 60."""
    ec2 = session.client("ec2")
    group = ec2.create_security_group(GroupName="wide-open", Description="many wide ranges",
                                      VpcId=world.vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": i, "ToPort": 65535 - i,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for i in range(21)])
    ec2.modify_instance_attribute(InstanceId=world.instance_id,
                                  Groups=[world.security_group_id, group])
    return str(group)


def test_a_lockdown_copy_over_the_rules_quota_is_refused(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str]) -> None:
    wide_group = attach_group_too_big_to_copy(session, world)
    out = one_line(refused(cli, session, dns_env))
    assert f"FAIL lockdown the lockdown cannot copy {wide_group}" in out
    assert "63 inbound IPv4 rules" in out and "is 60" in out


def test_the_wizard_refuses_too_many_names_before_asking_anything(
        cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import migrator.cli.commands
    from migrator.cli.prompts import CannedPrompter

    prompter = CannedPrompter({})
    monkeypatch.setattr(migrator.cli.commands, "prompter", lambda env, assume_yes=False: prompter)
    sans = [arg for n in names(11)[1:] for arg in ("--san", n)]
    result = cli("wizard", "--domain", "www.example.com", *sans)
    assert result.status == 2
    assert "Domain names per ACM certificate" in result.stderr
    assert prompter.asked == []


@pytest.mark.parametrize("lockdown", [False, True])
def test_the_wizard_offers_to_plan_without_an_impossible_lockdown(
        world: Any, session: boto3.Session, cli: Any, monkeypatch: pytest.MonkeyPatch,
        lockdown: bool) -> None:
    import migrator.cli.commands
    from migrator.cli.prompts import CannedPrompter

    attach_group_too_big_to_copy(session, world)
    answers: dict[str, Any] = {"--yes": False}
    if lockdown:
        answers["--no-lockdown"] = True  # insisting on the lockdown: refused
    prompter = CannedPrompter(answers)
    monkeypatch.setattr(migrator.cli.commands, "prompter", lambda env, assume_yes=False: prompter)
    before = account_state(session)
    result = cli("wizard", "--region", "ap-northeast-1", "--domain", "www.example.com")
    assert account_state(session) == before
    if lockdown:
        assert result.status == 2
        assert "63 inbound IPv4 rules" in result.stderr
        assert not Path("plans").exists()
        return
    assert result.status == 0, result.stdout + result.stderr
    [path] = Path("plans").glob("*.json")
    plan = json.loads(path.read_text())
    assert plan["options"]["lockdown"] is False
    assert not any(s["id"].startswith("lockdown") for s in plan["steps"])
