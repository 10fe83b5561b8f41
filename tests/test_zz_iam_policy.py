"""Runs last (file name): every AWS call the tool made, in a full flow here and in the whole test
session before it (recorded by conftest's `aws_calls`), is allowed by `migrator iam-policy`.

The flow, on the loopback sandbox (AWS, DNS and HTTPS): plan, apply interrupted after the load
balancer was created, apply again (adoption by name and tag) with its DNS and HTTPS checks,
verify, status, a second apply (nothing to do), rollback.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator import actions, planfile
from migrator.errors import AwsError
from migrator.iam_policy import GRANTS, Grant, iam_action, policy, uncovered
from migrator.sandbox.runner import Sandbox
from tests.iam_recording import client_hooks, recording

Call = tuple[str, str]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(acm_delay=1, workdir=tmp_path / "sandbox") as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        yield sb


def assert_allowed(calls: set[Call], document: dict[str, Any]) -> None:
    missing = uncovered(calls, document)
    assert not missing, (
        f"the tool called {len(missing)} AWS action(s) that `migrator iam-policy` does not "
        f"grant: {', '.join(missing)} - add them to migrator/iam_policy.py GRANTS")


def fail_once_after(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    real = actions.FORWARD[action]
    state = {"failed": False}

    def flaky(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        result = real(ctx, params)
        if not state["failed"]:
            state["failed"] = True
            raise AwsError(f"injected failure after {action}")
        return result

    monkeypatch.setitem(actions.FORWARD, action, flaky)


def test_full_flow_calls_only_what_the_plan_scoped_policy_allows(
        sandbox: Sandbox, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    changed_names: list[str] = []

    def record_names(params: dict[str, Any], **_: Any) -> None:
        changed_names.extend(c["ResourceRecordSet"]["Name"]
                             for c in params["ChangeBatch"]["Changes"])

    with recording() as calls, client_hooks(
            ("before-parameter-build.route53.ChangeResourceRecordSets", record_names)):
        assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
        fail_once_after(monkeypatch, "elbv2.create_load_balancer")
        assert cli("apply", "p.json", "--yes").status == 1
        resumed = cli("apply", "p.json", "--yes")
        assert resumed.status == 0, resumed.stderr
        verified = cli("verify", "p.json")
        assert verified.status == 0, verified.stdout + verified.stderr
        assert cli("status", "p.json").status == 0
        assert cli("apply", "p.json", "--yes").status == 0
        applied = json.loads(Path("p.json").read_text())
        rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
        assert rolled.status == 0, rolled.stderr

    verify_steps = {s["id"]: s["state"]["status"] for s in applied["steps"]
                    if s["action"].startswith("verify.")}
    assert verify_steps and set(verify_steps.values()) == {"done"}, verify_steps
    plan = planfile.load("p.json")
    scoped = policy(plan)
    assert_allowed(calls, scoped)
    used = {iam_action(s, o) for s, o in calls}
    assert {"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
            "route53:ChangeResourceRecordSets", "acm:RequestCertificate",
            "ec2:ModifyInstanceAttribute"} <= used

    # The resources the flow touched fall under the plan-scoped statements' Resource and
    # record-name conditions.
    by_sid = {s["Sid"]: s for s in scoped["Statement"]}
    outputs = {s["id"]: s["state"]["outputs"] for s in applied["steps"]}
    elb_arns = [outputs["load_balancer"]["arn"], outputs["target_group"]["arn"],
                outputs["http_listener"]["arn"], outputs["https_listener"]["arn"]]
    for arn in elb_arns:
        assert any(fnmatch.fnmatchcase(arn, p) for p in
                   by_sid["ChangePlanLoadBalancing"]["Resource"]), arn
    assert fnmatch.fnmatchcase(outputs["certificate"]["arn"],
                               by_sid["DeletePlanCertificate"]["Resource"])
    patterns = by_sid["ChangePlanRecords"]["Condition"]["ForAllValues:StringLike"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert changed_names
    for name in changed_names:
        normalized = name.rstrip(".").lower()
        assert any(fnmatch.fnmatchcase(normalized, p) for p in patterns), name


def test_every_call_of_the_whole_session_is_in_the_policy(aws_calls: set[Call]) -> None:
    assert aws_calls, "the recorder saw no call: is conftest's aws_calls fixture installed?"
    assert_allowed(aws_calls, policy())


def test_the_session_check_fails_without_an_action(aws_calls: set[Call]) -> None:
    """The check above can fail: with one action the session used removed, it does."""
    used = sorted(iam_action(s, o) for s, o in aws_calls)
    victim = "route53:ChangeResourceRecordSets" if "route53:ChangeResourceRecordSets" in used \
        else used[0]
    reduced = [Grant(g.sid, tuple(a for a in g.actions if a != victim), g.statement)
               for g in GRANTS]
    with pytest.raises(AssertionError, match=victim):
        assert_allowed(aws_calls, policy(grants=reduced))
