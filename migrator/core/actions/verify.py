"""The checks apply runs: HTTPS through the load balancer's own address before the switch,
then DNS and HTTPS of the site by its name after it (whose failure restores DNS)."""

from __future__ import annotations

from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.model import Action, Traits
from migrator.errors import VerificationError


def verify_load_balancer(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    checks = ctx.verifier.load_balancer(p)
    return _verdict(checks, "through the load balancer")


def verify_site(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    checks = ctx.verifier.site(p)
    return _verdict(checks, "of the site")


def _verdict(checks: list[Any], where: str) -> dict[str, Any]:
    failed = [c for c in checks if not c.ok]
    summary = [{"name": c.name, "target": c.target, "ok": c.ok, "detail": c.detail}
               for c in checks]
    if failed:
        first = failed[0]
        raise VerificationError(
            f"{len(failed)} check(s) {where} failed; first: {first.name} at {first.target}: "
            f"{first.detail}", hint="see `migrator verify`; fix and run apply again",
            checks=checks)
    return {"checks": summary}


VERIFY_LOAD_BALANCER = Action("verify.load_balancer", verify_load_balancer, None,
                              Traits(check=True))
VERIFY_SITE = Action("verify.site", verify_site, None,
                     Traits(check=True, restores_dns_on_failure=True))

ACTIONS = (VERIFY_LOAD_BALANCER, VERIFY_SITE)
