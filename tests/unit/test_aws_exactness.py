"""Where AWS must be met exactly: the certificate wait reads Status (not the validation status
botocore's waiter reads) and ends at once on a status that can never become ISSUED; the Route53
switch and restore are compare-and-swap batches that never overwrite someone else's change."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from migrator.aws.acm import Acm
from migrator.core import planfile
from migrator.errors import AwsError, WaitTimeoutError
from tests.support.aws_state import account_state
from tests.support.iam_recording import client_hooks

ARN = "arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"


def described(status: str, validation: str = "PENDING_VALIDATION",
              reason: str | None = None) -> dict[str, Any]:
    cert: dict[str, Any] = {"CertificateArn": ARN, "Status": status, "DomainValidationOptions": [
        {"DomainName": "www.example.com", "ValidationStatus": validation}]}
    if reason:
        cert["FailureReason"] = reason
    return {"Certificate": cert}


@pytest.fixture
def acm() -> tuple[Acm, Stubber]:
    client = botocore.session.get_session().create_client(
        "acm", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    return Acm(client), Stubber(client)


def test_validated_is_not_issued(acm: tuple[Acm, Stubber]) -> None:
    wrapper, stub = acm
    # Every name validated, the certificate not yet ISSUED: botocore's CertificateValidated
    # waiter would stop here; a listener would refuse the certificate.
    stub.add_response("describe_certificate", described("PENDING_VALIDATION", "SUCCESS"))
    stub.add_response("describe_certificate", described("ISSUED", "SUCCESS"))
    with stub:
        wrapper.wait_issued(ARN, timeout=10)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(("status", "reason", "hint"), [
    ("FAILED", "CAA_ERROR", "CAA record"),
    ("VALIDATION_TIMED_OUT", None, "72 hours"),
    ("REVOKED", None, "re-plan"),
])
def test_a_status_that_cannot_become_issued_ends_the_wait_at_once(
        acm: tuple[Acm, Stubber], status: str, reason: str | None, hint: str) -> None:
    wrapper, stub = acm
    stub.add_response("describe_certificate", described(status, "FAILED", reason))
    with stub, pytest.raises(AwsError) as caught:
        wrapper.wait_issued(ARN, timeout=600)
    assert not isinstance(caught.value, WaitTimeoutError)
    assert f"it is {status}" in caught.value.message
    if reason:
        assert reason in caught.value.message
    assert hint in (caught.value.hint or "")


def test_the_switch_never_overwrites_a_record_changed_at_the_last_moment(
        world: Any, session: boto3.Session, cli: Any) -> None:
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    route53 = session.client("route53")
    someone_else = {"Name": "www.example.com.", "Type": "A", "TTL": 60,
                    "ResourceRecords": [{"Value": "127.0.0.99"}]}
    raced: list[str] = []

    def race(request: Any, **_: Any) -> None:
        # Between migrator's read of the record and its change batch, someone edits it.
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if "switch</Comment>" in body and not raced:
            raced.append("yes")
            route53.change_resource_record_sets(HostedZoneId=world.zone_id, ChangeBatch={
                "Changes": [{"Action": "UPSERT", "ResourceRecordSet": someone_else}]})

    with client_hooks(("before-send.route53.ChangeResourceRecordSets", race)):
        result = cli("apply", "p.json", "--yes", "--skip-verify")
    assert raced
    assert result.status == 2
    assert "changed since the plan was made; nothing was switched" in result.stderr
    [record] = [r for r in route53.list_resource_record_sets(HostedZoneId=world.zone_id)[
        "ResourceRecordSets"] if r["Name"] == "www.example.com." and r["Type"] == "A"]
    assert record == someone_else  # theirs, untouched: the batch failed whole
    plan = planfile.load("p.json").to_dict()
    assert {s["id"]: s["state"]["status"] for s in plan["steps"]}["switch_dns"] == "failed"


def test_the_restore_never_overwrites_a_record_changed_after_apply(
        world: Any, session: boto3.Session, cli: Any) -> None:
    before = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    assert cli("apply", "p.json", "--yes", "--skip-verify").status == 0
    route53 = session.client("route53")
    raced: list[str] = []

    def race(request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if "restore</Comment>" in body and not raced:
            raced.append("yes")
            route53.change_resource_record_sets(HostedZoneId=world.zone_id, ChangeBatch={
                "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                    "Name": "www.example.com.", "Type": "A", "TTL": 60,
                    "ResourceRecords": [{"Value": "127.0.0.99"}]}}]})

    with client_hooks(("before-send.route53.ChangeResourceRecordSets", race)):
        result = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert raced and result.status == 2
    assert "nothing was restored" in result.stderr
    records = {(r["Name"], r["Type"]): r for r in route53.list_resource_record_sets(
        HostedZoneId=world.zone_id)["ResourceRecordSets"]}
    assert records[("www.example.com.", "A")]["ResourceRecords"] == [{"Value": "127.0.0.99"}]
    assert account_state(session) != before  # nothing else was undone past the refusal
