"""Reading moto's backend dictionaries without creating backends as a side effect.

``moto``'s ``BackendDict`` builds an account's (or region's) backend on first subscript; the
sandbox's readers and the strict rules only look at what exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def existing(backend_dict: Any) -> Iterator[tuple[str, str, Any]]:
    """(account, region, backend) for every backend that already exists."""
    for account_id, per_account in list(dict.items(backend_dict)):
        for region, backend in list(dict.items(per_account)):
            yield account_id, region, backend


def existing_backend(backend_dict: Any, account_id: str, region: str) -> Any | None:
    per_account = dict.get(backend_dict, account_id)
    if per_account is None:
        return None
    return dict.get(per_account, region)


def account_backends(backend_dict: Any, account_id: str) -> list[Any]:
    """Every existing backend of one account (all regions/partitions)."""
    per_account = dict.get(backend_dict, account_id)
    if per_account is None:
        return []
    return list(dict.values(per_account))
