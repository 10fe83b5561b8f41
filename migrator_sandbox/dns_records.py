"""The DNS server's record source backed by moto: Route 53's public hosted zones, live.

Load balancer addresses come from the data plane (which assigns each load balancer a loopback
address), passed in as a callable so this module stays a thin adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .dns_server import Alias, RecordSet, Zone

log = logging.getLogger(__name__)


def _values(raw: Any) -> tuple[str, ...]:
    values = []
    for item in raw or []:
        if isinstance(item, dict):
            item = item.get("Value")
        if item is not None:
            values.append(str(item))
    return tuple(values)


def _alias(raw: Any) -> Alias | None:
    if not raw:
        return None
    evaluate = raw.get("EvaluateTargetHealth", False)
    if isinstance(evaluate, str):
        evaluate = evaluate.lower() == "true"
    return Alias(
        dns_name=str(raw.get("DNSName", "")),
        hosted_zone_id=str(raw.get("HostedZoneId", "")),
        evaluate_target_health=bool(evaluate),
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _record(raw: Any) -> RecordSet:
    alias = _alias(getattr(raw, "alias_target", None))
    weight = getattr(raw, "weight", None)
    return RecordSet(
        name=str(raw.name),
        type=str(raw.type),
        ttl=_int(getattr(raw, "ttl", None), 60 if alias else 300),
        values=_values(getattr(raw, "records", None)),
        alias=alias,
        set_identifier=getattr(raw, "set_identifier", None),
        weight=None if weight is None else _int(weight, 0),
        failover=getattr(raw, "failover", None),
        multi_value=bool(getattr(raw, "multi_value_answer", False)),
    )


class MotoRecordSource:
    """Public hosted zones of every account in moto's Route 53 backend."""

    def __init__(self, load_balancers: Callable[[], Mapping[str, str]] = dict):
        self._load_balancers = load_balancers

    def zones(self) -> Sequence[Zone]:
        from moto.route53.models import route53_backends

        zones = []
        for per_account in list(dict.values(route53_backends)):
            for backend in list(dict.values(per_account)):
                for zone in list(backend.zones.values()):
                    if zone.private_zone:
                        continue
                    records = []
                    for raw in list(zone.rrsets):
                        try:
                            records.append(_record(raw))
                        except Exception:  # a record moto holds but we cannot read
                            log.warning("DNS: skipping record %r", raw, exc_info=True)
                    zones.append(Zone(zone.name, tuple(records), zone.id))
        return zones

    def load_balancers(self) -> Mapping[str, str]:
        return self._load_balancers()
