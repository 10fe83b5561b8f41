"""Plan files and their state files: round trip, atomic saves (also under SIGKILL), damaged and
foreign files, a state file for another plan or an edited plan, plans that hold their states
themselves (written before state files), the lock, the example plan."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from migrator.core import planfile
from migrator.core.plan import DONE, STATE_FORMAT, PlanOptions, plan_digest
from migrator.core.planner import build_plan
from migrator.errors import LockedError, PlanFileError, StateFileError
from tests.support.snapshots import snapshot

EXAMPLE = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"
EXAMPLE_SHA256 = "7711560be7495db6c1ffae570792cad5780640c896d8470bea45ab5b4cdc3b51"


def make(tmp_path: Path, plan_id: str = "mig-0a1b2c3d", name: str = "p.json") -> Path:
    path = tmp_path / name
    planfile.save(build_plan(snapshot(), PlanOptions(), plan_id=plan_id,
                             created_at="2026-11-24T00:00:00Z"), path)
    return path


def applied_partly(path: Path) -> None:
    """Journal a finished first step to the plan's state file, as apply does."""
    plan = planfile.load(path)
    first = plan.steps[0].id
    plan.state(first).status, plan.state(first).outputs = DONE, {"arn": "arn:x"}
    plan.record("done", first)
    planfile.save_state(plan, path)


def one_line_refusal(cli: Any, path: Path, message: str) -> None:
    """Every command that reads the plan refuses it the same way: exit 2, the error and its hint."""
    for argv in (("show", str(path)), ("status", str(path)), ("apply", str(path), "--yes")):
        result = cli(*argv)
        assert result.status == 2, (argv, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 2 and message in lines[0] and "→" in lines[1], result.stderr


def test_the_plan_file_holds_no_state(tmp_path: Path) -> None:
    data = json.loads(make(tmp_path).read_text())
    assert data["format"] == "migrator.plan/v1"
    assert "journal" not in data and all("state" not in step for step in data["steps"])
    assert not planfile.state_path(tmp_path / "p.json").exists()
    plan = planfile.load(tmp_path / "p.json")  # a plan without a state file: not applied
    assert {st.status for st in plan.states.values()} == {"pending"} and plan.journal == []


@pytest.mark.parametrize(("plan", "state"), [("p.json", "p.state.json"),
                                             ("plans/x", "plans/x.state.json"),
                                             ("a.b.json", "a.b.state.json")])
def test_the_state_file_sits_beside_the_plan(plan: str, state: str) -> None:
    assert planfile.state_path(plan) == Path(state)


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = make(tmp_path)
    before = path.read_bytes()
    plan = planfile.load(path)
    plan.state("certificate").outputs["arn"] = "arn:x"
    plan.record("done", "certificate")
    planfile.save_state(plan, path)
    again = planfile.load(path)
    assert again.to_dict() == plan.to_dict()
    assert again.snapshot == snapshot()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.state.json"]  # no temp
    state = json.loads((tmp_path / "p.state.json").read_text())
    assert (state["format"], state["plan_id"], state["plan_sha256"]) == \
        (STATE_FORMAT, "mig-0a1b2c3d", plan_digest(plan))
    assert state["steps"]["certificate"]["outputs"] == {"arn": "arn:x"}
    assert state["journal"][-1]["event"] == "done"


def test_save_is_atomic_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    path = make(tmp_path)
    applied_partly(path)
    state = planfile.state_path(path)
    before, state_before = path.read_text(), state.read_text()
    plan = planfile.load(path)
    plan.state("certificate").outputs["arn"] = "arn:y"

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        planfile.save_state(plan, path)
    with pytest.raises(OSError):
        planfile.save(plan, path)
    assert path.read_text() == before and state.read_text() == state_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.state.json"]


def test_sigkill_while_writing_the_state_leaves_a_loadable_one(tmp_path: Path) -> None:
    """A process journaling as fast as it can, killed at several moments: the state file is
    always a whole one (the old or the new), bound to the plan."""
    path = make(tmp_path)
    writer = textwrap.dedent(f"""
        from migrator.core import planfile
        plan = planfile.load({str(path)!r})
        planfile.save_state(plan, {str(path)!r})
        print("writing", flush=True)
        while True:
            plan.record("tick", detail="x" * 4096)
            planfile.save_state(plan, {str(path)!r})
        """)
    plan_bytes = path.read_bytes()
    seen = 0
    for delay in (0.05, 0.13, 0.21, 0.37):
        proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
        plan = planfile.load(path)  # raises if the state file were half written
        assert all(entry["event"] == "tick" for entry in plan.journal)
        seen = max(seen, len(plan.journal))
    assert seen > 0
    assert path.read_bytes() == plan_bytes


@pytest.mark.parametrize(("content", "message"), [
    ('{"format": "migrator.plan/v1", "id": "x"', "not valid JSON"),
    ('{"format": "terraform/v4"}', "not supported"),
    ('{"hello": 1}', "not a migrator plan file"),
    ('{"format": "migrator.plan/v1", "id": "x", "created_at": "t"}', "damaged"),
    ('{"format": "migrator.state/v1", "plan_id": "x"}', "is a state file, not a plan"),
])
def test_damaged_or_foreign_files_are_refused(tmp_path: Path, content: str, message: str,
                                              cli) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PlanFileError, match=message):
        planfile.load(path)
    result = cli("show", str(path))
    assert result.status == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_truncated_plan_file(tmp_path: Path, cli) -> None:
    path = make(tmp_path)
    path.write_text(path.read_text()[:500])
    result = cli("apply", str(path), "--yes")
    assert result.status == 2
    assert "truncated" in result.stderr


def _rewrite_state(state: Path, change: Any) -> None:
    data = json.loads(state.read_text())
    change(data)
    state.write_text(json.dumps(data))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda s: s.write_text(s.read_text()[:300]), "is not valid JSON"),
    (lambda s: s.write_text('{"plan_id": "mig-0a1b2c3d"}'), "not a migrator state file"),
    (lambda s: s.write_text('{"format": "migrator.state/v9"}'), "'migrator.state/v9'"),
    (lambda s: _rewrite_state(s, lambda d: d.pop("plan_sha256")),
     "names no plan id and sha256"),
    (lambda s: _rewrite_state(s, lambda d: d["steps"].pop("certificate")),
     "damaged: ValueError its steps are not the plan's"),
    (lambda s: _rewrite_state(s, lambda d: d["steps"]["certificate"].update(colour="red")),
     "damaged: TypeError"),
    (lambda s: _rewrite_state(s, lambda d: d.update(journal={})),
     "damaged: TypeError"),
])
def test_a_damaged_state_file_is_refused(tmp_path: Path, cli: Any, damage: Any, message: str
                                         ) -> None:
    path = make(tmp_path)
    applied_partly(path)
    damage(planfile.state_path(path))
    with pytest.raises(StateFileError, match="state file"):
        planfile.load(path)
    one_line_refusal(cli, path, message)


def test_a_state_file_for_another_plan_is_refused(tmp_path: Path, cli: Any) -> None:
    other = make(tmp_path, plan_id="mig-ffffffff", name="other.json")
    applied_partly(other)
    path = make(tmp_path)
    os.replace(planfile.state_path(other), planfile.state_path(path))
    with pytest.raises(StateFileError, match="is for plan mig-ffffffff, not mig-0a1b2c3d"):
        planfile.load(path)
    one_line_refusal(cli, path,
                     f"the state file {planfile.state_path(path)} is for plan mig-ffffffff, "
                     "not mig-0a1b2c3d")


def test_a_plan_edited_after_apply_began_is_refused(tmp_path: Path, cli: Any) -> None:
    path = make(tmp_path)
    applied_partly(path)
    recorded = plan_digest(planfile.load(path))
    data = json.loads(path.read_text())
    data["options"]["health_check_path"] = "/edited"
    path.write_text(json.dumps(data, indent=2) + "\n")
    with pytest.raises(StateFileError, match="was edited after apply began"):
        planfile.load(path)
    one_line_refusal(cli, path, f"{path} was edited after apply began")
    assert recorded in cli("show", str(path)).stderr
    # Formatting is not content: the digest is of the canonical JSON.
    data["options"]["health_check_path"] = "/"
    path.write_text(json.dumps(data))
    assert planfile.load(path).state(planfile.load(path).steps[0].id).status == DONE


def test_a_plan_holding_its_states_loads_and_its_first_save_writes_the_state_file(
        tmp_path: Path) -> None:
    """A plan file written before state files existed (an apply in progress): its states are
    where apply starts from; the plan file is left as it is, still the approved plan."""
    path = make(tmp_path)
    plan = planfile.load(path)
    first = plan.steps[0].id
    plan.state(first).status, plan.state(first).outputs = DONE, {"group_id": "sg-1"}
    plan.record("done", first)
    path.write_text(json.dumps(plan.to_dict(), indent=2) + "\n")
    old_style = path.read_bytes()
    digest = hashlib.sha256(old_style).hexdigest()

    loaded = planfile.load(path)
    assert loaded.state(first).status == DONE and loaded.journal == plan.journal
    assert plan_digest(loaded) == plan_digest(planfile.load(make(tmp_path, name="new.json")))
    loaded.record("apply-started")
    planfile.save_state(loaded, path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    again = planfile.load(path)  # now from the state file, which wins over the plan's own
    assert again.state(first).outputs == {"group_id": "sg-1"}
    assert [e["event"] for e in again.journal] == ["done", "apply-started"]


def test_lock_refuses_a_second_holder_and_ignores_a_killed_one(tmp_path: Path) -> None:
    path = make(tmp_path)
    with planfile.locked(path, "apply"), pytest.raises(LockedError, match="locked by apply"), \
            planfile.locked(path, "rollback"):
        pass
    # A run killed while holding the lock: the kernel released it, whatever the file says
    # (a pid that is alive right now, as a reused pid or a zombie would be).
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from migrator.core import planfile
        with planfile.locked({str(path)!r}, "apply"):
            print("held", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"pid {holder.pid}"), \
                planfile.locked(path, "rollback"):
            pass
    finally:
        holder.kill()
        holder.wait()
    lock = Path(str(path) + ".lock")
    assert json.loads(lock.read_text())["pid"] == holder.pid  # the dead holder's note stays
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                "purpose": "apply"}))
    with planfile.locked(path, "apply"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_the_example_plan_loads_with_the_current_code(cli) -> None:
    plan = planfile.load(EXAMPLE)
    assert plan.domain == "www.example.com"
    assert plan_digest(plan) == EXAMPLE_SHA256  # the digest the README shows
    result = cli("show", str(EXAMPLE))
    assert result.status == 0, result.stderr
    assert "https_listener" in result.stdout
