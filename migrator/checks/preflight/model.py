"""A preflight finding: one check's verdict, a one-line reason, what to do, and data for tools.

Levels, from worst: ``fail`` refuses the plan, ``warn`` needs the user's attention, ``info`` is
worth knowing, ``pass`` says a check found nothing wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["pass", "warn", "fail", "info"]
LEVELS: tuple[Level, ...] = ("fail", "warn", "info", "pass")

__all__ = [
    "LEVELS",
    "Finding",
    "Level",
    "failures",
    "findings_to_dicts",
    "findings_to_json",
    "proposals",
]


@dataclass(frozen=True)
class Finding:
    """One check's verdict. ``data`` holds machine-readable details (never secrets)."""

    check: str
    level: Level
    message: str
    hint: str = ""
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown finding level {self.level!r}")

    @property
    def failed(self) -> bool:
        return self.level == "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "level": self.level, "message": self.message,
                "hint": self.hint, "data": self.data}

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


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
