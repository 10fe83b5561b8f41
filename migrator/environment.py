"""One object for everything the outside world gives a run: consoles, terminal flags, variables.

The CLI takes an Environment so tests can run the whole program in-process and read what it
wrote to stdout and stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console


@dataclass
class Environment:
    """Consoles, streams and variables of one run of the CLI."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = field(default_factory=lambda: sys.stdin.isatty())
    variables: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    width: int | None = None

    def __post_init__(self) -> None:
        no_color = "NO_COLOR" in self.variables
        self.console = Console(file=self.stdout, no_color=no_color, width=self.width,
                               highlight=False, soft_wrap=False)
        self.err_console = Console(file=self.stderr, no_color=no_color, width=self.width,
                                   highlight=False, soft_wrap=False)

    @property
    def interactive(self) -> bool:
        """True when questions can be asked: stdin and stdout are terminals."""
        return self.stdin_isatty and self.stdout.isatty()
