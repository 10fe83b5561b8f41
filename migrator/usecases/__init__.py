"""The use cases: what migrator does, one module per use case, between the command line and the
checks and core below it.

Each use case takes a frozen request dataclass of plain values and returns a frozen result
dataclass; failures are MigratorError subclasses. What a use case needs from outside comes in
through parameters: the account and a function that connects to it (accounts.py), the process's
variables (for the network configuration), and a reporter for progress. No argparse, no console:
the command line and the wizard turn answers into requests and results into text.

This package imports nothing on import: `show` must start without boto3 or dnspython.
"""
