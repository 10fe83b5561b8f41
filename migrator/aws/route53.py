"""Route53: hosted zones by name, record sets starting at a name, change batches and their sync."""

from __future__ import annotations

from typing import Any

from migrator.aws.calls import wait, wrap_service


@wrap_service
class Route53:
    """Typed wrapper over a Route53 client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def zones_named(self, name: str) -> list[dict[str, Any]]:
        """Hosted zones whose name is exactly `name` (public and private)."""
        fqdn = name.rstrip(".") + "."
        found = self._client.list_hosted_zones_by_name(DNSName=fqdn, MaxItems="10")
        return [z for z in found["HostedZones"] if z["Name"] == fqdn]

    def hosted_zones(self, *, limit: int = 100) -> tuple[list[dict[str, Any]], bool]:
        """The account's first `limit` (at most 100) hosted zones: one ListHostedZones call;
        the flag says whether more were left unread."""
        page = self._client.list_hosted_zones(MaxItems=str(min(limit, 100)))
        return list(page["HostedZones"]), bool(page.get("IsTruncated"))

    def zone(self, zone_id: str) -> dict[str, Any]:
        return self._client.get_hosted_zone(Id=zone_id)

    def records_named(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        """Every record set of exactly `name`, read from the zone starting at that name."""
        fqdn = name.rstrip(".") + "."
        paginator = self._client.get_paginator("list_resource_record_sets")
        found: list[dict[str, Any]] = []
        pages = paginator.paginate(HostedZoneId=zone_id, StartRecordName=fqdn,
                                   PaginationConfig={"PageSize": 20})
        for page in pages:
            for record in page["ResourceRecordSets"]:
                if _unescape(record["Name"]) != fqdn:
                    return found
                found.append(record)
        return found

    def change(self, zone_id: str, changes: list[dict[str, Any]], comment: str) -> str:
        response = self._client.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Comment": comment, "Changes": changes})
        return response["ChangeInfo"]["Id"]

    def wait_insync(self, change_id: str, *, timeout: float) -> None:
        wait(self._client.get_waiter("resource_record_sets_changed"), {"Id": change_id},
             timeout=timeout, what=f"DNS change {change_id} to be INSYNC")

    def record_sets(self, zone_id: str, *, max_pages: int = 3
                    ) -> tuple[list[dict[str, Any]], bool]:
        """The zone's record sets of every type, reading at most max_pages
        ListResourceRecordSets pages of 300; the flag says whether records were left unread."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"HostedZoneId": zone_id, "MaxItems": "300"}
        for _ in range(max_pages):
            page = self._client.list_resource_record_sets(**params)
            found.extend(page["ResourceRecordSets"])
            if not page.get("IsTruncated"):
                return found, False
            params["StartRecordName"] = page["NextRecordName"]
            params["StartRecordType"] = page["NextRecordType"]
            if page.get("NextRecordIdentifier"):
                params["StartRecordIdentifier"] = page["NextRecordIdentifier"]
            else:
                params.pop("StartRecordIdentifier", None)
        return found, True


def _unescape(name: str) -> str:
    # Route53 returns '*' as '\052' and other specials octal-escaped.
    return name.replace("\\052", "*").lower()
