"""CAA: may Amazon's CA issue the certificate? (RFC 8659 as ACM applies it.)

For each name the certificate will carry, walk from the name up to the top of its hosted zone;
the first name holding a CAA record set is the one that counts (the closest wins). If that set
has ``issue`` properties (``issuewild`` first, for a wildcard) and none names amazon.com,
amazontrust.com, awstrust.com or amazonaws.com, ACM cannot issue and the request fails after
validation. A critical flag on a property ACM does not know forbids issuance too.

Both what DNS answers (through NetConfig's resolver) and the zone's own records in Route53 are
read: DNS is what ACM sees, the zone is what the user controls (and what DNS will show once the
delegation is right).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

if TYPE_CHECKING:
    import dns.rdtypes.ANY.CAA

from migrator.checks.preflight.model import Finding
from migrator.core.snapshot import RecordSet, Snapshot
from migrator.net.dns import Dns

AMAZON_CAS = ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com")
KNOWN_TAGS = frozenset({"issue", "issuewild", "iodef", "contactemail", "contactphone",
                        "issuemail", "issuevmc"})
CRITICAL = 128

__all__ = ["AMAZON_CAS", "Caa", "amazon_may_issue", "check_caa", "names_up_to_zone"]


@dataclass(frozen=True)
class Caa:
    """One CAA property: flags, lower-case tag and value."""

    flags: int
    tag: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Caa | None:
        """From presentation form (``0 issue "amazon.com"``); None when it is not valid."""
        try:
            # from_text gives the type's own class (generic \# syntax too): here always CAA.
            rdata = cast("dns.rdtypes.ANY.CAA.CAA",
                         dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.CAA, text))
        except (dns.exception.DNSException, ValueError):
            return None
        return cls(int(rdata.flags), rdata.tag.decode("ascii", "replace").lower(),
                   rdata.value.decode("utf-8", "replace"))

    def issuer(self) -> str:
        """The issuer domain name of an issue/issuewild value ('' means nobody)."""
        return self.value.split(";", 1)[0].strip().rstrip(".").lower()

    def __str__(self) -> str:
        return f'{self.flags} {self.tag} "{self.value}"'


def amazon_may_issue(records: Sequence[Caa], *, wildcard: bool = False) -> tuple[bool, str]:
    """Whether this (closest, non-empty) CAA set lets Amazon issue, and why."""
    for record in records:
        if record.flags & CRITICAL and record.tag not in KNOWN_TAGS:
            return False, f"critical property {record.tag!r} is unknown to the CA ({record})"
    relevant = [r for r in records if r.tag == "issue"]
    if wildcard:
        relevant = [r for r in records if r.tag == "issuewild"] or relevant
    if not relevant:
        return True, "no issue property restricts issuance"
    allowed = sorted({r.issuer() for r in relevant} - {""})
    if any(ca in AMAZON_CAS for ca in allowed):
        return True, f"allows {', '.join(a for a in allowed if a in AMAZON_CAS)}"
    if not allowed:
        return False, "allows no CA at all (;)"
    return False, f"allows only {', '.join(allowed)}"


def names_up_to_zone(name: str, zone: str) -> list[str]:
    """name, its parent, ... up to and including the zone apex."""
    name, zone = name.rstrip(".").lower(), zone.rstrip(".").lower()
    chain = [name]
    while chain[-1] != zone and "." in chain[-1]:
        chain.append(chain[-1].split(".", 1)[1])
    return chain if chain[-1] == zone else [name]


Lookup = Callable[[str], "tuple[list[Caa] | None, str | None]"]


def _closest(chain: Iterable[str], lookup: Lookup) -> tuple[str | None, list[Caa], str | None]:
    """(owner, its CAA set) of the closest name with CAA records; or an error."""
    for owner in chain:
        records, error = lookup(owner)
        if error:
            return None, [], error
        if records:
            return owner, records, None
    return None, [], None


def check_caa(aws: Any, snap: Snapshot, dns: Dns | None) -> list[Finding]:
    """One fail per name and source whose closest CAA set forbids Amazon; else one pass.
    ``dns`` None means DNS is not asked (see migrator.net.dns.dns_skip_reason)."""
    zone_cache: dict[str, list[Caa]] = {}
    dns_cache: dict[str, tuple[list[Caa] | None, str | None]] = {}

    def from_zone(owner: str) -> tuple[list[Caa] | None, str | None]:
        if owner not in zone_cache:
            raw = [RecordSet.from_route53(r)
                   for r in aws.route53.records_named(snap.zone.id, owner)]
            zone_cache[owner] = [c for r in raw if r.type == "CAA" for v in r.values
                                 if (c := Caa.parse(v)) is not None]
        return zone_cache[owner], None

    def from_dns(owner: str) -> tuple[list[Caa] | None, str | None]:
        if owner not in dns_cache:
            assert dns is not None
            answer = dns.query(owner, "CAA")
            records = [c for v in answer.values if (c := Caa.parse(v)) is not None]
            dns_cache[owner] = (records, answer.error)
        return dns_cache[owner]

    sources: list[tuple[str, Lookup]] = [("the hosted zone", from_zone)]
    if dns is not None:
        sources.append(("DNS", from_dns))
    findings: list[Finding] = []
    allowed: list[str] = []
    dns_error = None
    for name in snap.names:
        chain = names_up_to_zone(name, snap.zone.name)
        for label, lookup in sources:
            owner, records, error = _closest(chain, lookup)
            if error:
                dns_error = dns_error or error
                continue
            if owner is None:
                continue
            ok, why = amazon_may_issue(records, wildcard=name.startswith("*."))
            shown = "; ".join(str(r) for r in records if r.tag in ("issue", "issuewild")
                              or r.flags & CRITICAL) or "; ".join(str(r) for r in records)
            if ok:
                allowed.append(f"CAA at {owner} ({label}) {why}")
                continue
            findings.append(Finding(
                "caa", "fail",
                f"CAA at {owner} ({label}) {why}: ACM cannot issue for {name} "
                f"[{owner} CAA {shown}]",
                hint=f'add a CAA record {owner} CAA 0 issue "amazon.com" beside the others '
                     "(or remove the restriction)",
                data={"name": name, "owner": owner, "source": label,
                      "records": [str(r) for r in records]}))
    if dns_error:
        findings.append(Finding(
            "caa", "warn", f"could not look up CAA records in DNS: {dns_error}",
            hint="ACM checks CAA in DNS; the zone's own records were checked"))
    if not any(f.level == "fail" for f in findings):
        checked = "the hosted zone" + (" and DNS" if dns is not None else "")
        detail = "; ".join(dict.fromkeys(allowed)) or "no CAA records"
        findings.insert(0, Finding("caa", "pass",
                                   f"Amazon may issue for {', '.join(snap.names)} "
                                   f"({detail}; checked {checked})"))
    return findings
