"""The wizard proposing to put the site on a load balancer of its VPC, against moto in server
mode with canned answers (as tests/integration/test_wizard.py): the question and its default,
the joining plan it writes and applies, the --yes path that keeps a load balancer of its own
unless --load-balancer names one, and no question when no load balancer can take the site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

import migrator.cli.commands
from migrator.checks.preflight.joining import monthly_saving
from migrator.cli.candidates import NEW_LOAD_BALANCER
from migrator.cli.prompts import CannedPrompter
from migrator.core import planfile
from migrator_sandbox.world import World
from tests.support.aws_state import account_state
from tests.support.moto import REGION
from tests.support.sandbox import Alb, create_alb

QUESTION = "--load-balancer"


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(answers: dict[str, Any] | None = None) -> CannedPrompter:
        prompter = CannedPrompter(dict(answers or {}))
        monkeypatch.setattr(migrator.cli.commands, "prompter",
                            lambda env, assume_yes=False: prompter)
        return prompter

    return install


@pytest.fixture
def alb(world: World, session: boto3.Session) -> Alb:
    """An internet-facing ALB in the world's VPC, made by someone else: no HTTPS listener, an
    HTTP one redirecting to HTTPS."""
    made = create_alb(session, world, "team-web")
    session.client("elbv2").create_listener(
        LoadBalancerArn=made.arn, Protocol="HTTP", Port=80, DefaultActions=[{
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    return made


def only_plan() -> tuple[Path, Any]:
    files = sorted(p for p in Path("plans").glob("*.json") if not planfile.is_state_file(p))
    assert len(files) == 1, files
    return files[0], planfile.load(files[0])


def alias_of(session: boto3.Session, world: World, name: str) -> str | None:
    records = session.client("route53").list_resource_record_sets(
        HostedZoneId=world.zone_id)["ResourceRecordSets"]
    record = next(r for r in records if r["Name"] == name + "." and r["Type"] == "A")
    alias = record.get("AliasTarget", {}).get("DNSName")
    return alias.rstrip(".").lower() if alias else None


def join_label(name: str) -> str:
    saving = monthly_saving(REGION, 2)
    return f"join {name} — saves about ${saving:.2f} a month"


def test_the_default_answer_joins_the_load_balancer_and_the_plan_applies(
        world: World, alb: Alb, session: boto3.Session, cli: Any, canned: Any) -> None:
    prompter = canned()
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    # Asked right after the site, with the load balancer as the default; no question on the
    # idle timeout or plain HTTP (the joined load balancer keeps its own), the TLS policy only
    # because the plan adds its HTTPS listener.
    assert prompter.asked == ["--region", "--domain", QUESTION, "--health-check-path",
                              "--ssl-policy", "--no-lockdown", "--stop-before-switch",
                              "--wait-for-ttl", "--yes"]
    assert "Load balancers in" in result.stdout and "team-web: can take it" in result.stdout
    _, plan = only_plan()
    assert plan.snapshot.load_balancer is not None
    assert plan.snapshot.load_balancer.arn == alb.arn
    actions = [s.action for s in plan.steps]
    assert "elbv2.create_load_balancer" not in actions
    assert {"elbv2.tag_load_balancer", "elbv2.create_rule"} <= set(actions)
    assert plan.state("switch_dns").status == "done"
    lbs = session.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert [lb["LoadBalancerArn"] for lb in lbs] == [alb.arn]
    assert alias_of(session, world, "www.example.com") == alb.dns_name.lower()


def test_choosing_a_new_load_balancer_plans_one_of_its_own(
        world: World, alb: Alb, cli: Any, canned: Any) -> None:
    prompter = canned({QUESTION: NEW_LOAD_BALANCER, "--yes": False})
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    assert "--no-http-redirect" in prompter.asked  # the questions of a load balancer of its own
    _, plan = only_plan()
    assert plan.snapshot.load_balancer is None
    assert "elbv2.create_load_balancer" in [s.action for s in plan.steps]


def test_the_label_names_the_load_balancer_and_the_saving(
        world: World, alb: Alb, cli: Any, canned: Any) -> None:
    """The exact answer the terminal shows joins it (CannedPrompter answers by label)."""
    canned({QUESTION: join_label("team-web"), "--yes": False})
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    _, plan = only_plan()
    assert plan.snapshot.load_balancer is not None
    assert plan.snapshot.load_balancer.name == "team-web"


def test_with_yes_the_site_keeps_a_load_balancer_of_its_own(
        world: World, alb: Alb, session: boto3.Session, cli: Any) -> None:
    result = cli("wizard", "--yes", "--domain", "www.example.com", "--skip-verify")
    assert result.status == 0, result.stderr
    _, plan = only_plan()
    assert plan.snapshot.load_balancer is None
    assert "elbv2.create_load_balancer" in [s.action for s in plan.steps]
    assert "team-web: can take it" in result.stdout  # still shown


def test_with_yes_and_the_flag_the_site_joins_it(
        world: World, alb: Alb, session: boto3.Session, cli: Any) -> None:
    result = cli("wizard", "--yes", "--domain", "www.example.com", "--load-balancer",
                 "team-web", "--no-http-redirect", "--idle-timeout", "30", "--skip-verify")
    assert result.status == 0, result.stderr
    # What would change the load balancer itself is said not to be used.
    assert ("--idle-timeout, --no-http-redirect: not used, team-web keeps its own settings"
            in " ".join(result.stdout.split()))
    _, plan = only_plan()
    assert plan.snapshot.load_balancer is not None
    assert plan.snapshot.load_balancer.arn == alb.arn
    assert "elbv2.create_load_balancer" not in [s.action for s in plan.steps]
    assert alias_of(session, world, "www.example.com") == alb.dns_name.lower()


def test_the_flag_naming_one_that_cannot_take_the_site_is_refused_before_anything_changes(
        world: World, session: boto3.Session, cli: Any, canned: Any) -> None:
    session.client("elbv2").create_load_balancer(
        Name="back-office", Subnets=list(world.subnet_ids.values()), Scheme="internal",
        SecurityGroups=[world.security_group_id])
    before = account_state(session)
    prompter = canned()
    result = cli("wizard", "--domain", "www.example.com", "--load-balancer", "back-office")
    assert result.status != 0
    assert "back-office is internal" in result.stderr
    assert QUESTION not in prompter.asked and "--yes" not in prompter.asked
    assert not Path("plans").exists()
    assert account_state(session) == before


def test_add_subnet_without_the_load_balancer_is_refused(cli: Any, canned: Any) -> None:
    prompter = canned()
    result = cli("wizard", "--domain", "www.example.com", "--add-subnet")
    assert result.status == 2
    assert "--add-subnet goes with --load-balancer" in result.stderr
    assert prompter.asked == []


def test_no_question_when_no_load_balancer_of_the_vpc_can_take_the_site(
        world: World, session: boto3.Session, cli: Any, canned: Any) -> None:
    """A load balancer that already routes the site's name is listed with the reason, and
    nothing is asked about it; an internal one is not even listed."""
    elbv2, acm = session.client("elbv2"), session.client("acm")
    made = create_alb(session, world, "taken")
    elbv2.create_load_balancer(Name="inside", Subnets=list(world.subnet_ids.values()),
                               Scheme="internal", SecurityGroups=[world.security_group_id])
    certificate = acm.request_certificate(DomainName="www.example.com")["CertificateArn"]
    forward: list[Any] = [{"Type": "forward", "TargetGroupArn": made.target_group_arn}]
    listener = elbv2.create_listener(
        LoadBalancerArn=made.arn, Protocol="HTTPS", Port=443, DefaultActions=forward,
        Certificates=[{"CertificateArn": certificate}])["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(ListenerArn=listener, Priority=3, Actions=forward, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["www.example.com"]}}])
    prompter = canned({"--yes": False})
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    assert QUESTION not in prompter.asked
    out = " ".join(result.stdout.split())
    assert "taken: cannot take it: www.example.com is already routed by rule 3" in out
    assert "None of them can take www.example.com" in out
    assert "inside" not in out
    _, plan = only_plan()
    assert plan.snapshot.load_balancer is None
