"""What each plan action does: one function per action name, forward and inverse.

Every forward action is safe to run again (it finds and adopts what an interrupted run created,
by name and the plan's tag) and every inverse tolerates a resource that is already gone, so
apply can resume and rollback can run from any point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from migrator.core.inspector import instance_interfaces, normalize_permissions, web_interface
from migrator.core.lockdown import copy_description, without_public_web
from migrator.core.plan import Plan, StepState, now
from migrator.core.planner import TAG_KEY
from migrator.core.retry import (
    SYSTEM_CLOCK,
    VISIBILITY_DEADLINE,
    Clock,
    Retry,
    not_yet_visible,
    poll,
    still_in_use,
)
from migrator.errors import (
    AwsConflictError,
    AwsError,
    AwsNotFoundError,
    MigratorError,
    StalePlanError,
    StepDeferred,
    VerificationError,
    WaitTimeoutError,
)

T = TypeVar("T")
# A create refused because the name is taken: by an interrupted run of this plan, whose resource
# a lookup by name did not see yet, or by someone else (the adoption check tells which).
DUPLICATE = frozenset({"DuplicateTargetGroupName", "DuplicateLoadBalancerName",
                       "DuplicateListener", "InvalidGroup.Duplicate"})


@dataclass
class Context:
    """What an action needs: AWS, the plan, the step's journal entry, and run options."""

    aws: Any
    plan: Plan
    state: StepState
    save: Callable[[], None]
    verifier: Any = None
    dns_drain_seconds: float = 60.0
    delete_timeout: float = 900.0
    wait_for_ttl: bool = False
    notes: list[str] = field(default_factory=list)
    clock: Clock = SYSTEM_CLOCK
    # For an undo: how long "not found" may still mean "created a moment ago, not yet visible"
    # (0 when the resource is old enough, or this undo already ran once and may have deleted it).
    fresh_seconds: float = 0.0

    def observe(self, **facts: Any) -> None:
        """Journal what was seen before acting (the undo record), then save the plan."""
        self.state.observed.update(facts)
        self.save()

    def mine(self, tags: dict[str, str]) -> bool:
        return tags.get(TAG_KEY) == self.plan.id

    def until_visible(self, call: Callable[[], T], what: str) -> T:
        """Make a call that names resources this plan just created: AWS's eventual consistency
        may answer "not found" for them for a while, which is retried, and said."""
        waits: list[float] = []
        result = Retry(what=f"{what} never became visible", retry_on=not_yet_visible,
                       deadline=VISIBILITY_DEADLINE, clock=self.clock,
                       hint="check it still exists, then run apply again",
                       on_wait=lambda _exc, delay: waits.append(delay))(call)
        if waits:
            self.notes.append(f"waited {sum(waits):.1f} s for AWS to make {what} visible "
                              "(eventual consistency)")
        return result

    def create_or_adopt(self, find: Callable[[], T | None], create: Callable[[], T],
                        what: str) -> T:
        """Create something unless an earlier, interrupted run did. That run's resource may
        not be visible to `find` yet (AWS's reads are eventually consistent too); then the
        create answers "duplicate", and the resource is waited for and adopted."""
        found = find()
        if found is not None:
            return found
        try:
            return create()
        except AwsError as exc:
            if exc.code not in DUPLICATE:
                raise
        return poll(find, what=f"{what}, which AWS says exists, to be visible",
                    deadline=VISIBILITY_DEADLINE, clock=self.clock,
                    hint="check who created it; run apply again")

    def delete(self, call: Callable[[], Any], what: str) -> None:
        """Delete something: AWS refuses while a dependant lets go (a deleted load balancer's
        interfaces hold its group for minutes; a certificate stays in use after its listener),
        which is retried; "not found" means it is already gone, unless the plan created it a
        moment ago and it may just not be visible yet."""
        start = self.clock.monotonic()

        def retry_on(exc: Exception) -> bool:
            if isinstance(exc, AwsNotFoundError):
                return self.clock.monotonic() - start < self.fresh_seconds
            return still_in_use(exc)

        with contextlib.suppress(AwsNotFoundError):
            Retry(what=f"{what}: still in use", retry_on=retry_on,
                  deadline=self.delete_timeout, clock=self.clock,
                  hint="run rollback again later")(call)


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]
FORWARD: dict[str, Handler] = {}
INVERSE: dict[str, Handler] = {}


def forward(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        FORWARD[name] = func
        return func
    return register


def inverse(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        INVERSE[name] = func
        return func
    return register


# --- ACM ---------------------------------------------------------------------------------------

@forward("acm.request_certificate")
def request_certificate(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    existing = _my_certificate(ctx, p["DomainName"])
    if existing:
        return {"arn": existing}
    return {"arn": ctx.aws.acm.request_certificate(**p)}


def _my_certificate(ctx: Context, domain: str) -> str | None:
    statuses = ("ISSUED", "PENDING_VALIDATION", "FAILED", "VALIDATION_TIMED_OUT", "INACTIVE")
    for summary in ctx.aws.acm.list_summaries(statuses):
        if summary["DomainName"] == domain and ctx.mine(ctx.aws.acm.tags(
                summary["CertificateArn"])):
            return summary["CertificateArn"]
    return None


@inverse("acm.delete_certificate")
def delete_certificate(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("CertificateArn") or _my_certificate(ctx, p["DomainName"])
    if arn:
        ctx.delete(lambda: ctx.aws.acm.delete(arn), f"delete certificate {arn}")
    return {}


@forward("acm.wait_certificate_issued")
def wait_certificate_issued(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.acm.describe(p["CertificateArn"]),
                      f"certificate {p['CertificateArn']}")
    ctx.aws.acm.wait_issued(p["CertificateArn"], timeout=p["TimeoutSeconds"])
    return {"issued_at": now()}


# --- Route53: validation records ---------------------------------------------------------------

def validation_records(ctx: Context, arn: str, timeout: float = 300) -> list[dict[str, str]]:
    """The certificate's validation CNAMEs; ACM fills them in a few seconds after the request
    (and may not even know a certificate requested a moment ago)."""

    def ready() -> list[dict[str, str]] | None:
        try:
            options = ctx.aws.acm.describe(arn).get("DomainValidationOptions", [])
        except AwsNotFoundError:
            return None
        records = [o["ResourceRecord"] for o in options if "ResourceRecord" in o]
        if not options or len(records) != len(options):
            return None
        unique = {r["Name"].lower(): {"Name": r["Name"], "Type": r["Type"], "Value": r["Value"]}
                  for r in records}
        return sorted(unique.values(), key=lambda r: r["Name"])

    return poll(ready, what=f"ACM's validation records for {arn}", deadline=timeout,
                clock=ctx.clock, hint="run apply again")


def _current(ctx: Context, zone: str, name: str, rtype: str) -> dict[str, Any] | None:
    for record in ctx.aws.route53.records_named(zone, name):
        if record["Type"] == rtype and not record.get("SetIdentifier"):
            return record
    return None


def _cname(record: dict[str, str], ttl: int = 300) -> dict[str, Any]:
    return {"Name": record["Name"], "Type": "CNAME", "TTL": ttl,
            "ResourceRecords": [{"Value": record["Value"]}]}


@forward("route53.create_validation_records")
def create_validation_records(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone = p["HostedZoneId"]
    wanted = validation_records(ctx, p["CertificateArn"])
    if "created" not in ctx.state.observed:
        # Decide once, before any change, which records are ours: ACM gives every certificate
        # for a name the same CNAME, so one that already exists belongs to someone else.
        created, preexisting = [], []
        for record in wanted:
            live = _current(ctx, zone, record["Name"], "CNAME")
            if live is None:
                created.append(record)
            elif [r["Value"].rstrip(".") for r in live.get("ResourceRecords", [])] == [
                    record["Value"].rstrip(".")]:
                preexisting.append(record)
            else:
                raise StalePlanError(
                    f"{record['Name']} already exists with another value",
                    hint="remove that stale validation record, then run apply again")
        ctx.observe(created=created, preexisting=preexisting)
    created = ctx.state.observed["created"]
    missing = [r for r in created if _current(ctx, zone, r["Name"], "CNAME") is None]
    if missing:
        # No wait for INSYNC: ACM keeps looking for the record by itself, and nothing else
        # depends on it, so the load balancer's steps go ahead meanwhile.
        ctx.aws.route53.change(
            zone, [{"Action": "CREATE", "ResourceRecordSet": _cname(r)} for r in missing],
            f"migrator {ctx.plan.id}: ACM validation")
    return {"created": created, "preexisting": ctx.state.observed["preexisting"]}


@inverse("route53.delete_validation_records")
def delete_validation_records(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone = p["HostedZoneId"]
    created = p.get("Created")
    if created is None:
        created = ctx.state.observed.get("created", [])
    still_used = _validation_names_of_other_certificates(ctx, p.get("CertificateArn"))
    changes = []
    for record in created:
        if _still_used(record["Name"], still_used):
            ctx.notes.append(f"kept {record['Name']}: another certificate still validates with it")
            continue
        live = _current(ctx, zone, record["Name"], "CNAME")
        if live and live.get("ResourceRecords") == [{"Value": record["Value"]}]:
            changes.append({"Action": "DELETE", "ResourceRecordSet": live})
    if changes:
        change_id = ctx.aws.route53.change(zone, changes,
                                           f"migrator {ctx.plan.id}: rollback validation")
        ctx.aws.route53.wait_insync(change_id, timeout=600)
    return {}


def _validation_names_of_other_certificates(ctx: Context, our_arn: str | None) -> set[str]:
    names = set(ctx.plan.snapshot.names)
    used: set[str] = set()
    statuses = ("ISSUED", "PENDING_VALIDATION", "INACTIVE", "EXPIRED", "FAILED")
    for summary in ctx.aws.acm.list_summaries(statuses):
        if summary["CertificateArn"] == our_arn:
            continue
        cert_names = set(summary.get("SubjectAlternativeNameSummaries")
                         or [summary["DomainName"]])
        if not cert_names & names:
            continue
        try:
            detail = ctx.aws.acm.describe(summary["CertificateArn"])
        except AwsNotFoundError:
            continue
        for option in detail.get("DomainValidationOptions", []):
            if "ResourceRecord" in option:
                used.add(option["ResourceRecord"]["Name"].lower())
            else:
                # Requested a moment ago: ACM has not said its record yet, but it will be the
                # one every certificate of this name gets. Keep whatever validates the name.
                used.add(_PENDING + option["DomainName"].lower().removeprefix("*.").rstrip("."))
    return used


_PENDING = "pending:"


def _still_used(record_name: str, used: set[str]) -> bool:
    """Whether a validation record ("_<hash>.NAME.") is one another certificate needs."""
    name = record_name.lower()
    return name in used or _PENDING + name.partition(".")[2].rstrip(".") in used


# --- ELBv2 -------------------------------------------------------------------------------------

def _adopted(ctx: Context, found: dict[str, Any] | None, arn_key: str, kind: str,
             name: str) -> dict[str, Any] | None:
    """What a lookup by name found, once it is known to be this plan's (refused otherwise)."""
    if found is not None:
        _adopt(ctx, found[arn_key], kind, name)
    return found


def _adopt(ctx: Context, arn: str, kind: str, name: str) -> None:
    if not ctx.mine(ctx.aws.elbv2.tags([arn]).get(arn, {})):
        raise StalePlanError(f"a {kind} named {name} already exists and is not this plan's",
                             hint="delete it or re-plan (a new plan picks new names)")


@forward("elbv2.create_target_group")
def create_target_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    group = ctx.create_or_adopt(
        lambda: _adopted(ctx, ctx.aws.elbv2.target_group_named(p["Name"]), "TargetGroupArn",
                         "target group", p["Name"]),
        lambda: ctx.aws.elbv2.create_target_group(**p), f"target group {p['Name']}")
    return {"arn": group["TargetGroupArn"]}


@inverse("elbv2.delete_target_group")
def delete_target_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("TargetGroupArn")
    if not arn:
        found = ctx.aws.elbv2.target_group_named(p["Name"])
        if not found:
            return {}
        _adopt(ctx, found["TargetGroupArn"], "target group", p["Name"])
        arn = found["TargetGroupArn"]
    ctx.delete(lambda: ctx.aws.elbv2.delete_target_group(arn), f"delete target group {p['Name']}")
    return {}


@forward("elbv2.register_targets")
def register_targets(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.elbv2.register_targets(p["TargetGroupArn"], p["Targets"]),
                      f"target group {p['TargetGroupArn']}")
    return {}


@inverse("elbv2.deregister_targets")
def deregister_targets(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("TargetGroupArn"):
        with contextlib.suppress(AwsNotFoundError):
            # Only what is still registered: a rollback killed after AWS deregistered the
            # instance must not fail on the rerun (DeregisterTargets answers InvalidTarget).
            # A draining target is deregistered already (AWS lists it while connections
            # drain, and refuses to deregister it again).
            registered = {h["Target"]["Id"]
                          for h in ctx.aws.elbv2.target_health(p["TargetGroupArn"])
                          if h.get("TargetHealth", {}).get("State") != "draining"}
            targets = [t for t in p["Targets"] if t["Id"] in registered]
            if targets:
                try:
                    ctx.aws.elbv2.deregister_targets(p["TargetGroupArn"], targets)
                except AwsError as exc:
                    if exc.code != "InvalidTarget":  # not registered (any more): done
                        raise
    return {}


@forward("elbv2.create_load_balancer")
def create_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    found = ctx.create_or_adopt(
        lambda: _adopted(ctx, ctx.aws.elbv2.load_balancer_named(p["Name"]), "LoadBalancerArn",
                         "load balancer", p["Name"]),
        lambda: ctx.until_visible(lambda: ctx.aws.elbv2.create_load_balancer(**p),
                                  f"security groups {', '.join(p['SecurityGroups'])}"),
        f"load balancer {p['Name']}")
    return {"arn": found["LoadBalancerArn"], "dns_name": found["DNSName"],
            "zone_id": found["CanonicalHostedZoneId"]}


@inverse("elbv2.delete_load_balancer")
def delete_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("LoadBalancerArn")
    if not arn:
        found = ctx.aws.elbv2.load_balancer_named(p["Name"])
        if not found:
            return {}
        _adopt(ctx, found["LoadBalancerArn"], "load balancer", p["Name"])
        arn = found["LoadBalancerArn"]
    if ctx.aws.elbv2.load_balancer(arn):
        ctx.aws.elbv2.delete_load_balancer(arn, timeout=ctx.delete_timeout)
    return {}


@forward("elbv2.wait_load_balancer_active")
def wait_load_balancer_active(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.aws.elbv2.wait_available(p["LoadBalancerArn"], timeout=900)
    return {}


@forward("elbv2.create_listener")
def create_listener(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((x for x in ctx.aws.elbv2.listeners(p["LoadBalancerArn"])
                     if x["Port"] == p["Port"]), None)

    listener = ctx.create_or_adopt(
        find, lambda: ctx.until_visible(
            lambda: ctx.aws.elbv2.create_listener(**p),
            f"the port {p['Port']} listener's target group and certificate"),
        f"the port {p['Port']} listener")
    return {"arn": listener["ListenerArn"]}


@forward("elbv2.set_load_balancer_attributes")
def set_load_balancer_attributes(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.elbv2.set_attributes(p["LoadBalancerArn"], p["Attributes"]),
                      f"load balancer {p['LoadBalancerArn']}")
    return {}


@forward("elbv2.delete_listener")
@inverse("elbv2.delete_listener")
def delete_listener(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("ListenerArn")
    if not arn and p.get("LoadBalancerArn"):
        arn = next((x["ListenerArn"] for x in ctx.aws.elbv2.listeners(p["LoadBalancerArn"])
                    if x["Port"] == p["Port"]), None)
    if arn:
        with contextlib.suppress(AwsNotFoundError):
            ctx.aws.elbv2.delete_listener(arn)
    return {}


@forward("elbv2.wait_target_healthy")
def wait_target_healthy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.until_visible(lambda: ctx.aws.elbv2.target_health(p["TargetGroupArn"]),
                      f"target group {p['TargetGroupArn']}")
    try:
        ctx.aws.elbv2.wait_in_service(p["TargetGroupArn"], p["Targets"],
                                      timeout=p["TimeoutSeconds"])
    except (WaitTimeoutError, AwsError) as exc:
        health = ctx.aws.elbv2.target_health(p["TargetGroupArn"])
        reasons = "; ".join(
            f"{h['Target']['Id']}: {h['TargetHealth'].get('State')} "
            f"({h['TargetHealth'].get('Reason', '')} {h['TargetHealth'].get('Description', '')})"
            for h in health)
        raise WaitTimeoutError(f"the instance never became healthy: {reasons}",
                               hint="check the health check path answers 200-399 over HTTPS "
                                    "(a redirect fails it); fix, then run apply again") from exc
    return {}


# --- EC2 security groups -----------------------------------------------------------------------

def _my_group(ctx: Context, name: str, vpc_id: str) -> str | None:
    found = ctx.aws.ec2.security_groups(filters=[
        {"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc_id]}])
    if not found:
        return None
    group = found[0]
    if not ctx.mine({t["Key"]: t.get("Value", "") for t in group.get("Tags", [])}):
        raise StalePlanError(f"a security group named {name} exists and is not this plan's",
                             hint="delete it or re-plan")
    return group["GroupId"]


@forward("ec2.create_security_group")
def create_security_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": ctx.create_or_adopt(
        lambda: _my_group(ctx, p["GroupName"], p["VpcId"]),
        lambda: ctx.aws.ec2.create_security_group(**p), f"security group {p['GroupName']}")}


@inverse("ec2.delete_security_group")
def delete_security_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    group_id = p.get("GroupId") or _my_group(ctx, p["GroupName"], p["VpcId"])
    if group_id:
        ctx.delete(lambda: ctx.aws.ec2.delete_security_group(group_id),
                   f"delete security group {p['GroupName']}")
    return {}


@forward("ec2.authorize_ingress")
def authorize_ingress(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    try:
        ctx.until_visible(lambda: ctx.aws.ec2.authorize_ingress(p["GroupId"], p["IpPermissions"]),
                          f"security group {p['GroupId']}")
    except AwsConflictError as exc:
        if exc.code != "InvalidPermission.Duplicate":
            raise
    return {}


@inverse("ec2.revoke_ingress")
def revoke_ingress(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("GroupId") or _unresolved(p["IpPermissions"]):
        return {}  # the group was never created, so neither were its rules
    try:
        ctx.aws.ec2.revoke_ingress(p["GroupId"], p["IpPermissions"])
    except AwsNotFoundError:
        pass
    except AwsError as exc:
        if exc.code != "InvalidPermission.NotFound":
            raise
    return {}


def _unresolved(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_unresolved(v) for v in value)
    return False


@forward("ec2.set_interface_groups")
@forward("ec2.set_instance_groups")  # plans made before groups were set per interface
def set_interface_groups(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return _set_groups(ctx, p)


@inverse("ec2.set_interface_groups")
@inverse("ec2.set_instance_groups")
def restore_interface_groups(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return _set_groups(ctx, p)


def _set_groups(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Give one network interface exactly these groups (security groups belong to interfaces;
    AWS refuses to set an instance's groups when it has several)."""
    groups = [g for g in p["Groups"] if g]
    raw = ctx.aws.ec2.instances(instance_ids=[p["InstanceId"]])[0]
    interfaces = instance_interfaces(raw)
    wanted = p.get("NetworkInterfaceId")
    interface = next((i for i in interfaces if i.id == wanted), None) if wanted else \
        web_interface(interfaces, ctx.plan.snapshot.instance.public_ip)
    if interface is None:
        raise StalePlanError(
            f"network interface {wanted or '(primary)'} is no longer attached to "
            f"{p['InstanceId']}", hint="re-plan; nothing was changed on the instance")
    current = list(interface.security_group_ids)
    if sorted(current) != sorted(groups):
        ctx.until_visible(lambda: ctx.aws.ec2.set_interface_groups(interface.id, groups),
                          f"security groups {', '.join(groups)}")
    return {"before": current, "interface": interface.id}


# --- Lockdown -----------------------------------------------------------------------------------

@forward("dns.wait_old_ttl")
def wait_old_ttl(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    switched = datetime.strptime(p["SwitchedAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    ready = switched + timedelta(seconds=int(p["TTL"]) + 1)
    remaining = (ready - datetime.now(UTC)).total_seconds()
    if remaining > 0 and not ctx.wait_for_ttl:
        raise StepDeferred(
            f"the lockdown waits until {ready:%Y-%m-%d %H:%M:%S}Z, when no resolver can still "
            "hold the old address", hint="run apply again after that (or now with --wait-for-ttl)")
    if remaining > 0:
        ctx.clock.sleep(remaining)
    return {"ready_at": ready.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _copy_name(ctx: Context, group_id: str, suffix: str) -> str:
    original = ctx.aws.ec2.security_groups(group_ids=[group_id])[0]
    # Group names are at most 255 characters: shorten the original's name, never the suffix
    # that makes the copy's name differ from it.
    return f"{original['GroupName'][:255 - len(suffix) - 1]}-{suffix}"


@forward("ec2.copy_groups_without_public_web")
def copy_groups_without_public_web(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    copies: dict[str, str] = {}
    for group_id in p["GroupIds"]:
        original = ctx.aws.ec2.security_groups(group_ids=[group_id])[0]
        name = _copy_name(ctx, group_id, p["NameSuffix"])
        copy_id = ctx.create_or_adopt(
            lambda n=name: _my_group(ctx, n, p["VpcId"]),  # type: ignore[misc]  # mypy#15459: default-arg lambda
            lambda n=name, o=original, g=group_id: ctx.aws.ec2.create_security_group(  # type: ignore[misc]  # mypy#15459: default-arg lambda
                GroupName=n, VpcId=p["VpcId"],
                Description=copy_description(o["GroupName"], g, ctx.plan.id),
                TagSpecifications=[{"ResourceType": "security-group", "Tags": p["Tags"]}]),
            f"security group {name}")
        ctx.until_visible(lambda c=copy_id: ctx.aws.ec2.security_groups(group_ids=[c]),  # type: ignore[misc]  # mypy#15459: default-arg lambda
                          f"security group {copy_id}")
        rules = without_public_web(normalize_permissions(original.get("IpPermissions", [])),
                                   group_id)
        if rules:
            authorize_ingress(ctx, {"GroupId": copy_id, "IpPermissions": rules})
        _copy_egress(ctx, original, copy_id)
        copies[group_id] = copy_id
    return {"copies": copies, **copies}


def _copy_egress(ctx: Context, original: dict[str, Any], copy_id: str) -> None:
    wanted = normalize_permissions(original.get("IpPermissionsEgress", []))
    live = ctx.aws.ec2.security_groups(group_ids=[copy_id])[0]
    current = normalize_permissions(live.get("IpPermissionsEgress", []))
    if current == wanted:
        return
    if current:
        ctx.aws.ec2.revoke_egress(copy_id, current)
    if wanted:
        ctx.aws.ec2.authorize_egress(copy_id, wanted)


@inverse("ec2.delete_group_copies")
def delete_group_copies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    copies = p.get("Copies") or {}
    for group_id in p["GroupIds"]:
        copy_id = copies.get(group_id) or _my_group(
            ctx, _copy_name(ctx, group_id, p["NameSuffix"]), p["VpcId"])
        if copy_id:
            ctx.delete(lambda c=copy_id: ctx.aws.ec2.delete_security_group(c),  # type: ignore[misc]  # mypy#15459: default-arg lambda
                       f"delete security group {copy_id}")
    return {}


# --- Route53: the switch -----------------------------------------------------------------------

def _alias_record(original: dict[str, Any], alias: dict[str, Any]) -> dict[str, Any]:
    return {"Name": original["Name"], "Type": original["Type"], "AliasTarget": {
        "HostedZoneId": alias["HostedZoneId"], "DNSName": alias["DNSName"],
        "EvaluateTargetHealth": alias["EvaluateTargetHealth"]}}


def _same_alias(live: dict[str, Any] | None, alias: dict[str, Any]) -> bool:
    target = (live or {}).get("AliasTarget")
    return bool(target and target["DNSName"].rstrip(".").lower().removeprefix("dualstack.") ==
                alias["DNSName"].rstrip(".").lower().removeprefix("dualstack."))


def _same_plain(live: dict[str, Any] | None, original: dict[str, Any]) -> bool:
    return bool(live and "AliasTarget" not in live and live.get("TTL") == original.get("TTL")
                and sorted(r["Value"] for r in live.get("ResourceRecords", [])) ==
                sorted(r["Value"] for r in original.get("ResourceRecords", [])))


def _changed_meanwhile(exc: AwsError) -> bool:
    """Route53 refused the batch because a DELETE did not match the record exactly (someone
    changed it between our read and our change): nothing in the batch was applied."""
    return exc.code == "InvalidChangeBatch" or "do not match" in exc.message


@forward("route53.switch_to_alias")
def switch_to_alias(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone, alias = p["HostedZoneId"], p["Alias"]
    changes = []
    for original in p["Originals"]:
        live = _current(ctx, zone, original["Name"], original["Type"])
        if _same_alias(live, alias):
            continue  # already switched by an earlier, interrupted run
        if not _same_plain(live, original):
            raise StalePlanError(
                f"{original['Name']} {original['Type']} changed since the plan was made",
                hint="re-plan; the record is left as it is now")
        # A compare-and-swap, as AWS documents for changing a record's type: DELETE the exact
        # original and CREATE the alias in one batch. Route53 applies a batch whole or not at
        # all, and refuses the DELETE if the record is no longer exactly that, so a change made
        # by someone else is never overwritten; resolvers see the old answer or the new one.
        changes += [{"Action": "DELETE", "ResourceRecordSet": original},
                    {"Action": "CREATE", "ResourceRecordSet": _alias_record(original, alias)}]
    ttl = max((o.get("TTL") or 0) for o in p["Originals"])
    if changes:
        _change_exactly(ctx, zone, changes, "switch",
                        "a record changed since the plan was made; nothing was switched",
                        "re-plan; the records are left as they are now")
    return {"switched_at": ctx.state.outputs.get("switched_at") or now(), "old_ttl": ttl}


def _change_exactly(ctx: Context, zone: str, changes: list[dict[str, Any]], purpose: str,
                    refused: str, hint: str) -> None:
    try:
        change_id = ctx.aws.route53.change(zone, changes, f"migrator {ctx.plan.id}: {purpose}")
    except AwsError as exc:
        if _changed_meanwhile(exc):
            raise StalePlanError(f"{refused} ({exc.message})", hint=hint) from exc
        raise
    ctx.aws.route53.wait_insync(change_id, timeout=900)


@inverse("route53.restore_records")
def restore_records(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone = p["HostedZoneId"]
    changes = []
    for original in p["Originals"]:
        live = _current(ctx, zone, original["Name"], original["Type"])
        if _same_plain(live, original):
            continue
        if live is not None and not (p["Alias"].get("DNSName") and _same_alias(live, p["Alias"])):
            raise StalePlanError(
                f"{original['Name']} was changed by someone else since apply",
                hint="restore it by hand; migrator does not overwrite changes it did not make")
        # The same compare-and-swap back: DELETE our alias exactly as it is, CREATE the original.
        if live is not None:
            changes.append({"Action": "DELETE", "ResourceRecordSet": live})
        changes.append({"Action": "CREATE", "ResourceRecordSet": original})
    if changes:
        _change_exactly(ctx, zone, changes, "restore",
                        "a record changed since apply; nothing was restored",
                        "restore it by hand; migrator does not overwrite changes it did not make")
        # Resolvers may hold the alias answer for its TTL: keep the load balancer up meanwhile.
        ctx.clock.sleep(ctx.dns_drain_seconds)
    return {}


# --- Verification --------------------------------------------------------------------------------

@forward("verify.load_balancer")
def verify_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    checks = ctx.verifier.load_balancer(p)
    return _verdict(checks, "through the load balancer")


@forward("verify.site")
def verify_site(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    checks = ctx.verifier.site(p)
    return _verdict(checks, "of the site")


def _verdict(checks: list[Any], where: str) -> dict[str, Any]:
    failed = [c for c in checks if not c.ok]
    summary = [{"name": c.name, "target": c.target, "ok": c.ok, "detail": c.detail}
               for c in checks]
    if failed:
        first = failed[0]
        raise VerificationError(
            f"{len(failed)} check(s) {where} failed; first: {first.name} at {first.target}: "
            f"{first.detail}", hint="see `migrator verify`; fix and run apply again",
            checks=checks)
    return {"checks": summary}


def missing_handlers(actions: list[str]) -> list[str]:
    """Actions a plan names that this version cannot execute (plan from a newer migrator)."""
    return [a for a in actions if a not in FORWARD and a not in INVERSE]


__all__ = ["FORWARD", "INVERSE", "Context", "MigratorError", "missing_handlers"]
