"""IAM action names of botocore operations: what authorizes a call, for AccessDenied messages
and for the IAM policy (which lists one action per operation the tool calls)."""

from __future__ import annotations

# botocore service name -> IAM service prefix (the "service prefix" of each reference page).
IAM_PREFIX = {
    "acm": "acm",
    "ec2": "ec2",
    "elbv2": "elasticloadbalancing",
    "iam": "iam",
    "lightsail": "lightsail",
    "route53": "route53",
    "sts": "sts",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorizes botocore `service`'s `operation`, e.g.
    ("elbv2", "CreateLoadBalancer") -> "elasticloadbalancing:CreateLoadBalancer"."""
    return f"{IAM_PREFIX.get(service, service)}:{operation}"
