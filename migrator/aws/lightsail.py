"""Lightsail: static IPs, to recognise a site served by a Lightsail instance."""

from __future__ import annotations

from typing import Any

from migrator.aws.calls import wrap_service


@wrap_service
class Lightsail:
    """Typed wrapper over a Lightsail client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_static_ips(self, *, max_pages: int = 5) -> list[dict[str, Any]]:
        """The region's static IPs (name, ipAddress, attachedTo, isAttached), at most
        max_pages GetStaticIps pages."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        for _ in range(max_pages):
            page = self._client.get_static_ips(**params)
            found.extend(page.get("staticIps", []))
            if not page.get("nextPageToken"):
                break
            params["pageToken"] = page["nextPageToken"]
        return found

    def static_ip_at(self, address: str) -> dict[str, Any] | None:
        """The static IP holding `address`, or None."""
        return next((ip for ip in self.get_static_ips() if ip.get("ipAddress") == address), None)
