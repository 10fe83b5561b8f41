"""The wizard's logic against moto in server mode, with canned answers instead of a terminal.

The CLI runs in-process (fixture `cli`); `migrator.cli.commands.prompter` is replaced so the wizard
gets a CannedPrompter, which records every question it was asked (by flag).
"""

from __future__ import annotations

import dataclasses
import io
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

import migrator.cli.commands
import migrator.core.actions
from migrator.aws.session import connect
from migrator.cli.environment import Environment
from migrator.cli.main import main
from migrator.cli.prompts import CannedPrompter, NoPrompter
from migrator.cli.wizard.questions import STOP_BEFORE_SWITCH
from migrator.core import planfile
from migrator.errors import AccessDeniedError, MissingAnswerError, UsageError
from migrator.usecases.find_sites import Limits, find_candidates
from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.moto import REGION

ALL_QUESTIONS = ["--profile", "--region", "--domain", "--san", "--health-check-path",
                 "--ssl-policy", "--no-http-redirect", "--no-lockdown", "--stop-before-switch",
                 "--wait-for-ttl", "--yes"]


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch) -> Any:
    """canned(answers) -> the CannedPrompter the next wizard run will ask."""

    def install(answers: dict[str, Any] | None = None) -> CannedPrompter:
        prompter = CannedPrompter(dict(answers or {}))
        monkeypatch.setattr(migrator.cli.commands, "prompter",
                            lambda env, assume_yes=False: prompter)
        return prompter

    return install


def plan_files() -> list[Path]:
    return sorted(p for p in Path("plans").glob("*.json") if not planfile.is_state_file(p))


def only_plan() -> tuple[Path, dict[str, Any]]:
    files = plan_files()
    assert len(files) == 1, files
    return files[0], planfile.load(files[0]).to_dict()


def statuses(plan: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["state"]["status"] for s in plan["steps"]}


def site_record(session: boto3.Session, zone_id: str, name: str) -> dict[str, Any]:
    records = session.client("route53").list_resource_record_sets(
        HostedZoneId=zone_id)["ResourceRecordSets"]
    return next(r for r in records if r["Name"] == name and r["Type"] == "A")


# --- the whole flow -------------------------------------------------------------------------------

def test_accepting_every_default_plans_under_plans_and_applies(
        world: Any, session: boto3.Session, cli: Any, canned: Any) -> None:
    prompter = canned()
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    path, plan = only_plan()
    assert path.parent == Path("plans") and path.name.startswith("www.example.com-")
    assert plan["names"] == ["www.example.com"]
    assert plan["options"]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert plan["options"]["http_redirect"] is True
    assert plan["options"]["health_check_path"] == "/"
    assert plan["options"]["lockdown"] is True
    done = statuses(plan)
    assert {v for k, v in done.items() if k.startswith("verify_")} == {"skipped"}
    # The old TTL (300 s) is long: the lockdown is left to a later apply, which is printed.
    assert {v for k, v in done.items() if k.startswith("lockdown")} == {"pending"}
    assert {v for k, v in done.items()
            if not k.startswith(("verify_", "lockdown"))} == {"done"}
    assert f"migrator apply {path} --skip-verify" in result.stdout
    assert "AliasTarget" in site_record(session, world.zone_id, "www.example.com.")
    # Every question was asked once, in order; no profile question with no profiles configured
    # and no --san question when nothing else points at the instance.
    assert prompter.asked == ["--region", "--domain", "--health-check-path", "--ssl-policy",
                              "--no-http-redirect", "--no-lockdown", "--stop-before-switch",
                              "--wait-for-ttl", "--yes"]
    assert f"migrator rollback {path}" in result.stdout
    assert "www.example.com" in result.stdout and "127.0.0.10" in result.stdout  # candidates


def test_a_short_ttl_is_waited_for_and_the_instance_locked_down(
        aws: str, session: boto3.Session, cli: Any, canned: Any) -> None:
    world = seed_world(session, WorldSpec(ttl=1))
    canned()
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    _, plan = only_plan()
    assert {v for k, v in statuses(plan).items() if not k.startswith("verify_")} == {"done"}
    state = account_state(session)
    groups = state["instance_groups"][world.instance_id]
    assert world.security_group_id not in groups  # replaced by its copy without public web
    assert not any(":0.0.0.0/0" in rule and rule.startswith(("tcp:80-", "tcp:443-"))
                   for g in groups for rule in state["security_groups"][g]["ingress"])


def test_each_question_at_most_once_with_every_question_asked(
        aws: str, session: boto3.Session, cli: Any, canned: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    world = seed_world(session, WorldSpec(extra_a_names=("example.com",)))
    config, credentials = tmp_path / "aws-config", tmp_path / "aws-credentials"
    config.write_text(f"[default]\nregion = {REGION}\n\n[profile other]\nregion = {REGION}\n")
    credentials.write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = x\n"
                           "[other]\naws_access_key_id = testing\naws_secret_access_key = x\n")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    prompter = canned({"--profile": "other", "--domain": "www.example.com", "--yes": False})
    result = cli("wizard")
    assert result.status == 0, result.stderr
    counts = Counter(prompter.asked)
    assert prompter.asked == ALL_QUESTIONS, prompter.asked
    assert max(counts.values()) == 1
    # The other name pointing at the instance was proposed and kept (the default).
    path, plan = only_plan()
    assert plan["names"] == ["www.example.com", "example.com"]
    assert all(status == "pending" for status in statuses(plan).values())
    assert f"migrator apply {path} --profile other" in result.stdout
    assert "AliasTarget" not in site_record(session, world.zone_id, "example.com.")


def test_the_answers_reach_the_plan_and_declining_changes_nothing(
        aws: str, session: boto3.Session, cli: Any, canned: Any) -> None:
    seed_world(session, WorldSpec(extra_a_names=("example.com",)))
    before = account_state(session)
    canned({"--san": [], "--health-check-path": "/healthz",
            "--ssl-policy": "ELBSecurityPolicy-TLS13-1-3-2021-06", "--no-http-redirect": False,
            "--yes": False})
    result = cli("wizard", "--domain", "WWW.Example.com.")
    assert result.status == 0, result.stderr
    path, plan = only_plan()
    assert plan["names"] == ["www.example.com"]
    assert plan["options"]["health_check_path"] == "/healthz"
    assert plan["options"]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"
    assert plan["options"]["http_redirect"] is False
    assert "http_listener" not in statuses(plan)
    assert account_state(session) == before
    assert "Nothing was changed" in result.stdout
    assert f"migrator apply {path}" in result.stdout


def test_flags_answer_every_question(world: Any, cli: Any, canned: Any) -> None:
    prompter = canned()
    result = cli("wizard", "--region", REGION, "--domain", "www.example.com",
                 "--san", "www.example.com", "--health-check-path", "/health",
                 "--ssl-policy", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                 "--no-http-redirect", "--no-lockdown", "--stop-before-switch", "--yes",
                 "--skip-verify")
    assert result.status == 0, result.stderr
    assert prompter.asked == []
    _, plan = only_plan()
    assert statuses(plan)["switch_dns"] == "pending"
    assert plan["options"]["health_check_path"] == "/health"
    assert plan["options"]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    assert "http_listener" not in statuses(plan)
    assert plan["options"]["lockdown"] is False
    assert not any(step.startswith("lockdown") for step in statuses(plan))


# --- stopping before the DNS switch ---------------------------------------------------------------

def test_choosing_to_stop_before_the_switch_leaves_dns_untouched_and_says_how_to_go_on(
        world: Any, session: boto3.Session, cli: Any, canned: Any) -> None:
    original = site_record(session, world.zone_id, "www.example.com.")
    prompter = canned({"--stop-before-switch": STOP_BEFORE_SWITCH})
    result = cli("wizard", "--skip-verify")
    assert result.status == 0, result.stderr
    # Stopping leaves the lockdown, and so its wait, to the apply that switches: not asked.
    assert prompter.asked == ["--region", "--domain", "--health-check-path", "--ssl-policy",
                              "--no-http-redirect", "--no-lockdown", "--stop-before-switch",
                              "--yes"]
    path, plan = only_plan()
    done = statuses(plan)
    assert done["switch_dns"] == "pending" and done["verify_site"] == "pending"
    assert done["verify_load_balancer"] == "skipped"
    assert {v for k, v in done.items() if k.startswith("lockdown")} == {"pending"}
    assert site_record(session, world.zone_id, "www.example.com.") == original
    assert "Ready to switch." in result.stdout and "Done." not in result.stdout
    assert "not checked (--skip-verify)" in result.stdout
    lb = planfile.load(path).state("load_balancer").outputs["dns_name"]
    assert f"curl --connect-to www.example.com:443:{lb}:443 https://www.example.com/" \
        in result.stdout
    assert f"migrator apply {path} --skip-verify" in result.stdout
    assert f"migrator rollback {path}" in result.stdout
    status = cli("status", str(path), "--json")
    assert '"phase": "ready to switch"' in status.stdout

    went_on = cli("apply", str(path), "--yes", "--skip-verify")
    assert went_on.status == 0, went_on.stderr
    assert statuses(planfile.load(path).to_dict())["switch_dns"] == "done"
    assert "AliasTarget" in site_record(session, world.zone_id, "www.example.com.")


def test_the_flag_answers_the_switch_question(world: Any, session: boto3.Session, cli: Any,
                                              canned: Any) -> None:
    prompter = canned()
    result = cli("wizard", "--stop-before-switch", "--skip-verify")
    assert result.status == 0, result.stderr
    assert "--stop-before-switch" not in prompter.asked
    assert "--wait-for-ttl" not in prompter.asked
    _, plan = only_plan()
    assert statuses(plan)["switch_dns"] == "pending"
    assert "AliasTarget" not in site_record(session, world.zone_id, "www.example.com.")


# --- without a terminal ---------------------------------------------------------------------------

def test_without_a_terminal_the_missing_site_names_its_flag(
        world: Any, session: boto3.Session, cli: Any) -> None:
    before = account_state(session)
    result = cli("wizard", "--yes")
    assert result.status == 2
    assert "pass --domain" in result.stderr
    assert plan_files() == [] and not Path("plans").exists()
    assert account_state(session) == before


def test_without_a_terminal_applying_needs_yes(
        world: Any, session: boto3.Session, cli: Any) -> None:
    before = account_state(session)
    result = cli("wizard", "--domain", "www.example.com")
    assert result.status == 2
    assert "pass --yes" in result.stderr
    assert not Path("plans").exists()
    assert account_state(session) == before


def test_with_yes_nothing_is_asked_and_the_defaults_are_applied(
        world: Any, session: boto3.Session, cli: Any) -> None:
    result = cli("wizard", "--yes", "--domain", "www.example.com", "--skip-verify")
    assert result.status == 0, result.stderr
    _, plan = only_plan()
    assert statuses(plan)["switch_dns"] == "done"
    assert "AliasTarget" in site_record(session, world.zone_id, "www.example.com.")


@pytest.mark.parametrize(("flag", "value"), [("--ssl-policy", "TLS-please"),
                                             ("--health-check-path", "health"),
                                             ("--region", "Tokyo"), ("--san", "not a name")])
def test_a_bad_flag_value_is_refused_before_anything_is_asked(
        cli: Any, canned: Any, flag: str, value: str) -> None:
    prompter = canned()
    result = cli("wizard", "--domain", "www.example.com", flag, value)
    assert result.status == 2
    assert flag in result.stderr, result.stderr
    assert prompter.asked == []
    assert not Path("plans").exists()


# --- Ctrl-C ---------------------------------------------------------------------------------------

def test_ctrl_c_at_a_prompt_writes_nothing_and_changes_nothing(
        world: Any, session: boto3.Session, cli: Any, canned: Any) -> None:
    before = account_state(session)
    canned({"--ssl-policy": KeyboardInterrupt()})
    result = cli("wizard")
    assert result.status == 130
    assert "nothing was changed" in result.stderr
    assert not Path("plans").exists()
    assert account_state(session) == before


def test_ctrl_c_during_apply_leaves_a_consistent_plan_and_the_way_back(
        world: Any, session: boto3.Session, cli: Any, canned: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = account_state(session)

    def pressed_ctrl_c(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise KeyboardInterrupt

    wait = migrator.core.actions.action("acm.wait_certificate_issued")
    monkeypatch.setitem(migrator.core.actions.ACTIONS, "acm.wait_certificate_issued",
                        dataclasses.replace(wait, forward=pressed_ctrl_c))
    canned()
    result = cli("wizard", "--skip-verify")
    assert result.status == 130
    path, plan = only_plan()
    steps = statuses(plan)
    order = list(steps)
    at = order.index("certificate_issued")
    assert [steps[s] for s in order[:at]] == ["done"] * at
    assert steps["certificate_issued"] == "failed"
    assert {steps[s] for s in order[at + 1:]} == {"pending"}
    assert f"migrator apply {path} --skip-verify" in result.stdout
    assert f"migrator rollback {path}" in result.stdout
    monkeypatch.setitem(migrator.core.actions.ACTIONS, "acm.wait_certificate_issued", wait)
    undone = cli("rollback", str(path), "--yes", "--dns-drain", "0")
    assert undone.status == 0, undone.stderr
    assert account_state(session) == before


# --- finding the sites ----------------------------------------------------------------------------

class CallLog:
    """Every AWS operation the client makes (botocore before-call events)."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


def test_candidates_list_the_site_and_only_names_on_running_instances(
        world: Any, session: boto3.Session) -> None:
    route53 = session.client("route53")
    # A second public zone with a name on the instance, and one on an address nobody has.
    other = route53.create_hosted_zone(Name="example.org", CallerReference="org")
    route53.change_resource_record_sets(
        HostedZoneId=other["HostedZone"]["Id"], ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": ip}]}}
            for name, ip in (("shop.example.org", "127.0.0.10"),
                             ("old.example.org", "127.0.0.77"))]})
    log = CallLog()
    found = find_candidates(connect(region=REGION, observers=[log]))
    assert found.names() == ["www.example.com", "shop.example.org"]
    www = found.candidates[0]
    assert (www.address, www.instance_id, www.instance_name) == (
        "127.0.0.10", world.instance_id, "web-1")
    assert found.truncated == []
    assert set(log.operations) == {"DescribeAddresses", "DescribeInstances", "ListHostedZones",
                                   "ListResourceRecordSets"}
    assert log.operations.count("ListResourceRecordSets") == 2  # one page per zone


def test_candidate_search_is_bounded_and_says_what_it_skipped(
        world: Any, session: boto3.Session) -> None:
    route53 = session.client("route53")
    for index in range(3):
        route53.create_hosted_zone(Name=f"zone{index}.example.net", CallerReference=f"z{index}")
    log = CallLog()
    limits = Limits(zones=2, record_pages=1, instance_pages=1)
    found = find_candidates(connect(region=REGION, observers=[log]), limits)
    assert len(log.operations) <= limits.max_calls()
    assert log.operations.count("ListResourceRecordSets") == 2
    assert any("2 of 4 public zones" in t for t in found.truncated), found.truncated


def test_candidate_search_survives_what_the_credentials_may_not_read(
        world: Any, session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    route53 = session.client("route53")
    route53.create_hosted_zone(Name="example.org", CallerReference="org")
    aws = connect(region=REGION)
    readable = aws.route53.record_sets

    def record_sets(zone_id: str, **kwargs: Any) -> Any:
        if zone_id != world.zone_id:
            raise AccessDeniedError("AWS denied ListResourceRecordSets: not this zone")
        return readable(zone_id, **kwargs)

    monkeypatch.setattr(aws.route53, "record_sets", record_sets)
    found = find_candidates(aws)
    assert found.names() == ["www.example.com"]
    assert found.truncated == ["the records of example.org may not be read"]

    def denied(**kwargs: Any) -> Any:
        raise AccessDeniedError("AWS denied DescribeInstances: no")

    monkeypatch.setattr(aws.ec2, "running_instances", denied)
    found = find_candidates(aws)
    assert found.candidates == [] and "not allowed" in found.truncated[0]


def test_no_running_instance_means_no_zone_is_read(aws: str, session: boto3.Session) -> None:
    log = CallLog()
    found = find_candidates(connect(region=REGION, observers=[log]))
    assert found.candidates == []
    assert "ListResourceRecordSets" not in log.operations


# --- the entry point and the prompt layer ---------------------------------------------------------

class TerminalBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_migrator_in_a_terminal_runs_the_wizard(
        world: Any, canned: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    prompter = canned({"--yes": False})
    out = TerminalBuffer()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin_isatty=True, width=80,
                      variables={"NO_COLOR": "1"})
    assert main([], env) == 0
    assert prompter.asked[:2] == ["--region", "--domain"]
    assert "Apply it later with: migrator apply plans/www.example.com-" in out.getvalue()


def test_plain_migrator_without_a_terminal_prints_help(cli: Any) -> None:
    result = cli()
    assert result.status == 0
    assert "wizard" in result.stdout and "usage: migrator" in result.stdout


def test_no_prompter_requires_flagged_answers_and_canned_validates() -> None:
    none = NoPrompter()
    with pytest.raises(MissingAnswerError, match="--domain"):
        none.select("Which site?", ["a.example.com"], default="a.example.com",
                    flag="--domain", required=True)
    assert none.select("TLS?", ["x", "y"], default="y", flag="--ssl-policy") == "y"
    assert none.confirm("Redirect?", default=True, flag="--no-http-redirect",
                        required=False) is True
    with pytest.raises(MissingAnswerError, match="--yes"):
        none.confirm("Apply?", default=True, flag="--yes")
    with pytest.raises(UsageError, match="--health-check-path"):
        CannedPrompter({"--health-check-path": "x"}).text(
            "Path?", default="/", flag="--health-check-path",
            validate=lambda v: None if v.startswith("/") else "must start with /")
