"""EC2: addresses, instances, security groups, VPCs, subnets and route tables (filtered queries
only)."""

from __future__ import annotations

from typing import Any

from migrator.aws.calls import wrap_service


def _paginate(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page[key])
    return items


@wrap_service
class Ec2:
    """Typed wrapper over an EC2 client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def address_by_public_ip(self, ip: str) -> dict[str, Any] | None:
        found = self._client.describe_addresses(
            Filters=[{"Name": "public-ip", "Values": [ip]}])["Addresses"]
        return found[0] if found else None

    def elastic_ips(self) -> list[dict[str, Any]]:
        """Every Elastic IP of the region: one DescribeAddresses call (it is not paginated)."""
        return list(self._client.describe_addresses()["Addresses"])

    def running_instances(self, *, page_size: int = 1000, max_pages: int = 3
                          ) -> tuple[list[dict[str, Any]], bool]:
        """Running instances, at most max_pages DescribeInstances calls of page_size each; the
        flag says whether more were left unread."""
        instances: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "Filters": [{"Name": "instance-state-name", "Values": ["running"]}],
            "MaxResults": page_size}
        for _ in range(max_pages):
            page = self._client.describe_instances(**params)
            instances.extend(i for r in page["Reservations"] for i in r["Instances"])
            if not page.get("NextToken"):
                return instances, False
            params["NextToken"] = page["NextToken"]
        return instances, True

    def instances(self, *, instance_ids: list[str] | None = None,
                  filters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        if instance_ids:
            params["InstanceIds"] = instance_ids
        if filters:
            params["Filters"] = filters
        reservations = _paginate(self._client, "describe_instances", "Reservations", **params)
        return [i for r in reservations for i in r["Instances"]]

    def security_groups(self, *, group_ids: list[str] | None = None,
                        filters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        if group_ids:
            params["GroupIds"] = group_ids
        if filters:
            params["Filters"] = filters
        return _paginate(self._client, "describe_security_groups", "SecurityGroups", **params)

    def network_interfaces_with_group(self, group_id: str) -> list[dict[str, Any]]:
        return _paginate(self._client, "describe_network_interfaces", "NetworkInterfaces",
                         Filters=[{"Name": "group-id", "Values": [group_id]}])

    def subnets(self, vpc_id: str) -> list[dict[str, Any]]:
        return _paginate(self._client, "describe_subnets", "Subnets",
                         Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])

    def vpc_cidrs(self, vpc_id: str) -> tuple[str, ...]:
        """The VPC's IPv4 CIDR blocks (the primary first), those associated only."""
        found = self._client.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        if not found:
            return ()
        vpc = found[0]
        blocks = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", [])
                  if (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"]
        primary = vpc.get("CidrBlock")
        return tuple(dict.fromkeys([*([primary] if primary else []), *blocks]))

    def route_tables(self, vpc_id: str) -> list[dict[str, Any]]:
        return _paginate(self._client, "describe_route_tables", "RouteTables",
                         Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])

    def create_security_group(self, **params: Any) -> str:
        return self._client.create_security_group(**params)["GroupId"]

    def delete_security_group(self, group_id: str) -> None:
        self._client.delete_security_group(GroupId=group_id)

    def authorize_ingress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        self._client.authorize_security_group_ingress(GroupId=group_id,
                                                      IpPermissions=permissions)

    def revoke_ingress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        self._client.revoke_security_group_ingress(GroupId=group_id, IpPermissions=permissions)

    def authorize_egress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        self._client.authorize_security_group_egress(GroupId=group_id,
                                                     IpPermissions=permissions)

    def revoke_egress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        self._client.revoke_security_group_egress(GroupId=group_id, IpPermissions=permissions)

    def set_interface_groups(self, interface_id: str, group_ids: list[str]) -> None:
        """Exactly these groups on one network interface (groups belong to interfaces; EC2
        refuses ModifyInstanceAttribute Groups on an instance with several)."""
        self._client.modify_network_interface_attribute(NetworkInterfaceId=interface_id,
                                                        Groups=group_ids)

    def zone_types(self, zone_names: list[str]) -> dict[str, str]:
        """Each zone's type: availability-zone, local-zone or wavelength-zone."""
        zones = self._client.describe_availability_zones(
            ZoneNames=zone_names, AllAvailabilityZones=True)["AvailabilityZones"]
        return {z["ZoneName"]: z.get("ZoneType", "availability-zone") for z in zones}
