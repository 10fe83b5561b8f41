"""Reading and writing a plan's files: the plan file, written once by `plan` and never changed
after; its state file beside it (plans/x.json -> plans/x.state.json), where apply and rollback
journal every step; and a lock per plan.

Both files are written atomically (temp file, fsync, rename, fsync of the directory), so a crash
leaves the old or the new file, never half of one. The state file names the plan's id and sha256:
it is refused beside another plan, or beside the plan edited after apply began.

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
from typing import Any

from migrator.core.plan import (
    STATE_FORMAT,
    Plan,
    plan_digest,
    reviewed_content,
    state_content,
    states_from_content,
)
from migrator.errors import LockedError, PlanFileError, StateFileError

STATE_SUFFIX = ".state.json"
STATE_HINT = "restore it from a backup: it records what apply did in the account"


def state_path(path: str | Path) -> Path:
    """The state file of the plan file at path: x.json -> x.state.json (any other name gets
    .state.json appended)."""
    path = Path(path)
    stem = path.name.removesuffix(".json")
    return path.with_name(stem + STATE_SUFFIX)


def is_state_file(path: str | Path) -> bool:
    """Whether the name is a state file's (a glob of plans/*.json also finds those)."""
    return Path(path).name.endswith(STATE_SUFFIX)


def load(path: str | Path) -> Plan:
    """The plan at path, with the states and journal of its state file when there is one (a plan
    file written before state files existed may hold them itself: those are used until then)."""
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
    if isinstance(data, dict) and data.get("format") == STATE_FORMAT:
        raise PlanFileError(f"{path} is a state file, not a plan",
                            hint="pass the plan file beside it, the one apply was given")
    plan = Plan.from_dict(data)
    state = _read_state(state_path(path))
    if state is not None:
        _check_binding(plan, path, state_path(path), state)
        try:
            plan.states, plan.journal = states_from_content(plan, state)
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"the state file {state_path(path)} is damaged: "
                                 f"{exc.__class__.__name__} {exc}", hint=STATE_HINT) from exc
    return plan


def _read_state(path: Path) -> dict[str, Any] | None:
    """The state file's content; None when there is none (the plan was not applied)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read state file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(
            f"state file {path} is not valid JSON (line {exc.lineno}: {exc.msg}); "
            "it may be truncated", hint=STATE_HINT) from exc
    if not isinstance(data, dict) or "format" not in data:
        raise StateFileError(f"{path} is not a migrator state file (no format field)",
                             hint="move it away: apply writes the state file")
    if data["format"] != STATE_FORMAT:
        raise StateFileError(f"state file {path} has format {data['format']!r}, not supported "
                             f"(this migrator reads {STATE_FORMAT})",
                             hint="use the version of migrator that wrote it")
    return data


def _check_binding(plan: Plan, path: Path, state: Path, data: dict[str, Any]) -> None:
    """The state file must be for this plan, unchanged since apply began."""
    plan_id, recorded = data.get("plan_id"), data.get("plan_sha256")
    if not isinstance(plan_id, str) or not isinstance(recorded, str):
        raise StateFileError(f"the state file {state} is damaged: it names no plan id and "
                             "sha256", hint=STATE_HINT)
    if plan_id != plan.id:
        raise StateFileError(
            f"the state file {state} is for plan {plan_id}, not {plan.id}",
            hint=f"it records what apply did for plan {plan_id}: put that plan's file back at "
                 f"{path} to resume or roll it back")
    actual = plan_digest(plan)
    if actual != recorded:
        raise StateFileError(
            f"{path} was edited after apply began: its sha256 is {actual}, the state file "
            f"{state} was written for {recorded}",
            hint=f"restore {path} as it was applied (e.g. from version control); to change the "
                 "plan, roll it back and re-plan")


def save(plan: Plan, path: str | Path) -> None:
    """Write the plan file: the reviewed content, without states or journal (`plan` writes it
    once; apply and rollback write the state file instead)."""
    _write_atomically(Path(path), reviewed_content(plan))


def save_state(plan: Plan, path: str | Path) -> None:
    """Write the state file of the plan file at path: every step's state and the journal, with
    the plan's id and sha256. The plan file is left as it is."""
    _write_atomically(state_path(path), state_content(plan))


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write so that a crash leaves either the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
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
    Apply and rollback write the state file only while holding it.

    The operating system holds the lock (flock through filelock), so a run that is killed
    releases it with its last file descriptor: no pid to judge, which could be reused or belong
    to a zombie. The file itself stays and names the last holder, for the refusal message."""
    lock_path = Path(str(path) + ".lock")
    import filelock  # only apply and rollback lock: `show` and `status` start without it

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
