"""Quotas AWS would enforce only once apply is under way, checked before anything is created.

ACM (Certificate Manager quotas): a certificate carries at most 10 domain names by default
("Domain names per ACM certificate", adjustable in Service Quotas), its first name (the
``DomainName``) is at most 64 octets and every further name at most 253. Beyond the quota
``RequestCertificate`` answers ``LimitExceededException``, which botocore counts as throttling
and retries eight times before failing, so it is refused here instead.

The lockdown: each copy of a public security group must stay within the rules-per-group quota
and its description within 255 characters (``migrator.core.lockdown.copy_quota_problems``).

``acm_name_problems`` and ``require_acm_quotas`` are pure, for the planner and for refusing
early (before any AWS call); ``check_acm_quotas`` and ``check_lockdown_quotas`` give findings.
"""

from __future__ import annotations

from collections.abc import Sequence

from migrator.checks.preflight.model import Finding, failures
from migrator.core.lockdown import (
    DESCRIPTION_MAX,
    RULES_PER_GROUP,
    copy_description,
    copy_quota_problems,
    count_rules,
    has_public_web,
    without_public_web,
)
from migrator.core.plan import PlanOptions
from migrator.core.snapshot import Snapshot
from migrator.errors import PreflightError

__all__ = [
    "ACM_FIRST_NAME_MAX",
    "ACM_NAMES_PER_CERTIFICATE",
    "ACM_NAMES_QUOTA",
    "ACM_NAME_MAX",
    "acm_name_problems",
    "check_acm_quotas",
    "check_lockdown_quotas",
    "require_acm_quotas",
]

ACM_NAMES_PER_CERTIFICATE = 10
ACM_NAMES_QUOTA = "Domain names per ACM certificate"
ACM_FIRST_NAME_MAX = 64  # octets of the certificate's DomainName
ACM_NAME_MAX = 253  # octets of each further name (SubjectAlternativeNames)


def _octets(name: str) -> int:
    """Octets on the wire: the names are normalised (IDNA) already; others count as UTF-8."""
    return len(name.encode("utf-8"))


def acm_name_problems(names: Sequence[str]) -> list[str]:
    """Why ACM would refuse a certificate for ``names`` (the first is its DomainName), as
    one-line reasons naming the quota; empty when it would accept them."""
    unique = list(dict.fromkeys(names))
    problems: list[str] = []
    if len(unique) > ACM_NAMES_PER_CERTIFICATE:
        problems.append(
            f"the certificate would carry {len(unique)} names, and ACM's quota "
            f"\"{ACM_NAMES_QUOTA}\" is {ACM_NAMES_PER_CERTIFICATE} by default (adjustable in "
            "Service Quotas; the plan keeps to the default)")
    if unique and _octets(unique[0]) > ACM_FIRST_NAME_MAX:
        problems.append(
            f"{unique[0]} is {_octets(unique[0])} octets long, and ACM allows at most "
            f"{ACM_FIRST_NAME_MAX} in a certificate's first name (its domain name; further "
            f"names may have up to {ACM_NAME_MAX})")
    for name in unique[1:]:
        if _octets(name) > ACM_NAME_MAX:
            problems.append(f"{name[:40]}... is {_octets(name)} octets long, and ACM allows at "
                            f"most {ACM_NAME_MAX} in a certificate's further names")
    return problems


def _acm_hint(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(names))
    if unique and _octets(unique[0]) > ACM_FIRST_NAME_MAX:
        return (f"plan a name of at most {ACM_FIRST_NAME_MAX} octets as --domain and this one "
                "with --san (the records of both move)")
    return (f"plan at most {ACM_NAMES_PER_CERTIFICATE} names; move the others with a second "
            "plan (its own load balancer and certificate)")


def check_acm_quotas(snap: Snapshot) -> Finding:
    """A fail finding when the plan's certificate would break an ACM quota, else a pass."""
    names = list(snap.names)
    problems = acm_name_problems(names)
    data = {"names": len(names), "names_quota": ACM_NAMES_PER_CERTIFICATE,
            "first_name_octets": _octets(names[0]) if names else 0,
            "first_name_max": ACM_FIRST_NAME_MAX}
    if problems:
        return Finding("acm-quotas", "fail", "; ".join(problems), hint=_acm_hint(names),
                       data={**data, "problems": problems})
    return Finding("acm-quotas", "pass",
                   f"the certificate's {len(names)} name(s) fit ACM's quotas (at most "
                   f"{ACM_NAMES_PER_CERTIFICATE} names, the first at most {ACM_FIRST_NAME_MAX} "
                   "octets)", data=data)


def require_acm_quotas(names: Sequence[str]) -> None:
    """PreflightError ("preflight refused the plan: ...") when ACM would refuse ``names``:
    for refusing before inspecting anything."""
    problems = acm_name_problems(names)
    if problems:
        raise PreflightError(f"preflight refused the plan: {'; '.join(problems)}",
                             hint=_acm_hint(names))


def check_lockdown_quotas(snap: Snapshot, options: PlanOptions, plan_id: str) -> list[Finding]:
    """One finding per security group the lockdown copies: fail when its copy would break a
    quota (or cannot be made), pass otherwise. Nothing when there is no lockdown."""
    if not options.lockdown:
        return []
    findings: list[Finding] = []
    for group in snap.security_groups:
        if not has_public_web(group.ingress):
            continue
        label = f"{group.id} ({group.name})" if len(group.name) <= 40 else group.id
        data = {"group_id": group.id, "rules_quota": RULES_PER_GROUP,
                "description_max": DESCRIPTION_MAX}
        try:
            problems = copy_quota_problems(group.id, group.name, group.ingress, plan_id)
        except PreflightError as exc:
            findings.append(Finding("lockdown", "fail", exc.message, hint=exc.hint or "",
                                    data=data))
            continue
        copied = count_rules(without_public_web(list(group.ingress), group.id))
        data.update(inbound_ipv4=copied.ipv4, inbound_ipv6=copied.ipv6)
        if problems:
            findings.append(Finding(
                "lockdown", "fail",
                f"the lockdown cannot copy {label}: {'; '.join(problems)}",
                hint="merge that group's rules or raise the quota (Service Quotas, Amazon VPC), "
                     "shorten the group's name, or plan with --no-lockdown",
                data={**data, "problems": problems}))
            continue
        description = copy_description(group.name, group.id, plan_id, fit=False)
        findings.append(Finding(
            "lockdown", "pass",
            f"the lockdown's copy of {label} fits the quotas: {copied} inbound rules (at most "
            f"{RULES_PER_GROUP} of each), a {len(description)}-character description (at most "
            f"{DESCRIPTION_MAX})", data=data))
    return findings


def lockdown_refusals(findings: Sequence[Finding]) -> list[Finding]:
    """The failed lockdown findings (a wizard can still offer to plan without the lockdown)."""
    return [f for f in failures(findings) if f.check == "lockdown"]
