"""ACM: request, describe, find, wait for and delete certificates."""

from __future__ import annotations

from typing import Any

from migrator.aws.calls import wait, wrap_service


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
        for page in paginator.paginate(CertificateStatuses=list(statuses)):
            found.extend(page["CertificateSummaryList"])
        return found

    def tags(self, arn: str) -> dict[str, str]:
        tags = self._client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        return {t["Key"]: t.get("Value", "") for t in tags}

    def delete(self, arn: str) -> None:
        self._client.delete_certificate(CertificateArn=arn)

    def wait_issued(self, arn: str, *, timeout: float) -> None:
        wait(self._client.get_waiter("certificate_validated"), {"CertificateArn": arn},
             timeout=timeout, what=f"certificate {arn} to be ISSUED")
