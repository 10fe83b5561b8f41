"""`python -m migrator` runs the CLI."""

from migrator.cli.main import entry_point

entry_point()
