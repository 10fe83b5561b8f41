"""Replace attributes of moto's classes and put the originals back, in reverse order.

``Patcher.wrap(cls, name, make)`` replaces ``cls.name`` with ``make(original)``;
``Patcher.set(cls, name, value)`` replaces it outright (a property, say). ``restore()`` undoes
every change, last first, so patches stacked on the same attribute unwind correctly; an
attribute the class did not define itself (inherited, or absent) is deleted again rather than
copied down.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass
class _Change:
    owner: type
    name: str
    previous: Any  # the class's own attribute before, or _MISSING


class Patcher:
    """Reversible attribute replacement on classes."""

    def __init__(self) -> None:
        self._changes: list[_Change] = []

    def set(self, owner: type, name: str, value: Any) -> None:
        previous = owner.__dict__.get(name, _MISSING)
        self._changes.append(_Change(owner, name, previous))
        setattr(owner, name, value)

    def wrap(self, owner: type, name: str, make: Callable[[Callable[..., Any]], Any]) -> None:
        """``owner.name = make(original)``; ``original`` is what instances resolved before."""
        original = getattr(owner, name)
        self.set(owner, name, make(original))

    def restore(self) -> None:
        while self._changes:
            change = self._changes.pop()
            if change.previous is _MISSING:
                if change.name in change.owner.__dict__:
                    delattr(change.owner, change.name)
            else:
                setattr(change.owner, change.name, change.previous)

    def __len__(self) -> int:
        return len(self._changes)


def arguments(function: Callable[..., Any], args: Any, kwargs: Any) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults filled in (``self`` included)."""
    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)
