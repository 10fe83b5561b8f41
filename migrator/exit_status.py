"""Process exit statuses: a contract for scripts (0 ok, 1 failed, 2 bad input, 130 Ctrl-C)."""

from enum import IntEnum


class ExitStatus(IntEnum):
    """What `migrator` returns to the shell."""

    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130
