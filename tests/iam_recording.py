"""Hooks on the clients the tool creates (migrator.aws.session.Aws._client): record every API call
the tool makes as (botocore service, operation), or register any other botocore event handler.

Only the tool's own clients are hooked: the tests' boto3 sessions (seeding, account_state) are not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from migrator.aws.session import Aws

Call = tuple[str, str]

# Sets the before-call handler adds to: the session-wide one (conftest) and any nested recording.
_SINKS: list[set[Call]] = []


def _record(model: Any, **_: Any) -> None:
    call = (model.service_model.service_name, model.name)
    for sink in _SINKS:
        sink.add(call)


@contextlib.contextmanager
def client_hooks(*hooks: tuple[str, Callable[..., Any]]) -> Iterator[None]:
    """While active, every client Aws creates gets these (event, handler) registrations."""
    original = Aws._client

    def hooked(self: Aws, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        for event, handler in hooks:
            client.meta.events.register(event, handler)
        return client

    Aws._client = hooked  # type: ignore[method-assign]
    try:
        yield
    finally:
        Aws._client = original  # type: ignore[method-assign]


@contextlib.contextmanager
def recording_session() -> Iterator[set[Call]]:
    """Install the recorder for the whole test session; yields the session-wide set."""
    calls: set[Call] = set()
    _SINKS.append(calls)
    try:
        with client_hooks(("before-call.*.*", _record)):
            yield calls
    finally:
        _SINKS.remove(calls)


@contextlib.contextmanager
def recording() -> Iterator[set[Call]]:
    """The calls made inside the block (needs the session recorder installed)."""
    calls: set[Call] = set()
    _SINKS.append(calls)
    try:
        yield calls
    finally:
        _SINKS.remove(calls)
