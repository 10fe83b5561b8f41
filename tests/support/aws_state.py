"""A comparable picture of everything in the moto account that a migration may touch, read with
boto3 directly (independently of the tool), so tests can assert "exactly as before"."""

from __future__ import annotations

import weakref
from typing import Any

import boto3

_CLIENTS: weakref.WeakKeyDictionary[boto3.Session, tuple[Any, ...]] = \
    weakref.WeakKeyDictionary()


def _clients(session: boto3.Session) -> tuple[Any, ...]:
    """The session's four clients, made once per session (creating a client is costly)."""
    if session not in _CLIENTS:
        _CLIENTS[session] = tuple(session.client(s) for s in ("ec2", "elbv2", "acm", "route53"))
    return _CLIENTS[session]


def account_state(session: boto3.Session) -> dict[str, Any]:
    ec2, elbv2, acm, route53 = _clients(session)
    zones = {}
    for zone in route53.list_hosted_zones()["HostedZones"]:
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        zones[zone["Name"]] = sorted(
            ({k: v for k, v in r.items()} for r in records),
            key=lambda r: (r["Name"], r["Type"]))
    groups = {
        g["GroupId"]: {"name": g["GroupName"], "ingress": _rules(g["IpPermissions"]),
                       "egress": _rules(g["IpPermissionsEgress"])}
        for g in ec2.describe_security_groups()["SecurityGroups"]}
    instances = {
        i["InstanceId"]: sorted(g["GroupId"] for g in i["SecurityGroups"])
        for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    interfaces = {
        eni["NetworkInterfaceId"]: sorted(g["GroupId"] for g in eni.get("Groups", []))
        for eni in ec2.describe_network_interfaces()["NetworkInterfaces"]}
    lbs = elbv2.describe_load_balancers()["LoadBalancers"]
    return {
        "interface_groups": interfaces,
        "zones": zones,
        "security_groups": groups,
        "instance_groups": instances,
        "load_balancers": sorted(lb["LoadBalancerName"] for lb in lbs),
        "listeners": sorted(
            (lb["LoadBalancerName"], li["Port"]) for lb in lbs
            for li in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]),
        "target_groups": sorted(tg["TargetGroupName"]
                                for tg in elbv2.describe_target_groups()["TargetGroups"]),
        "certificates": sorted(c["CertificateArn"] for c in acm.list_certificates(
            CertificateStatuses=["ISSUED", "PENDING_VALIDATION"])["CertificateSummaryList"]),
        "addresses": sorted((a["PublicIp"], a.get("InstanceId")) for a in
                            ec2.describe_addresses()["Addresses"]),
    }


def _rules(permissions: list[dict[str, Any]]) -> list[str]:
    out = []
    for p in permissions:
        for key, sub in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"),
                         ("UserIdGroupPairs", "GroupId")):
            for item in p.get(key, []):
                out.append(f"{p['IpProtocol']}:{p.get('FromPort')}-{p.get('ToPort')}:{item[sub]}")
    return sorted(out)
