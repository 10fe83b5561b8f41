"""Elastic Load Balancing v2 as AWS behaves where moto does not (the API; target health is in
``target_health``).

* A target group created less than ``target_group_visibility`` ago -> ``TargetGroupNotFound`` for
  RegisterTargets, DeregisterTargets, DescribeTargetHealth and for CreateListener /
  ModifyListener / CreateRule / ModifyRule actions forwarding to it; with ``describe_lag``
  DescribeTargetGroups does not see it either.
* Certificates on CreateListener / ModifyListener / AddListenerCertificates: an ACM certificate
  that does not exist -> ``CertificateNotFound``; one that is not ISSUED ->
  ``UnsupportedCertificate``; one ISSUED less than ``certificate_visibility`` ago ->
  ``CertificateNotFound``.
* CreateLoadBalancer / SetSecurityGroups with a security group that does not exist or was
  created less than ``ec2_visibility`` ago -> ``InvalidSecurityGroup``.
* A load balancer is ``provisioning`` for ``load_balancer_provisioning`` after it was created,
  then ``active`` -- whoever reads it, and however often (moto activates on the first describe).
* The groups of a deleted load balancer (or ones SetSecurityGroups dropped) stay on its network
  interfaces for ``eni_linger``: DeleteSecurityGroup answers DependencyViolation (see ``ec2``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer

from . import errors, usage
from .acm import ACMRules
from .config import StrictConfig
from .ec2 import EC2Rules
from .ledger import Ledger
from .patching import Patcher, arguments

TG = "tg"

# ELBv2 calls after which listeners (and so what is in use) may have changed.
_USAGE_CHANGING = (
    "create_listener",
    "modify_listener",
    "delete_listener",
    "create_rule",
    "modify_rule",
    "delete_rule",
    "delete_load_balancer",
    "add_listener_certificates",
    "remove_listener_certificates",
)


class ELBv2Rules:
    """Installs the ELBv2 API rules."""

    def __init__(self, ledger: Ledger, config: StrictConfig, ec2: EC2Rules, acm: ACMRules):
        self.ledger = ledger
        self.config = config
        self.ec2 = ec2
        self.acm = acm

    # -- checks -------------------------------------------------------------------------------

    def target_group_fresh(self, arn: str) -> bool:
        return self.ledger.is_fresh(TG, arn, self.config.target_group_visibility)

    def require_target_group(self, arn: str) -> None:
        if arn and self.target_group_fresh(arn):
            raise errors.target_group_not_found()

    def require_action_groups(self, actions: Any) -> None:
        for arn in usage.action_target_groups(actions):
            if self.target_group_fresh(arn):
                raise errors.target_group_not_found(arn)

    def require_security_groups(self, backend: Any, group_ids: list[str]) -> None:
        ec2 = backend.ec2_backend
        for group_id in group_ids:
            if ec2.get_security_group_from_id(group_id) is None or self.ec2.group_fresh(group_id):
                raise errors.invalid_security_group(group_id)

    def require_usable_certificate(self, arn: str | None) -> None:
        """A listener may present only an ACM certificate that is ISSUED and known to ELB."""
        if not arn or ":acm:" not in arn:
            return  # IAM server certificates: moto's own checks
        status = self.acm.status_of(arn)
        if status is None:
            raise errors.certificate_not_found(arn)
        if status != "ISSUED":
            raise errors.certificate_not_issued(arn, status)
        with self.ledger.lock:
            issued = self.ledger.issued.get(arn)
            recent = (
                issued is not None
                and not self.ledger.relaxed
                and self.ledger.now() - issued < self.config.certificate_visibility
            )
        if recent:
            raise errors.certificate_not_found(arn)

    def linger_groups(self, lb_arn: str, group_ids: list[str]) -> None:
        with self.ledger.lock:
            until = self.ledger.now() + self.config.eni_linger
            for group_id in group_ids:
                self.ledger.group_linger[group_id] = (until, lb_arn)

    # -- load balancer state ------------------------------------------------------------------

    def load_balancer_state(self, lb: Any) -> str:
        created = self.ledger.created_at(usage.LB, lb.arn)
        raw = str(lb.__dict__.get("state", "active"))
        if created == float("-inf") or raw not in ("provisioning", "active"):
            return raw
        if self.ledger.now() - created < self.config.load_balancer_provisioning:
            return "provisioning"
        return "active"

    # -- install ------------------------------------------------------------------------------

    def install(self, patcher: Patcher) -> None:
        rules = self
        ledger = self.ledger

        def checked(check: Callable[[dict[str, Any]], None]) -> Callable[..., Any]:
            def make(original: Callable[..., Any]) -> Callable[..., Any]:
                @functools.wraps(original)
                def call(*args: Any, **kwargs: Any) -> Any:
                    check(arguments(original, args, kwargs))
                    return original(*args, **kwargs)

                return call

            return make

        def create_target_group(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                group = original(*args, **kwargs)
                ledger.record_created(TG, group.arn)
                return group

            return call

        patcher.wrap(ELBv2Backend, "create_target_group", create_target_group)

        def create_load_balancer(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                rules.require_security_groups(given["self"], list(given["security_groups"] or []))
                lb = original(*args, **kwargs)
                ledger.record_created(usage.LB, lb.arn)
                return lb

            return call

        patcher.wrap(ELBv2Backend, "create_load_balancer", create_load_balancer)

        def set_security_groups(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                backend, wanted = given["self"], list(given["sec_groups"] or [])
                rules.require_security_groups(backend, wanted)
                lb = backend.load_balancers.get(given["arn"])
                before = list(lb.security_groups or []) if lb is not None else []
                result = original(*args, **kwargs)
                rules.linger_groups(given["arn"], [g for g in before if g not in wanted])
                return result

            return call

        patcher.wrap(ELBv2Backend, "set_security_groups", set_security_groups)

        def delete_load_balancer(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                lb = given["self"].load_balancers.get(given["arn"])
                result = original(*args, **kwargs)
                if lb is not None:
                    rules.linger_groups(lb.arn, list(lb.security_groups or []))
                return result

            return call

        patcher.wrap(ELBv2Backend, "delete_load_balancer", delete_load_balancer)

        def group_arg(call: dict[str, Any]) -> None:
            rules.require_target_group(call["target_group_arn"])

        for name in ("register_targets", "deregister_targets", "describe_target_health"):
            patcher.wrap(ELBv2Backend, name, checked(group_arg))

        def listener_create(call: dict[str, Any]) -> None:
            rules.require_action_groups(call.get("actions"))
            rules.require_usable_certificate(call.get("certificate"))

        def listener_modify(call: dict[str, Any]) -> None:
            rules.require_action_groups(call.get("actions"))
            for cert in call.get("certificates") or []:
                rules.require_usable_certificate(cert.get("CertificateArn"))

        def certificates_add(call: dict[str, Any]) -> None:
            for cert in call.get("certificates") or []:
                rules.require_usable_certificate(cert.get("CertificateArn"))

        def rule_actions(call: dict[str, Any]) -> None:
            rules.require_action_groups(call.get("actions"))

        patcher.wrap(ELBv2Backend, "create_listener", checked(listener_create))
        patcher.wrap(ELBv2Backend, "modify_listener", checked(listener_modify))
        patcher.wrap(ELBv2Backend, "add_listener_certificates", checked(certificates_add))
        patcher.wrap(ELBv2Backend, "create_rule", checked(rule_actions))
        patcher.wrap(ELBv2Backend, "modify_rule", checked(rule_actions))

        def track_usage(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return original(backend, *args, **kwargs)
                finally:
                    usage.refresh(ledger, backend)

            return call

        for name in _USAGE_CHANGING:
            patcher.wrap(ELBv2Backend, name, track_usage)

        if self.config.describe_lag:

            def describe_target_groups(original: Callable[..., Any]) -> Callable[..., Any]:
                @functools.wraps(original)
                def call(*args: Any, **kwargs: Any) -> Any:
                    given = arguments(original, args, kwargs)
                    found = original(*args, **kwargs)
                    fresh = [g for g in found if rules.target_group_fresh(g.arn)]
                    if fresh and (given.get("target_group_arns") or given.get("names")):
                        raise errors.target_group_not_found()
                    return [g for g in found if g not in fresh]

                return call

            patcher.wrap(ELBv2Backend, "describe_target_groups", describe_target_groups)

        patcher.set(
            FakeLoadBalancer,
            "state",
            property(rules.load_balancer_state, _set_state),
        )
        usage.refresh_all(ledger)


def _set_state(lb: Any, value: str) -> None:
    lb.__dict__["state"] = value
