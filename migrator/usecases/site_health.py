"""The health of a migrated site (`migrator status PLAN`): what the migration left behind, asked of
AWS and DNS, read-only, so that it can run from cron or CI (exit 1 when something needs
attention).

* the certificate: ISSUED, days to expiry, RenewalEligibility, in use by the load balancer, and
  every validation CNAME still in Route53 with ACM's value and answered by DNS: ACM renews a
  DNS-validated certificate only while its CNAMEs resolve, so deleting them is the classic way
  to lose automatic renewal;
* the load balancer: its state, each target's health with AWS's reason code and description,
  the HTTPS listener (the plan's certificate on it) and its TLS policy against the newest one
  AWS recommends;
* DNS: every switched name still an alias to this load balancer in Route53 (a change made
  behind migrator's back is reported with what the record is now);
* the lockdown: done, not yet possible (until when), possible now but not done, or not planned.

A plan not applied, rolled back, or not switched yet has nothing to check: said so, exit 0.
Each result is a CheckResult (level fail = needs attention; warn and info do not fail).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator.checks.result import CheckResult, Level
from migrator.core import actions, planfile
from migrator.core.actions import LOAD_BALANCER, TARGET_GROUP, sharing
from migrator.core.executor import reverted_sites
from migrator.core.plan import (
    DONE,
    RECOMMENDED_TLS_POLICY,
    REVERTED,
    REVERTING,
    SKIPPED,
    Plan,
    resolve,
)
from migrator.core.planner import reusable_certificate
from migrator.core.sites import site_views
from migrator.core.status import clients_moved_at, load_balancer_outputs, phase
from migrator.errors import AwsNotFoundError, MigratorError, PlanMismatchError
from migrator.net.dns import Dns, dns_skip_reason
from migrator.usecases import validation
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.origin_advice import OriginAdvice, origin_advice

# ACM starts renewing 60 days before expiry; a certificate this close to it was not renewed.
EXPIRY_ATTENTION_DAYS = 30

CERTIFICATE, BALANCER, DNS, LOCKDOWN = "certificate", "load balancer", "dns", "lockdown"
AREAS = (CERTIFICATE, BALANCER, DNS, LOCKDOWN)


@dataclass(frozen=True)
class HealthRequest:
    path: Path
    account: Account = field(default_factory=Account)  # region None: the plan's


class NeedsAttention(MigratorError):
    """`status`: a health check failed (exit 1)."""


@dataclass(frozen=True)
class SiteHealth:
    plan: Plan
    checked: bool
    reason: str  # why nothing was checked, when checked is False
    checks: tuple[CheckResult, ...] = ()
    advice: OriginAdvice | None = None

    @property
    def attention(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.failed)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "reason": self.reason or None,
                "ok": not self.attention, "attention": len(self.attention),
                "checks": [{"area": c.category, "check": c.check, "target": c.target,
                            "level": c.level, "message": c.message, "hint": c.hint}
                           for c in self.checks],
                "origin_advice": self.advice.to_dict() if self.advice else None}

    def raise_if_attention(self, path: Path) -> None:
        failed = self.attention
        if not failed:
            return
        first = failed[0]
        more = f" (and {len(failed) - 1} more above)" if len(failed) > 1 else ""
        raise NeedsAttention(
            f"{self.plan.domain} needs attention: {first.category} {first.check}: "
            f"{first.message}{more}",
            hint=first.hint or f"see `migrator status {path}`")


def site_health(request: HealthRequest, *, connect: Connect, variables: Mapping[str, str],
                now: datetime | None = None) -> SiteHealth:
    """The plan's site, checked read-only (see the module); nothing to check unless its DNS
    switch is done and no rollback began. For a plan for several sites: its first site's
    (sites_health gives each site's)."""
    return sites_health(request, connect=connect, variables=variables, now=now)[0]


def sites_health(request: HealthRequest, *, connect: Connect, variables: Mapping[str, str],
                 now: datetime | None = None) -> tuple[SiteHealth, ...]:
    """The health of every site of the plan, in the plan's order: each site's view
    (sites.site_view) checked as a plan for that one site. A site put back alone after
    failed checks, or not switched yet, has nothing to check; AWS is asked only when a site
    has something to check."""
    plan = planfile.load(request.path)
    reverted = reverted_sites(plan)
    views = site_views(plan)
    why_not = {view.domain: (f"{view.domain} was reverted alone after failed checks "
                             f"({reverted[view.domain]}): nothing to check"
                             if view.domain in reverted else
                             _nothing_to_check(view, view.domain if len(views) > 1
                                               else "the plan"))
               for view in views}
    if all(why_not.values()):
        return tuple(SiteHealth(view, False, why_not[view.domain]) for view in views)
    net = validation.network_config(variables)
    account = Account(request.account.profile,
                      request.account.region or plan.snapshot.region)
    aws = connect(account)
    _check_account(aws, plan)
    at = now or datetime.now(UTC)
    found = []
    for view in views:
        if why_not[view.domain]:
            found.append(SiteHealth(view, False, why_not[view.domain]))
            continue
        skipped = dns_skip_reason(net, view.snapshot.instance.public_ip)
        site = _Site(aws, view, None if skipped else Dns(net), skipped, at, request.path)
        checks = [*site.certificate(), *site.load_balancer(), *site.records(),
                  *site.lockdown()]
        found.append(SiteHealth(view, True, "", tuple(checks), origin_advice(view)))
    return tuple(found)


def _nothing_to_check(plan: Plan, subject: str = "the plan") -> str:
    statuses = {st.status for st in plan.states.values()}
    if statuses & {REVERTED, REVERTING}:
        return f"{subject} is {phase(plan)}: nothing to check"
    switch = actions.dns_switch(plan.steps)
    if switch is None or plan.state(switch.id).status not in (DONE, SKIPPED):
        return (f"{subject} is {phase(plan)} and its DNS switch is not done: nothing to check "
                "yet")
    return ""


def _check_account(aws: Any, plan: Plan) -> None:
    snap = plan.snapshot
    if aws.region != snap.region:
        raise PlanMismatchError(
            f"the plan is for region {snap.region}, the credentials use {aws.region}",
            hint=f"pass --region {snap.region}")
    account = aws.sts.account_id()
    if account != snap.account:
        raise PlanMismatchError(
            f"the plan is for account {snap.account}, the credentials are for {account}",
            hint="use the profile of the account the plan was made for")


def _result(area: str, check: str, level: Level, message: str, hint: str = "",
            target: str = "") -> CheckResult:
    return CheckResult(check, level, message, hint=hint, target=target, category=area)


class _Site:
    """The plan's resources as its journal names them, and the checks on each."""

    def __init__(self, aws: Any, plan: Plan, dns: Dns | None, dns_skipped: str | None,
                 now: datetime, path: Path) -> None:
        self.aws, self.plan, self.dns, self.dns_skipped = aws, plan, dns, dns_skipped
        self.now, self.path = now, path
        outputs = plan.outputs()
        created = {r.kind: s.id for s in plan.steps
                   for r in actions.named_resources(s, plan.snapshot)}
        # The load balancer the plan created, or the one it joined (as planned).
        self.lb = (outputs.get(created[LOAD_BALANCER], {}) if LOAD_BALANCER in created
                   else load_balancer_outputs(plan))
        self.joined = plan.snapshot.load_balancer
        self.tg = outputs.get(created.get(TARGET_GROUP, ""), {})
        # The site's certificate: added to the HTTPS listener by SNI (a site on a shared or a
        # joined load balancer), or the default of the listener the plan creates, or, for a
        # site joining a listener that had it already, the ISSUED one the plan reuses.
        sni = next((s for s in plan.steps
                    if actions.ACTIONS.get(s.action) is sharing.ADD_LISTENER_CERTIFICATE), None)
        https = next((s for s in plan.steps if "Certificates" in s.params and
                      "SslPolicy" in s.params), None)
        params = resolve(https.params, outputs, lenient=True) if https else {}
        self.by_sni = sni is not None or (https is None and self.joined is not None)
        self.certificate_arn: str | None
        if sni is not None:
            self.certificate_arn = resolve(sni.params, outputs, lenient=True).get(
                "CertificateArn")
        elif https is not None:
            self.certificate_arn = next(
                (c.get("CertificateArn") for c in params.get("Certificates", [])), None)
        else:
            reused = reusable_certificate(plan.snapshot)
            self.certificate_arn = reused.arn if reused is not None else None
        self.planned_policy: str | None = params.get("SslPolicy")
        self.listeners: list[dict[str, Any]] | None = None
        rule = next((s for s in plan.steps if actions.ACTIONS.get(s.action)
                     is sharing.CREATE_RULE and s.id == "site_rule"), None)
        self.rule = (rule, outputs.get(rule.id, {})) if rule is not None else None

    def _guard(self, area: str, what: str, run: Callable[[], list[CheckResult]]
               ) -> list[CheckResult]:
        try:
            return run()
        except MigratorError as exc:
            return [_result(area, what, "fail", f"could not check: {exc.message}",
                            hint=exc.hint or "")]

    # --- the certificate --------------------------------------------------------------------

    def certificate(self) -> list[CheckResult]:
        return self._guard(CERTIFICATE, "certificate", self._certificate)

    def _certificate(self) -> list[CheckResult]:
        arn = self.certificate_arn
        if not arn:
            return [_result(CERTIFICATE, "certificate", "fail",
                            "the plan's journal names no certificate for the HTTPS listener",
                            hint=f"run `migrator apply {self.path}` to finish the plan")]
        try:
            cert = self.aws.acm.describe(arn)
        except AwsNotFoundError:
            return [_result(CERTIFICATE, "status", "fail", f"certificate {arn} no longer exists",
                            hint="the HTTPS listener cannot serve without it: roll back, or "
                                 "request and attach a new certificate", target=arn)]
        short = arn.rsplit("/", 1)[-1]
        status = cert.get("Status", "?")
        found = [_result(CERTIFICATE, "status", "pass" if status == "ISSUED" else "fail",
                         f"{status}" + (f" ({cert['FailureReason']})"
                                        if cert.get("FailureReason") else ""),
                         hint="" if status == "ISSUED" else
                         "the listener needs an ISSUED certificate: see the ACM console",
                         target=short)]
        found.append(self._expiry(cert, short))
        eligibility = cert.get("RenewalEligibility", "?")
        found.append(_result(
            CERTIFICATE, "renewal", "pass" if eligibility == "ELIGIBLE" else "fail",
            f"RenewalEligibility {eligibility}" + (
                ": ACM renews it automatically while it is in use and its validation CNAMEs "
                "resolve" if eligibility == "ELIGIBLE" else
                ": ACM will not renew it (a certificate is eligible while a load balancer "
                "uses it)"),
            hint="" if eligibility == "ELIGIBLE" else "keep it on the HTTPS listener",
            target=short))
        in_use = cert.get("InUseBy", [])
        lb_arn = self.lb.get("arn")
        used = bool(lb_arn) and lb_arn in in_use
        found.append(_result(
            CERTIFICATE, "in use", "pass" if used else "fail",
            "by the load balancer" if used else
            "not by this load balancer (InUseBy: " + (", ".join(in_use) or "nothing") + ")",
            hint="" if used else "put it back on the HTTPS listener", target=short))
        found += self._validation_records(cert)
        return found

    def _expiry(self, cert: dict[str, Any], short: str) -> CheckResult:
        not_after = cert.get("NotAfter")
        if not isinstance(not_after, datetime):
            return _result(CERTIFICATE, "expiry", "info", "ACM gives no expiry date yet",
                           target=short)
        days = (not_after.astimezone(UTC) - self.now).days
        level: Level = "fail" if days < EXPIRY_ATTENTION_DAYS else "pass"
        message = (f"expires {not_after.astimezone(UTC):%Y-%m-%d}, in {days} days; ACM renews "
                   "from 60 days before")
        hint = ("ACM has not renewed it: check its renewal status and validation CNAMEs in the "
                "ACM console") if level == "fail" else ""
        return _result(CERTIFICATE, "expiry", level, message, hint=hint, target=short)

    def _validation_records(self, cert: dict[str, Any]) -> list[CheckResult]:
        records = {o["ResourceRecord"]["Name"].lower(): o["ResourceRecord"]
                   for o in cert.get("DomainValidationOptions", []) if "ResourceRecord" in o}
        zone = self.plan.snapshot.zone.id
        found = []
        for name, record in sorted(records.items()):
            value = record["Value"].rstrip(".").lower()
            live = [r for r in self.aws.route53.records_named(zone, record["Name"])
                    if r["Type"] == "CNAME" and not r.get("SetIdentifier")]
            values = [v["Value"].rstrip(".").lower()
                      for r in live for v in r.get("ResourceRecords", [])]
            target = name.rstrip(".")
            why = ("ACM renews the certificate automatically only while this CNAME resolves: "
                   "deleting it is the classic way to lose automatic renewal")
            recreate = f"recreate it: {record['Name']} CNAME {record['Value']}"
            if value not in values:
                now_is = f" (it is now CNAME {', '.join(values)})" if values else ""
                found.append(_result(CERTIFICATE, "validation CNAME", "fail",
                                     f"missing from Route53{now_is}; {why}", hint=recreate,
                                     target=target))
                continue
            found.append(self._validation_answered(record, value, target, why))
        return found

    def _validation_answered(self, record: dict[str, str], value: str, target: str,
                             why: str) -> CheckResult:
        if self.dns is None:
            return _result(CERTIFICATE, "validation CNAME", "pass",
                           f"in Route53 with ACM's value (DNS not asked: {self.dns_skipped})",
                           target=target)
        answer = self.dns.query(record["Name"], "CNAME")
        answered = [v.rstrip(".").lower() for v in answer.values]
        if value in answered:
            return _result(CERTIFICATE, "validation CNAME", "pass",
                           "in Route53 with ACM's value, answered by DNS", target=target)
        got = answer.error or ("NXDOMAIN" if answer.nxdomain else
                               ", ".join(answered) or "no CNAME")
        return _result(CERTIFICATE, "validation CNAME", "fail",
                       f"in Route53 but DNS answers {got}; {why}",
                       hint="check the zone's delegation (its NS records at the registrar)",
                       target=target)

    # --- the load balancer ------------------------------------------------------------------

    def load_balancer(self) -> list[CheckResult]:
        return self._guard(BALANCER, "load balancer", self._load_balancer)

    def _load_balancer(self) -> list[CheckResult]:
        arn = self.lb.get("arn")
        live = self.aws.elbv2.load_balancer(arn) if arn else None
        if arn is None or live is None:
            return [_result(BALANCER, "state", "fail",
                            f"load balancer {arn or '(not in the journal)'} does not exist",
                            hint="the site is down if DNS still points at it: roll back")]
        name = live.get("LoadBalancerName", arn)
        state = (live.get("State") or {}).get("Code", "?")
        reason = (live.get("State") or {}).get("Reason")
        found = [_result(BALANCER, "state", "pass" if state == "active" else "fail",
                         state + (f" ({reason})" if reason else ""),
                         hint="" if state == "active" else "see the load balancer in the EC2 "
                                                           "console", target=name)]
        found += self._targets()
        found += self._listener(arn, name)
        return found

    def _targets(self) -> list[CheckResult]:
        arn = self.tg.get("arn")
        if not arn:
            return [_result(BALANCER, "targets", "fail", "the journal names no target group")]
        found = []
        for described in self.aws.elbv2.target_health(arn):
            target = described.get("Target", {})
            health = described.get("TargetHealth", {})
            state = health.get("State", "?")
            detail = ", ".join(x for x in (health.get("Reason"), health.get("Description")) if x)
            found.append(_result(
                BALANCER, "target", "pass" if state == "healthy" else "fail",
                state + (f": {detail}" if detail else ""),
                hint="" if state == "healthy" else
                "check the web server and the health check path on the instance",
                target=f"{target.get('Id', '?')}:{target.get('Port', '?')}"))
        if not found:
            found.append(_result(BALANCER, "target", "fail",
                                 "no target is registered in the target group",
                                 hint="register the instance on 443 again"))
        return found

    def _listener(self, lb_arn: str, name: str) -> list[CheckResult]:
        https = [x for x in self.aws.elbv2.listeners(lb_arn) if x.get("Protocol") == "HTTPS"]
        if not https:
            return [_result(BALANCER, "HTTPS listener", "fail", "the load balancer has none",
                            hint=f"roll back and apply again: `migrator rollback {self.path}`",
                            target=name)]
        listener = https[0]
        where = f"{name} :{listener.get('Port', 443)}"
        certificates = [c.get("CertificateArn") for c in listener.get("Certificates", [])]
        found = []
        if self.certificate_arn and self.by_sni:
            found += self._sni_certificate(listener, where)
        elif self.certificate_arn and self.certificate_arn not in certificates:
            found.append(_result(BALANCER, "HTTPS listener", "fail",
                                 "serves another certificate than the plan's: "
                                 + ", ".join(c or "?" for c in certificates),
                                 hint="put the plan's certificate back on it", target=where))
        if self.rule is not None:
            found += self._rule(listener)
        policy = listener.get("SslPolicy", "?")
        if policy == RECOMMENDED_TLS_POLICY:
            found.append(_result(BALANCER, "TLS policy", "pass",
                                 f"{policy}, the newest AWS recommends", target=where))
        else:
            hint = ("when your clients allow it, set that on the HTTPS listener (aws elbv2 "
                    "modify-listener --ssl-policy)")
            if self.joined is not None:
                hint += "; the plan does not change it: every site on the listener uses it"
            found.append(_result(
                BALANCER, "TLS policy", "warn",
                f"{policy}; the newest AWS recommends is {RECOMMENDED_TLS_POLICY}",
                hint=hint, target=where))
        return found

    def _sni_certificate(self, listener: dict[str, Any], where: str) -> list[CheckResult]:
        """A site's certificate in the listener's certificate list, presented by SNI."""
        arn = self.certificate_arn
        assert arn is not None
        listed = [c.get("CertificateArn")
                  for c in self.aws.elbv2.listener_certificates(listener["ListenerArn"])]
        names = ", ".join(self.plan.snapshot.names)
        if arn in listed:
            return [_result(BALANCER, "SNI certificate", "pass",
                            f"the plan's certificate is on the listener, presented to clients "
                            f"asking for {names}", target=where)]
        return [_result(BALANCER, "SNI certificate", "fail",
                        f"the plan's certificate {arn.rsplit('/', 1)[-1]} is no longer on the "
                        f"listener: clients asking for {names} get another certificate",
                        hint=f"add it back: aws elbv2 add-listener-certificates --listener-arn "
                             f"{listener['ListenerArn']} --certificates CertificateArn={arn}",
                        target=where)]

    def _rule(self, listener: dict[str, Any]) -> list[CheckResult]:
        """The site's host-header rule on the listener it was put on."""
        assert self.rule is not None
        step, outputs = self.rule
        hosts = list(step.params.get("Hosts", []))
        target = ", ".join(hosts)
        listener_arn = resolve(step.params, self.plan.outputs(), lenient=True).get(
            "ListenerArn") or listener["ListenerArn"]
        rules = self.aws.elbv2.rules(listener_arn)
        ours = next((r for r in rules if r.get("RuleArn") == outputs.get("arn")), None)
        if ours is None:
            return [_result(BALANCER, "host rule", "fail",
                            "the rule routing the site's names to its target group is gone: "
                            "the load balancer answers them with its default action",
                            hint=f"roll back and apply again: `migrator rollback {self.path}`",
                            target=target)]
        forwards = [a.get("TargetGroupArn") for a in ours.get("Actions", [])
                    if a.get("Type") == "forward"]
        if self.tg.get("arn") and self.tg["arn"] not in forwards:
            return [_result(BALANCER, "host rule", "fail",
                            f"rule {ours.get('Priority')} no longer forwards to the site's "
                            "target group", hint="find out who changed it", target=target)]
        return [_result(BALANCER, "host rule", "pass",
                        f"rule {ours.get('Priority')} forwards them to the site's target group",
                        target=target)]

    # --- DNS --------------------------------------------------------------------------------

    def records(self) -> list[CheckResult]:
        return self._guard(DNS, "records", self._records)

    def _records(self) -> list[CheckResult]:
        switch = actions.dns_switch(self.plan.steps)
        assert switch is not None  # _nothing_to_check made sure
        zone = self.plan.snapshot.zone.id
        ours = (self.lb.get("dns_name") or "").rstrip(".").lower().removeprefix("dualstack.")
        found = []
        for original in switch.params.get("Originals", []):
            name, rtype = original["Name"], original["Type"]
            live = [r for r in self.aws.route53.records_named(zone, name)
                    if r["Type"] == rtype]
            target = f"{name.rstrip('.')} {rtype}"
            aliases = [(r.get("AliasTarget") or {}).get("DNSName", "").rstrip(".").lower()
                       .removeprefix("dualstack.") for r in live]
            if len(live) == 1 and not live[0].get("SetIdentifier") and aliases == [ours]:
                found.append(_result(DNS, "record", "pass",
                                     "an alias to the load balancer", target=target))
                continue
            found.append(_result(
                DNS, "record", "fail",
                f"changed behind migrator's back: now {_describe(live)}, not an alias to "
                f"{ours}", hint="find out who changed it; `migrator rollback` will not overwrite "
                                "it", target=target))
        return found

    # --- the lockdown -----------------------------------------------------------------------

    def lockdown(self) -> list[CheckResult]:
        steps = actions.lockdown_steps(self.plan.steps)
        if not steps:
            return [_result(LOCKDOWN, "lockdown", "info",
                            "not planned: the instance still admits web traffic from anywhere",
                            hint="re-plan without --no-lockdown to admit only the load "
                                 "balancer")]
        states = [self.plan.state(s.id) for s in steps]
        if all(st.status in (DONE, SKIPPED) for st in states):
            at = max((st.finished_at or "" for st in states), default="")
            return [_result(LOCKDOWN, "lockdown", "pass",
                            "done" + (f" at {at[:19]}Z" if at else "")
                            + ": the instance admits web traffic from the load balancer only")]
        switch = actions.dns_switch(self.plan.steps)
        moved = clients_moved_at(self.plan.state(switch.id).outputs) if switch else None
        moment = datetime.strptime(moved, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) \
            if moved else None
        if moment is not None and moment > self.now:
            return [_result(LOCKDOWN, "lockdown", "info",
                            f"pending: possible from {moved}, once no resolver can still hold "
                            "the old address",
                            hint=f"then run `migrator apply {self.path}`")]
        return [_result(LOCKDOWN, "lockdown", "fail",
                        "possible now and not done: the instance still admits web traffic from "
                        "anywhere", hint=f"run `migrator apply {self.path}`")]


def _describe(records: list[dict[str, Any]]) -> str:
    if not records:
        return "gone"
    parts = []
    for r in records:
        weight = f" (set {r['SetIdentifier']})" if r.get("SetIdentifier") else ""
        if r.get("AliasTarget"):
            parts.append(f"an alias to {r['AliasTarget'].get('DNSName', '?').rstrip('.')}"
                         + weight)
        else:
            values = ", ".join(v["Value"] for v in r.get("ResourceRecords", []))
            parts.append(f"{values} TTL {r.get('TTL')}{weight}")
    return "; ".join(parts)
