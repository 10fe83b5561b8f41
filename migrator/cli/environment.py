"""One object for everything the outside world gives a run: consoles, terminal flags, variables.

The CLI takes an Environment so tests can run the whole program in-process and read what it
wrote to stdout and stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class Environment:
    """Consoles, streams and variables of one run of the CLI."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = field(default_factory=lambda: sys.stdin.isatty())
    variables: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    width: int | None = None

    # Built on first use: importing rich.console is most of `migrator --help`'s start-up.
    @cached_property
    def console(self) -> Console:
        return self._console(self.stdout)

    @cached_property
    def err_console(self) -> Console:
        return self._console(self.stderr)

    def _console(self, stream: IO[str]) -> Console:
        from rich.console import Console

        return Console(file=stream, no_color="NO_COLOR" in self.variables, width=self.width,
                       highlight=False, soft_wrap=False)

    @property
    def interactive(self) -> bool:
        """True when questions can be asked: stdin and stdout are terminals."""
        return self.stdin_isatty and self.stdout.isatty()
