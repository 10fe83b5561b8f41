"""Apply resumes from the first unfinished step and never creates anything twice; rollback
works from any point."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import actions, planfile
from migrator.core.plan import plan_digest
from migrator.errors import AwsError
from tests.support.aws_state import account_state


@pytest.fixture
def world(strict_world: Any) -> Any:
    """These flows run on the strict AWS world (tests/strict_fixtures.py)."""
    return strict_world


def _fail_once(monkeypatch: pytest.MonkeyPatch, action: str, *, after_call: bool) -> None:
    """Make `action` fail once: before its AWS call, or after it (as if the process died
    between the call and the journal entry)."""
    real = actions.action(action)
    calls = {"n": 0}

    def flaky(ctx: Any, params: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            if after_call:
                real.forward(ctx, params)
            raise AwsError(f"injected failure in {action}")
        return real.forward(ctx, params)

    monkeypatch.setitem(actions.ACTIONS, action, dataclasses.replace(real, forward=flaky))


# Representative steps: each kind of resource, found again by its idempotency token, name and
# tag, or read back from Route53. tests/test_crash_safety.py kills the process at every step.
CASES = [("acm.request_certificate", True), ("route53.create_validation_records", True),
         ("elbv2.create_target_group", True), ("ec2.create_security_group", True),
         ("elbv2.create_load_balancer", False), ("elbv2.create_listener", True),
         ("route53.switch_to_alias", True)]


@pytest.mark.parametrize(("action", "after_call"), CASES,
                         ids=[f"{a}-{'after' if c else 'before'}-call" for a, c in CASES])
def test_failure_then_resume_then_rollback(world: Any, session: boto3.Session, cli: Any,
                                           monkeypatch: pytest.MonkeyPatch, action: str,
                                           after_call: bool) -> None:
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    _fail_once(monkeypatch, action, after_call=after_call)
    failed = cli("apply", "p.json", "--yes", "--skip-verify")
    assert failed.status == 1
    assert "injected failure" in failed.stderr
    assert "migrator apply p.json` resumes" in failed.stderr
    plan = planfile.load("p.json").to_dict()
    assert "failed" in {s["state"]["status"] for s in plan["steps"]}

    resumed = cli("apply", "p.json", "--yes", "--skip-verify")
    assert resumed.status == 0, resumed.stderr
    state = account_state(session)
    assert len(state["load_balancers"]) == 1
    assert len(state["target_groups"]) == 1
    assert len(state["certificates"]) == 1
    assert len(state["security_groups"]) == len(original["security_groups"]) + 2
    assert sorted(state["listeners"])[0][1] == 80 and len(state["listeners"]) == 2

    assert cli("rollback", "p.json", "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == original


@pytest.mark.parametrize("action", ["elbv2.create_load_balancer", "acm.wait_certificate_issued"])
def test_rollback_after_a_failed_apply(world: Any, session: boto3.Session, cli: Any,
                                       monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    _fail_once(monkeypatch, action, after_call=True)
    assert cli("apply", "p.json", "--yes", "--skip-verify").status == 1
    result = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert result.status == 0, result.stderr
    assert account_state(session) == original


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_apply_and_rollback_leave_the_plan_file_as_planned(world: Any, session: boto3.Session,
                                                           cli: Any) -> None:
    """The reviewed file is never rewritten: apply and rollback journal to p.state.json."""
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    plan_file = Path("p.json")
    planned, planned_sha256 = plan_file.read_bytes(), _sha256(plan_file)
    digest = plan_digest(planfile.load(plan_file))
    assert not Path("p.state.json").exists()

    applied = cli("apply", "p.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr
    assert plan_file.read_bytes() == planned and _sha256(plan_file) == planned_sha256
    state = json.loads(Path("p.state.json").read_text())
    assert (state["format"], state["plan_sha256"]) == ("migrator.state/v1", digest)
    assert state["plan_id"] == planfile.load(plan_file).id
    assert state["steps"]["switch_dns"]["status"] == "done"
    assert state["journal"][0]["event"] == "apply-started"  # it ends deferring the lockdown
    assert cli("status", "p.json").status == 0

    rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stderr
    assert plan_file.read_bytes() == planned and _sha256(plan_file) == planned_sha256
    state = json.loads(Path("p.state.json").read_text())
    assert state["steps"]["switch_dns"]["status"] == "reverted"
    assert state["journal"][-1]["event"] == "rollback-finished"
    assert account_state(session) == original
    assert sorted(p.name for p in Path().iterdir() if p.name.startswith(("p.", ".p."))) == \
        ["p.json", "p.json.lock", "p.state.json"]  # no temp file left behind


def test_a_plan_holding_its_states_resumes(world: Any, session: boto3.Session, cli: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan file written before state files (states and journal inside, an apply stopped
    half-way) resumes from its states; the resumed apply writes the state file beside it and
    leaves the plan file, still the approved plan, as it is."""
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    _fail_once(monkeypatch, "elbv2.create_target_group", after_call=False)
    assert cli("apply", "p.json", "--yes", "--skip-verify").status == 1
    stopped = planfile.load("p.json")
    Path("p.json").write_text(json.dumps(stopped.to_dict(), indent=2) + "\n")  # the old form
    Path("p.state.json").unlink()
    old_style = Path("p.json").read_bytes()
    assert planfile.load("p.json").state("target_group").status == "failed"

    resumed = cli("apply", "p.json", "--yes", "--skip-verify",
                  "--expect-sha256", plan_digest(stopped))
    assert resumed.status == 0, resumed.stderr
    assert Path("p.json").read_bytes() == old_style
    resumed_plan = planfile.load("p.json")
    assert resumed_plan.state("switch_dns").status == "done"
    # Picked up where it stopped: the journal goes on from the old one, nothing made twice.
    assert resumed_plan.journal[:len(stopped.journal)] == stopped.journal
    assert len(account_state(session)["load_balancers"]) == 1

    assert cli("rollback", "p.json", "--yes", "--dns-drain", "0").status == 0
    assert Path("p.json").read_bytes() == old_style
    assert account_state(session) == original
