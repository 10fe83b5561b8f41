"""Undo every completed step of plans, in reverse order (`migrator rollback`): each plan under
its lock; several concurrently."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from migrator.checks.verifier import Verifier
from migrator.core import planfile
from migrator.core.executor import Executor, Reporter, RunOptions
from migrator.core.plan import Plan
from migrator.usecases import validation
from migrator.usecases.accounts import Account, Connect
from migrator.usecases.plan_files import LoadedPlan, load_plans, unique
from migrator.usecases.several_sites import DEFAULT_PARALLEL, Outcome, run_each

DEFAULT_DNS_DRAIN = 60.0  # seconds: the alias record's TTL


@dataclass(frozen=True)
class RollbackRequest:
    paths: tuple[Path, ...]
    # After restoring DNS, how long to wait before deleting the load balancer.
    dns_drain_seconds: float = DEFAULT_DNS_DRAIN
    parallel: int = DEFAULT_PARALLEL
    account: Account = field(default_factory=Account)


@dataclass(frozen=True)
class RolledBack:
    path: Path
    plan: Plan


def plans_to_roll_back(request: RollbackRequest) -> tuple[LoadedPlan, ...]:
    validation.dns_drain(request.dns_drain_seconds)
    return load_plans(request.paths)


def rollback_plan(path: Path, dns_drain_seconds: float, account: Account, *, connect: Connect,
                  variables: Mapping[str, str], reporter: Reporter) -> RolledBack:
    verifier = Verifier(validation.network_config(variables))
    with planfile.locked(path, "rollback"):
        executor = Executor(aws=connect(account), path=path, plan=planfile.load(path),
                            options=RunOptions(dns_drain_seconds=dns_drain_seconds),
                            reporter=reporter, verifier=verifier)
        executor.rollback()
    return RolledBack(path, executor.plan)


def rollback_plans(request: RollbackRequest, *, connect: Connect, variables: Mapping[str, str],
                   reporter_for: Callable[[Path], Reporter],
                   on_done: Callable[[Outcome[RolledBack]], None] | None = None
                   ) -> list[Outcome[RolledBack]]:
    """rollback_plan for each plan file concurrently; an outcome per file."""
    paths = {str(path): path for path in unique(request.paths)}
    return run_each(list(paths), lambda label: rollback_plan(
        paths[label], request.dns_drain_seconds, request.account, connect=connect,
        variables=variables, reporter=reporter_for(paths[label])), request.parallel, on_done)
