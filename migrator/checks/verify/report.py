"""Terminal rendering of check results: one rich table that fits 80 columns.

The result column says PASS or FAIL in words (plus a mark when the terminal can
show it), so it reads the same without colour; rich itself honours ``NO_COLOR``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from migrator.checks.verify.model import Check

__all__ = ["render_checks", "summary_line"]


def summary_line(checks: Sequence[Check]) -> str:
    failed = sum(1 for c in checks if not c.ok)
    total = len(checks)
    noun = "check" if total == 1 else "checks"
    if failed:
        return f"{total} {noun}: {total - failed} passed, {failed} failed"
    return f"{total} {noun}: all passed"


def _marks(console: Console) -> tuple[str, str]:
    encoding = (console.encoding or "").lower()
    if encoding.startswith("utf"):
        return "✓ PASS", "✗ FAIL"
    return "PASS", "FAIL"


def render_checks(console: Console, checks: Sequence[Check], *, title: str | None = None) -> None:
    """Print *checks* as a table, a section per run of one category, then a summary."""
    checks = list(checks)
    pass_mark, fail_mark = _marks(console)
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    # Two columns of facts: what was checked on what (name over target), and the
    # evidence, which gets the rest of the width.
    table.add_column("Result", no_wrap=True, min_width=len(pass_mark))
    table.add_column("Check / target", overflow="fold", max_width=34)
    table.add_column("Detail", overflow="fold", min_width=24)
    previous = None
    for check in checks:
        if previous is not None and check.category != previous:
            table.add_section()
        previous = check.category
        result = (
            Text(pass_mark, style="bold green") if check.ok else Text(fail_mark, style="bold red")
        )
        what = Text(check.name)
        what.append("\n")
        what.append(check.target, style="dim")
        table.add_row(result, what, Text(check.detail, style="" if check.ok else "red"))
    console.print(table)
    style = "bold green" if checks and all(c.ok for c in checks) else "bold red"
    console.print(Text(summary_line(checks), style=style))
