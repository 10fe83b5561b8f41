"""Where the site's A record points when it is not an EC2 instance of the region: say what it is
and the right path, in one line, instead of a bare "not found".

A Lightsail static IP means a Lightsail instance: an Application Load Balancer cannot target it;
a Lightsail load balancer (with its own free certificate) or CloudFront can. Anything else is
either an instance in another region or a host outside EC2, for which CloudFront with a custom
origin is the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from migrator.checks.preflight.model import Finding
from migrator.core.inspector import find_instance, find_zone, inspect_site, site_address
from migrator.core.names import normalize_domain
from migrator.core.snapshot import RecordSet, Snapshot
from migrator.errors import MigratorError, NotFoundError, PreflightError

__all__ = ["explain_target", "inspect_or_refuse"]


def inspect_or_refuse(aws: Any, domain: str, sans: Sequence[str] = ()) -> Snapshot:
    """inspector.inspect_site; when the A record's address is no EC2 instance of the region,
    a PreflightError saying what the address is and what to do instead."""
    try:
        return inspect_site(aws, domain, list(sans))
    except NotFoundError as exc:
        finding = explain_target(aws, domain)
        if finding is None:
            raise
        raise PreflightError(finding.message, hint=finding.hint) from exc


def _address(aws: Any, domain: str) -> str | None:
    try:
        domain = normalize_domain(domain)
        zone = find_zone(aws, domain)
        records = [RecordSet.from_route53(r) for r in aws.route53.records_named(zone.id, domain)]
        return site_address(domain, records)
    except MigratorError:
        return None


def explain_target(aws: Any, domain: str) -> Finding | None:
    """A fail finding naming what the domain's address is, when no EC2 instance holds it;
    None when the address is an instance's (or the question does not arise)."""
    address = _address(aws, domain)
    if address is None:
        return None
    try:
        find_instance(aws, address)
        return None
    except NotFoundError:
        pass
    except MigratorError:
        return None
    if aws.ec2.address_by_public_ip(address):
        return None  # an unassociated Elastic IP: the inspector's own message says it best
    name = normalize_domain(domain)
    try:
        static = aws.lightsail.static_ip_at(address)
        lightsail_error = None
    except MigratorError as exc:
        static, lightsail_error = None, exc.message
    except Exception as exc:  # only refines the message: any failure just says so
        static, lightsail_error = None, f"{type(exc).__name__}: {exc}".splitlines()[0]
    data: dict[str, Any] = {"address": address, "region": aws.region}
    if static:
        attached = static.get("attachedTo") if static.get("isAttached") else None
        where = f" attached to Lightsail instance {attached}" if attached else ""
        data.update(kind="lightsail", static_ip=static.get("name"), instance=attached)
        return Finding(
            "target", "fail",
            f"{name} points at {address}, Lightsail static IP {static.get('name')}{where}: "
            "an Application Load Balancer cannot send traffic to a Lightsail instance",
            hint="use a Lightsail load balancer (it gets its own free certificate), or "
                 "CloudFront with the instance as a custom origin",
            data=data)
    note = (f"Lightsail could not be asked ({lightsail_error})" if lightsail_error
            else "nor is it a Lightsail static IP there")
    data.update(kind="unknown", lightsail_error=lightsail_error)
    return Finding(
        "target", "fail",
        f"no EC2 instance in {aws.region} has the public address {address} that {name} "
        f"points at; {note}",
        hint="if the instance is in another region, pass --region; a host outside EC2 "
             "(or a Lightsail instance without a static IP) can get an ACM certificate through "
             "CloudFront with a custom origin, or a Lightsail load balancer",
        data=data)
