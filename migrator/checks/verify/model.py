"""The result type of every verification check, and its JSON form."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

Category = Literal["dns", "https", "http", "parity"]
CATEGORIES: tuple[Category, ...] = ("dns", "https", "http", "parity")


@dataclass(frozen=True)
class Check:
    """One verified fact, passed or failed, with the detail that proves it.

    ``name`` says what was checked ("authoritative A", "certificate chain", ...),
    ``target`` what it was checked on ("www.example.com @ 127.0.0.20:443"), and
    ``detail`` the evidence or the reason for failing.
    """

    name: str
    target: str
    ok: bool
    detail: str
    category: Category

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def all_passed(checks: Iterable[Check]) -> bool:
    """True when there is at least one check and none failed."""
    checks = list(checks)
    return bool(checks) and all(c.ok for c in checks)


def checks_to_dict(checks: Iterable[Check]) -> dict[str, object]:
    """``{"ok", "passed", "failed", "checks": [...]}`` - the ``--json`` document."""
    items = list(checks)
    passed = sum(1 for c in items if c.ok)
    return {
        "ok": all_passed(items),
        "passed": passed,
        "failed": len(items) - passed,
        "checks": [c.to_dict() for c in items],
    }


def checks_to_json(checks: Iterable[Check], *, indent: int | None = 2) -> str:
    """The ``--json`` document as text."""
    return json.dumps(checks_to_dict(checks), indent=indent, ensure_ascii=False)
