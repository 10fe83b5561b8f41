"""The strict world's own bookkeeping: when things were created, used, released, changed.

moto does not remember when a resource was created (or only as text), so the rules keep their
own clock readings here, keyed by resource identifiers. Everything a rule reads or writes goes
through :attr:`Ledger.lock` (moto serves requests on many threads). A resource the ledger has
never seen -- created before the strict layer was installed, or while it was relaxed -- counts
as old: visible, provisioned, healthy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

OLD = float("-inf")  # the creation time of anything the ledger has not seen


@dataclass
class Draining:
    until: float
    port: str | int | None


@dataclass
class Released:
    at: float
    users: tuple[str, ...]


@dataclass
class Ledger:
    """Clock readings per resource; one lock for all of it."""

    clock: Callable[[], float] = time.monotonic
    lock: threading.RLock = field(default_factory=threading.RLock)
    # (kind, id) -> creation time; kinds: sg, eni, tg, lb, certificate
    created: dict[tuple[str, str], float] = field(default_factory=dict)
    # (target group ARN, target id) -> registration time
    registered: dict[tuple[str, str], float] = field(default_factory=dict)
    # (target group ARN, target id) -> draining until
    draining: dict[tuple[str, str], Draining] = field(default_factory=dict)
    # (account, region) -> {(target group ARN, load balancer ARN): forwarding since}
    forwarding: dict[tuple[str, str], dict[tuple[str, str], float]] = field(default_factory=dict)
    # (account, region) -> {certificate ARN: load balancer ARNs using it}
    certificate_users: dict[tuple[str, str], dict[str, tuple[str, ...]]] = field(
        default_factory=dict
    )
    # certificate ARN -> when the last listener stopped using it, and who that was
    certificate_released: dict[str, Released] = field(default_factory=dict)
    # certificate ARN -> when ACM issued it (clock reading)
    issued: dict[str, float] = field(default_factory=dict)
    # security group id -> (until, load balancer ARN) its interfaces linger
    group_linger: dict[str, tuple[float, str]] = field(default_factory=dict)
    # (zone id, record name without the final dot, type) -> last CREATE/UPSERT
    record_changed: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # Route 53 change id -> submitted at
    changes: dict[str, float] = field(default_factory=dict)
    route53_calls: int = 0
    _relaxed: int = 0

    def now(self) -> float:
        return self.clock()

    # -- relaxed ------------------------------------------------------------------------------

    @property
    def relaxed(self) -> bool:
        return self._relaxed > 0

    @contextmanager
    def relaxing(self) -> Iterator[None]:
        with self.lock:
            self._relaxed += 1
        try:
            yield
        finally:
            with self.lock:
                self._relaxed -= 1

    # -- creation -----------------------------------------------------------------------------

    def record_created(self, kind: str, resource_id: str) -> None:
        """Remember that ``resource_id`` was created now (not while relaxed: it counts as old)."""
        with self.lock:
            if not self.relaxed:
                self.created.setdefault((kind, resource_id), self.now())

    def created_at(self, kind: str, resource_id: str) -> float:
        with self.lock:
            return self.created.get((kind, resource_id), OLD)

    def is_fresh(self, kind: str, resource_id: str, window: float) -> bool:
        """Created less than ``window`` seconds ago (never while relaxed)."""
        with self.lock:
            if self.relaxed:
                return False
            return self.now() - self.created.get((kind, resource_id), OLD) < window
