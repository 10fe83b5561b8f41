"""What every command gets besides its arguments: the run's environment, the way to AWS, the
way to ask; and the helpers every command shares to read common flags and ask for a go-ahead."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from migrator.cli.environment import Environment
from migrator.cli.prompts import Prompter
from migrator.usecases.accounts import Account, Connect


@dataclass(frozen=True)
class Shell:
    env: Environment
    connect: Connect
    prompter: Callable[[Environment, bool], Prompter]

    def ask(self, assume_yes: bool = False) -> Prompter:
        """The prompter: questions in a terminal (unless assume_yes), else defaults and flags."""
        return self.prompter(self.env, assume_yes)

    def go_ahead(self, question: str, assume_yes: bool) -> bool:
        """--yes, or a yes to question; otherwise says that nothing was changed."""
        if assume_yes or self.ask().confirm(question, default=False, flag="--yes"):
            return True
        self.env.console.print("Nothing was changed.")
        return False


def account_of(args: argparse.Namespace) -> Account:
    """--profile and --region, when given (anywhere on the command line)."""
    return Account(profile=getattr(args, "profile", None), region=getattr(args, "region", None))
