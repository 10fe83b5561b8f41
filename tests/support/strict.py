"""Fixtures for the strict AWS world (registered through ``pytest_plugins`` in conftest.py).

* ``strict_aws``: like ``aws`` -- a fresh, empty moto account on the session's moto server,
  boto3 configured through the standard variables only -- with the strict layer installed for
  the test (``StrictConfig.fast()``) and uninstalled after it. Yields the ``StrictAWS`` object:
  ``.config``, ``.floor`` (the critical-path floor of an apply), ``.relaxed()``.
* ``strict_world``: ``strict_aws`` plus the seeded "before" world (``WorldSpec()``), seeded while
  relaxed so that it counts as old, as the world a migration starts from is.
* ``strict_aws_manual`` / ``strict_world_manual``: the same on a ``ManualClock`` the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from migrator_sandbox.strict import ManualClock, StrictAWS, StrictConfig
from migrator_sandbox.world import World
from tests.support.worlds import seeded


@pytest.fixture
def strict_aws(aws: str) -> Iterator[StrictAWS]:
    """The strict layer over the session's moto server, for one test (fast delays)."""
    with StrictAWS(StrictConfig.fast()) as strict:
        yield strict


@pytest.fixture
def strict_world(strict_aws: StrictAWS, session: boto3.Session) -> World:
    """The seeded world on the strict server (seeded relaxed: it is the old, settled world)."""
    with strict_aws.relaxed():
        return seeded(session)


@pytest.fixture
def strict_aws_manual(aws: str) -> Iterator[StrictAWS]:
    """``strict_aws`` on a ``ManualClock``: time moves only when the test says
    (``strict_aws_manual.clock.advance(seconds)``), so windows open and close exactly, however
    loaded the machine."""
    with StrictAWS(StrictConfig.fast(), clock=ManualClock()) as strict:
        yield strict


@pytest.fixture
def strict_world_manual(strict_aws_manual: StrictAWS, session: boto3.Session) -> World:
    """``strict_world`` on the manual clock."""
    with strict_aws_manual.relaxed():
        return seeded(session)
