"""What "not yet" means for AWS, and for how long: the retry policy for what botocore's retry
modes do not cover, AWS's eventual consistency (a resource just created answers "not found" for
a while) and dependants letting go (a group or certificate "in use" for a while after its load
balancer or listener went).

The loops themselves (Clock, Backoff, Retry, poll) are migrator.retry's, re-exported here for
the actions: a `Retry` names what it waits for, which errors mean "not yet" (the predicates
below), a deadline (the constants below) and a backoff.
"""

from __future__ import annotations

from migrator.errors import AwsConflictError, AwsError
from migrator.retry import SYSTEM_CLOCK, Backoff, Clock, Phases, Retry, Schedule, poll

__all__ = [
    "FRESH_UNDO_WINDOW",
    "IN_USE_DEADLINE",
    "NOT_YET_VISIBLE",
    "SYSTEM_CLOCK",
    "VISIBILITY_DEADLINE",
    "Backoff",
    "Clock",
    "Phases",
    "Retry",
    "Schedule",
    "not_yet_visible",
    "poll",
    "still_in_use",
]

# Codes AWS answers for a resource that exists but is not yet visible to every endpoint of the
# service (EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API"; ELB and ACM the same
# for target groups and just-issued certificates).
NOT_YET_VISIBLE = frozenset({
    "InvalidGroup.NotFound",            # EC2: a security group just created
    "InvalidSecurityGroup",             # ELB's wording of the same, on CreateLoadBalancer
    "InvalidNetworkInterfaceID.NotFound",
    "TargetGroupNotFound",              # ELB: a target group just created
    "CertificateNotFound",              # ELB: a certificate ACM issued a moment ago
})
# How long a just-created resource may stay invisible before "not found" is believed. AWS gives
# no bound; Terraform retries CertificateNotFound for 5 minutes (hashicorp/terraform#10180).
VISIBILITY_DEADLINE = 300.0
# How long after its creation a resource's "not found" on delete may still mean "not visible yet"
# rather than "already gone" (a rollback right after an apply; longer than AWS usually needs).
FRESH_UNDO_WINDOW = 60.0
# How long a deleted load balancer's interfaces or listener may hold a group or certificate.
IN_USE_DEADLINE = 900.0


def not_yet_visible(exc: Exception) -> bool:
    return isinstance(exc, AwsError) and exc.code in NOT_YET_VISIBLE


def still_in_use(exc: Exception) -> bool:
    return isinstance(exc, AwsConflictError)
