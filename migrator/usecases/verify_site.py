"""DNS and HTTPS checks of a migrated site (`migrator verify`), from its plan or its name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from migrator.checks.verifier import Verifier
from migrator.checks.verify.model import Check
from migrator.core import planfile
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
class Verification:
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def raise_if_failed(self) -> None:
        failed = self.failed
        if failed:
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
        checks = verifier.for_plan(planfile.load(request.plan), path)
    elif request.domain:
        checks = verifier.for_domain(connect(request.account), request.domain, path or "/")
    else:
        raise UsageError("verify needs a plan file or --domain",
                         hint="migrator verify plans/FILE.json")
    return Verification(tuple(checks))
