"""CPU seconds per test (user + sys), for measuring the suite on a shared machine where wall
time says little: ``pytest -p tests.support.cpu_profile ...`` prints the 40 costliest tests
and the sum of all of them at the end of the run; ``--cpu-report FILE`` also writes every
test's figure there (tab-separated, costliest first).

Each phase (setup, call, teardown) is measured in the process that runs it with
``resource.getrusage``: this process (moto's server threads serve the test from inside it) plus
its waited-for children (the CLI run as a real process, pexpect terminals, forked crash
victims). The figure travels to the xdist controller in the report's ``user_properties``.
A session-scoped fixture's start-up counts for the first test that needs it.
"""

from __future__ import annotations

import resource
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_KEY = "cpu_seconds"
TOP = 40
# nodeid -> CPU seconds, filled in the controller (or the one process without xdist).
_TOTALS: defaultdict[str, float] = defaultdict(float)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measured(item: pytest.Item) -> Iterator[None]:
    began = _cpu()
    yield
    item.user_properties.append((_KEY, _cpu() - began))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _measured(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _measured(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _measured(item)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-report", metavar="FILE", default=None,
                     help="write every test's CPU seconds to FILE (tab-separated)")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs in the controller for every worker's report; the properties accumulate over the
    # phases, so only the latest value of each report counts.
    values = [value for key, value in report.user_properties
              if key == _KEY and isinstance(value, float)]
    if values:
        _TOTALS[report.nodeid] += values[-1]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    totals = _TOTALS
    if not totals:
        return
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    report = config.getoption("--cpu-report")
    if report:
        Path(report).write_text("".join(f"{seconds:.3f}\t{nodeid}\n" for nodeid, seconds in ranked))
    terminalreporter.section(f"CPU seconds per test (top {TOP})", sep="=")
    for nodeid, seconds in ranked[:TOP]:
        terminalreporter.line(f"{seconds:8.2f}  {nodeid}")
    terminalreporter.line(f"{sum(totals.values()):8.2f}  all {len(totals)} tests "
                          "(setup + call + teardown, in the processes that ran them)")
