"""Carry out plans (`migrator apply`, and the wizard's last step): each plan under its lock,
journaled step by step, resumable; several concurrently. With stop_before_switch, each plan stops
before its DNS switch, ready to switch (a plan whose switch has begun is set aside, unchanged).

An approved plan (--expect-sha256) is refused, before any connection to AWS, unless its digest
is the approved one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migrator.checks.verifier import Verifier
from migrator.checks.verify.model import Check
from migrator.core import planfile
from migrator.core.executor import Executor, Reporter, RunOptions
from migrator.core.plan import Plan, plan_digest
from migrator.core.status import load_balancer_outputs, stopped_before_switch, switch_begun
from migrator.errors import DigestMismatchError
from migrator.usecases import validation
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.plan_files import LoadedPlan, load_plans, unique
from migrator.usecases.ready_to_switch import ReadyToSwitch, ready_to_switch
from migrator.usecases.several_sites import DEFAULT_PARALLEL, Outcome, run_each


@dataclass(frozen=True)
class ApplySettings:
    """How each plan is applied."""

    skip_verify: bool = False  # no DNS and HTTPS checks (this machine cannot reach the site)
    wait_for_ttl: bool = False  # wait out the old TTL and lock down in this run
    stop_before_switch: bool = False  # every step up to the DNS switch, then stop there


@dataclass(frozen=True)
class ApplyRequest:
    paths: tuple[Path, ...]
    settings: ApplySettings = field(default_factory=ApplySettings)
    expect_sha256: str | None = None  # the approved digest (one plan only)
    parallel: int = DEFAULT_PARALLEL
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class Applied:
    path: Path
    plan: Plan
    deferred: str | None  # why apply stopped early (a step that must wait), or None
    site_checks: tuple[Check, ...]  # the verification through the site's name, when it ran
    # Stopped before the DNS switch, as asked: how to try the site through the load balancer.
    ready: ReadyToSwitch | None = None
    load_balancer_checks: tuple[Check, ...] = ()  # through its own address, when they ran

    @property
    def load_balancer(self) -> str | None:
        return load_balancer_outputs(self.plan).get("dns_name")


def plans_to_apply(request: ApplyRequest) -> tuple[LoadedPlan, ...]:
    """Every plan file read; with an approved digest, the plan refused unless it is that one."""
    expected = None
    if request.expect_sha256 is not None:
        expected = validation.expected_sha256(request.expect_sha256, len(unique(request.paths)))
    loaded = load_plans(request.paths)
    if expected is not None:
        _refuse_unapproved(loaded[0], expected)
    return loaded


def set_aside_switched(request: ApplyRequest, loaded: Sequence[LoadedPlan]
                       ) -> tuple[ApplyRequest, tuple[LoadedPlan, ...], tuple[LoadedPlan, ...]]:
    """With stop_before_switch: the request and plans left once those whose DNS switch has
    begun are set aside (there is nothing to stop before; nothing is done to them), and those.
    Without it, everything as it was."""
    if not request.settings.stop_before_switch:
        return request, tuple(loaded), ()
    begun = [switch_begun(item.plan) is not None for item in loaded]
    switched = tuple(item for item, b in zip(loaded, begun, strict=True) if b)
    left = tuple(item for item, b in zip(loaded, begun, strict=True) if not b)
    return replace(request, paths=tuple(item.path for item in left)), left, switched


def _refuse_unapproved(loaded: LoadedPlan, expected: str) -> None:
    actual = plan_digest(loaded.plan)
    if actual != expected:
        raise DigestMismatchError(
            f"{loaded.path} is not the approved plan: its sha256 is {actual}, the approved one "
            f"{expected}; nothing was changed",
            hint=f"review it again (`migrator show {loaded.path}`) and approve its digest")


def apply_plan(path: Path, settings: ApplySettings, account: Account, *, connect: Connect,
               variables: Mapping[str, str], reporter: Reporter,
               plan: Plan | None = None) -> Applied:
    """Apply (or resume) one plan under its lock; `plan` is the plan file's content when the
    caller holds it already (the wizard, which has just written it), else it is read."""
    net = validation.network_config(variables)
    verifier = _ChecksKept(Verifier(net))
    with planfile.locked(path, "apply"):
        plan = plan if plan is not None else planfile.load(path)
        executor = Executor(aws=connect(account), path=path, plan=plan,
                            options=RunOptions(skip_verify=settings.skip_verify,
                                               wait_for_ttl=settings.wait_for_ttl,
                                               stop_before_switch=settings.stop_before_switch),
                            reporter=reporter, verifier=verifier)
        stopped_early = executor.apply()
    ready = None
    if settings.stop_before_switch and stopped_before_switch(executor.plan) is not None:
        ready, stopped_early = ready_to_switch(path, executor.plan, net), None
    return Applied(path, executor.plan, stopped_early, tuple(verifier.site_checks), ready=ready,
                   load_balancer_checks=tuple(verifier.load_balancer_checks))


def apply_plans(request: ApplyRequest, *, connect: Connect, variables: Mapping[str, str],
                reporter_for: Callable[[Path], Reporter],
                on_done: Callable[[Outcome[Applied]], None] | None = None
                ) -> list[Outcome[Applied]]:
    """apply_plan for each plan file concurrently; an outcome per file (labelled by its path)."""
    paths = {str(path): path for path in unique(request.paths)}
    return run_each(list(paths), lambda label: apply_plan(
        paths[label], request.settings, request.account, connect=connect, variables=variables,
        reporter=reporter_for(paths[label])), request.parallel, on_done)


class _ChecksKept:
    """The run's Verifier, keeping the checks of each verification to return them."""

    def __init__(self, inner: Verifier) -> None:
        self.inner = inner
        self.site_checks: list[Check] = []
        self.load_balancer_checks: list[Check] = []

    def load_balancer(self, params: dict[str, Any]) -> list[Check]:
        checks = list(self.inner.load_balancer(params))
        self.load_balancer_checks += checks  # a plan for several sites: each site's
        return checks

    def site(self, params: dict[str, Any]) -> list[Check]:
        checks = list(self.inner.site(params))
        self.site_checks += checks
        return checks
