"""What each plan action does: one module per service (acm, route53, elbv2, ec2), the lockdown's
and the checks', each declaring its actions once as typed `Action`s (forward handler, undo,
traits), gathered by name in `catalogue`.

Every forward action is safe to run again (it finds and adopts what an interrupted run created,
by name and the plan's tag) and every undo tolerates a resource that is already gone, so apply
can resume and rollback can run from any point.
"""

from migrator.core.actions.catalogue import (
    ACTIONS,
    UNDOS,
    action,
    dns_switch,
    lockdown_steps,
    named_resources,
    traits,
    undo,
    unknown_names,
)
from migrator.core.actions.context import Context
from migrator.core.actions.model import (
    LOAD_BALANCER,
    SECURITY_GROUP,
    TARGET_GROUP,
    Action,
    Deferred,
    NamedResource,
    Traits,
    Undo,
)

__all__ = [
    "ACTIONS",
    "LOAD_BALANCER",
    "SECURITY_GROUP",
    "TARGET_GROUP",
    "UNDOS",
    "Action",
    "Context",
    "Deferred",
    "NamedResource",
    "Traits",
    "Undo",
    "action",
    "dns_switch",
    "lockdown_steps",
    "named_resources",
    "traits",
    "undo",
    "unknown_names",
]
