"""Every AWS call of a full flow is allowed by the plan-scoped `migrator iam-policy`, and the
resources it touched fall under that policy's statements.

The flow, on the loopback sandbox (AWS, DNS and HTTPS): plan, apply interrupted after the load
balancer was created, apply again (adoption by name and tag) with its DNS and HTTPS checks,
verify, status, a second apply (nothing to do), rollback.

The whole session's calls are checked against the generic policy by the plugin in
tests/support/iam_recording.py when the run ends (under pytest-xdist too); the last test here shows that
check failing a run.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.core import actions, planfile
from migrator.core.iam_policy import iam_action, policy, uncovered
from migrator.errors import AwsError
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from tests.support.iam_recording import client_hooks, recording

Call = tuple[str, str]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path / "sandbox", strict_config=StrictConfig.fast()) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        yield sb


def assert_allowed(calls: set[Call], document: dict[str, Any]) -> None:
    missing = uncovered(calls, document)
    assert not missing, (
        f"the tool called {len(missing)} AWS action(s) that `migrator iam-policy` does not "
        f"grant: {', '.join(missing)} - add them to migrator/core/iam_policy.py GRANTS")


def fail_once_after(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    real = actions.action(action)
    state = {"failed": False}

    def flaky(ctx: Any, params: dict[str, Any]) -> Any:
        result = real.forward(ctx, params)
        if not state["failed"]:
            state["failed"] = True
            raise AwsError(f"injected failure after {action}")
        return result

    monkeypatch.setitem(actions.ACTIONS, action, dataclasses.replace(real, forward=flaky))


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
        applied = planfile.load("p.json").to_dict()
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
            "ec2:ModifyNetworkInterfaceAttribute"} <= used
    assert "ec2:ModifyInstanceAttribute" not in used

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
    region, account = plan.snapshot.region, plan.snapshot.account
    interface = outputs["attach_origin_group"]["interface"]
    assert any(fnmatch.fnmatchcase(f"arn:aws:ec2:{region}:{account}:network-interface/{interface}",
                                   p) for p in by_sid["SetWebInterfaceGroups"]["Resource"])
    patterns = by_sid["ChangePlanRecords"]["Condition"]["ForAllValues:StringLike"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert changed_names
    for name in changed_names:
        normalized = name.rstrip(".").lower()
        assert any(fnmatch.fnmatchcase(normalized, p) for p in patterns), name


PROOF_CONFTEST = """
import pytest

pytest_plugins = ["tests.support.iam_recording"]


@pytest.fixture(scope="session", autouse=True)
def aws_calls():
    from tests.support.iam_recording import recording_session

    with recording_session() as calls:
        yield calls
"""

PROOF_TESTS = """
import boto3

from migrator.aws.session import Aws


class Ok:
    status_code = 200


def call(service, method, operation, **params):
    aws = Aws(session=boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                    region_name="us-east-1"), region="us-east-1")
    client = aws._client(service)  # recorded, answered without the network
    client.meta.events.register(f"before-call.{service}.{operation}", lambda **_: (Ok(), {}))
    getattr(client, method)(**params)


def test_a_granted_call():
    call("ec2", "describe_subnets", "DescribeSubnets")


def test_an_ungranted_call():
    call("ec2", "delete_vpc", "DeleteVpc", VpcId="vpc-1")
"""


def test_the_session_check_fails_a_run_that_called_an_ungranted_action(tmp_path: Path) -> None:
    """A tiny suite in subprocesses (side by side), through the plugin: ec2:DeleteVpc called in the
    one process, or in one of two xdist workers, fails the run naming it. (That the check passes
    a run that calls only granted actions, every run of this suite shows.)"""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    cases = {"one process": ["-p", "no:xdist"]}
    if importlib.util.find_spec("xdist"):
        cases["xdist"] = ["-n", "2"]
    runs = {}
    for name, options in cases.items():
        suite = tmp_path / name.replace(" ", "-")
        suite.mkdir()
        (suite / "pytest.ini").write_text("[pytest]\n")
        (suite / "conftest.py").write_text(PROOF_CONFTEST)
        (suite / "test_proof.py").write_text(PROOF_TESTS)
        runs[name] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *options, str(suite)],
            cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for name, run in runs.items():
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 1, f"{name}:\n{output}"
        assert "2 passed" in output, f"{name}:\n{output}"
        assert "does not grant: ec2:DeleteVpc" in output, f"{name}:\n{output}"
