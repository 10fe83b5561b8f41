"""A DNS server on loopback answering from moto's live Route53 zones, with per-test overrides.

It is the sandbox's own authoritative server (migrator_sandbox.dns_server.DNSServer) with a
record source that reads moto's public zones (migrator_sandbox.dns_records.MotoRecordSource) and
then replaces or adds record sets, so a test can make DNS disagree with Route53 (another NS
delegation, a CAA record only DNS shows).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from migrator_sandbox.dns_records import MotoRecordSource
from migrator_sandbox.dns_server import DNSServer, RecordSet, Zone, normalize_name


@dataclass
class OverlaySource:
    """moto's zones, with record sets replaced per (name, type); an empty values tuple deletes."""

    overrides: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    moto: MotoRecordSource = field(default_factory=MotoRecordSource)

    def set(self, name: str, rtype: str, *values: str) -> None:
        self.overrides[(normalize_name(name), rtype.upper())] = tuple(values)

    def zones(self) -> Sequence[Zone]:
        out = []
        for zone in self.moto.zones():
            records = [r for r in zone.records if (r.name, r.type) not in self.overrides]
            for (name, rtype), values in self.overrides.items():
                if values and (name == zone.name or name.endswith("." + zone.name)):
                    records.append(RecordSet(name=name, type=rtype, ttl=300, values=values))
            out.append(Zone(zone.name, tuple(records), zone.zone_id))
        return out

    def load_balancers(self) -> Mapping[str, str]:
        return {}


@dataclass
class Dns:
    server: DNSServer
    source: OverlaySource

    @property
    def address(self) -> str:
        return self.server.address


@pytest.fixture
def dns_server() -> Iterator[Dns]:
    """A running DNS server on 127.0.0.1 (a free port) serving moto's zones plus overrides."""
    source = OverlaySource()
    server = DNSServer(source, host="127.0.0.1")
    server.start()
    yield Dns(server, source)
    server.stop()
