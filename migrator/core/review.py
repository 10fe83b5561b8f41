"""Plan review: what a plan will do to the AWS account, resource by resource.

``account_changes(plan)`` is a pure function of the plan's data (its snapshot, options and
steps; never the journal, never AWS): every resource the steps create, every record and
network interface they change (before → after), what they delete, what they deliberately leave
alone, the monthly cost before → after and the time the cutover and the lockdown take. It
returns a tree of frozen dataclasses, rendered here as text for a terminal (Terraform's
symbols: ``+`` create, ``~`` change, ``-`` destroy, ``=`` untouched; 80 columns; no styles
with NO_COLOR), as GitHub-flavoured Markdown for a pull-request comment, and as JSON.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from migrator.core import actions
from migrator.core.actions import Action, NamedResource, acm, canary, ec2, elbv2, route53, sharing
from migrator.core.actions import lockdown as lockdown_actions
from migrator.core.gates import BOUNDED, MEANING
from migrator.core.gates import number as figure
from migrator.core.lockdown import is_public_web, without_public_web
from migrator.core.plan import Plan, Step, is_ref, plan_digest, ref_parts
from migrator.core.pricing import (
    ALB_PRICES,
    HOURS_PER_MONTH,
    IPV4_HOURLY,
    PRICE_DATE,
    PRICE_SOURCE,
    monthly_base,
)
from migrator.core.sites import base_step_id, is_shared, site_views
from migrator.core.snapshot import LoadBalancer, RecordSet, Snapshot

if TYPE_CHECKING:
    from rich.console import Console

CREATE, CHANGE, DESTROY, UNTOUCHED = "create", "change", "destroy", "untouched"
SYMBOLS = {CREATE: "+", CHANGE: "~", DESTROY: "-", UNTOUCHED: "="}
STYLES = {CREATE: "green", CHANGE: "yellow", DESTROY: "red", UNTOUCHED: "dim"}
TITLES = {CREATE: "Created", CHANGE: "Changed", DESTROY: "Deleted",
          UNTOUCHED: "Deliberately left untouched"}
ALIAS_TTL = 60  # seconds: what Route53 answers for an alias to a load balancer
VALIDATION_TTL = 300  # seconds: the TTL of the validation CNAMEs migrator creates
WIDTH = 80


# --- the model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attribute:
    """One property of a resource: its name and value, in words."""

    name: str
    value: str


@dataclass(frozen=True)
class Change:
    """One property that changes: before → after, in words."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Resource:
    """One resource of the account and what the plan does to it."""

    kind: str  # "ACM certificate", "DNS record", "security group", ...
    name: str
    steps: tuple[str, ...] = ()  # the plan's steps that do it (none for untouched)
    attributes: tuple[Attribute, ...] = ()
    changes: tuple[Change, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Cost:
    """The load balancing bill of the site, per month, in USD (None: price unknown)."""

    region: str
    before_usd: float
    after_usd: float | None
    lines: tuple[str, ...]
    source: str = PRICE_SOURCE
    as_of: str = PRICE_DATE


@dataclass(frozen=True)
class Wait:
    """One wait of apply (or rollback), with what it usually takes."""

    step: str
    what: str
    expected: str


@dataclass(frozen=True)
class Timing:
    """How long the cutover and the lockdown take."""

    old_ttl_seconds: int
    waits: tuple[Wait, ...]
    cutover: str
    lockdown: str


@dataclass(frozen=True)
class SiteChanges:
    """In a plan for several sites on one load balancer: what it does for one site alone (its
    certificate, target group, rule, groups and records), as steps of that site."""

    domain: str
    create: tuple[Resource, ...]
    change: tuple[Resource, ...]
    destroy: tuple[Resource, ...]
    untouched: tuple[Resource, ...]

    def section(self, action: str) -> tuple[Resource, ...]:
        return {CREATE: self.create, CHANGE: self.change, DESTROY: self.destroy,
                UNTOUCHED: self.untouched}[action]


@dataclass(frozen=True)
class JoinedLoadBalancer:
    """The load balancer a joining plan (`plan --load-balancer`) puts its site on: it exists,
    the plan creates no load balancer and adds to this one only what it lists as its own."""

    name: str
    arn: str
    dns_name: str
    adds: tuple[str, ...]  # what the plan adds to it, in words


@dataclass(frozen=True)
class AccountChanges:
    """What the plan does to the account, grouped by what happens to each resource.

    For a plan for several sites, create/change/destroy/untouched hold what the sites share
    (the load balancer, its security group and listeners) and `sites` what each site has of
    its own; for a joining plan, `joins` names the load balancer it joins."""

    plan_id: str
    domain: str
    account: str
    region: str
    create: tuple[Resource, ...]
    change: tuple[Resource, ...]
    destroy: tuple[Resource, ...]
    untouched: tuple[Resource, ...]
    cost: Cost
    timing: Timing
    sites: tuple[SiteChanges, ...] = ()
    joins: JoinedLoadBalancer | None = None

    def section(self, action: str) -> tuple[Resource, ...]:
        return {CREATE: self.create, CHANGE: self.change, DESTROY: self.destroy,
                UNTOUCHED: self.untouched}[action]

    def counts(self) -> dict[str, int]:
        """Every resource, the shared ones and each site's."""
        return {action: len(self.section(action)) + sum(len(s.section(action))
                                                        for s in self.sites)
                for action in SYMBOLS}

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(s.domain for s in self.sites) or (self.domain,)


def to_dict(changes: AccountChanges) -> dict[str, Any]:
    """The JSON form (``show --json``'s ``account_changes``; fields documented in README).
    ``sites`` (a plan for several sites) and ``joins`` (a joining plan) are there only when
    they apply, so a plan for one site has the form it always had."""
    data = _jsonable(asdict(changes))
    if not changes.sites:
        del data["sites"]
    if changes.joins is None:
        del data["joins"]
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- deriving it from the plan -----------------------------------------------------------------

@dataclass
class _Draft:
    """A resource being described while the steps are read (frozen once they all are)."""

    kind: str
    name: str
    steps: list[str] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    note: str = ""

    def add(self, name: str, value: str) -> None:
        self.attributes.append(Attribute(name, value))

    def freeze(self) -> Resource:
        return Resource(self.kind, self.name, tuple(self.steps), tuple(self.attributes),
                        tuple(self.changes), self.note)


class _Reader:
    """Reads a plan's steps once, naming what refs point at in words."""

    def __init__(self, plan: Plan, whole: Plan | None = None) -> None:
        self.plan = plan
        # `plan` is one site's view (sites.site_view) of `whole`, a plan for several sites
        self.whole = whole
        self.snap = plan.snapshot
        self.joined: LoadBalancer | None = plan.snapshot.load_balancer
        self.steps = {s.id: s for s in plan.steps}
        self.groups = {g.id: g for g in self.snap.security_groups}
        self.lockdown = {s.id for s in actions.lockdown_steps(plan.steps)}

    def label(self, value: Any) -> str:
        """A parameter value in words: a ref becomes the name of what it refers to."""
        if is_ref(value):
            step_id, key = ref_parts(value)
            step = self.steps.get(step_id)
            if step_id == "certificate":
                return ("the new certificate" if self.whole is None
                        else f"the new certificate of {self.snap.domain}")
            named = self.named(step, key) if step is not None else None
            if named is not None:
                return named.name + (f" (copy of {named.copy_of})" if named.copy_of else "")
            if step is not None and "Name" in step.params:
                return str(step.params["Name"])
            return f"<{value['ref']}>"
        if isinstance(value, str) and value in self.groups:
            return f"{value} ({self.groups[value].name})"
        joined = self.joined
        if joined is not None and isinstance(value, str):
            if value == joined.arn:
                return joined.name
            if value == joined.https_listener_arn:
                return f"HTTPS:443 of {joined.name}"
            if value == joined.http_listener_arn:
                return f"HTTP:80 of {joined.name}"
            if value in joined.security_group_ids:
                return f"{value} ({joined.name}'s group)"
        return str(value)

    def named(self, step: Step, output: str) -> NamedResource | None:
        """The resource a step creates that its output `output` refers to: the one declared
        with that output, else the step's only one."""
        resources = actions.named_resources(step, self.snap)
        by_output = next((r for r in resources if r.output == output), None)
        return by_output or (resources[0] if len(resources) == 1 else None)

    def rule(self, rule: dict[str, Any]) -> str:
        """A security group rule in words: "tcp/443 from 0.0.0.0/0, ::/0"."""
        port = rule.get("FromPort")
        ports = "all ports" if rule["IpProtocol"] == "-1" else (
            str(port) if port == rule.get("ToPort") else f"{port}-{rule.get('ToPort')}")
        proto = "all" if rule["IpProtocol"] == "-1" else rule["IpProtocol"]
        sources = [r["CidrIp"] for r in rule.get("IpRanges", [])]
        sources += [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])]
        sources += [self.label(r["GroupId"]) for r in rule.get("UserIdGroupPairs", [])]
        sources += [r["PrefixListId"] for r in rule.get("PrefixListIds", [])]
        return f"{proto}/{ports} from {', '.join(sources) or 'nothing'}"

    def lb_name(self) -> str:
        step = self.steps.get("load_balancer")
        if step is not None:
            return str(step.params["Name"])
        return self.joined.name if self.joined is not None else "the load balancer"


def account_changes(plan: Plan) -> AccountChanges:
    """What applying the whole plan does to the account (the journal is not read)."""
    if is_shared(plan):
        return _shared_changes(plan)
    reader = _Reader(plan)
    snap = plan.snapshot
    drafts = _described(reader)
    return AccountChanges(
        plan_id=plan.id, domain=snap.domain, account=snap.account, region=snap.region,
        create=tuple(d.freeze() for d in sorted(drafts.created, key=_kind_order)),
        change=tuple(d.freeze() for d in drafts.changed),
        destroy=tuple(d.freeze() for d in drafts.destroyed),
        untouched=tuple(_untouched(reader)), cost=_cost(reader), timing=_timing(reader),
        joins=_joins(reader, drafts))


def _described(reader: _Reader) -> _Drafts:
    drafts = _Drafts()
    for step in reader.plan.steps:
        action = actions.ACTIONS.get(step.action)
        describe = _DESCRIBERS.get(action) if action is not None else None
        # A step without a describer changes nothing in the account (a wait or a check).
        draft = describe(reader, step, drafts) if describe is not None else None
        if draft is not None:
            drafts.by_step[step.id] = draft
    return drafts


# The steps of a plan for several sites that have plain ids (the sites share them) and yet are
# the first site's: its certificate is the HTTPS listener's default (shared_planner).
FIRST_SITE_STEPS = ("certificate", "validation_records", "certificate_issued")


def _shared_changes(plan: Plan) -> AccountChanges:
    """A plan for several sites: each site's view (sites.site_view) described as a plan for
    that site; a resource made by one of the site's own steps is the site's, the others (the
    load balancer, its group and listeners) are shared, taken from the first site's view."""
    snap = plan.snapshot
    sites: list[SiteChanges] = []
    shared: dict[str, list[Resource]] = {}
    readers: list[_Reader] = []
    by_id = {s.id: s for s in plan.steps}
    for view in site_views(plan):
        reader = _Reader(view, whole=plan)
        readers.append(reader)
        drafts = _described(reader)
        domain = view.domain
        original = _plan_ids(plan, domain)

        def own(draft: _Draft, domain: str = domain, original: dict[str, str] = original
                ) -> bool:
            for view_id in draft.steps:
                step = by_id[original.get(view_id, view_id)]
                if step.site == domain or (step.site is None and domain == plan.domain
                                           and step.id in FIRST_SITE_STEPS):
                    return True
            return False

        def frozen(drafts_: list[_Draft], keep: bool, original: dict[str, str] = original,
                   own: Callable[[_Draft], bool] = own) -> list[Resource]:
            return [replace(d.freeze(), steps=tuple(original.get(i, i) for i in d.steps))
                    for d in drafts_ if own(d) == keep]

        created = sorted(drafts.created, key=_kind_order)
        sites.append(SiteChanges(domain, tuple(frozen(created, True)),
                                 tuple(frozen(drafts.changed, True)),
                                 tuple(frozen(drafts.destroyed, True)),
                                 tuple(_untouched(reader))))
        if not shared:
            shared = {CREATE: frozen(created, False), CHANGE: frozen(drafts.changed, False),
                      DESTROY: frozen(drafts.destroyed, False)}
    timings = [_timing(r) for r in readers]
    longest = max(timings, key=lambda t: t.old_ttl_seconds)
    waits = {w.what: w for t in timings for w in t.waits}
    return AccountChanges(
        plan_id=plan.id, domain=snap.domain, account=snap.account, region=snap.region,
        create=tuple(shared[CREATE]), change=tuple(shared[CHANGE]),
        destroy=tuple(shared[DESTROY]), untouched=(), cost=_shared_cost(readers),
        timing=replace(longest, waits=tuple(waits.values())), sites=tuple(sites))


def _plan_ids(plan: Plan, site: str) -> dict[str, str]:
    """The ids of site's view (its own steps under their single-site ids) -> the plan's."""
    return {base_step_id(s.id): s.id for s in plan.steps if s.site == site}


@dataclass
class _Drafts:
    """The resources described so far, by section, and by the step that made each."""

    created: list[_Draft] = field(default_factory=list)
    changed: list[_Draft] = field(default_factory=list)
    destroyed: list[_Draft] = field(default_factory=list)
    by_step: dict[str, _Draft] = field(default_factory=dict)
    interfaces: dict[str, _Draft] = field(default_factory=dict)


# How each kind of step is described: a new resource (returned), or more about an earlier one.
Describer = Callable[[_Reader, Step, _Drafts], "_Draft | None"]


def _certificate(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    names = list(dict.fromkeys([p["DomainName"], *p.get("SubjectAlternativeNames", [])]))
    draft = _Draft("ACM certificate", p["DomainName"], [step.id])
    draft.add("names", ", ".join(names))
    draft.add("validation", f"{p['ValidationMethod']}, by the CNAMEs below")
    draft.add("key", p.get("KeyAlgorithm", "RSA_2048"))
    draft.add("renewal", "automatic, by ACM, while the CNAMEs stay")
    draft.add("tag", _tags(p.get("Tags", [])))
    drafts.created.append(draft)
    return draft


def _validation_records(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    snap = reader.snap
    for name in dict.fromkeys(n.removeprefix("*.") for n in snap.names):
        draft = _Draft("DNS record", f"_<ACM's hash>.{name}. CNAME", [step.id])
        draft.add("value", "_<ACM's hash>.acm-validations.aws. (given by ACM)")
        draft.add("TTL", f"{VALIDATION_TTL} s")
        draft.add("zone", f"{snap.zone.name} ({snap.zone.id})")
        draft.note = "not created if it already exists (then never deleted)"
        drafts.created.append(draft)
    return None


def _target_group(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    draft = _Draft("target group", p["Name"], [step.id])
    draft.add("protocol", f"{p['Protocol']}:{p['Port']} ({p.get('ProtocolVersion', '')})")
    draft.add("VPC", p["VpcId"])
    draft.add("health check",
              f"{p['HealthCheckProtocol']} {p['HealthCheckPath']} on the traffic port, "
              f"every {p['HealthCheckIntervalSeconds']} s, timeout "
              f"{p['HealthCheckTimeoutSeconds']} s, healthy after "
              f"{p['HealthyThresholdCount']}, unhealthy after "
              f"{p['UnhealthyThresholdCount']}, expecting {p['Matcher']['HttpCode']}")
    draft.add("tag", _tags(p.get("Tags", [])))
    drafts.created.append(draft)
    return draft


def _targets(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    target = _parent(drafts.by_step, p["TargetGroupArn"])
    if target is not None:
        target.steps.append(step.id)
        target.add("targets", ", ".join(f"{t['Id']}:{t['Port']}" for t in p["Targets"]))
    return None


def _security_group(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    draft = _Draft("security group", p["GroupName"], [step.id])
    draft.add("VPC", p["VpcId"])
    draft.add("description", p["Description"])
    draft.add("outbound", "all traffic (AWS's default)")
    drafts.created.append(draft)
    return draft


def _ingress(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    group = _parent(drafts.by_step, p["GroupId"])
    if group is not None:
        group.steps.append(step.id)
        for rule in p["IpPermissions"]:
            group.add("inbound", reader.rule(rule))
    return None


def _interface_groups(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p, snap = step.params, reader.snap
    key = p.get("NetworkInterfaceId") or p["InstanceId"]
    iface = drafts.interfaces.get(key)
    if iface is None:
        iface = drafts.interfaces[key] = _Draft("network interface", _interface_name(snap),
                                                note="the interface holding the site's address")
        drafts.changed.append(iface)
    iface.steps.append(step.id)
    before = step.inverse.params["Groups"] if step.inverse else snap.instance.security_group_ids
    when = "security groups" if not iface.changes else (
        "at the lockdown" if step.id in reader.lockdown else f"at {step.id}")
    iface.changes.append(Change(when, ", ".join(reader.label(g) for g in before),
                                ", ".join(reader.label(g) for g in p["Groups"])))
    return None


def _load_balancer(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    zones = {s.id: s.availability_zone for s in reader.snap.subnets}
    draft = _Draft("load balancer", p["Name"], [step.id])
    draft.add("type", f"{p['Type']}, {p['Scheme']}, {p['IpAddressType']}")
    draft.add("subnets", ", ".join(f"{s} ({zones.get(s, '?')})" for s in p["Subnets"]))
    draft.add("zones", ", ".join(sorted({zones.get(s, "?") for s in p["Subnets"]})))
    draft.add("security groups", ", ".join(reader.label(g) for g in p["SecurityGroups"]))
    draft.add("tag", _tags(p.get("Tags", [])))
    drafts.created.append(draft)
    return draft


def _attributes(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    lb = _parent(drafts.by_step, p["LoadBalancerArn"])
    timeout = p["Attributes"].get("idle_timeout.timeout_seconds")
    if lb is not None and timeout is not None:
        lb.steps.append(step.id)
        lb.add("idle timeout", f"{timeout} s ({_idle_reason(reader)})")
    return None


def _listener(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    lb_label = reader.label(p["LoadBalancerArn"])
    draft = _Draft("listener", f"{p['Protocol']}:{p['Port']} of {lb_label}", [step.id])
    for act in p["DefaultActions"]:
        if act["Type"] == "redirect":
            conf = act["RedirectConfig"]
            code = conf.get("StatusCode", "").removeprefix("HTTP_")
            draft.add("action", f"redirect {code} to {conf['Protocol']}:{conf['Port']}, "
                                "same host, path and query")
        elif act["Type"] == "forward":
            tg_label = reader.label(act["TargetGroupArn"])
            draft.add("action", f"forward to target group {tg_label}")
        elif act["Type"] == "fixed-response":
            conf = act["FixedResponseConfig"]
            draft.add("action", f"answer {conf.get('StatusCode', '?')} to a host no rule "
                                "routes")
    if "SslPolicy" in p:
        draft.add("TLS policy", p["SslPolicy"])
    for cert in p.get("Certificates", []):
        arn = cert["CertificateArn"]
        draft.add("certificate", reader.label(arn) if is_ref(arn) else f"{arn} (reused)")
    if reader.whole is not None and p.get("Certificates"):
        others = [d for d in reader.whole.domains if d != reader.snap.domain]
        draft.add("by SNI", f"the certificates of {', '.join(others)}, added with each site "
                            "(below)")
    removed = next((s.id for s in reader.plan.steps
                    if actions.ACTIONS.get(s.action) is elbv2.DELETE_LISTENER
                    and s.params.get("Port") == p["Port"]), None)
    if removed:
        draft.note = (f"temporary: starts the health checks while ACM validates; the "
                      f"load balancer's group does not admit port {p['Port']}; deleted "
                      f"by {removed}")
    drafts.created.append(draft)
    return draft


def _rule(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    """A host-header rule on a listener (a site on a shared or a joined load balancer)."""
    p = step.params
    listener = _parent(drafts.by_step, p["ListenerArn"])
    where = listener.name if listener is not None else reader.label(p["ListenerArn"])
    draft = _Draft("listener rule", f"{', '.join(p['Hosts'])} on {where}", [step.id])
    draft.add("condition", f"host header {' or '.join(p['Hosts'])}")
    if "Priority" in p:
        draft.add("priority", str(p["Priority"]))
    else:
        draft.add("priority", "the lowest free one, found at apply (taken again if another "
                              "change takes it meanwhile)"
                  + (f", before rule {p['Before']}, which matches every host"
                     if "Before" in p else ""))
    for act in p["Actions"]:
        if act["Type"] == "forward":
            draft.add("action", f"forward to target group {reader.label(act['TargetGroupArn'])}")
        elif act["Type"] == "redirect":
            conf = act["RedirectConfig"]
            code = conf.get("StatusCode", "").removeprefix("HTTP_")
            draft.add("action", f"redirect {code} to {conf['Protocol']}:{conf['Port']}, "
                                "same host, path and query")
    draft.add("tag", _tags(p.get("Tags", [])))
    draft.note = "deleted by rollback; the listener's other rules are not changed"
    drafts.created.append(draft)
    return draft


def _listener_certificate(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    """A site's certificate added to the HTTPS listener, which presents it by SNI."""
    p = step.params
    arn = p["CertificateArn"]
    cert = (f"the new certificate of {reader.snap.domain}" if is_ref(arn)
            else f"{arn} (reused)")
    listener = _parent(drafts.by_step, p["ListenerArn"])
    where = listener.name if listener is not None else reader.label(p["ListenerArn"])
    draft = _Draft("listener certificate", f"{cert} on {where}", [step.id])
    draft.add("served", f"by SNI, to clients asking for {', '.join(reader.snap.names)}")
    draft.note = ("added to the listener's certificate list; its default certificate is not "
                  "changed; removed by rollback")
    drafts.created.append(draft)
    return draft


def _joined_load_balancer(reader: _Reader, drafts: _Drafts) -> _Draft:
    """The joined load balancer, among the changed resources (once)."""
    lb = reader.joined
    name = lb.name if lb is not None else reader.lb_name()
    draft = next((d for d in drafts.changed if d.kind == "load balancer" and d.name == name),
                 None)
    if draft is None:
        draft = _Draft("load balancer", name,
                       note="joined, not created: rollback removes exactly what this plan "
                            "added and leaves the load balancer")
        drafts.changed.append(draft)
    return draft


def _tag(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    draft = _joined_load_balancer(reader, drafts)
    draft.steps.append(step.id)
    for key, value in step.params["Tags"].items():
        draft.changes.append(Change("tag", "-", f"{key}={value} (names this plan's site on "
                                                "it)"))
    return None


def _subnets(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    zones = {s.id: s.availability_zone for s in reader.snap.subnets}
    if reader.joined is not None:
        zones.update({subnet: zone for zone, subnet in reader.joined.subnets})

    def named(subnets: list[str]) -> str:
        return ", ".join(f"{s} ({zones.get(s, '?')})" for s in subnets)

    draft = _joined_load_balancer(reader, drafts)
    draft.steps.append(step.id)
    draft.changes.append(Change("subnets", named(p["Before"]), named(p["Subnets"])))
    return None


def _listener_deleted(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    draft = _Draft("listener", f"HTTP:{p['Port']} of {reader.label(p['LoadBalancerArn'])}",
                   [step.id], note="the temporary listener created above")
    drafts.destroyed.append(draft)
    return draft


def _record_to_alias(reader: _Reader, step: Step, original: dict[str, Any]) -> _Draft:
    """A record the switch turns into an alias of the load balancer, as a changed resource."""
    record = RecordSet.from_route53(original)
    draft = _Draft("DNS record", f"{record.name} {record.type}", [step.id])
    draft.changes += [
        Change("type", record.type, f"{record.type} (alias)"),
        Change("value", _value(record),
               f"alias to load balancer {reader.lb_name()} (evaluate target health)"),
        Change("TTL", f"{record.ttl} s", f"{ALIAS_TTL} s (the alias's)")]
    return draft


def _switch(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    for original in step.params["Originals"]:
        draft = _record_to_alias(reader, step, original)
        draft.note = "one change batch with the others; restored exactly by rollback"
        drafts.changed.append(draft)
    return None


def _canary_switch(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    stages, soak, bounds = p["Stages"], p["SoakSeconds"], p["Bounds"]
    ids = p["SetIdentifiers"]
    for original in p["Originals"]:
        draft = _record_to_alias(reader, step, original)
        draft.add("stages", " → ".join(f"{w}%" for w in stages)
                  + " of the answers to the load balancer")
        draft.add("weighted", f"the original as {ids['Origin']} (100 - w), the alias as "
                              f"{ids['LoadBalancer']} (w); 100% is the plain alias")
        draft.add("soak", f"{_duration(soak)} after each stage but the last")
        for metric in BOUNDED:
            if metric in bounds:
                draft.add("gate", f"{metric} at most {figure(metric, bounds[metric])}: "
                                  f"{MEANING[metric]}")
        draft.note = ("each stage one change batch with the others; a stage that breaks a "
                      "gate puts every name back on its original record at once, and apply "
                      "fails; restored exactly by rollback from any stage")
        drafts.changed.append(draft)
    return None


def _copies(reader: _Reader, step: Step, drafts: _Drafts) -> _Draft | None:
    p = step.params
    for copy in actions.named_resources(step, reader.snap):
        group_id = copy.copy_of or ""
        original = reader.groups.get(group_id)
        draft = _Draft("security group", copy.name, [step.id])
        draft.add("copy of", reader.label(group_id))
        draft.add("VPC", p["VpcId"])
        rules = without_public_web(list(original.ingress), group_id) if original else []
        for rule in rules:
            draft.add("inbound", reader.rule(rule))
        for rule in (original.ingress if original else ()):
            if is_public_web(rule):
                draft.add("left out", reader.rule(rule))
        draft.add("outbound", f"as in {group_id}")
        draft.add("tag", _tags(p.get("Tags", [])))
        drafts.created.append(draft)
    return None


_DESCRIBERS: dict[Action, Describer] = {
    acm.REQUEST_CERTIFICATE: _certificate,
    route53.CREATE_VALIDATION_RECORDS: _validation_records,
    elbv2.CREATE_TARGET_GROUP: _target_group,
    elbv2.REGISTER_TARGETS: _targets,
    ec2.CREATE_SECURITY_GROUP: _security_group,
    ec2.AUTHORIZE_INGRESS: _ingress,
    ec2.SET_INTERFACE_GROUPS: _interface_groups,
    elbv2.CREATE_LOAD_BALANCER: _load_balancer,
    elbv2.SET_LOAD_BALANCER_ATTRIBUTES: _attributes,
    elbv2.CREATE_LISTENER: _listener,
    elbv2.DELETE_LISTENER: _listener_deleted,
    route53.SWITCH_TO_ALIAS: _switch,
    canary.CANARY_SWITCH: _canary_switch,
    lockdown_actions.COPY_GROUPS_WITHOUT_PUBLIC_WEB: _copies,
    sharing.CREATE_RULE: _rule,
    sharing.ADD_LISTENER_CERTIFICATE: _listener_certificate,
    sharing.TAG_LOAD_BALANCER: _tag,
    sharing.SET_SUBNETS: _subnets,
}


KIND_ORDER = ("ACM certificate", "DNS record", "target group", "security group",
              "load balancer", "listener", "listener rule", "listener certificate")


def _kind_order(draft: _Draft) -> int:
    """Created resources in a reviewer's order (stable: the steps' order within a kind)."""
    return KIND_ORDER.index(draft.kind) if draft.kind in KIND_ORDER else len(KIND_ORDER)


def _parent(by_step: dict[str, _Draft], value: Any) -> _Draft | None:
    """The resource an earlier step created, that this parameter refers to."""
    if is_ref(value):
        return by_step.get(ref_parts(value)[0])
    return None


def _tags(tags: list[dict[str, str]]) -> str:
    return ", ".join(f"{t['Key']}={t['Value']}" for t in tags) or "none"


def _value(record: RecordSet) -> str:
    if record.alias:
        return f"alias to {record.alias.get('DNSName', '?')}"
    return ", ".join(record.values)


def _interface_name(snap: Snapshot) -> str:
    inst = snap.instance
    iface = next((i for i in inst.interfaces if i.id == inst.web_interface_id), None)
    if iface is None:
        return f"of instance {inst.id} (its primary)"
    return f"{iface.id} (eth{iface.device_index}) of instance {inst.id}"


def _idle_reason(reader: _Reader) -> str:
    from migrator.core.planner import _idle_reason as reason

    return reason(reader.plan.options)


def _untouched(reader: _Reader) -> list[Resource]:
    snap, plan = reader.snap, reader.plan
    inst = snap.instance
    out: list[Resource] = []
    out.append(Resource(
        "EC2 instance", f"{inst.id}" + (f" ({inst.name})" if inst.name else ""),
        attributes=(Attribute("addresses", f"public {inst.public_ip}, private {inst.private_ip}"),),
        note="not stopped, not modified: it keeps serving directly until every client has "
             "moved, then only through the load balancer"))
    copied_ids = {r.copy_of for s in plan.steps for r in actions.named_resources(s, snap)
                  if r.copy_of}
    for group in snap.security_groups:
        if group.shared_with:
            note = f"shared with {', '.join(group.shared_with)}: never edited"
        else:
            note = "never edited"
        if group.id in copied_ids:
            note += "; at the lockdown a copy replaces it on this interface only"
        out.append(Resource("security group", reader.label(group.id),
                            attributes=tuple(Attribute("inbound", reader.rule(r))
                                             for r in group.ingress), note=note))
    for iface in inst.interfaces:
        if iface.id != inst.web_interface_id:
            out.append(Resource(
                "network interface", f"{iface.id} (eth{iface.device_index}) of {inst.id}",
                attributes=(Attribute("security groups",
                                      ", ".join(iface.security_group_ids) or "none"),),
                note="the site's address is not on it: its groups are not changed"))
    switch = actions.dns_switch(plan.steps)
    switched = {(o["Name"], o["Type"]) for o in switch.params["Originals"]} if switch else set()
    for record in snap.records:
        if (record.name, record.type) not in switched:
            out.append(Resource("DNS record", f"{record.name} {record.type}",
                                attributes=(Attribute("value", _value(record)),
                                            Attribute("TTL", f"{record.ttl} s")),
                                note="a record of a planned name the switch does not touch"))
    for follower in snap.followers:
        out.append(Resource(
            "DNS record", f"{follower.name}. {follower.type}",
            attributes=(Attribute("points at", follower.target),),
            note="follows the switch through its target: not changed"))
    out.append(Resource("hosted zone", f"{snap.zone.name} ({snap.zone.id})",
                        note="every record not listed here is left as it is"))
    if reader.joined is not None:
        out.append(_joined_untouched(reader.joined))
    reused = {arn for s in plan.steps for c in s.params.get("Certificates", [])
              if not is_ref(arn := c["CertificateArn"])}
    for cert in snap.certificates:
        if cert.arn in reused:
            note = "reused by the HTTPS listener; never deleted, not even by rollback"
        else:
            note = ("not used; ACM gives the new certificate the same validation CNAME: "
                    "kept if it exists")
        out.append(Resource("ACM certificate", cert.arn,
                            attributes=(Attribute("names", ", ".join(cert.names)),
                                        Attribute("status", cert.status)), note=note))
    if "validation_records" in reader.steps:
        out.append(Resource(
            "DNS record", "an existing _<ACM's hash> validation CNAME",
            note="ACM gives every certificate of a name the same CNAME: one that already "
                 "exists is kept as it is and never deleted"))
    return out


def _joined_untouched(lb: LoadBalancer) -> Resource:
    """What a joining plan leaves as it is on the load balancer it joins."""
    attributes: list[Attribute] = []
    if lb.https_listener_arn:
        default = lb.certificate_arns[0].rsplit("/", 1)[-1] if lb.certificate_arns else "?"
        attributes += [
            Attribute("HTTPS:443", f"TLS policy {lb.ssl_policy or '?'}, default certificate "
                                   f"{default}"),
            Attribute("on it now", f"{len(lb.rules)} rule(s) and "
                                   f"{len(lb.certificate_arns)} certificate(s)")]
    else:
        attributes.append(Attribute("HTTPS:443", "none yet: the plan adds it (above)"))
    attributes.append(Attribute(
        "HTTP:80", ("redirects to HTTPS" if lb.http_redirects else "does not redirect")
        if lb.http_listener_arn else "none"))
    return Resource(
        "load balancer", f"{lb.name}: its listeners' default actions, TLS policy and default "
        "certificate, and every other site's rule and certificate", attributes=tuple(attributes),
        note="never changed by this plan (other sites use them), not even by its rollback")


def _joins(reader: _Reader, drafts: _Drafts) -> JoinedLoadBalancer | None:
    lb = reader.joined
    if lb is None:
        return None
    adds = [f"{d.kind} {d.name}" for _step_id, d in _added_to_joined(reader, drafts)]
    return JoinedLoadBalancer(lb.name, lb.arn, lb.dns_name, tuple(adds))


def _added_to_joined(reader: _Reader, drafts: _Drafts) -> list[tuple[str, _Draft]]:
    """What a joining plan adds to the joined load balancer: each step's draft, in words."""
    wanted = {sharing.CREATE_RULE, sharing.ADD_LISTENER_CERTIFICATE, elbv2.CREATE_LISTENER}
    found = [(sid, d) for sid, d in drafts.by_step.items()
             if actions.ACTIONS.get(reader.steps[sid].action) in wanted]
    for step in reader.plan.steps:
        action = actions.ACTIONS.get(step.action)
        if action is sharing.TAG_LOAD_BALANCER:
            found += [(step.id, _Draft("tag", f"{k}={v}"))
                      for k, v in step.params["Tags"].items()]
        elif action is sharing.SET_SUBNETS:
            added = [x for x in step.params["Subnets"] if x not in step.params["Before"]]
            found += [(step.id, _Draft("subnet", x)) for x in added]
    order = [s.id for s in reader.plan.steps]
    return sorted(found, key=lambda pair: order.index(pair[0]))


def _cost(reader: _Reader) -> Cost:
    snap = reader.snap
    region = snap.region
    if reader.joined is not None:
        return _joining_cost(reader, reader.joined)
    lb = reader.steps.get("load_balancer")
    zones = len(lb.params["Subnets"]) if lb else max(2, len(snap.public_subnets_by_zone()))
    before = "no load balancer: $0.00 (the instance's own cost does not change)"
    price = ALB_PRICES.get(region)
    monthly = monthly_base(region)
    if price is None or monthly is None:
        return Cost(region, 0.0, None, (before, f"price unknown for {region}: an Application "
                                        "Load Balancer is billed per hour plus LCU-hours"))
    ipv4 = round(IPV4_HOURLY * HOURS_PER_MONTH * zones, 2)
    lines = (before,
             f"load balancer ${monthly:.2f} (${price.hourly}/h x {HOURS_PER_MONTH} h)",
             f"{zones} public IPv4 addresses ${ipv4:.2f} (${IPV4_HOURLY}/h each)",
             f"plus ${price.lcu_hourly} per LCU-hour of traffic (a small site uses a "
             "fraction of one)",
             "the ACM certificate: free, renewed by ACM")
    return Cost(region, 0.0, round(monthly + ipv4, 2), lines)


def _joining_cost(reader: _Reader, lb: LoadBalancer) -> Cost:
    region = reader.snap.region
    price = ALB_PRICES.get(region)
    monthly = monthly_base(region)
    lines = [f"joins {lb.name}: no new load balancer and no new public IPv4 address, so the "
             "base bill does not change"]
    if price is None or monthly is None:
        lines.append(f"price unknown for {region}: the site's traffic adds LCU-hours to "
                     f"{lb.name}'s bill")
        return Cost(region, 0.0, 0.0, tuple(lines))
    zones = len(lb.availability_zones)
    saving = round(monthly + IPV4_HOURLY * HOURS_PER_MONTH * zones, 2)
    lines += [f"saves ${saving:.2f} a month against a load balancer of its own (${monthly:.2f}"
              f" plus {zones} public IPv4 addresses)",
              f"plus ${price.lcu_hourly} per LCU-hour of the site's traffic on {lb.name}",
              "the ACM certificate: free, renewed by ACM"]
    return Cost(region, 0.0, 0.0, tuple(lines))


def _shared_cost(readers: list[_Reader]) -> Cost:
    """One load balancer for every site of the plan, against one each."""
    cost = _cost(readers[0])
    region = readers[0].snap.region
    monthly = monthly_base(region)
    if cost.after_usd is None or monthly is None:
        return cost
    alone = sum(round(monthly + IPV4_HOURLY * HOURS_PER_MONTH
                      * max(2, len(r.snap.public_subnets_by_zone())), 2) for r in readers)
    lines = (cost.lines[0],
             f"one load balancer for {len(readers)} sites: ${cost.after_usd:.2f} a month "
             f"instead of ${alone:.2f} for a load balancer each (saves "
             f"${alone - cost.after_usd:.2f})", *cost.lines[1:-1],
             "the ACM certificates: free, renewed by ACM")
    return replace(cost, lines=lines)


def _timing(reader: _Reader) -> Timing:
    steps, opts = reader.steps, reader.plan.options
    switch = steps.get("switch_dns")
    ttl = max((int(o.get("TTL") or 0) for o in switch.params["Originals"]), default=0) \
        if switch else 0
    waits: list[Wait] = []
    if "certificate_issued" in steps:
        waits.append(Wait("certificate_issued", "ACM validates the certificate by DNS",
                          f"usually a few minutes, while the load balancer is built (apply "
                          f"gives up after {_duration(opts.certificate_timeout_seconds)})"))
    if "load_balancer_active" in steps:
        waits.append(Wait("load_balancer_active", "the load balancer is provisioned",
                          "usually 2-5 minutes"))
    healthy = steps.get("target_healthy")
    tg = steps.get("target_group")
    if healthy and tg:
        passes = tg.params["HealthyThresholdCount"]
        every = tg.params["HealthCheckIntervalSeconds"]
        waits.append(Wait("target_healthy", "the instance passes the health check",
                          f"{passes} checks {every} s apart, about {passes * every} s (apply "
                          f"gives up after {_duration(healthy.params['TimeoutSeconds'])})"))
    if switch and "Stages" in switch.params:
        soaks = len(switch.params["Stages"]) - 1
        soak = int(switch.params["SoakSeconds"])
        waits.append(Wait("switch_dns", f"the canary: {len(switch.params['Stages'])} stages, "
                                        "each applied by Route53 (INSYNC), the first "
                                        f"{soaks} soaked {_duration(soak)} each",
                          f"at least {_duration(soaks * soak)}, plus under a minute per "
                          "stage"))
    elif switch:
        waits.append(Wait("switch_dns", "Route53 applies the switch (INSYNC)",
                          "usually under a minute"))
    cutover = (f"every client reaches the load balancer at most {_duration(ttl)} (the old "
               "TTL) after the switch; until then the instance keeps serving them directly, "
               "so no request fails")
    if "lockdown_ready" in steps:
        lockdown = (f"at the switch + {_duration(ttl)}: apply waits for it with "
                    "--wait-for-ttl, else stops there and a later apply locks down")
    elif reader.plan.options.lockdown:
        lockdown = "none: no group of the instance admits 80/443 from anywhere"
    else:
        lockdown = "none (planned with --no-lockdown): the instance stays open on 80/443"
    return Timing(ttl, tuple(waits), cutover, lockdown)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds} s ({seconds / 60:g} min)"
    return f"{seconds / 3600:g} h"


# --- text ---------------------------------------------------------------------------------------

def text_lines(changes: AccountChanges, digest: str | None = None, *, width: int = WIDTH
               ) -> list[tuple[str, str]]:
    """The account changes as (line, style) pairs, each line at most `width` columns."""
    out: list[tuple[str, str]] = []

    def wrap(text: str, indent: int, style: str = "", first: str = "") -> None:
        lead = first or " " * indent
        for line in textwrap.wrap(text, width=width, initial_indent=lead,
                                  subsequent_indent=" " * indent, break_on_hyphens=False,
                                  break_long_words=True) or [lead]:
            out.append((line, style))

    wrap(f"What plan {changes.plan_id} changes in account {changes.account} "
         f"({changes.region}) for {_for_whom(changes)}", 2, "bold")
    if digest:
        out.append((f"sha256 {digest}", ""))
    counts = changes.counts()
    out.append(("  ".join(f"{SYMBOLS[a]} {counts[a]} {'left ' if a == UNTOUCHED else 'to '}"
                          f"{'untouched' if a == UNTOUCHED else a}" for a in SYMBOLS), ""))
    if changes.joins is not None:
        out.append(("", ""))
        wrap(_joins_line(changes.joins), 2, "bold")
        for added in changes.joins.adds:
            wrap(added, 6, "", "    + ")
    if not changes.sites:
        _text_sections(out, wrap, changes.section, width)
    else:
        for title, section in _groups(changes):
            out.append(("", ""))
            out.append((f"── {title} ".ljust(width, "─"), "bold"))
            _text_sections(out, wrap, section, width)
    out.append(("", ""))
    out.append(("Monthly cost (USD)", "bold"))
    cost = changes.cost
    after = f"${cost.after_usd:.2f}" if cost.after_usd is not None else "unknown"
    out.append((f"  before ${cost.before_usd:.2f} → after {after} a month, plus traffic", ""))
    for line in cost.lines:
        wrap(line, 6, "", "    ")
    wrap(f"prices from {cost.source} as of {cost.as_of}", 6, "dim", "    ")
    out.append(("", ""))
    out.append(("Time", "bold"))
    for wait in changes.timing.waits:
        wrap(f"{wait.what}: {wait.expected}", 6, "", "  · ")
    wrap(f"cutover: {changes.timing.cutover}", 6, "", "  · ")
    wrap(f"lockdown: {changes.timing.lockdown}", 6, "", "  · ")
    return out


def _for_whom(changes: AccountChanges) -> str:
    if changes.sites:
        return (f"{len(changes.sites)} sites on one new load balancer: "
                f"{', '.join(changes.domains)}")
    return changes.domain


def _joins_line(joins: JoinedLoadBalancer) -> str:
    return (f"Joins load balancer {joins.name} ({joins.dns_name}): no new load balancer. "
            "It adds to it:")


def _groups(changes: AccountChanges
            ) -> list[tuple[str, Callable[[str], tuple[Resource, ...]]]]:
    """A plan for several sites: what they share, then each site's own, with a title."""
    return [("Shared by every site: the load balancer and its listeners", changes.section),
            *((site.domain, site.section) for site in changes.sites)]


def _text_sections(out: list[tuple[str, str]], wrap: Callable[..., None],
                   section: Callable[[str], tuple[Resource, ...]], width: int) -> None:
    for action in SYMBOLS:
        resources = section(action)
        if not resources:
            continue
        out.append(("", ""))
        out.append((TITLES[action], "bold"))
        for res in resources:
            wrap(f"{res.kind} {res.name}", 4, STYLES[action], f"{SYMBOLS[action]} ")
            for attr in res.attributes:
                wrap(f"{attr.name:<15} {attr.value}", 22, "", "      ")
            for chg in res.changes:
                both = f"      {chg.name:<15} {chg.before} → {chg.after}"
                if len(both) <= width:
                    out.append((both, ""))
                    continue
                wrap(f"{chg.name:<15} {chg.before}", 22, "", "      ")
                wrap(f"→ {chg.after}", 24, STYLES[action], " " * 20)
            if res.note:
                wrap(res.note, 6, "dim", "      ")


def print_text(console: Console, changes: AccountChanges, digest: str | None = None) -> None:
    """Print the account changes on a rich console: coloured, or plain with NO_COLOR."""
    from rich.text import Text

    width = min(WIDTH, console.width or WIDTH)
    for line, style in text_lines(changes, digest, width=width):
        console.print(Text(line, style="" if console.no_color else style), soft_wrap=True)


# --- Markdown -----------------------------------------------------------------------------------

def markdown(plan: Plan, changes: AccountChanges | None = None) -> str:
    """The review as GitHub-flavoured Markdown for a pull-request comment."""
    changes = changes or account_changes(plan)
    digest = plan_digest(plan)
    counts = changes.counts()
    lines = [f"### migrator plan `{plan.id}`: {', '.join(changes.domains)}", "",
             f"Account `{changes.account}`, region `{changes.region}`  ",
             f"sha256 `{digest}`", "",
             "**" + " · ".join(f"`{SYMBOLS[a]}` {counts[a]} {TITLES[a].lower()}"
                               for a in SYMBOLS) + "**", ""]
    if changes.sites:
        lines[-2:-1] = [f"{len(changes.sites)} sites on one new load balancer", "",
                        lines[-2]]
    if changes.joins is not None:
        lines += [f"**{_md(_joins_line(changes.joins))}**", ""]
        lines += [f"- {_md(added)}" for added in changes.joins.adds]
        lines.append("")
    if not changes.sites:
        _md_sections(lines, changes.section, "#### ")
    else:
        for title, section in _groups(changes):
            lines += [f"#### {_md(title)}", ""]
            _md_sections(lines, section, "##### ")
    cost = changes.cost
    after = f"${cost.after_usd:.2f}" if cost.after_usd is not None else "unknown"
    lines += ["#### Monthly cost (USD)", "",
              f"before **${cost.before_usd:.2f}** → after **{after}** a month, plus traffic",
              ""]
    lines += [f"- {_md(line)}" for line in cost.lines]
    lines += [f"- prices from <{cost.source}> as of {cost.as_of}", "", "#### Time", "",
              "| wait | expected |", "| --- | --- |"]
    lines += [f"| {_md(w.what)} (`{w.step}`) | {_md(w.expected)} |"
              for w in changes.timing.waits]
    lines += [f"| cutover | {_md(changes.timing.cutover)} |",
              f"| lockdown | {_md(changes.timing.lockdown)} |", ""]
    lines += ["<details><summary>The plan's " f"{len(plan.steps)} steps, each with its undo"
              "</summary>", "", "| # | step | what it does | undo | status |",
              "| ---: | --- | --- | --- | --- |"]
    for number, step in enumerate(plan.steps, 1):
        undo = step.inverse.description if step.inverse else "-"
        lines.append(f"| {number} | `{step.id}` | {_md(step.description)} | {_md(undo)} | "
                     f"{plan.state(step.id).status} |")
    lines += ["", "</details>", "",
              f"Approve this exact plan: `migrator apply PLAN --expect-sha256 {digest}`", ""]
    return "\n".join(lines)


def _md_sections(lines: list[str], section: Callable[[str], tuple[Resource, ...]],
                 heading: str) -> None:
    for action in SYMBOLS:
        resources = section(action)
        if not resources:
            continue
        lines += [f"{heading}{TITLES[action]}", "", "```diff"]
        for res in resources:
            mark = SYMBOLS[action]
            lines.append(f"{mark} {res.kind} {res.name}")
            body = "+" if action == CREATE else ("-" if action == DESTROY else " ")
            for attr in res.attributes:
                lines.append(f"{body}     {attr.name}: {attr.value}")
            for chg in res.changes:
                lines.append(f"-     {chg.name}: {chg.before}")
                lines.append(f"+     {chg.name}: {chg.after}")
            if res.note:
                lines.append(f"{body}     # {res.note}")
        lines += ["```", ""]


def _md(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(
        "\n", " ")
