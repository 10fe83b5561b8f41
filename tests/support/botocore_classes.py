"""One botocore client class per service for the whole test process.

botocore builds a client's class anew for every client it creates -- one method per API
operation (EC2 has about 700), each with its lazy docstring -- although the class depends only
on the service's model and the session's ``creating-client-class`` handlers, which are
botocore's built-in ones for every session here. The suite creates thousands of clients (each
in-process CLI run connects anew, as a real run does), so building each class once per process
saves a noticeable share of its CPU. Nothing a test can observe changes: every client is still
a new object of its own session, with its own endpoint, credentials, config and event handlers.

``install()`` is called by the moto plugin (tests/support/moto.py) and by the fork server
before it warms up, so the crash suite's forked `migrator` processes inherit the classes.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.client

_lock = threading.Lock()
_classes: dict[tuple[str, str], type] = {}
_original: Any = None


def install() -> None:
    """Memoize ``ClientCreator._create_client_class`` per (service, API version); idempotent."""
    global _original
    with _lock:
        if _original is not None:
            return
        _original = botocore.client.ClientCreator._create_client_class  # type: ignore[attr-defined]  # private, so not in botocore-stubs

        def create_client_class(self: Any, service_name: str, service_model: Any) -> type:
            key = (service_name, service_model.api_version)
            with _lock:
                cached = _classes.get(key)
            if cached is None:
                cached = _original(self, service_name, service_model)
                with _lock:
                    cached = _classes.setdefault(key, cached)
            return cached

        # Replacing the method on botocore's class is the point: every session's creator uses it.
        botocore.client.ClientCreator._create_client_class = create_client_class  # type: ignore[attr-defined]  # private, so not in botocore-stubs
