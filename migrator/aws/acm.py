"""ACM: request, describe, find, wait for and delete certificates."""

from __future__ import annotations

from typing import Any

import botocore.waiter

from migrator.aws.calls import wait, wrap_service
from migrator.errors import AwsError

# ListCertificates returns only RSA_1024 and RSA_2048 certificates unless asked for the others.
KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
             "EC_secp521r1"]
# Statuses from which a certificate never becomes ISSUED.
FINAL_FAILURES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
# botocore's CertificateValidated waiter succeeds once every name's ValidationStatus is SUCCESS
# and never reads Certificate.Status; a listener needs Status ISSUED. The same machinery, on the
# field that matters, failing at once on a status that cannot turn into ISSUED.
ISSUED = "CertificateIssued"
ISSUED_WAITER = botocore.waiter.WaiterModel({"version": 2, "waiters": {ISSUED: {
    "operation": "DescribeCertificate", "delay": 5, "maxAttempts": 1,
    "acceptors": [
        {"matcher": "path", "argument": "Certificate.Status", "expected": "ISSUED",
         "state": "success"},
        *({"matcher": "path", "argument": "Certificate.Status", "expected": status,
           "state": "failure"} for status in FINAL_FAILURES),
        {"matcher": "error", "expected": "ResourceNotFoundException", "state": "retry"},
    ]}}})
FAILURE_HINTS = {
    "CAA_ERROR": "a CAA record forbids Amazon from issuing for this name; allow amazon.com",
    "VALIDATION_TIMED_OUT": "ACM did not find the validation CNAMEs within 72 hours",
}


@wrap_service
class Acm:
    """Typed wrapper over an ACM client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def request_certificate(self, **params: Any) -> str:
        return self._client.request_certificate(**params)["CertificateArn"]

    def describe(self, arn: str) -> dict[str, Any]:
        return self._client.describe_certificate(CertificateArn=arn)["Certificate"]

    def list_summaries(self, statuses: tuple[str, ...] = ("ISSUED", "PENDING_VALIDATION")
                       ) -> list[dict[str, Any]]:
        paginator = self._client.get_paginator("list_certificates")
        found: list[dict[str, Any]] = []
        for page in paginator.paginate(CertificateStatuses=list(statuses),
                                       Includes={"keyTypes": KEY_TYPES}):
            found.extend(page["CertificateSummaryList"])
        return found

    def tags(self, arn: str) -> dict[str, str]:
        tags = self._client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        return {t["Key"]: t.get("Value", "") for t in tags}

    def delete(self, arn: str) -> None:
        self._client.delete_certificate(CertificateArn=arn)

    def wait_issued(self, arn: str, *, timeout: float) -> None:
        """Until the certificate's Status is ISSUED; at once, with ACM's reason, if it can no
        longer become ISSUED."""
        waiter = botocore.waiter.create_waiter_with_client(ISSUED, ISSUED_WAITER,
                                                           self._client)
        wait(waiter, {"CertificateArn": arn}, timeout=timeout,
             what=f"certificate {arn} to be ISSUED", on_failure=self._not_issued)

    def _not_issued(self, response: dict[str, Any]) -> AwsError:
        cert = response.get("Certificate", {})
        status, reason = cert.get("Status", "?"), cert.get("FailureReason", "")
        return AwsError(
            f"ACM will not issue certificate {cert.get('CertificateArn', '')}: it is {status}"
            + (f" ({reason})" if reason else ""),
            hint=(FAILURE_HINTS.get(reason) or FAILURE_HINTS.get(status)
                  or "fix the cause") + "; then roll back and re-plan (a certificate in this "
                                        "state cannot be validated again)",
            code=reason or status)
