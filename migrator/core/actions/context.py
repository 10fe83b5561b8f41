"""What an action handler is given: AWS, the plan, the step's journal entry and the run's
options, with the helpers every handler shares (adopt what an interrupted run created, wait for
AWS to make a new resource visible, delete through "in use")."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from migrator.core.plan import Plan, StepState
from migrator.core.planner import TAG_KEY
from migrator.core.retry import (
    SYSTEM_CLOCK,
    VISIBILITY_DEADLINE,
    Clock,
    Retry,
    not_yet_visible,
    poll,
    still_in_use,
)
from migrator.core.snapshot import Snapshot
from migrator.errors import AwsError, AwsNotFoundError

T = TypeVar("T")
# A create refused because the name is taken: by an interrupted run of this plan, whose resource
# a lookup by name did not see yet, or by someone else (the adoption check tells which).
DUPLICATE = frozenset({"DuplicateTargetGroupName", "DuplicateLoadBalancerName",
                       "DuplicateListener", "InvalidGroup.Duplicate"})


@dataclass
class Context:
    """What an action needs: AWS, the plan, the step's journal entry, and run options."""

    aws: Any
    plan: Plan
    state: StepState
    save: Callable[[], None]
    verifier: Any = None
    dns_drain_seconds: float = 60.0
    delete_timeout: float = 900.0
    wait_for_ttl: bool = False
    notes: list[str] = field(default_factory=list)
    clock: Clock = SYSTEM_CLOCK
    # For an undo: how long "not found" may still mean "created a moment ago, not yet visible"
    # (0 when the resource is old enough, or this undo already ran once and may have deleted it).
    fresh_seconds: float = 0.0
    # Says how a long step is going while it runs (the canary's soak); notes are said after.
    progress: Callable[[str], None] = field(default=lambda _text: None)
    # The site the step belongs to (None: the plan's first site, or a step the sites share).
    site: str | None = None
    # Held while the step's journal entry changes: the same step of several sites may run at
    # once, and a save must not read an entry half changed.
    lock: Any = field(default_factory=threading.RLock)

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot of the step's site."""
        return self.plan.site_snapshot(self.site)

    def observe(self, **facts: Any) -> None:
        """Journal what was seen before acting (the undo record), then save the plan."""
        with self.lock:
            self.state.observed.update(facts)
            self.save()

    def mine(self, tags: dict[str, str]) -> bool:
        return tags.get(TAG_KEY) == self.plan.id

    def until_visible(self, call: Callable[[], T], what: str) -> T:
        """Make a call that names resources this plan just created: AWS's eventual consistency
        may answer "not found" for them for a while, which is retried, and said."""
        waits: list[float] = []
        result = Retry(what=f"{what} never became visible", retry_on=not_yet_visible,
                       deadline=VISIBILITY_DEADLINE, clock=self.clock,
                       hint="check it still exists, then run apply again",
                       on_wait=lambda _exc, delay: waits.append(delay))(call)
        if waits:
            self.notes.append(f"waited {sum(waits):.1f} s for AWS to make {what} visible "
                              "(eventual consistency)")
        return result

    def create_or_adopt(self, find: Callable[[], T | None], create: Callable[[], T],
                        what: str) -> T:
        """Create something unless an earlier, interrupted run did. That run's resource may
        not be visible to `find` yet (AWS's reads are eventually consistent too); then the
        create answers "duplicate", and the resource is waited for and adopted."""
        found = find()
        if found is not None:
            return found
        try:
            return create()
        except AwsError as exc:
            if exc.code not in DUPLICATE:
                raise
        return poll(find, what=f"{what}, which AWS says exists, to be visible",
                    deadline=VISIBILITY_DEADLINE, clock=self.clock,
                    hint="check who created it; run apply again")

    def delete(self, call: Callable[[], Any], what: str) -> None:
        """Delete something: AWS refuses while a dependant lets go (a deleted load balancer's
        interfaces hold its group for minutes; a certificate stays in use after its listener),
        which is retried; "not found" means it is already gone, unless the plan created it a
        moment ago and it may just not be visible yet."""
        start = self.clock.monotonic()

        def retry_on(exc: Exception) -> bool:
            if isinstance(exc, AwsNotFoundError):
                return self.clock.monotonic() - start < self.fresh_seconds
            return still_in_use(exc)

        with contextlib.suppress(AwsNotFoundError):
            Retry(what=f"{what}: still in use", retry_on=retry_on,
                  deadline=self.delete_timeout, clock=self.clock,
                  hint="run rollback again later")(call)
