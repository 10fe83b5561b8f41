"""Bad input and failures: one clear line on stderr, the right exit status, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.aws_state import account_state


@pytest.mark.parametrize("domain", ["", "exa mple.com", "-bad.example.com", "127.0.0.1",
                                    "a" * 64 + ".example.com", "localhost"])
def test_invalid_domain_names(cli: Any, aws: str, domain: str) -> None:
    result = cli("plan", "--domain", domain)
    assert result.status == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert not Path("plans").exists()


def test_idna_names_are_accepted_in_their_ascii_form(session: boto3.Session, cli: Any) -> None:
    seed_world(session, WorldSpec(domain="xn--bcher-kva.example.com"))
    result = cli("plan", "--domain", "bücher.example.com", "--out", "p.json")
    assert result.status == 0, result.stderr
    assert json.loads(Path("p.json").read_text())["domain"] == "xn--bcher-kva.example.com"


def test_name_in_no_hosted_zone(world: Any, cli: Any) -> None:
    result = cli("plan", "--domain", "www.example.org")
    assert result.status == 2
    assert "no public Route53 hosted zone holds www.example.org" in result.stderr


def test_no_record(world: Any, cli: Any) -> None:
    result = cli("inspect", "--domain", "nothing.example.com")
    assert result.status == 2
    assert "has no A record" in result.stderr


def test_no_instance_behind_the_record(session: boto3.Session, world: Any, cli: Any) -> None:
    session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "CREATE",
            "ResourceRecordSet": {"Name": "old.example.com", "Type": "A", "TTL": 60,
                                  "ResourceRecords": [{"Value": "127.0.0.55"}]}}]})
    result = cli("plan", "--domain", "old.example.com")
    assert result.status == 2
    assert "no EC2 instance in ap-northeast-1 has the public address 127.0.0.55" in result.stderr


def test_stopped_instance(session: boto3.Session, world: Any, cli: Any) -> None:
    session.client("ec2").stop_instances(InstanceIds=[world.instance_id])
    result = cli("plan", "--domain", "www.example.com")
    assert result.status == 2
    assert "is stopped, not running" in result.stderr


def test_no_credentials(aws: str, monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("inspect", "--domain", "www.example.com")
    assert result.status == 2
    assert "no AWS credentials found" in result.stderr


def test_plan_for_another_region(world: Any, cli: Any, session: boto3.Session) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    before = account_state(session)
    result = cli("apply", "p.json", "--yes", "--region", "eu-west-1")
    assert result.status == 2
    assert "the plan is for region ap-northeast-1" in result.stderr
    assert account_state(session) == before


def test_plan_for_another_account(world: Any, cli: Any, session: boto3.Session) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    data = json.loads(Path("p.json").read_text())
    data["account"] = data["snapshot"]["account"] = "999999999999"
    Path("p.json").write_text(json.dumps(data))
    result = cli("apply", "p.json", "--yes")
    assert result.status == 2
    assert "the plan is for account 999999999999" in result.stderr


def test_apply_without_yes_and_without_a_terminal_names_the_flag(world: Any, cli: Any) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    result = cli("apply", "p.json")
    assert result.status == 2
    assert "pass --yes" in result.stderr


def test_stale_plan_is_refused_before_any_change(world: Any, cli: Any,
                                                 session: boto3.Session) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT",
            "ResourceRecordSet": {"Name": "www.example.com", "Type": "A", "TTL": 60,
                                  "ResourceRecords": [{"Value": "127.0.0.10"}]}}]})
    before = account_state(session)
    result = cli("apply", "p.json", "--yes", "--skip-verify")
    assert result.status == 2
    assert "www.example.com. A is now 127.0.0.10 TTL 60 (was 127.0.0.10 TTL 300)" in result.stderr
    assert account_state(session) == before


def test_usage_errors_and_verbose_traceback(cli: Any, aws: str) -> None:
    result = cli("apply")
    assert result.status == 2 and "the following arguments are required" in result.stderr
    result = cli("show", "missing.json", "-v")
    assert result.status == 2 and "Traceback" in result.stderr
    result = cli("show", "missing.json")
    assert "Traceback" not in result.stderr and "does not exist" in result.stderr


def test_an_unexpected_exception_is_one_line_and_says_how_to_see_more(
        world: Any, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import migrator.core.inspector

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("SubnetId")

    monkeypatch.setattr(migrator.core.inspector, "vpc_subnets", broken)
    result = cli("inspect", "--domain", "www.example.com")
    assert result.status == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: unexpected KeyError: 'SubnetId'"
    assert "-v" in lines[1] and "bug" in lines[1]
    verbose = cli("inspect", "--domain", "www.example.com", "-v")
    assert verbose.status == 1 and "Traceback" in verbose.stderr


@pytest.mark.parametrize("command", [["demo", "--yes"], ["sandbox", "up"]])
def test_the_sandbox_without_its_extra_names_the_extra(command: list[str]) -> None:
    import subprocess
    import sys

    # moto missing, as after `pip install migrator` without [sandbox].
    code = ("import sys; sys.modules['moto'] = None\n"
            "from migrator.cli.main import main\n"
            f"sys.exit(main({command!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "pip install 'migrator[sandbox]'" in done.stderr
