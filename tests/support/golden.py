"""Golden files: ``pytest --regen-golden`` rewrites them from what the code now makes instead of
comparing (review the diff, then commit it). The ``regen_golden`` fixture tells a test which.
Registered in tests/conftest.py through ``pytest_plugins``."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite the golden files (e.g. plans/example-www.example.com.json) "
                          "from what the code now makes, instead of comparing with them")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


def readable_diff(expected: Any, actual: Any, *, expected_name: str, actual_name: str) -> str:
    """A unified diff of two JSON values, each as indented JSON in its own key order (a plan
    file's order: a step's id comes before its parameters)."""
    def lines(value: Any) -> list[str]:
        return json.dumps(value, indent=2).splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(expected), lines(actual), n=5,
                                        fromfile=expected_name, tofile=actual_name))
