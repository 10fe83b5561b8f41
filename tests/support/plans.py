"""The repository's example plan, and variants of it, for tests that need a whole plan."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from migrator.core import planfile
from migrator.core.plan import Plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PLAN = ROOT / "plans" / "example-www.example.com.json"


def example_plan() -> Plan:
    return planfile.load(EXAMPLE_PLAN)


def with_web_interface(plan: Plan, interface: str = "eni-0123456789abcdef0") -> Plan:
    """The plan, its snapshot recording the interface that holds the site's address."""
    instance: Any = plan.snapshot.instance
    if any(f.name == "web_interface_id" for f in dataclasses.fields(instance)):
        instance = dataclasses.replace(instance, web_interface_id=interface)
    else:  # before snapshot.Instance recorded interfaces
        instance = _WithInterface(instance, interface)
    return dataclasses.replace(plan, snapshot=dataclasses.replace(plan.snapshot,
                                                                   instance=instance))


class _WithInterface:
    def __init__(self, instance: Any, interface: str) -> None:
        self._instance, self.web_interface_id = instance, interface

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)
