"""A name the plan would create is taken: `plan` and the wizard both pick other, free names, by
the one retry in migrator.usecases.plan_sites, and both say so the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import migrator.cli.commands
from migrator.cli.prompts import CannedPrompter
from migrator.core import planfile, planner
from migrator.core.names import elb_name
from migrator.usecases import plan_sites
from migrator.usecases.accounts import Account, connect
from migrator.usecases.plan_sites import SiteRequest
from migrator.usecases.progress import PlanProgress
from tests.support.moto import REGION

TAKEN, FREE = "mig-0badcafe", "mig-600dcafe"


@pytest.fixture
def taken_name(world: Any, session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> str:
    """The load balancer name of plan TAKEN exists; plan ids come as TAKEN, TAKEN, FREE, ..."""
    taken = elb_name("www.example.com", TAKEN.removeprefix("mig-"))
    session.client("elbv2").create_load_balancer(
        Name=taken, Subnets=list(world.subnet_ids.values()), Type="application")
    ids: Iterator[str] = iter([TAKEN, TAKEN, FREE, "mig-0000cafe", "mig-1111cafe"])
    monkeypatch.setattr(planner, "new_plan_id", lambda: next(ids))
    return taken


def planned_load_balancer(path: Path) -> str:
    plan = planfile.load(path)
    return str(next(s for s in plan.steps if s.id == "load_balancer").params["Name"])


def test_plan_picks_free_names(taken_name: str, cli: Any) -> None:
    result = cli("plan", "--domain", "www.example.com", "--out", "p.json")
    assert result.status == 0, result.stdout + result.stderr
    assert f"picked other names (plan {FREE})" in " ".join(result.stdout.split())
    assert json.loads(Path("p.json").read_text())["id"] == FREE
    assert planned_load_balancer(Path("p.json")) == elb_name("www.example.com", "600dcafe")


def test_the_wizard_picks_free_names_and_says_so_as_plan_does(
        taken_name: str, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    prompter = CannedPrompter({"--yes": False})  # every default, then keep the plan for later
    monkeypatch.setattr(migrator.cli.commands, "prompter", lambda env, assume_yes=False: prompter)
    result = cli("wizard", "--region", REGION, "--domain", "www.example.com")
    assert result.status == 0, result.stdout + result.stderr
    assert f"picked other names (plan {FREE})" in " ".join(result.stdout.split())
    [path] = [p for p in Path("plans").glob("*.json") if not planfile.is_state_file(p)]
    assert planfile.load(path).id == FREE
    assert planned_load_balancer(path) == elb_name("www.example.com", "600dcafe") != taken_name


def test_the_use_case_reports_the_retry_as_a_finding(taken_name: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shown: list[Any] = []

    class Kept(PlanProgress):
        def preflight_done(self, findings: Any) -> None:
            shown.extend(findings)

    site = plan_sites.plan_site(SiteRequest("www.example.com", origin_idle_probe=0),
                                Account(region=REGION), connect=connect, variables={},
                                progress=Kept())
    assert site.plan.id == FREE and site.path.parent == Path("plans")
    names = [f for f in shown if f.check == "names"]
    assert [f.level for f in names] == ["pass", "info"]
    assert names[1].message.endswith(f"picked other names (plan {FREE})")
