"""`python -m migrator` runs the CLI."""

from migrator.cli import entry_point

entry_point()
