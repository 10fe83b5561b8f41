"""ACM: an ISSUED certificate that already covers every name is reused (the planner does the
reuse; since the plan has no request step, rollback never deletes it); otherwise the plan
requests a new one, validated by DNS in the hosted zone.
"""

from __future__ import annotations

from migrator.checks.preflight.model import Finding
from migrator.core.planner import reusable_certificate
from migrator.core.snapshot import Snapshot


def check_certificate(snap: Snapshot) -> list[Finding]:
    reused = reusable_certificate(snap)
    names = ", ".join(snap.names)
    if reused is not None:
        return [Finding(
            "acm", "info",
            f"ACM certificate {reused.arn} is ISSUED and covers {names}: the plan reuses it, "
            "and rollback never deletes it",
            data={"certificate_arn": reused.arn, "names": list(reused.names)})]
    findings = [Finding(
        "acm", "info",
        f"the plan requests a new ACM certificate for {names}, validated by a CNAME in "
        f"{snap.zone.name.rstrip('.')}",
        data={"names": list(snap.names)})]
    for cert in snap.certificates:
        if cert.status != "ISSUED":
            findings.append(Finding(
                "acm", "info",
                f"ACM certificate {cert.arn} covers the names but is {cert.status}: not reused",
                data={"certificate_arn": cert.arn, "status": cert.status}))
    return findings
