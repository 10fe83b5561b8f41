"""Seeded worlds for the tests, restored from a copy of moto's state instead of seeded anew.

``seed_world`` makes about twenty API calls through the moto server: a third of a second of CPU,
and most tests start from the same world. ``seeded(session, spec)`` seeds each spec through the
API once per process, keeps a deep copy of every moto backend it left, and from then on gives
each test a fresh account holding exactly that world by resetting moto and putting in a deep
copy of those backends (a few milliseconds). The resources, their ids and their relations are
the same as right after seeding; nothing is shared with another test. moto looks its backends
up on every request (so do the sandbox's readers and the strict rules), so replacing them is
seen at once. Resources restored this way were never seen by a strict layer, so they count as
old, as when seeded while relaxed.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
from moto.core.base_backend import BackendDict, backend_lock

from migrator_sandbox.moto_server import reset_moto_state
from migrator_sandbox.world import World, WorldSpec, seed_world

# (service's BackendDict, account, region, backend as seeded), per spec.
Backends = list[tuple[Any, str, str, Any]]
_SEEDED: dict[WorldSpec, tuple[World, Backends]] = {}


def _in_use() -> Backends:
    with backend_lock:
        return [(backends, account, region, copy.deepcopy(backend))
                for backends in list(vars(BackendDict)["_instances"])  # the services in use
                for account, region, backend in backends.iter_backends()]


def _put_back(saved: Backends) -> None:
    with backend_lock:
        for backends, account, region, backend in saved:
            # Subscripting creates the account's dictionary and registers it for the next reset.
            dict.__setitem__(backends[account], region, copy.deepcopy(backend))


def seeded(session: boto3.Session, spec: WorldSpec | None = None) -> World:
    """Reset moto, then give it ``spec``'s world exactly as ``seed_world(session, spec)`` makes
    it (seeded through ``session`` the first time in this process)."""
    spec = spec or WorldSpec()
    reset_moto_state()
    known = _SEEDED.get(spec)
    if known is None:
        world = seed_world(session, spec)
        _SEEDED[spec] = (world, _in_use())
        return world
    world, saved = known
    _put_back(saved)
    return world
