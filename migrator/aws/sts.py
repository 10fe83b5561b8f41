"""STS: who the credentials belong to."""

from __future__ import annotations

from typing import Any

from migrator.aws.calls import wrap_service


@wrap_service
class Sts:
    """Typed wrapper over an STS client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def account_id(self) -> str:
        return self._client.get_caller_identity()["Account"]
