"""Plan files: round trip, atomic saves, damaged and foreign files, the lock, the example plan."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migrator.core import planfile
from migrator.core.plan import PlanOptions
from migrator.core.planner import build_plan
from migrator.errors import LockedError, PlanFileError
from tests.support.snapshots import snapshot

EXAMPLE = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"


def make(tmp_path: Path) -> Path:
    path = tmp_path / "p.json"
    planfile.save(build_plan(snapshot(), PlanOptions(), plan_id="mig-0a1b2c3d",
                             created_at="2026-11-24T00:00:00Z"), path)
    return path


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = make(tmp_path)
    plan = planfile.load(path)
    plan.state("certificate").outputs["arn"] = "arn:x"
    plan.record("done", "certificate")
    planfile.save(plan, path)
    again = planfile.load(path)
    assert again.to_dict() == plan.to_dict()
    assert again.snapshot == snapshot()
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]  # no temp file left behind


def test_save_is_atomic_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    path = make(tmp_path)
    before = path.read_text()
    plan = planfile.load(path)
    plan.state("certificate").outputs["arn"] = "arn:x"

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        planfile.save(plan, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


@pytest.mark.parametrize(("content", "message"), [
    ('{"format": "migrator.plan/v1", "id": "x"', "not valid JSON"),
    ('{"format": "terraform/v4"}', "not supported"),
    ('{"hello": 1}', "not a migrator plan file"),
    ('{"format": "migrator.plan/v1", "id": "x", "created_at": "t"}', "damaged"),
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
    result = cli("show", str(EXAMPLE))
    assert result.status == 0, result.stderr
    assert "https_listener" in result.stdout
