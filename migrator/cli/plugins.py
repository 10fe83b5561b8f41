"""Commands that other packages add to `migrator` (the sandbox's `sandbox` and `demo`), found
through the `migrator.commands` entry point group, so the CLI never imports them by name.

An entry point names an object with `name`, `help`, `configure(parser)` and
`run(args, host) -> int`. `host` is a `Host`: the run's consoles and variables, a way to ask
a yes/no question, and a way to run a migrator command line in-process with more variables,
exactly as a user would in a shell.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from migrator.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from migrator.cli.environment import Environment

GROUP = "migrator.commands"


class PluginCommand(Protocol):
    name: str
    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace, host: Host) -> int: ...


def discover() -> list[PluginCommand]:
    """Every installed plugin command, in name order."""
    from importlib.metadata import entry_points  # 20-50 ms: only when a plugin may be named

    found = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        command = point.load()
        if command.name != point.name:
            raise UsageError(f"plugin command {point.value} calls itself {command.name!r}, "
                             f"registered as {point.name!r}",
                             hint="reinstall the package that provides it")
        found.append(command)
    return found


@dataclass
class Host:
    """What the CLI gives a plugin command; `main` is the CLI's own entry (migrator.cli.main
    passes itself, so this module needs no import of it)."""

    env: Environment
    main: Callable[[list[str], Environment], int]
    assume_yes: bool = False

    @property
    def console(self) -> Console:
        return self.env.console

    @property
    def err_console(self) -> Console:
        return self.env.err_console

    @property
    def variables(self) -> Mapping[str, str]:
        return self.env.variables

    @property
    def interactive(self) -> bool:
        return self.env.interactive and not self.assume_yes

    def confirm(self, question: str, *, default: bool, flag: str) -> bool:
        """Ask yes/no in a terminal; without one, the flag that answers is required."""
        from migrator.cli.prompts import prompter_for

        return prompter_for(self.interactive).confirm(question, default=default, flag=flag)

    def run_migrator(self, argv: Sequence[str], variables: Mapping[str, str]) -> int:
        """Run `migrator ARGV` in-process with these variables added, on the same streams."""
        from migrator.cli.environment import Environment

        env = self.env
        child = Environment(stdout=env.stdout, stderr=env.stderr, stdin_isatty=env.stdin_isatty,
                            variables={**env.variables, **variables}, width=env.width)
        return self.main(list(argv), child)
