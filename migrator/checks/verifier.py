"""Bridge from plans and the CLI to the verification library (migrator.checks.verify).

Reads the standard network configuration (MIGRATOR_NAMESERVERS, MIGRATOR_CONNECT_TO,
MIGRATOR_CA_BUNDLE) once and runs the pre-switch and post-switch checks a plan asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migrator.checks.verify.model import Check
from migrator.core.actions import traits
from migrator.core.plan import Plan
from migrator.core.status import load_balancer_outputs
from migrator.errors import UsageError, VerificationError
from migrator.net.config import NetConfig


@dataclass
class Verifier:
    """Runs verification with one network configuration."""

    net: NetConfig

    @classmethod
    def from_env(cls, variables: Mapping[str, str]) -> Verifier:
        try:
            return cls(NetConfig.from_env(variables))
        except ValueError as exc:
            raise UsageError(str(exc), hint="fix the variable's value") from exc

    def load_balancer(self, p: dict[str, Any]) -> list[Check]:
        from migrator.checks.verify.site import verify_load_balancer

        return verify_load_balancer(p["DNSName"], p["Names"], p["HealthCheckPath"], self.net,
                                    expected_status=p.get("Matcher", "200-399"))

    def site(self, p: dict[str, Any]) -> list[Check]:
        from migrator.checks.verify.site import verify_site

        return verify_site(p["Names"], p["DNSName"], p["ZoneNameservers"], p["OriginAddress"],
                           p["HealthCheckPath"], self.net,
                           expected_status=p.get("Matcher", "200-399"))

    def for_plan(self, plan: Plan, health_path: str | None = None) -> list[Check]:
        """The post-switch checks of an applied plan."""
        lb = load_balancer_outputs(plan)
        step = next((s for s in plan.steps
                     if traits(s).check and traits(s).restores_dns_on_failure), None)
        if not lb.get("dns_name") or step is None:
            raise VerificationError(f"plan {plan.id} has no load balancer yet",
                                    hint="apply it first: migrator apply <file>")
        params = {**step.params, "DNSName": lb["dns_name"]}
        if health_path:
            params["HealthCheckPath"] = health_path
        return self.site(params)

    def for_domain(self, aws: Any, domain: str, health_path: str) -> list[Check]:
        """Checks of a site found from its name alone: its alias must name a load balancer."""
        from migrator.core.inspector import find_zone
        from migrator.core.names import normalize_domain
        from migrator.core.snapshot import RecordSet

        domain = normalize_domain(domain)
        zone = find_zone(aws, domain)
        records = [RecordSet.from_route53(r) for r in aws.route53.records_named(zone.id, domain)]
        alias = next((r.alias for r in records if r.type == "A" and r.alias), None)
        if not alias:
            raise VerificationError(f"{domain} is not an alias to a load balancer",
                                    hint="verify checks a migrated site")
        return self.site({"Names": [domain], "DNSName": alias["DNSName"].rstrip("."),
                          "ZoneNameservers": list(zone.nameservers), "OriginAddress": None,
                          "HealthCheckPath": health_path})


def render_checks(console: Any, checks: list[Check], *, title: str | None = None) -> None:
    """The verification table (migrator.checks.render), imported on first use."""
    from migrator.checks.render import render_checks as render

    render(console, checks, title=title)
