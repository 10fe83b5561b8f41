"""Preflight: find, before the first change, what would make a migration fail.

``run_preflight(aws, snapshot, net, options, plan_id)`` returns :class:`Finding` s, each pass,
warn, fail or info with a one-line reason and what to do. ``plan`` refuses on any fail (exit 2,
no plan file, nothing written to AWS); ``inspect`` shows them. ``inspect_or_refuse`` turns an
address that is no EC2 instance (a Lightsail static IP, another host) into one clear refusal.

No boto3 here: AWS is reached through the typed wrappers passed in; DNS and HTTPS through
:class:`~migrator.net.config.NetConfig`, with short timeouts, never raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from migrator.checks.preflight.model import (
    Finding,
    failures,
    findings_to_dicts,
    findings_to_json,
    proposals,
)
from migrator.checks.preflight.target import explain_target, inspect_or_refuse
from migrator.checks.render import render_findings, summary
from migrator.errors import PreflightError, UsageError

if TYPE_CHECKING:
    from migrator.checks.preflight.runner import run_preflight
    from migrator.net.config import NetConfig

__all__ = [
    "Finding",
    "explain_target",
    "failures",
    "findings_to_dicts",
    "findings_to_json",
    "inspect_or_refuse",
    "net_from_env",
    "proposals",
    "raise_on_failure",
    "render_findings",
    "run_preflight",
    "summary",
]


def __getattr__(name: str) -> Any:
    """run_preflight, imported on first use: the runner and the network configuration import
    dnspython, which `show` (reading only the price table, migrator.checks.preflight.cost) does not
    need."""
    if name == "run_preflight":
        from migrator.checks.preflight.runner import run_preflight

        return run_preflight
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def net_from_env(variables: Mapping[str, str]) -> NetConfig:
    """NetConfig from MIGRATOR_* variables; a bad value is a usage error."""
    from migrator.net.config import NetConfig

    try:
        return NetConfig.from_env(variables)
    except ValueError as exc:
        raise UsageError(str(exc), hint="fix the variable's value") from exc


def raise_on_failure(findings: list[Finding]) -> None:
    """PreflightError naming the first failure (and how many there are), if any failed."""
    failed = failures(findings)
    if not failed:
        return
    more = f" (and {len(failed) - 1} more failed check(s) above)" if len(failed) > 1 else ""
    raise PreflightError(f"preflight refused the plan: {failed[0].message}{more}",
                         hint=failed[0].hint or None)
