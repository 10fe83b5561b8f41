"""Terminal rendering of findings: one rich table that fits 80 columns, then a summary line.

The level column says PASS, WARN, FAIL or INFO in words, so the table reads the same without
colour (rich honours NO_COLOR); each hint follows its message on a line starting with "→".
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from migrator.checks.preflight.model import Finding

STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "info": "cyan"}


def summary(findings: Sequence[Finding]) -> str:
    counts = {level: sum(1 for f in findings if f.level == level)
              for level in ("fail", "warn", "info", "pass")}
    parts = [f"{n} {level}" for level, n in counts.items() if n]
    verdict = "the plan is refused" if counts["fail"] else "nothing refuses the plan"
    return f"Preflight: {', '.join(parts) or 'no findings'}; {verdict}."


def render_findings(console: Console, findings: Sequence[Finding], *,
                    title: str | None = "Preflight checks") -> None:
    """Print findings as a table (level, check, finding and → hint), then a summary line."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, expand=False)
    table.add_column("Level", no_wrap=True, min_width=4)
    table.add_column("Check", no_wrap=True, max_width=18)
    table.add_column("Finding", overflow="fold", ratio=1)
    for finding in findings:
        text = Text(finding.message)
        if finding.hint:
            text.append(f"\n→ {finding.hint}", style="dim")
        table.add_row(Text(finding.level.upper(), style=STYLES[finding.level]),
                      Text(finding.check), text)
    console.print(table)
    failed = any(f.failed for f in findings)
    console.print(Text(summary(findings), style="bold red" if failed else "bold"))
