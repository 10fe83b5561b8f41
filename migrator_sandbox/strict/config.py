"""``StrictConfig``: every delay of the strict AWS world, in seconds, and two presets.

Real AWS takes seconds to minutes where moto answers at once; the strict world keeps AWS's order
of events but scales the waits down. ``fast()`` is for tests (sub-second), ``demo()`` for a
rehearsal a person watches (a few seconds). Health-check intervals are scaled too: a target
group's ``HealthCheckIntervalSeconds`` times ``health_time_scale`` is its effective interval.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# The target group migrator creates (planner.py): HealthCheckIntervalSeconds 10,
# HealthyThresholdCount 2. The floor uses them unless told otherwise.
TOOL_HEALTHY_THRESHOLD = 2
TOOL_HEALTH_CHECK_INTERVAL = 10.0


@dataclass(frozen=True)
class StrictConfig:
    """How long each AWS behaviour lasts (seconds) and how often Route 53 throttles."""

    # EC2 eventual consistency: a new security group / network interface is unknown to the
    # calls that use it (and to Describe, with ``describe_lag``) for this long.
    ec2_visibility: float = 0.3
    # ELB: a new target group is unknown for this long.
    target_group_visibility: float = 0.3
    # ELB: a certificate ACM has just ISSUED is unknown to listeners for this long.
    certificate_visibility: float = 0.3
    # ELB: a new load balancer is ``provisioning`` for this long, then ``active``.
    load_balancer_provisioning: float = 0.5
    # Effective health-check interval = HealthCheckIntervalSeconds x this.
    health_time_scale: float = 0.05
    # A deregistered target is ``draining`` for this long, then gone.
    deregistration_delay: float = 0.3
    # A load balancer's network interfaces keep its security groups this long after it is
    # deleted (or after SetSecurityGroups dropped them): DeleteSecurityGroup -> DependencyViolation.
    eni_linger: float = 0.3
    # ACM: validation records (ResourceRecord) appear in DescribeCertificate after this long.
    acm_records_delay: float = 0.2
    # ACM: ISSUED this long after every validation CNAME exists (and the records delay passed).
    acm_issue_delay: float = 0.3
    # ACM: DeleteCertificate answers ResourceInUseException this long after the last listener
    # stopped using the certificate.
    certificate_in_use_linger: float = 0.3
    # Route 53: a change is PENDING for this long, then INSYNC.
    route53_insync_delay: float = 0.3
    # Route 53: every Nth ChangeResourceRecordSets is throttled (0 = never).
    route53_throttle_every: int = 0
    # Describe calls (DescribeSecurityGroups, DescribeTargetGroups) lag too, for the same window.
    describe_lag: bool = True

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float) and value < 0:
                raise ValueError(f"StrictConfig.{field.name} must not be negative: {value}")

    # -- presets ------------------------------------------------------------------------------

    @classmethod
    def fast(cls, **overrides: Any) -> StrictConfig:
        """Sub-second delays, for tests (the defaults)."""
        return dataclasses.replace(cls(), **overrides)

    @classmethod
    def demo(cls, **overrides: Any) -> StrictConfig:
        """Slower, still seconds: a rehearsal someone watches (``sandbox up --strict``)."""
        base = cls(
            ec2_visibility=1.0,
            target_group_visibility=1.0,
            certificate_visibility=2.0,
            load_balancer_provisioning=3.0,
            health_time_scale=0.2,
            deregistration_delay=2.0,
            eni_linger=3.0,
            acm_records_delay=1.0,
            acm_issue_delay=3.0,
            certificate_in_use_linger=2.0,
            route53_insync_delay=2.0,
            route53_throttle_every=5,
        )
        return dataclasses.replace(base, **overrides)

    def replace(self, **changes: Any) -> StrictConfig:
        return dataclasses.replace(self, **changes)

    # -- derived ------------------------------------------------------------------------------

    def health_interval(self, interval_seconds: float) -> float:
        """The effective interval of a health check configured with ``interval_seconds``."""
        return float(interval_seconds) * self.health_time_scale

    def first_healthy(self, healthy_threshold: int, interval_seconds: float) -> float:
        """How long a registered, in-use target stays ``initial``."""
        return int(healthy_threshold) * self.health_interval(interval_seconds)

    def critical_path_floor(
        self,
        healthy_threshold: int = TOOL_HEALTHY_THRESHOLD,
        interval_seconds: float = TOOL_HEALTH_CHECK_INTERVAL,
    ) -> float:
        """The least time an apply can take on this world (no tool overhead at all):

        ``max(acm_records_delay + acm_issue_delay,
              load_balancer_provisioning + healthy_threshold x interval x health_time_scale)
          + route53_insync_delay``

        The certificate's CNAMEs can only be created once ACM shows them; the target is healthy
        only once the load balancer is active and HealthyThreshold checks passed; the DNS switch
        waits for both, then for INSYNC.
        """
        certificate = self.acm_records_delay + self.acm_issue_delay
        target = self.load_balancer_provisioning + self.first_healthy(
            healthy_threshold, interval_seconds
        )
        return max(certificate, target) + self.route53_insync_delay

    @property
    def floor(self) -> float:
        """:meth:`critical_path_floor` for migrator's own target group (threshold 2, 10 s)."""
        return self.critical_path_floor()
