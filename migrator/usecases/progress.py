"""Where a planning run reports its progress (apply and rollback report through the executor's
Reporter, migrator.core.executor). Light on purpose: the command line imports it at start-up."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrator.checks.preflight import Finding


class PlanProgress:
    """Where a planning run shows that preflight is running (it may wait for the origin's idle
    connection up to idle_wait seconds), then its findings, before it refuses or goes on.
    This one is silent."""

    def preflight_running(self, idle_wait: float | None) -> AbstractContextManager[object]:
        return contextlib.nullcontext()

    def preflight_done(self, findings: Sequence[Finding]) -> None: ...
