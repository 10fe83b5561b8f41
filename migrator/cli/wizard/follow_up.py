"""The exact commands that continue from the wizard (apply later, resume, roll back), and the
way back it prints when apply stops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console


@dataclass(frozen=True)
class FollowUp:
    """The follow-up command lines for one plan file, with the account's flags."""

    path: Path
    flags: Sequence[str]
    skip_verify: bool = False

    def _line(self, *words: str) -> str:
        return " ".join(["migrator", *words, str(self.path), *self.flags])

    @property
    def apply(self) -> str:
        return self._line("apply") + (" --skip-verify" if self.skip_verify else "")

    @property
    def rollback(self) -> str:
        return self._line("rollback")


def way_back(console: Console, follow_up: FollowUp, headline: str) -> None:
    console.print(f"[yellow]{headline}[/] The plan's state file records every step done so far.")
    console.print(f"  Resume:    {follow_up.apply}", soft_wrap=True, markup=False)
    console.print(f"  Roll back: {follow_up.rollback}", soft_wrap=True, markup=False)
