"""DNS and HTTPS checks of a migrated site (`migrator verify`), from its plan or its name; for a
plan for several sites on one load balancer, every site's, each through its own names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from migrator.checks.verifier import Verifier
from migrator.checks.verify.model import Check
from migrator.core import planfile
from migrator.core.executor import reverted_sites
from migrator.core.plan import Plan
from migrator.core.sites import is_shared, site_views
from migrator.errors import UsageError, VerificationError
from migrator.usecases import validation
from migrator.usecases.accounts import Account, Connect


@dataclass(frozen=True)
class VerifyRequest:
    plan: Path | None = None  # the plan file, or
    domain: str | None = None  # the site's name (its alias must name a load balancer)
    health_check_path: str | None = None  # None: the plan's, or /
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class SiteVerification:
    """One site of a plan for several sites: its checks."""

    domain: str
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...]  # every check (of every site)
    sites: tuple[SiteVerification, ...] = ()  # a plan for several sites: each site's

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def raise_if_failed(self) -> None:
        failed = self.failed
        if not failed:
            return
        if self.sites:
            bad = [s for s in self.sites if s.failed]
            good = [s.domain for s in self.sites if not s.failed]
            raise VerificationError(
                f"{len(bad)} of {len(self.sites)} sites failed verification: "
                + "; ".join(f"{s.domain}: {len(s.failed)} of {len(s.checks)} checks failed, "
                            f"first: {s.failed[0].name} at {s.failed[0].target}: "
                            f"{s.failed[0].detail}" for s in bad)
                + (f" ({', '.join(good)} passed)" if good else ""))
        first = failed[0]
        raise VerificationError(f"{len(failed)} of {len(self.checks)} checks failed; first: "
                                f"{first.name} at {first.target}: {first.detail}")


def verify_site(request: VerifyRequest, *, connect: Connect,
                variables: Mapping[str, str]) -> Verification:
    verifier = Verifier(validation.network_config(variables))
    path = request.health_check_path
    if path is not None:
        validation.health_check_path(path)
    if request.plan is not None:
        plan = planfile.load(request.plan)
        if is_shared(plan):
            return _every_site(verifier, plan, path)
        checks = verifier.for_plan(plan, path)
    elif request.domain:
        checks = verifier.for_domain(connect(request.account), request.domain, path or "/")
    else:
        raise UsageError("verify needs a plan file or --domain",
                         hint="migrator verify plans/FILE.json")
    return Verification(tuple(checks))


def _every_site(verifier: Verifier, plan: Plan, path: str | None) -> Verification:
    """Each site's names through DNS and HTTPS; a site put back alone after failed checks is
    not on the load balancer, which its one failed check says."""
    reverted = reverted_sites(plan)
    sites = []
    for view in site_views(plan):
        if view.domain in reverted:
            checks = [Check("on the load balancer", view.domain, False,
                            f"reverted alone after failed checks ({reverted[view.domain]}): "
                            "served by its instance, not by the load balancer", "dns")]
        else:
            checks = verifier.for_plan(view, path)
        sites.append(SiteVerification(view.domain, tuple(checks)))
    return Verification(tuple(c for s in sites for c in s.checks), tuple(sites))
