"""Hooks on the clients the tool creates, through its observer seam (migrator.aws.session.observing,
the process-wide form of ``Aws(observers=...)``): record every API call the tool makes as
(botocore service, operation), or register any other botocore event handler.

Only the tool's own clients are hooked: the tests' boto3 sessions (seeding, account_state) are not.

Also a pytest plugin (tests/conftest.py lists it in `pytest_plugins`): at the end of the run, every
call the tool made in the whole session must be allowed by `migrator iam-policy`, or the run
fails. With pytest-xdist each worker is a process with its own recorder: each writes its calls to
a file in a directory the controller made and handed to the workers (`workerinput`), and the
controller checks the union once the workers are done. Without xdist the one process does both.

`recording_api_calls()` records more, for a check of resources and conditions against a plan's own
policy (tests/support/iam_evaluation.py): each call in order, with its parameters and the parsed
response.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migrator.aws.session import observing
from migrator.core.iam_policy import policy, uncovered

Call = tuple[str, str]

# Sets the before-call handler adds to: the session-wide one (conftest) and any nested recording.
_SINKS: list[set[Call]] = []
# What recording_session() records: read by the session-end check below.
_SESSION: set[Call] = set()

WORKER_DIR_KEY = "migrator_iam_calls_dir"
_DIR = pytest.StashKey[Path]()
_MISSING = pytest.StashKey[list[str]]()


def _record(model: Any, **_: Any) -> None:
    call = (model.service_model.service_name, model.name)
    for sink in _SINKS:
        sink.add(call)


@contextlib.contextmanager
def client_hooks(*hooks: tuple[str, Callable[..., Any]]) -> Iterator[None]:
    """While active, every client Aws creates gets these (event, handler) registrations (the
    tool's observer seam, migrator.aws.session.observing)."""
    with observing(*hooks):
        yield


@contextlib.contextmanager
def recording_session() -> Iterator[set[Call]]:
    """Install the recorder for the whole test session; yields the session-wide set, which the
    end-of-session check reads."""
    _SINKS.append(_SESSION)
    try:
        with client_hooks(("before-call.*.*", _record)):
            yield _SESSION
    finally:
        _forget(_SESSION)


@contextlib.contextmanager
def recording() -> Iterator[set[Call]]:
    """The calls made inside the block (needs the session recorder installed)."""
    calls: set[Call] = set()
    _SINKS.append(calls)
    try:
        yield calls
    finally:
        _forget(calls)


@dataclass(frozen=True)
class ApiCall:
    """One API call a client of the tool made: its parameters as the tool passed them, and the
    parsed response (an error's too; None when no response came back)."""

    service: str  # botocore's name: "elbv2"
    operation: str  # "CreateRule"
    params: dict[str, Any]
    response: dict[str, Any] | None
    status: int | None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 300


_PARAMS_KEY = "migrator_iam_call"


@contextlib.contextmanager
def recording_api_calls() -> Iterator[list[ApiCall]]:
    """The calls the tool's clients make inside the block, in order, with parameters and
    responses (of clients created inside the block: each command creates its own). A call whose
    request never got an answer (a connection error) is recorded with no response."""
    calls: list[ApiCall] = []

    def remember(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS_KEY] = (model.service_model.service_name, model.name,
                                copy.deepcopy(params))

    def answered(context: dict[str, Any], http_response: Any = None, parsed: Any = None,
                 **_: Any) -> None:
        if _PARAMS_KEY in context:
            service, operation, params = context.pop(_PARAMS_KEY)
            calls.append(ApiCall(service, operation, params, parsed,
                                 getattr(http_response, "status_code", None)))

    def unanswered(context: dict[str, Any], **_: Any) -> None:
        if _PARAMS_KEY in context:
            service, operation, params = context.pop(_PARAMS_KEY)
            calls.append(ApiCall(service, operation, params, None, None))

    with client_hooks(("before-parameter-build.*.*", remember), ("after-call.*.*", answered),
                      ("after-call-error.*.*", unanswered)):
        yield calls


def _forget(sink: set[Call]) -> None:
    # By identity: list.remove compares sets by value, and two empty sets are equal.
    _SINKS[:] = [s for s in _SINKS if s is not sink]


# --- The session-end check (a pytest plugin) ----------------------------------------------------

def _write(path: Path, calls: Iterable[Call]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(sorted(calls)))
    os.replace(temporary, path)  # the controller never reads half a file


def _read(directory: Path) -> set[Call]:
    found: set[Call] = set()
    for path in directory.glob("*.json"):
        found.update((service, operation) for service, operation in json.loads(path.read_text()))
    return found


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or the one process without xdist
        config.stash[_DIR] = Path(tempfile.mkdtemp(prefix="migrator-iam-calls-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller, before starting a worker: tell it where to write."""
    node.workerinput[WORKER_DIR_KEY] = str(node.config.stash[_DIR])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # A worker: hand over its calls (the controller checks them all at once).
        directory = Path(workerinput[WORKER_DIR_KEY])
        _write(directory / f"{workerinput['workerid']}.json", _SESSION)
        return
    directory = config.stash[_DIR]
    _write(directory / "controller.json", _SESSION)
    try:
        calls = _read(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    missing = uncovered(calls, policy())
    if missing:
        config.stash[_MISSING] = missing
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    missing = config.stash.get(_MISSING, [])
    if not missing:
        return
    terminalreporter.section("IAM policy", sep="=", red=True, bold=True)
    terminalreporter.line(
        f"the tool called {len(missing)} AWS action(s) that `migrator iam-policy` does not "
        f"grant: {', '.join(missing)}", red=True)
    terminalreporter.line("add them to migrator/core/iam_policy.py GRANTS (the run fails until then)")
