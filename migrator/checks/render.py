"""Terminal rendering of check results (:class:`~migrator.checks.result.CheckResult`): the
preflight table and the verification table, each within 80 columns and followed by a summary
line.

The verdict is always a word (PASS, WARN, FAIL, INFO), so a table reads the same without colour;
rich itself honours ``NO_COLOR``. Preflight shows each hint under its message on a line starting
with "→"; verification shows what was checked over its target, a section per run of one
category, and a mark beside the verdict when the terminal can show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from migrator.checks.result import LEVELS, CheckResult

__all__ = ["render_checks", "render_findings", "summary", "summary_line"]

LEVEL_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "info": "cyan"}


def _table(title: str | None, **layout: Any) -> Table:
    """The layout both tables share: a rule under the header, no outer edge or padding."""
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, **layout)


# -- preflight --------------------------------------------------------------------------------


def summary(findings: Sequence[CheckResult]) -> str:
    """``Preflight: 1 fail, 2 warn; the plan is refused.``"""
    counts = {level: sum(1 for f in findings if f.level == level) for level in LEVELS}
    parts = [f"{n} {level}" for level, n in counts.items() if n]
    verdict = "the plan is refused" if counts["fail"] else "nothing refuses the plan"
    return f"Preflight: {', '.join(parts) or 'no findings'}; {verdict}."


def render_findings(console: Console, findings: Sequence[CheckResult], *,
                    title: str | None = "Preflight checks") -> None:
    """Print findings as a table (level, check, finding and → hint), then a summary line."""
    table = _table(title, title_justify="left", expand=False)
    table.add_column("Level", no_wrap=True, min_width=4)
    table.add_column("Check", no_wrap=True, max_width=18)
    table.add_column("Finding", overflow="fold", ratio=1)
    for finding in findings:
        text = Text(finding.message)
        if finding.hint:
            text.append(f"\n→ {finding.hint}", style="dim")
        table.add_row(Text(finding.level.upper(), style=LEVEL_STYLES[finding.level]),
                      Text(finding.check), text)
    console.print(table)
    failed = any(f.failed for f in findings)
    console.print(Text(summary(findings), style="bold red" if failed else "bold"))


# -- verification -----------------------------------------------------------------------------


def summary_line(checks: Sequence[CheckResult]) -> str:
    """``5 checks: 3 passed, 2 failed`` or ``5 checks: all passed``."""
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


def render_checks(console: Console, checks: Sequence[CheckResult], *,
                  title: str | None = None) -> None:
    """Print *checks* as a table, a section per run of one category, then a summary."""
    checks = list(checks)
    pass_mark, fail_mark = _marks(console)
    table = _table(title, collapse_padding=True)
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
        what = Text(check.check)
        what.append("\n")
        what.append(check.target, style="dim")
        table.add_row(result, what, Text(check.message, style="" if check.ok else "red"))
    console.print(table)
    style = "bold green" if checks and all(c.ok for c in checks) else "bold red"
    console.print(Text(summary_line(checks), style=style))
