"""Read-only: the load balancers a site could join, and the one a joining plan names, as plain
`LoadBalancer` data (its HTTPS:443 listener's certificates and rules, its tags and the account's
quotas), for preflight, the planner, inspect and the wizard.

A plan that puts a site on a load balancer tags it `migrator:site:<plan id>` (the value: the
site's domain), so that a plan which created a shared load balancer can tell, before its
rollback deletes it, which other plans still have sites on it.
"""

from __future__ import annotations

from typing import Any

from migrator.core.snapshot import ListenerRule, LoadBalancer
from migrator.errors import NotFoundError

SITE_TAG_PREFIX = "migrator:site:"
PLAN_TAG = "migrator:plan"
CERTIFICATE_QUOTA = "certificates-per-application-load-balancer"
RULE_QUOTA = "rules-per-application-load-balancer"


def site_tag(plan_id: str) -> str:
    return SITE_TAG_PREFIX + plan_id


def joined_plans(tags: dict[str, str]) -> tuple[str, ...]:
    """The plans a load balancer's tags say have a site on it."""
    return tuple(sorted(k.removeprefix(SITE_TAG_PREFIX) for k in tags
                        if k.startswith(SITE_TAG_PREFIX)))


def find_load_balancer(aws: Any, name_or_arn: str) -> LoadBalancer:
    """The load balancer `--load-balancer` names (a name or an ARN), described in full."""
    if name_or_arn.startswith("arn:"):
        found = aws.elbv2.load_balancer(name_or_arn)
    else:
        found = aws.elbv2.load_balancer_named(name_or_arn)
    if found is None:
        raise NotFoundError(f"no load balancer {name_or_arn} in {aws.region}",
                            hint="check the name or ARN (aws elbv2 describe-load-balancers), "
                                 "and --region")
    return describe(aws, found, aws.elbv2.account_limits())


def load_balancers_in_vpc(aws: Any, vpc_id: str) -> list[LoadBalancer]:
    """The internet-facing application load balancers of a VPC, described in full: those a
    site of that VPC could join."""
    found = [lb for lb in aws.elbv2.load_balancers()
             if lb.get("VpcId") == vpc_id and lb.get("Type") == "application"
             and lb.get("Scheme") == "internet-facing"]
    if not found:
        return []
    limits = aws.elbv2.account_limits()
    return [describe(aws, lb, limits) for lb in found]


def describe(aws: Any, lb: dict[str, Any], limits: dict[str, int]) -> LoadBalancer:
    """One load balancer as DescribeLoadBalancers gave it, with its listeners, the HTTPS:443
    listener's certificates and rules, and its tags."""
    arn = lb["LoadBalancerArn"]
    listeners = aws.elbv2.listeners(arn) if lb.get("Type") == "application" else []
    https = next((x for x in listeners if x["Port"] == 443 and x["Protocol"] == "HTTPS"), None)
    http = next((x for x in listeners if x["Port"] == 80 and x["Protocol"] == "HTTP"), None)
    certificates: tuple[str, ...] = ()
    rules: tuple[ListenerRule, ...] = ()
    if https is not None:
        listed = aws.elbv2.listener_certificates(https["ListenerArn"])
        default = [c["CertificateArn"] for c in listed if c.get("IsDefault")] or [
            c["CertificateArn"] for c in https.get("Certificates", [])]
        others = [c["CertificateArn"] for c in listed
                  if not c.get("IsDefault") and c["CertificateArn"] not in default]
        certificates = tuple(dict.fromkeys([*default, *others]))
        rules = tuple(_rule(r) for r in aws.elbv2.rules(https["ListenerArn"])
                      if not r.get("IsDefault") and str(r.get("Priority")) != "default")
    other_rules = sum(1 for x in listeners if x is not https
                      for r in aws.elbv2.rules(x["ListenerArn"]) if not r.get("IsDefault"))
    tags = aws.elbv2.tags([arn]).get(arn, {})
    idle = aws.elbv2.attributes(arn).get("idle_timeout.timeout_seconds", "60") \
        if lb.get("Type") == "application" else "60"
    return LoadBalancer(
        arn=arn, name=lb["LoadBalancerName"], dns_name=lb.get("DNSName", ""),
        zone_id=lb.get("CanonicalHostedZoneId", ""), type=lb.get("Type", "application"),
        scheme=lb.get("Scheme", "internet-facing"), vpc_id=lb.get("VpcId", ""),
        state=lb.get("State", {}).get("Code", ""),
        ip_address_type=lb.get("IpAddressType", "ipv4"),
        subnets=tuple(sorted((z["ZoneName"], z["SubnetId"])
                             for z in lb.get("AvailabilityZones", []))),
        security_group_ids=tuple(lb.get("SecurityGroups", [])),
        https_listener_arn=https["ListenerArn"] if https else None,
        ssl_policy=https.get("SslPolicy") if https else None,
        certificate_arns=certificates, rules=rules, other_rules=other_rules,
        http_listener_arn=http["ListenerArn"] if http else None,
        http_redirects=http is not None and _redirects_to_https(http),
        created_by=tags.get(PLAN_TAG), joined_by=joined_plans(tags),
        certificate_quota=limits.get(CERTIFICATE_QUOTA, 25),
        rule_quota=limits.get(RULE_QUOTA, 100),
        idle_timeout_seconds=int(idle) if str(idle).isdigit() else 60)


def _rule(rule: dict[str, Any]) -> ListenerRule:
    hosts: list[str] = []
    others: list[str] = []
    for condition in rule.get("Conditions", []):
        field = condition.get("Field", "")
        if field == "host-header":
            hosts += (condition.get("HostHeaderConfig") or {}).get("Values") \
                or condition.get("Values") or []
        else:
            others.append(field)
    return ListenerRule(arn=rule["RuleArn"], priority=int(rule["Priority"]),
                        hosts=tuple(h.lower() for h in hosts),
                        other_conditions=tuple(others))


def _redirects_to_https(listener: dict[str, Any]) -> bool:
    actions = listener.get("DefaultActions", [])
    return any(a.get("Type") == "redirect"
               and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS" for a in actions)
