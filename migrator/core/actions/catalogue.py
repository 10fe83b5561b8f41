"""The catalogue: every action this migrator runs, by the name plan files give it (and the
names older plans gave it), with the lookups generic code uses instead of comparing names.

A name a plan uses that is not here (a plan from a newer migrator) is refused before anything
runs (`unknown_names`); read-only code (status, review) reads an unknown action as having no
traits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from migrator.core.actions import acm, canary, ec2, elbv2, lockdown, route53, sharing, verify
from migrator.core.actions.model import NO_TRAITS, Action, NamedResource, Traits, Undo
from migrator.core.plan import Step
from migrator.core.snapshot import Snapshot

DECLARED: tuple[Action, ...] = (*acm.ACTIONS, *route53.ACTIONS, *canary.ACTIONS, *elbv2.ACTIONS,
                                *ec2.ACTIONS, *lockdown.ACTIONS, *verify.ACTIONS,
                                *sharing.ACTIONS)


def _index(entries: Iterable[Action | Undo]) -> dict[str, Action | Undo]:
    index: dict[str, Action | Undo] = {}
    for entry in entries:
        for name in (entry.name, *entry.former_names):
            if index.setdefault(name, entry) is not entry:
                raise ValueError(f"action name {name} is declared twice")
    return index


def _actions(declared: Sequence[Action]) -> dict[str, Action]:
    return {name: entry for name, entry in _index(declared).items()
            if isinstance(entry, Action)}


def _undos(declared: Sequence[Action]) -> dict[str, Undo]:
    undos = list(dict.fromkeys(a.inverse for a in declared if a.inverse is not None))
    return {name: entry for name, entry in _index(undos).items() if isinstance(entry, Undo)}


# Forward actions and undos by name. Read-only when migrator runs; a test may replace an entry
# (monkeypatch.setitem) to inject a fault.
ACTIONS: dict[str, Action] = _actions(DECLARED)
UNDOS: dict[str, Undo] = _undos(DECLARED)


def action(name: str) -> Action:
    """The action a step names (check `unknown_names` first: an unknown name is a KeyError)."""
    return ACTIONS[name]


def undo(name: str) -> Undo:
    """The undo a step's inverse names (an unknown name is a KeyError)."""
    return UNDOS[name]


def traits(step: Step) -> Traits:
    """The step's action's traits; none for an action this migrator does not know."""
    found = ACTIONS.get(step.action)
    return found.traits if found is not None else NO_TRAITS


def unknown_names(steps: Iterable[Step]) -> list[str]:
    """The action and undo names of these steps that this migrator cannot run."""
    unknown = []
    for step in steps:
        if step.action not in ACTIONS:
            unknown.append(step.action)
        if step.inverse is not None and step.inverse.action not in UNDOS:
            unknown.append(step.inverse.action)
    return list(dict.fromkeys(unknown))


def named_resources(step: Step, snapshot: Snapshot) -> list[NamedResource]:
    """The resources the step creates under names the plan chose (none for most steps)."""
    creates = traits(step).creates
    return creates(step.params, snapshot) if creates is not None else []


def dns_switch(steps: Iterable[Step]) -> Step | None:
    """The step that switches the site's records to the load balancer, if the plan has one."""
    return next((s for s in steps if traits(s).dns_switch), None)


def lockdown_steps(steps: Sequence[Step]) -> tuple[Step, ...]:
    """The lockdown: every step from the plan's first lockdown action on (none without one)."""
    first = next((i for i, s in enumerate(steps) if traits(s).lockdown), len(steps))
    return tuple(steps[first:])
