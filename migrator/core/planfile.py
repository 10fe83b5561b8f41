"""Reading and writing plan files: atomic saves (temp file, fsync, rename) and a lock per plan.

The lock is an operating-system lock on a file next to the plan, released by the kernel when
its holder ends, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import filelock

from migrator.core.plan import Plan
from migrator.errors import LockedError, PlanFileError


def load(path: str | Path) -> Plan:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PlanFileError(f"plan file {path} does not exist",
                            hint="make one with `migrator plan --domain ...`") from exc
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"plan file {path} is not valid JSON (line {exc.lineno}: {exc.msg}); "
            "it may be truncated", hint="restore it from version control or re-plan") from exc
    return Plan.from_dict(data)


def save(plan: Plan, path: str | Path) -> None:
    """Write the plan so that a crash leaves either the old or the new file, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(plan.to_dict(), indent=2, sort_keys=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(path: str | Path, purpose: str) -> Iterator[None]:
    """Hold the plan's lock (<plan>.lock) for the duration; refuse if another run holds it.

    The operating system holds the lock (flock through filelock), so a run that is killed
    releases it with its last file descriptor: no pid to judge, which could be reused or belong
    to a zombie. The file itself stays and names the last holder, for the refusal message."""
    lock_path = Path(str(path) + ".lock")
    lock = filelock.FileLock(lock_path, timeout=0, fallback_to_soft=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        try:
            holder = json.loads(lock_path.read_text() or "{}")
        except (OSError, json.JSONDecodeError):
            holder = {}
        raise LockedError(
            f"{path} is locked by {holder.get('purpose', 'another run')} "
            f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')})",
            hint="wait for that run to finish; the lock is released when it ends") from None
    try:
        lock_path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                         "purpose": purpose}))
        yield
    finally:
        lock.release()
