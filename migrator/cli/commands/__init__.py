"""The commands: one module per command, each turning its parsed arguments into a use case's
request, calling the use case (migrator.usecases) and printing its result (migrator.cli.output).

`run` imports only the module of the command being run, so `show` never loads what `plan`
needs. `connect` and `prompter` are the command line's two doors to the outside, AWS and the
terminal; each run looks them up here, so a test replaces them in this one place.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from migrator.cli.commands.shell import Shell
from migrator.cli.environment import Environment
from migrator.cli.prompts import Prompter, prompter_for
from migrator.usecases.accounts import Account

if TYPE_CHECKING:
    from migrator.aws.session import Aws

# command name -> its module in this package
MODULES = {"inspect": "inspect", "plan": "plan", "show": "show", "check": "check",
           "apply": "apply", "rollback": "rollback", "status": "status", "verify": "verify",
           "wizard": "wizard", "iam-policy": "iam_policy"}


def connect(account: Account) -> Aws:
    from migrator.usecases.accounts import connect as connect_to_aws

    return connect_to_aws(account)


def prompter(env: Environment, assume_yes: bool = False) -> Prompter:
    return prompter_for(env.interactive and not assume_yes)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Run the command args name; its exit status (errors are raised as MigratorError)."""
    module = importlib.import_module(f"{__name__}.{MODULES[args.command]}")
    command: Callable[[argparse.Namespace, Shell], int] = module.run
    return int(command(args, Shell(env, connect=connect, prompter=prompter)))
