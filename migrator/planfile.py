"""Reading and writing plan files: atomic saves (temp file, fsync, rename) and a lock per plan.

The lock is a file next to the plan holding the owner's pid and host; a lock whose process is
gone is recognised as stale and taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from migrator.errors import LockedError, PlanFileError
from migrator.plan import Plan


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def locked(path: str | Path, purpose: str) -> Iterator[None]:
    """Hold <plan>.lock for the duration; refuse if a live process holds it."""
    lock = Path(str(path) + ".lock")
    me = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(lock.read_text() or "{}")
            except (OSError, json.JSONDecodeError):
                holder = {}
            same_host = holder.get("host") == me["host"]
            if same_host and isinstance(holder.get("pid"), int) and not _alive(holder["pid"]):
                lock.unlink(missing_ok=True)  # left by a dead process
                continue
            raise LockedError(
                f"{path} is locked by {holder.get('purpose', 'another run')} "
                f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')})",
                hint=f"wait for it to finish; if that process is gone, delete {lock}") from None
        with os.fdopen(fd, "w") as handle:
            json.dump(me, handle)
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
