"""The types of the action catalogue: an `Action` is declared once, with its forward handler,
the `Undo` that reverses it (or None, declared: a wait or a check changes nothing to undo), and
its `Traits`, which the executor, the checks, the review and the IAM policy read instead of
comparing action names. A handler's `Deferred` outcome says "not yet" without being an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migrator.core.actions.context import Context
    from migrator.core.snapshot import Snapshot

LOAD_BALANCER, TARGET_GROUP, SECURITY_GROUP = "load balancer", "target group", "security group"


@dataclass(frozen=True)
class Deferred:
    """A step that cannot run yet, and when it can (e.g. the lockdown, until no resolver can
    hold the old address): apply stops there, successfully; a later apply runs it."""

    until: datetime
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})"


@dataclass(frozen=True)
class NamedResource:
    """A resource a step creates under a name the plan chooses (so the name may be taken).

    `kind` is LOAD_BALANCER, TARGET_GROUP or SECURITY_GROUP; `vpc_id` is set for a kind whose
    names are unique per VPC only. `output` is the step output holding the new resource's id
    (None: the step's only resource), `copy_of` the group it copies.
    """

    kind: str
    name: str
    vpc_id: str | None = None
    output: str | None = None
    copy_of: str | None = None


Outputs = dict[str, Any]
# A forward handler: the step's outputs, or Deferred (only for an action whose traits say so).
Handler = Callable[["Context", dict[str, Any]], "Outputs | Deferred"]
UndoHandler = Callable[["Context", dict[str, Any]], Outputs]
# The resources a step creates under chosen names, from its parameters (as planned, refs
# unresolved) and the plan's snapshot.
Creates = Callable[[dict[str, Any], "Snapshot"], list[NamedResource]]


@dataclass(frozen=True)
class Traits:
    """What generic code needs to know about an action, declared instead of read from its name.

    check: a verification, skipped by apply --skip-verify.
    restores_dns_on_failure: when it fails, apply puts the original DNS records back.
    dns_switch: the step that points the site's names at the load balancer.
    may_defer: may answer Deferred (apply then stops successfully and resumes there later).
    lockdown: belongs to the lockdown, the plan's last part: the lockdown is every step from
        the plan's first lockdown action on (its last step sets the interface's groups, which
        the cutover does too, so that action cannot say it).
    requests_certificate: requests an ACM certificate (its params are RequestCertificate's).
    creates: the resources it creates under names the plan chose, or None.
    """

    check: bool = False
    restores_dns_on_failure: bool = False
    dns_switch: bool = False
    may_defer: bool = False
    lockdown: bool = False
    requests_certificate: bool = False
    creates: Creates | None = None


NO_TRAITS = Traits()


@dataclass(frozen=True)
class Undo:
    """How a step is undone: the action name a plan's inverse names, and its handler. Every
    undo tolerates what is already gone, so rollback can run again from any point."""

    name: str
    run: UndoHandler
    former_names: tuple[str, ...] = ()  # names older plans use for the same undo


@dataclass(frozen=True)
class Action:
    """One kind of step, as plan files name it. `inverse` is required: None declares that the
    action leaves nothing to undo (a wait, a check, a listener deleted for good)."""

    name: str
    forward: Handler
    inverse: Undo | None
    traits: Traits = field(default=NO_TRAITS)
    former_names: tuple[str, ...] = ()  # names older plans use for the same action
