"""Preflight's findings: each check's verdict, a one-line reason, what to do, and data for tools.

A finding is the one result type of the checks (:class:`~migrator.checks.result.CheckResult`);
this module adds what preflight does with a list of them: the failures that refuse the plan, the
JSON of ``inspect --json`` / ``plan``, and what they propose to the wizard.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from migrator.checks.result import LEVELS, CheckResult, Level

__all__ = [
    "LEVELS",
    "Finding",
    "Level",
    "failures",
    "findings_to_dicts",
    "findings_to_json",
    "proposals",
]

Finding = CheckResult
"""A preflight finding: ``Finding(check, level, message, hint="", data={})``."""


def failures(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.failed]


def findings_to_dicts(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.to_dict() for f in findings]


def findings_to_json(findings: Iterable[Finding], *, indent: int | None = 2) -> str:
    """The findings as a JSON array of {check, level, message, hint, data}."""
    return json.dumps(findings_to_dicts(findings), indent=indent, ensure_ascii=False,
                      default=str)


def proposals(findings: Sequence[Finding]) -> dict[str, Any]:
    """What the findings propose, for a wizard to offer as defaults.

    ``sans``: names the plan should probably also cover (on the old certificate, or pointing at
    the instance); ``health_check_path`` / ``health_check_matcher``: a health check that will be
    healthy, when the one asked for would not be (or proves little).
    """
    sans: list[str] = []
    out: dict[str, Any] = {"sans": sans}
    for finding in findings:
        for key in ("uncovered_names", "suggested_sans"):
            for name in finding.data.get(key, ()):
                if not name.startswith("*.") and name not in sans:
                    sans.append(name)
        if finding.check == "health-check":
            for key in ("proposed_path", "proposed_matcher"):
                if finding.data.get(key):
                    out[key.replace("proposed_", "health_check_")] = finding.data[key]
    return out
