"""Which AWS API calls read a whole collection of the account instead of named resources.

Shared by tests/integration/test_api_call_budget.py and bench/plan_api_calls.py (through
bench/_support.py): a call is a scan when it has neither a parameter naming what it reads nor a
filter that narrows it.
"""

from __future__ import annotations

from typing import Any

# Parameters that narrow a Describe*/List* call to named resources.
NARROWING = {
    ("ec2", "DescribeInstances"): ("InstanceIds",),
    ("ec2", "DescribeAddresses"): ("PublicIps", "AllocationIds"),
    ("ec2", "DescribeSecurityGroups"): ("GroupIds", "GroupNames"),
    ("ec2", "DescribeNetworkInterfaces"): ("NetworkInterfaceIds",),
    ("ec2", "DescribeSubnets"): ("SubnetIds",),
    ("ec2", "DescribeRouteTables"): ("RouteTableIds",),
    ("ec2", "DescribeVpcs"): ("VpcIds",),
    ("elbv2", "DescribeLoadBalancers"): ("Names", "LoadBalancerArns"),
    ("elbv2", "DescribeTargetGroups"): ("Names", "TargetGroupArns", "LoadBalancerArn"),
    ("route53", "ListResourceRecordSets"): ("StartRecordName",),
    ("route53", "ListHostedZonesByName"): ("DNSName",),
}
# Filters that do not narrow anything by themselves (every running instance matches).
BROAD_FILTERS = {"instance-state-name", "instance-state-code", "owner-id", "domain"}
# Listings with no filter at all in the API.
ALWAYS_SCANS = {("route53", "ListHostedZones")}


def is_scan(service: str, operation: str, params: dict[str, Any]) -> bool:
    """Whether the call reads a whole collection of the account instead of named resources."""
    key = (service, operation)
    if key in ALWAYS_SCANS:
        return True
    narrowing = NARROWING.get(key)
    if narrowing is None:
        return False
    if any(params.get(p) for p in narrowing):
        return False
    return not any(f.get("Name") not in BROAD_FILTERS and f.get("Values")
                   for f in params.get("Filters") or [])
