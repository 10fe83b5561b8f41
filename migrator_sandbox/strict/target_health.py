"""Target health as AWS reports it, by time (moto says ``healthy`` the moment a target is
registered):

* ``unused`` (``Target.NotInUse``) while no listener of an active load balancer forwards to
  the target group;
* ``initial`` (``Elb.RegistrationInProgress``) for HealthyThresholdCount x the effective interval
  (HealthCheckIntervalSeconds x ``health_time_scale``) after the target was both registered and
  in use;
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

from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

from . import usage
from .config import StrictConfig
from .ledger import OLD, Draining, Ledger
from .patching import Patcher, arguments

NOT_IN_USE = (
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)
REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class TargetHealthRules:
    """Installs the time-based target health rules."""

    def __init__(self, ledger: Ledger, config: StrictConfig):
        self.ledger = ledger
        self.config = config

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

    def health(self, tg: Any, target: dict[str, Any], moto_status: Any) -> Any:
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
                return rules.health(tg, target, original(tg, target, ec2_backend))

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
