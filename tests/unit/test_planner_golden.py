"""The example plan is a golden file: the planner, given the snapshot and options stored in
plans/example-www.example.com.json (and its plan id and creation time), must make exactly that
plan -- every step, parameter, inverse and description, the snapshot and the options; only what
apply journals (states, journal) is left out. `pytest --regen-golden` rewrites the file instead."""

from __future__ import annotations

import json
from typing import Any

import pytest

from migrator.core import planfile
from migrator.core.plan import Plan, reviewed_content
from migrator.core.planner import build_plan
from tests.support.golden import readable_diff
from tests.support.plans import EXAMPLE_PLAN

JOURNALED = ("state", "journal")


def _without_journal(data: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in data.items() if key not in JOURNALED}
    kept["steps"] = [{key: value for key, value in step.items() if key not in JOURNALED}
                     for step in data["steps"]]
    return kept


def test_the_planner_makes_the_example_plan_exactly(regen_golden: bool) -> None:
    stored = json.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))
    given = Plan.from_dict(stored)
    made = build_plan(given.snapshot, given.options, plan_id=given.id,
                      created_at=given.created_at)
    if regen_golden:
        planfile.save(made, EXAMPLE_PLAN)
        return
    expected, actual = _without_journal(stored), reviewed_content(made)
    if actual != expected:
        pytest.fail(
            f"the planner no longer makes {EXAMPLE_PLAN.name} (regenerate it with "
            "`pytest --regen-golden tests/unit/test_planner_golden.py` if the change is "
            "meant):\n"
            + readable_diff(expected, actual, expected_name=f"{EXAMPLE_PLAN.name} (stored)",
                            actual_name="what the planner makes"),
            pytrace=False)
