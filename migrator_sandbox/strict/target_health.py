"""Target health as AWS reports it, by time (moto says ``healthy`` the moment a target is
registered):

* ``unused`` (``Target.NotInUse``) while no listener of an active load balancer forwards to
  the target group;
* ``unused`` (``Target.NotInUse``, "Target is in an Availability Zone that is not enabled for the
  load balancer") for an instance whose Availability Zone none of those load balancers has a
  subnet in: AWS never routes to it (cross-zone load balancing or not) until SetSubnets enables
  the zone. Targets given by IP address are not judged by zone;
* ``initial`` (``Elb.RegistrationInProgress``) for HealthyThresholdCount x the effective interval
  (HealthCheckIntervalSeconds x ``health_time_scale``) after the target was registered, in use
  and in an enabled zone (for a zone SetSubnets enabled, from then on);
* then ``healthy``;
* a deregistered target is ``draining`` (``Target.DeregistrationInProgress``) for
  ``deregistration_delay`` -- DescribeTargetHealth still lists it --, then gone.

Inside the full sandbox the data plane's health checker (``sandbox/health.py``) wraps this: once
the time rules say ``healthy``, its probes decide healthy or unhealthy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends

from ..backends import existing_backend
from . import usage
from .config import StrictConfig
from .ledger import OLD, Draining, Ledger
from .patching import Patcher, arguments

NOT_IN_USE = (
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)
NOT_IN_ZONE = (
    "unused",
    "Target.NotInUse",
    "Target is in an Availability Zone that is not enabled for the load balancer",
)
REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def target_zone(target_id: str, ec2_backend: Any) -> str | None:
    """The Availability Zone of an instance target (None: not an instance, or unknown)."""
    if ec2_backend is None or not target_id.startswith("i-"):
        return None
    try:
        instance = ec2_backend.get_instance_by_id(target_id)
    except Exception:  # moto raises for an unknown id; its own answer stands then
        return None
    zone = getattr(instance, "availability_zone", None) if instance is not None else None
    return str(zone) if zone else None


def load_balancer_zones(lb: Any) -> frozenset[str]:
    return frozenset(str(s.availability_zone) for s in list(getattr(lb, "subnets", None) or []))


def find_load_balancer(lb_arn: str) -> Any | None:
    where = usage.arn_account_region(lb_arn)
    if where is None:
        return None
    backend = existing_backend(elbv2_backends, *where)
    return None if backend is None else backend.load_balancers.get(lb_arn)


class TargetHealthRules:
    """Installs the time-based target health rules."""

    def __init__(self, ledger: Ledger, config: StrictConfig):
        self.ledger = ledger
        self.config = config
        # (load balancer ARN, zone) -> when SetSubnets enabled the zone (under ledger.lock); a
        # zone the load balancer was created with is enabled since its creation (not listed)
        self.zone_enabled: dict[tuple[str, str], float] = {}

    def initial_period(self, tg: Any) -> float:
        return self.config.first_healthy(
            _int(tg.healthy_threshold_count, 5), _int(tg.health_check_interval_seconds, 30)
        )

    def draining(self, tg: Any, target_id: str) -> Draining | None:
        with self.ledger.lock:
            found = self.ledger.draining.get((tg.arn, target_id))
            if found is not None and self.ledger.now() >= found.until:
                del self.ledger.draining[(tg.arn, target_id)]
                return None
            return found

    def routed_since(self, tg_arn: str, zone: str, now: float) -> float | None:
        """Since when an active load balancer with ``zone`` enabled forwards to the target
        group (None: none does, now)."""
        where = usage.arn_account_region(tg_arn)
        if where is None:
            return None
        with self.ledger.lock:
            pairs = dict(self.ledger.forwarding.get(where, {}))
        starts = []
        for (tg, lb_arn), since in pairs.items():
            if tg != tg_arn:
                continue
            start = max(since, usage.load_balancer_active_at(self.ledger, self.config, lb_arn))
            lb = find_load_balancer(lb_arn)
            if start > now or (lb is not None and zone not in load_balancer_zones(lb)):
                continue
            with self.ledger.lock:
                enabled = self.zone_enabled.get((lb_arn, zone), OLD)
            starts.append(max(start, enabled))
        return min(starts) if starts else None

    def health(self, tg: Any, target: dict[str, Any], moto_status: Any,
               ec2_backend: Any = None) -> Any:
        """The strict answer for one target, given what moto said."""
        target_id = str(target["Id"])
        if target_id not in tg.targets:
            drain = self.draining(tg, target_id)
            if drain is not None:
                port: Any = target.get("Port", drain.port if drain.port is not None else tg.port)
                return FakeHealthStatus(target_id, port, tg.health_check_port, *DRAINING)
            return moto_status
        if moto_status.status != "healthy":
            return moto_status  # stopped instance and the like: moto's answer
        status = moto_status
        now = self.ledger.now()
        in_use = usage.in_use_at(self.ledger, self.config, tg.arn)
        if in_use is None or in_use > now:
            return FakeHealthStatus(status.instance_id, status.port, status.health_check_port,
                                    *NOT_IN_USE)
        zone = target_zone(target_id, ec2_backend)
        if zone is not None:
            routed = self.routed_since(tg.arn, zone, now)
            if routed is None:
                return FakeHealthStatus(status.instance_id, status.port,
                                        status.health_check_port, *NOT_IN_ZONE)
            in_use = max(in_use, routed)
        with self.ledger.lock:
            registered = self.ledger.registered.get((tg.arn, target_id), OLD)
        if now < max(registered, in_use) + self.initial_period(tg):
            return FakeHealthStatus(status.instance_id, status.port, status.health_check_port,
                                    *REGISTERING)
        return status

    # -- install ------------------------------------------------------------------------------

    def install(self, patcher: Patcher) -> None:
        rules = self
        ledger = self.ledger

        def health_for(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(tg: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
                return rules.health(tg, target, original(tg, target, ec2_backend), ec2_backend)

            return call

        patcher.wrap(FakeTargetGroup, "health_for", health_for)

        def register(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                tg = given["self"].target_groups.get(given["target_group_arn"])
                before = set(tg.targets) if tg is not None else set()
                result = original(*args, **kwargs)
                if tg is not None:
                    with ledger.lock:
                        now = OLD if ledger.relaxed else ledger.now()
                        for target in given.get("instances") or []:
                            key = (tg.arn, str(target["Id"]))
                            if key[1] not in before:
                                ledger.registered[key] = now
                            ledger.draining.pop(key, None)
                return result

            return call

        patcher.wrap(ELBv2Backend, "register_targets", register)

        def deregister(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                tg = given["self"].target_groups.get(given["target_group_arn"])
                before = dict(tg.targets) if tg is not None else {}
                result = original(*args, **kwargs)
                if tg is not None:
                    with ledger.lock:
                        until = ledger.now() + rules.config.deregistration_delay
                        for target in given.get("instances") or []:
                            target_id = str(target["Id"])
                            if target_id in before and target_id not in tg.targets:
                                port = before[target_id].get("Port")
                                ledger.draining[(tg.arn, target_id)] = Draining(until, port)
                                ledger.registered.pop((tg.arn, target_id), None)
                return result

            return call

        patcher.wrap(ELBv2Backend, "deregister_targets", deregister)

        def describe(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                found = list(original(*args, **kwargs))
                tg = given["self"].target_groups.get(given["target_group_arn"])
                if tg is None or given.get("targets"):
                    return found
                with ledger.lock:
                    ids = [t for (arn, t) in list(ledger.draining) if arn == tg.arn]
                for target_id in ids:
                    if target_id in tg.targets:
                        continue
                    drain = rules.draining(tg, target_id)
                    if drain is not None:
                        port: Any = drain.port if drain.port is not None else tg.port
                        found.append(
                            FakeHealthStatus(target_id, port, tg.health_check_port, *DRAINING)
                        )
                return found

            return call

        patcher.wrap(ELBv2Backend, "describe_target_health", describe)

        def set_subnets(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                arn = str(given["arn"])
                lb = given["self"].load_balancers.get(arn)
                before = load_balancer_zones(lb) if lb is not None else frozenset()
                result = original(*args, **kwargs)
                lb = given["self"].load_balancers.get(arn)
                after = load_balancer_zones(lb) if lb is not None else frozenset()
                with ledger.lock:
                    now = OLD if ledger.relaxed else ledger.now()
                    for zone in after - before:
                        rules.zone_enabled[(arn, zone)] = now
                    for zone in before - after:
                        rules.zone_enabled.pop((arn, zone), None)
                return result

            return call

        patcher.wrap(ELBv2Backend, "set_subnets", set_subnets)
