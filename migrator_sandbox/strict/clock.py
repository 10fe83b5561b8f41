"""Clocks for the strict world: the real one (``time.monotonic``) or one a test moves by hand.

Every strict rule reads time through the ledger's clock, so with a :class:`ManualClock` a test
sees each window open and close exactly when it says -- however loaded the machine is. (The
sandbox's data plane and health checker run on real time; use the real clock there.)
"""

from __future__ import annotations

import threading


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0):
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward ``seconds`` (>= 0); returns the new reading."""
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        with self._lock:
            self._now += float(seconds)
            return self._now
