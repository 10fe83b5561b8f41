"""ACM actions: request the certificate (or find the one an interrupted run requested), wait
for it to be ISSUED, delete it on rollback."""

from __future__ import annotations

from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.model import Action, Traits, Undo
from migrator.core.plan import now

# Every status a certificate this plan requested may be in while it is still this plan's.
MY_CERTIFICATE_STATUSES = ("ISSUED", "PENDING_VALIDATION", "FAILED", "VALIDATION_TIMED_OUT",
                           "INACTIVE")


def request_certificate(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    existing = _my_certificate(ctx, p["DomainName"])
    if existing:
        return {"arn": existing}
    return {"arn": ctx.aws.acm.request_certificate(**p)}


def _my_certificate(ctx: Context, domain: str) -> str | None:
    for summary in ctx.aws.acm.list_summaries(MY_CERTIFICATE_STATUSES):
        if summary["DomainName"] == domain and ctx.mine(ctx.aws.acm.tags(
                summary["CertificateArn"])):
            return summary["CertificateArn"]
    return None


def delete_certificate(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("CertificateArn") or _my_certificate(ctx, p["DomainName"])
    if arn:
        ctx.delete(lambda: ctx.aws.acm.delete(arn), f"delete certificate {arn}")
    return {}


def wait_certificate_issued(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.acm.describe(p["CertificateArn"]),
                      f"certificate {p['CertificateArn']}")
    ctx.aws.acm.wait_issued(p["CertificateArn"], timeout=p["TimeoutSeconds"])
    return {"issued_at": now()}


DELETE_CERTIFICATE = Undo("acm.delete_certificate", delete_certificate)
REQUEST_CERTIFICATE = Action("acm.request_certificate", request_certificate, DELETE_CERTIFICATE,
                             Traits(requests_certificate=True))
WAIT_CERTIFICATE_ISSUED = Action("acm.wait_certificate_issued", wait_certificate_issued, None)

ACTIONS = (REQUEST_CERTIFICATE, WAIT_CERTIFICATE_ISSUED)
