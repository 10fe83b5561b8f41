"""Apply resumes from the first unfinished step and never creates anything twice; rollback
works from any point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import actions
from migrator.errors import AwsError
from tests.support.aws_state import account_state


@pytest.fixture
def world(strict_world: Any) -> Any:
    """These flows run on the strict AWS world (tests/strict_fixtures.py)."""
    return strict_world


def _fail_once(monkeypatch: pytest.MonkeyPatch, action: str, *, after_call: bool) -> None:
    """Make `action` fail once: before its AWS call, or after it (as if the process died
    between the call and the journal entry)."""
    real = actions.FORWARD[action]
    calls = {"n": 0}

    def flaky(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            if after_call:
                real(ctx, params)
            raise AwsError(f"injected failure in {action}")
        return real(ctx, params)

    monkeypatch.setitem(actions.FORWARD, action, flaky)


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
    plan = json.loads(Path("p.json").read_text())
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
