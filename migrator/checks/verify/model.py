"""Verification's results, in its own words, and the ``verify --json`` document.

A verification check is the checks' one result type (:class:`~migrator.checks.result.CheckResult`)
built from what verification says: ``Check(name, target, ok, detail, category)`` is the
result ``name`` with level ``pass`` or ``fail``, message ``detail``, on ``target``, in section
``category``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from migrator.checks.result import CheckResult

__all__ = [
    "CATEGORIES",
    "Category",
    "Check",
    "all_passed",
    "check_to_dict",
    "checks_to_dict",
    "checks_to_json",
]

Category = Literal["dns", "https", "http", "parity"]
CATEGORIES: tuple[Category, ...] = ("dns", "https", "http", "parity")


class Check(CheckResult):
    """One verified fact, passed or failed, with the detail that proves it.

    ``name`` says what was checked ("authoritative answer", "certificate chain", ...),
    ``target`` what it was checked on ("www.example.com @ 127.0.0.20:443"), and
    ``detail`` the evidence or the reason for failing.
    """

    def __init__(self, name: str, target: str, ok: bool, detail: str, category: Category) -> None:
        super().__init__(name, "pass" if ok else "fail", detail, target=target, category=category)

    @property
    def name(self) -> str:
        return self.check

    @property
    def detail(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The ``verify --json`` shape: ``{name, target, ok, detail, category}``."""
        return check_to_dict(self)


def check_to_dict(result: CheckResult) -> dict[str, Any]:
    return {"name": result.check, "target": result.target, "ok": result.ok,
            "detail": result.message, "category": result.category}


def all_passed(checks: Iterable[CheckResult]) -> bool:
    """True when there is at least one check and none failed."""
    checks = list(checks)
    return bool(checks) and all(c.ok for c in checks)


def checks_to_dict(checks: Iterable[CheckResult]) -> dict[str, object]:
    """``{"ok", "passed", "failed", "checks": [...]}`` - the ``--json`` document."""
    items = list(checks)
    passed = sum(1 for c in items if c.ok)
    return {
        "ok": all_passed(items),
        "passed": passed,
        "failed": len(items) - passed,
        "checks": [check_to_dict(c) for c in items],
    }


def checks_to_json(checks: Iterable[CheckResult], *, indent: int | None = 2) -> str:
    """The ``--json`` document as text."""
    return json.dumps(checks_to_dict(checks), indent=indent, ensure_ascii=False)
