"""The one result type of every check, preflight's and verification's: :class:`CheckResult`.

A result says what was checked, its verdict, and the one-line evidence or reason; a preflight
finding adds what to do and machine-readable data, a verification check what it was checked on
and its section. Preflight calls them findings (:data:`migrator.checks.preflight.model.Finding`
is this type); verification builds them as :class:`migrator.checks.verify.model.Check`, a
CheckResult made from verification's ``(name, target, ok, detail, category)``.

Levels, from worst: ``fail`` (a preflight fail refuses the plan; a failed verification fails
the run), ``warn`` needs the user's attention, ``info`` is worth knowing, ``pass`` says a check
found nothing wrong. Verification uses ``pass`` and ``fail`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["LEVELS", "CheckResult", "Level"]

Level = Literal["pass", "warn", "fail", "info"]
LEVELS: tuple[Level, ...] = ("fail", "warn", "info", "pass")


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict.

    ``check`` says what was checked ("zone", "certificate chain"), ``message`` the evidence or
    the reason, ``hint`` what to do about it; ``target`` what it was checked on
    ("www.example.com @ 127.0.0.20:443", empty when that is the site), ``category`` the section
    it is shown in ("dns", "https", ...; empty for preflight). ``data`` holds machine-readable
    details (never secrets) and takes no part in equality.
    """

    check: str
    level: Level
    message: str
    hint: str = ""
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    target: str = ""
    category: str = ""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown result level {self.level!r}")

    @property
    def failed(self) -> bool:
        return self.level == "fail"

    @property
    def ok(self) -> bool:
        """Not failed: a warning or a note does not fail a check."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """The preflight JSON shape: ``{check, level, message, hint, data}``."""
        return {"check": self.check, "level": self.level, "message": self.message,
                "hint": self.hint, "data": self.data}

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
