"""The defaults the wizard proposes for a site, taken from the preflight findings: extra names
for the certificate (on the instance's old certificate, or the apex/www sibling pointing at the
instance), a health check that will be healthy, the load balancer's idle timeout below the
origin's (the choice `plan` makes), whether to offer the lockdown and whether it is possible, and
whether to wait out the old TTL in the same run; and the load balancers of the instance's VPC
the site could join instead of having one of its own (join_candidates()).

A proposed name is offered only when adding it cannot make the plan refuse: it is in the site's
hosted zone, and it either has no A record of its own or its simple A record is the instance's
address. It is pre-selected when the site serves it: its A record is the instance's address, or
it is a CNAME (or alias) to the site. The others are named in a note with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrator.checks.preflight import Finding
from migrator.checks.preflight import proposals as from_findings
from migrator.checks.preflight.idle import with_idle_choice
from migrator.checks.preflight.joining import allows_old_tls, monthly_saving
from migrator.checks.preflight.quotas import lockdown_refusals
from migrator.core.load_balancers import load_balancers_in_vpc
from migrator.core.lockdown import has_public_web
from migrator.core.names import normalize_domain
from migrator.core.plan import PlanOptions
from migrator.core.shared_planner import refuse_to_join
from migrator.core.snapshot import LoadBalancer, RecordSet, Snapshot
from migrator.errors import MigratorError, PreflightError

if TYPE_CHECKING:
    from migrator.aws.session import Aws

MAX_PROPOSED_NAMES = 10  # each costs one ListResourceRecordSets call
SERVED, UNUSED = "served", "unused"


@dataclass(frozen=True)
class Proposals:
    """What to offer, what to pre-select, and notes on what was left out."""

    sans: tuple[str, ...] = ()
    sans_checked: tuple[str, ...] = ()
    health_check_path: str = "/"
    # The matcher preflight found healthy for checked_path (None: keep the default).
    health_check_matcher: str | None = None
    checked_path: str = "/"
    idle_timeout_seconds: int = PlanOptions().idle_timeout_seconds
    origin_idle_seconds: float | None = None  # how long the origin keeps idle connections
    # Offered when a group of the instance admits 80/443 from anywhere; proposed unless
    # preflight found its copies impossible (a quota, an all-traffic rule).
    lockdown_offered: bool = True
    lockdown_possible: bool = True
    old_ttl: int = 0  # seconds: the site's A record's TTL, which the lockdown waits out
    notes: tuple[str, ...] = ()

    def matcher_for(self, path: str) -> str:
        """The matcher to plan with for the path the user chose."""
        if self.health_check_matcher and path == self.checked_path:
            return self.health_check_matcher
        return PlanOptions().health_check_matcher


def propose(aws: Aws, snap: Snapshot, findings: Sequence[Finding],
            checked: PlanOptions) -> Proposals:
    """Proposals from preflight findings made with the options `checked`."""
    raw = from_findings(list(findings))
    path = raw.get("health_check_path") or checked.health_check_path
    matcher = raw.get("health_check_matcher")
    names: list[str] = []
    for raw_name in raw.get("sans", []):
        try:
            name = normalize_domain(raw_name)
        except MigratorError:
            continue
        if name not in snap.names and name not in names:
            names.append(name)
    offered: list[str] = []
    served: list[str] = []
    notes: list[str] = []
    for name in names[:MAX_PROPOSED_NAMES]:
        verdict = classify(aws, snap, name)
        if verdict in (SERVED, UNUSED):
            offered.append(name)
            if verdict == SERVED:
                served.append(name)
        else:
            notes.append(f"{name} is not offered for the certificate: {verdict}")
    if path != checked.health_check_path:
        notes.append(f"the health check path {checked.health_check_path} would not be "
                     f"healthy; {path} is proposed")
    elif matcher and matcher != checked.health_check_matcher:
        notes.append(f"the health check of {path} will accept {matcher}")
    idle = with_idle_choice(PlanOptions(), findings)
    return Proposals(sans=tuple(offered), sans_checked=tuple(served), health_check_path=path,
                     health_check_matcher=matcher, checked_path=checked.health_check_path,
                     idle_timeout_seconds=idle.idle_timeout_seconds,
                     origin_idle_seconds=idle.origin_idle_seconds,
                     lockdown_offered=any(has_public_web(g.ingress)
                                          for g in snap.security_groups),
                     lockdown_possible=not lockdown_refusals(list(findings)),
                     old_ttl=max((r.ttl or 0 for r in snap.records_of(snap.domain, "A")),
                                 default=0),
                     notes=tuple(notes))


def classify(aws: Aws, snap: Snapshot, name: str) -> str:
    """SERVED (the site answers for name), UNUSED (no record uses it; adding it is harmless),
    or why adding name would make the plan refuse."""
    zone = snap.zone.name.rstrip(".")
    if name != zone and not name.endswith("." + zone):
        return f"it is outside the hosted zone {zone}"
    records = [RecordSet.from_route53(r) for r in aws.route53.records_named(snap.zone.id, name)]
    if any(r.type == "AAAA" for r in records):
        return "it has an AAAA record"
    a_records = [r for r in records if r.type == "A" and not r.alias]
    if a_records:
        record = a_records[0]
        if record.set_identifier or record.values != (snap.instance.public_ip,):
            return f"its A record does not point at the instance {snap.instance.public_ip}"
        return SERVED
    web = [r for r in records if r.type in ("A", "CNAME")]
    if not web:
        return UNUSED
    planned = {n.rstrip(".") for n in snap.names}
    for record in web:
        target = (record.values[0] if record.type == "CNAME" and record.values
                  else str((record.alias or {}).get("DNSName", "")))
        if target.rstrip(".").lower() in planned:
            return SERVED
    return "it points elsewhere"


# --- load balancers the site could join ----------------------------------------------------------

@dataclass(frozen=True)
class JoinCandidate:
    """A load balancer of the instance's VPC and whether it can take the site: as it is
    (refusal None), only once the plan adds a subnet of the instance's zone to it (add_subnet,
    `--add-subnet`), or not at all (refusal says why, as `plan --load-balancer` would)."""

    load_balancer: LoadBalancer
    refusal: str | None = None
    hint: str = ""
    add_subnet: bool = False
    monthly_saving: float | None = None  # USD a month the site saves by joining it

    @property
    def usable(self) -> bool:
        """It can take the site (with add_subnet: once a subnet is added)."""
        return self.refusal is None

    @property
    def certificates_used(self) -> int:
        return len(self.load_balancer.certificate_arns)

    @property
    def rules_used(self) -> int:
        return len(self.load_balancer.rules) + self.load_balancer.other_rules

    @property
    def allows_old_tls(self) -> bool:
        """Its HTTPS listener's TLS policy still negotiates TLS 1.0 or 1.1 (reported only)."""
        return allows_old_tls(self.load_balancer.ssl_policy)


@dataclass(frozen=True)
class JoinCandidates:
    """The internet-facing application load balancers of the site's VPC, those that can take
    it as they are first, then those that need a subnet, then the others; problem: why they
    could not be listed, when they could not (the listing never stops inspect or the
    wizard)."""

    vpc_id: str
    domain: str
    candidates: tuple[JoinCandidate, ...] = ()
    problem: str | None = None

    @property
    def usable(self) -> tuple[JoinCandidate, ...]:
        """Those that can take the site, as they are first."""
        return tuple(c for c in self.candidates if c.usable)


def join_candidates(aws: Aws, snap: Snapshot) -> JoinCandidates:
    """The load balancers of snap's instance's VPC that could take the site (read-only: the
    load balancers, their listeners, certificates, rules and tags, and the account's quotas)."""
    vpc_id = snap.instance.vpc_id
    try:
        found = load_balancers_in_vpc(aws, vpc_id)
    except MigratorError as exc:
        return JoinCandidates(vpc_id, snap.domain, problem=exc.message)
    return JoinCandidates(vpc_id, snap.domain, ranked(snap, found))


def ranked(snap: Snapshot, lbs: Sequence[LoadBalancer]) -> tuple[JoinCandidate, ...]:
    """Each load balancer judged; those that can take the site as they are first (by name),
    then those that need a subnet, then the others."""
    return tuple(sorted((judge(snap, lb) for lb in lbs),
                        key=lambda c: (not c.usable, c.add_subnet, c.load_balancer.name)))


def judge(snap: Snapshot, lb: LoadBalancer) -> JoinCandidate:
    """Whether lb can take snap's site: preflight's refusals (shared_planner.refuse_to_join),
    first as it is, then with the instance's zone's subnet added."""
    saving = monthly_saving(snap.region, len(lb.availability_zones))
    try:
        refuse_to_join(snap, lb, add_subnet=False)
    except PreflightError as exc:
        as_it_is = exc
    else:
        return JoinCandidate(lb, monthly_saving=saving)
    if snap.instance.availability_zone not in lb.availability_zones:
        try:
            refuse_to_join(snap, lb, add_subnet=True)
        except PreflightError as exc:
            return JoinCandidate(lb, refusal=exc.message, hint=exc.hint or "",
                                 monthly_saving=saving)
        return JoinCandidate(lb, add_subnet=True, monthly_saving=saving)
    return JoinCandidate(lb, refusal=as_it_is.message, hint=as_it_is.hint or "",
                         monthly_saving=saving)
