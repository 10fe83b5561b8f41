"""The interactive wizard: what `migrator` runs in a terminal (and `migrator wizard` anywhere).

It looks at the real setup, proposes defaults, shows the plan and asks before changing anything;
see flow.py for the order of the steps and questions.py for the questions.
"""

from migrator.cli.wizard.flow import run_wizard

__all__ = ["run_wizard"]
