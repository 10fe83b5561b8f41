"""The plan files a run of apply or rollback was given: each once, in the order given, read
before anything else happens (a missing or damaged file stops the run before any question)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from migrator.core import planfile
from migrator.core.plan import Plan


@dataclass(frozen=True)
class LoadedPlan:
    path: Path
    plan: Plan


def unique(paths: Sequence[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))


def load_plans(paths: Sequence[Path]) -> tuple[LoadedPlan, ...]:
    return tuple(LoadedPlan(path, planfile.load(path)) for path in unique(paths))
