"""Read-only views of moto's in-process state, for the sandbox's DNS, data plane and firewall.

moto's backends are plain Python objects mutated by request threads; everything here copies what
it needs into frozen dataclasses (``list(...)`` first, never iterating a live dict) and never
creates a backend as a side effect of looking.

When the strict AWS layer (``sandbox/strict``) is installed it registers itself here
(:func:`set_strict_view`): certificate status is then what its ACM rules say, so every reader
agrees with the API. Security groups are read from the network interfaces whenever a layer keeps
them there (``moto_fixes`` or ``strict``).
"""

from __future__ import annotations

import datetime as dt
import inspect
import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol

from moto.acm.models import acm_backends
from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends

from .backends import existing, existing_backend


class StrictView(Protocol):
    """What the strict layer answers for the readers here."""

    def certificate_status(self, bundle: Any) -> str | None:
        """A certificate's status right now (None: no opinion)."""
        ...


_strict_view: StrictView | None = None


def set_strict_view(view: StrictView | None) -> None:
    """Install (or, with None, remove) the strict layer's view."""
    global _strict_view
    _strict_view = view


def strict_view() -> StrictView | None:
    return _strict_view


# -- load balancers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A listener (or rule) action as ELBv2 describes it (Type + its config dict)."""

    type: str
    order: int
    data: dict[str, Any]

    def forward_groups(self) -> list[tuple[str, int]]:
        """(target group ARN, weight) for a forward action."""
        if self.type != "forward":
            return []
        config = self.data.get("ForwardConfig") or {}
        groups = [
            (g["TargetGroupArn"], int(g.get("Weight", 1) or 0))
            for g in config.get("TargetGroups", [])
            if g.get("TargetGroupArn")
        ]
        if not groups and self.data.get("TargetGroupArn"):
            groups = [(self.data["TargetGroupArn"], 1)]
        return groups


@dataclass(frozen=True)
class Rule:
    priority: int
    conditions: tuple[dict[str, Any], ...]
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Listener:
    arn: str
    load_balancer_arn: str
    port: int
    protocol: str
    certificate_arns: tuple[str, ...]  # the default certificate first
    ssl_policy: str | None
    default_actions: tuple[Action, ...]
    rules: tuple[Rule, ...]  # non-default rules, by priority


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    account_id: str
    region: str
    type: str
    scheme: str
    state: str
    created: str
    vpc_id: str | None
    security_group_ids: tuple[str, ...]
    subnet_cidrs: tuple[str, ...]
    listeners: tuple[Listener, ...]


def _actions(raw: Any) -> tuple[Action, ...]:
    actions = []
    for index, action in enumerate(raw or []):
        data = dict(getattr(action, "data", None) or {})
        order = int(data.get("Order") or index + 1)
        actions.append(Action(type=str(data.get("Type", "")), order=order, data=data))
    return tuple(sorted(actions, key=lambda a: a.order))


def _listener(raw: Any) -> Listener:
    certs = [c for c in (getattr(raw, "certificates", None) or []) if c]
    default = getattr(raw, "certificate", None)
    if default and default not in certs:
        certs.insert(0, default)
    elif default:
        certs.remove(default)
        certs.insert(0, default)
    rules = []
    for rule in list(getattr(raw, "_non_default_rules", {}).values()):
        try:
            priority = int(rule.priority)
        except (TypeError, ValueError):
            continue
        rules.append(Rule(priority, tuple(rule.conditions or ()), _actions(rule.actions)))
    return Listener(
        arn=raw.arn,
        load_balancer_arn=raw.load_balancer_arn,
        port=int(raw.port),
        protocol=str(raw.protocol or "").upper(),
        certificate_arns=tuple(certs),
        ssl_policy=getattr(raw, "ssl_policy", None),
        default_actions=_actions(raw.default_actions),
        rules=tuple(sorted(rules, key=lambda r: r.priority)),
    )


def load_balancers() -> list[LoadBalancer]:
    """Every ELBv2 load balancer in every account/region, oldest first."""
    found: list[LoadBalancer] = []
    for account_id, region, backend in existing(elbv2_backends):
        for lb in list(backend.load_balancers.values()):
            subnets = list(lb.subnets or [])
            found.append(
                LoadBalancer(
                    arn=lb.arn,
                    name=lb.name,
                    dns_name=str(lb.dns_name).lower(),
                    account_id=account_id,
                    region=region,
                    type=str(lb.type),
                    scheme=str(lb.scheme),
                    state=str(lb.state),
                    created=str(lb.created_time),
                    vpc_id=lb.vpc_id,
                    security_group_ids=tuple(lb.security_groups or ()),
                    subnet_cidrs=tuple(str(getattr(s, "cidr_block", "")) for s in subnets),
                    listeners=tuple(_listener(li) for li in list(lb.listeners.values())),
                )
            )
    found.sort(key=lambda lb: lb.created)
    return found


@dataclass(frozen=True)
class Target:
    id: str
    port: int


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    account_id: str
    region: str
    protocol: str
    port: int | None
    target_type: str
    health_check_enabled: bool
    health_check_protocol: str
    health_check_port: str
    health_check_path: str
    health_check_interval: float
    health_check_timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str
    targets: tuple[Target, ...]
    load_balancer_arns: tuple[str, ...]


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def target_group(account_id: str, region: str, arn: str) -> TargetGroup | None:
    backend = existing_backend(elbv2_backends, account_id, region)
    if backend is None:
        return None
    tg = backend.target_groups.get(arn)
    if tg is None:
        return None
    port = _int(tg.port, 0) or None
    protocol = str(tg.protocol or "HTTP").upper()
    matcher = (getattr(tg, "matcher", None) or {}).get("HttpCode") or "200"
    return TargetGroup(
        arn=tg.arn,
        name=tg.name,
        account_id=account_id,
        region=region,
        protocol=protocol,
        port=port,
        target_type=str(tg.target_type or "instance"),
        health_check_enabled=str(tg.health_check_enabled).lower() != "false",
        health_check_protocol=str(tg.health_check_protocol or protocol).upper(),
        health_check_port=str(tg.health_check_port or "traffic-port"),
        health_check_path=str(tg.health_check_path or "/"),
        health_check_interval=float(_int(tg.health_check_interval_seconds, 30)),
        health_check_timeout=float(_int(tg.health_check_timeout_seconds, 5)),
        healthy_threshold=_int(tg.healthy_threshold_count, 5),
        unhealthy_threshold=_int(tg.unhealthy_threshold_count, 2),
        matcher=str(matcher),
        targets=tuple(
            Target(str(t["Id"]), _int(t.get("Port"), port or 80)) for t in list(tg.targets.values())
        ),
        load_balancer_arns=tuple(tg.load_balancer_arns),
    )


# -- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """An ACM certificate: moto's PEM material plus what ACM says about it."""

    arn: str
    type: str  # AMAZON_ISSUED | IMPORTED | PRIVATE
    status: str  # as a describe would report it right now
    domain_name: str
    names: tuple[str, ...]  # domain name first, then the other SANs
    cert_pem: bytes
    key_pem: bytes
    chain_pem: bytes


def _effective_status(bundle: Any, now: dt.datetime) -> str:
    """What ``describe_certificate`` would say now (moto only updates status on describe)."""
    from moto import settings

    status = str(bundle.status)
    try:
        not_after = bundle._cert.not_valid_after_utc
    except AttributeError:  # pragma: no cover - older cryptography
        not_after = bundle._cert.not_valid_after.replace(tzinfo=dt.UTC)
    if not_after <= now:
        return "EXPIRED"
    view = _strict_view
    if view is not None:
        decided = view.certificate_status(bundle)
        if decided is not None:
            return decided
    if status == "PENDING_VALIDATION" and bundle.type == "AMAZON_ISSUED":
        created = bundle.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        if (now - created).total_seconds() > float(settings.ACM_VALIDATION_WAIT):
            return "ISSUED"
    return status


def certificate(arn: str) -> Certificate | None:
    """The ACM certificate with this ARN, in whichever account/region holds it."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "acm":
        return None
    region, account_id = parts[3], parts[4]
    backend = existing_backend(acm_backends, account_id, region)
    if backend is None:
        return None
    bundle = backend._certificates.get(arn)
    if bundle is None:
        return None
    domain = str(bundle.common_name or "")
    names = [domain] if domain else []
    names += [n for n in bundle.sans if n and n != domain]
    return Certificate(
        arn=arn,
        type=str(bundle.type),
        status=_effective_status(bundle, dt.datetime.now(dt.UTC)),
        domain_name=domain,
        names=tuple(names),
        cert_pem=bytes(bundle.cert),
        key_pem=bytes(bundle.key),
        chain_pem=bytes(bundle.chain or b""),
    )


# -- EC2 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    id: str
    state: str
    public_ip: str | None  # the Elastic IP if one is associated, else the public IP
    private_ip: str | None
    security_group_ids: tuple[str, ...]  # the instance's (every interface's) groups
    # the groups of the network interface that holds public_ip: what filters its traffic
    public_group_ids: tuple[str, ...] = ()


def _instance_level_groups(raw: Any) -> list[str]:
    groups = [g.id for g in (getattr(raw, "security_groups", None) or []) if g is not None]
    if not groups:
        nics = getattr(raw, "nics", {}) or {}
        nic = nics.get(0) if isinstance(nics, dict) else None
        groups = [g.id for g in (getattr(nic, "group_set", None) or [])]
    return groups


def _groups_on_interfaces(raw: Any) -> bool:
    """Does a layer over moto (``moto_fixes``, ``strict``) keep groups on the interfaces?

    Both make ``Instance.security_groups`` a property (the union of the interfaces' groups).
    Plain moto keeps the primary interface's groups in a list on the instance instead, which is
    the only one ModifyInstanceAttribute changes.
    """
    return isinstance(inspect.getattr_static(type(raw), "security_groups", None), property)


def _interface_groups(raw: Any, eni: Any) -> list[str]:
    """The groups of one of the instance's interfaces."""
    nics = getattr(raw, "nics", {}) or {}
    primary = nics.get(0) if isinstance(nics, dict) else None
    if eni is None or (eni is primary and not _groups_on_interfaces(raw)):
        return _instance_level_groups(raw)
    return [g.id for g in list(getattr(eni, "_group_set", None) or []) if g is not None]


def _instance_view(backend: Any, raw: Any) -> Instance:
    eip = None
    eip_eni = None
    for address in list(backend.addresses):
        inst = getattr(address, "instance", None)
        eni = getattr(address, "eni", None)
        if (inst is not None and inst.id == raw.id) or (
            eni is not None and getattr(getattr(eni, "instance", None), "id", None) == raw.id
        ):
            eip = address.public_ip
            eip_eni = eni
            break
    nics = getattr(raw, "nics", {}) or {}
    public_eni = eip_eni
    if public_eni is None and isinstance(nics, dict):
        public_eni = nics.get(0)
    return Instance(
        id=raw.id,
        state=str(raw.state),
        public_ip=eip or getattr(raw, "public_ip", None),
        private_ip=getattr(raw, "private_ip", None),
        security_group_ids=tuple(_instance_level_groups(raw)),
        public_group_ids=tuple(_interface_groups(raw, public_eni)),
    )


def instance(account_id: str, region: str, instance_id: str) -> Instance | None:
    backend = existing_backend(ec2_backends, account_id, region)
    if backend is None:
        return None
    raw = backend.get_instance_by_id(instance_id)
    return None if raw is None else _instance_view(backend, raw)


def instance_at(address: str) -> tuple[str, str, Instance] | None:
    """(account, region, instance) whose Elastic IP / public IP is ``address``, if any."""
    for account_id, region, backend in existing(ec2_backends):
        for eip in list(backend.addresses):
            if eip.public_ip == address:
                inst = getattr(eip, "instance", None)
                if inst is None and getattr(eip, "eni", None) is not None:
                    inst = getattr(eip.eni, "instance", None)
                if inst is None:
                    return None  # an unassociated Elastic IP routes nowhere
                return account_id, region, _instance_view(backend, inst)
    return None


@dataclass(frozen=True)
class IngressRule:
    protocol: str  # tcp | udp | icmp | -1
    from_port: int | None
    to_port: int | None
    cidr: str | None
    source_group_id: str | None

    def covers_port(self, port: int) -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol != "tcp":
            return False
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else 65535
        return low <= port <= high

    def covers_source(self, address: str, group_ids: tuple[str, ...] = ()) -> bool:
        if self.source_group_id:
            return self.source_group_id in group_ids
        if self.cidr:
            try:
                return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(
                    self.cidr, strict=False
                )
            except ValueError:
                return False
        return False

    def overlaps(self, cidrs: tuple[str, ...]) -> bool:
        if not self.cidr:
            return False
        try:
            mine = ipaddress.IPv4Network(self.cidr, strict=False)
            return any(mine.overlaps(ipaddress.IPv4Network(c, strict=False)) for c in cidrs if c)
        except ValueError:
            return False


def ingress_rules(account_id: str, region: str, group_ids: tuple[str, ...]) -> list[IngressRule]:
    """The inbound rules of these security groups (missing groups contribute nothing)."""
    backend = existing_backend(ec2_backends, account_id, region)
    if backend is None:
        return []
    rules: list[IngressRule] = []
    for group_id in group_ids:
        group = backend.get_security_group_from_id(group_id)
        if group is None:
            continue
        for rule in list(group.ingress_rules):
            source = (getattr(rule, "source_group", None) or {}).get("GroupId")
            rules.append(
                IngressRule(
                    protocol=str(rule.ip_protocol or "-1"),
                    from_port=rule.from_port,
                    to_port=rule.to_port,
                    cidr=(getattr(rule, "ip_range", None) or {}).get("CidrIp"),
                    source_group_id=source,
                )
            )
    return rules


def default_security_group(account_id: str, region: str, vpc_id: str | None) -> str | None:
    backend = existing_backend(ec2_backends, account_id, region)
    if backend is None or vpc_id is None:
        return None
    try:
        group = backend.get_default_security_group(vpc_id)
    except Exception:
        return None
    return None if group is None else group.id
