"""Throttling and 5xx answers: botocore's standard retry mode, configured once in
migrator.aws.session.RETRY_CONFIG, carries apply through a few of them; when they do not stop,
apply fails with a clear message and a later apply resumes.

The answers are injected with a `before-send` handler on the tool's own clients, so botocore
parses them exactly as it would AWS's; its backoff sleeps are recorded instead of slept.
"""

from __future__ import annotations

import json
import types
from collections import Counter
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from migrator.aws.session import RETRY_CONFIG
from migrator.core import planfile
from tests.support.aws_state import account_state
from tests.support.iam_recording import client_hooks


class Raw:
    """The `raw` of an AWSResponse: a body botocore reads through stream()."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(
        {"__type": code, "message": message}).encode()


def query_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """ELBv2's (query protocol) error document."""
    return status, {"Content-Type": "text/xml"}, (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
        f"</Message></Error><RequestId>r-1</RequestId></ErrorResponse>").encode()


def ec2_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/xml"}, (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        f"</Errors><RequestID>r-1</RequestID></Response>").encode()


class Injector:
    """Answers the first `times` sends of an operation with an error (forever with None)."""

    def __init__(self, faults: dict[str, tuple[int | None, tuple[int, dict[str, str], bytes]]]
                 ) -> None:
        self.faults = faults
        self.sends: Counter[str] = Counter()

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation not in self.faults:
            return None
        self.sends[operation] += 1
        times, (status, headers, body) = self.faults[operation]
        if times is None or self.sends[operation] <= times:
            return AWSResponse(request.url, status, headers, Raw(body))
        return None


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry backoff, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=slept.append))
    return slept


def test_apply_rides_out_throttling_and_5xx(world: Any, session: boto3.Session, cli: Any,
                                            sleeps: list[float]) -> None:
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    inject = Injector({
        "RequestCertificate": (3, json_error(400, "ThrottlingException", "Rate exceeded")),
        "CreateLoadBalancer": (3, query_error(503, "ServiceUnavailable", "try again")),
        "CreateSecurityGroup": (2, ec2_error(503, "RequestLimitExceeded",
                                             "Request limit exceeded.")),
        "ChangeResourceRecordSets": (1, (500, {}, b"")),
    })
    with client_hooks(("before-send", inject)):
        result = cli("apply", "p.json", "--yes", "--skip-verify")
    assert result.status == 0, result.stderr
    # Each faulty operation was sent once more than it failed: retried by botocore, which
    # backed off before every retry (no hand-written loop in migrator does this).
    assert inject.sends["RequestCertificate"] == 4
    assert inject.sends["CreateLoadBalancer"] == 4
    assert inject.sends["CreateSecurityGroup"] == 2 + 2  # the first of two groups retried twice
    assert inject.sends["ChangeResourceRecordSets"] >= 2
    assert len(sleeps) == 3 + 3 + 2 + 1
    assert all(0 <= s <= 20 for s in sleeps)
    state = account_state(session)
    assert len(state["load_balancers"]) == 1 and len(state["certificates"]) == 1
    assert len(state["security_groups"]) == len(original["security_groups"]) + 2
    assert cli("rollback", "p.json", "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == original


def test_apply_fails_clearly_when_retries_run_out_and_resumes_later(
        world: Any, session: boto3.Session, cli: Any, sleeps: list[float]) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    inject = Injector({"CreateLoadBalancer": (None, query_error(400, "Throttling",
                                                                "Rate exceeded"))})
    with client_hooks(("before-send", inject)):
        failed = cli("apply", "p.json", "--yes", "--skip-verify")
    # botocore reads retries' max_attempts as retries after the first attempt (and rewrites the
    # dict into total_max_attempts when it builds a client).
    retries = RETRY_CONFIG.retries
    attempts = retries.get("total_max_attempts") or retries["max_attempts"] + 1
    assert failed.status == 1
    assert inject.sends["CreateLoadBalancer"] == attempts
    assert len(sleeps) == attempts - 1
    assert (f"CreateLoadBalancer failed: Rate exceeded (Throttling; gave up after {attempts} "
            "attempts)") in failed.stderr
    assert "migrator apply p.json` resumes" in failed.stderr
    plan = planfile.load("p.json").to_dict()
    statuses = {s["id"]: s["state"]["status"] for s in plan["steps"]}
    assert statuses["load_balancer"] == "failed"
    assert statuses["target_group"] == "done"

    resumed = cli("apply", "p.json", "--yes", "--skip-verify")
    assert resumed.status == 0, resumed.stderr
    assert len(account_state(session)["load_balancers"]) == 1
