"""`migrator demo --yes` is the README's first command: it must pass from start to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from migrator.core import planfile


def test_demo_runs_the_whole_flow_and_exits_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "MIGRATOR_"))}
    env.update(NO_COLOR="1", COLUMNS="100")
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "demo", "--yes", "--acm-delay", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for heading in ("1. Inspect", "2. Plan", "3. Show", "4. Apply", "5. Verify", "6. Rollback"):
        assert heading in out
    assert "canary stage 1/2: 50% to the load balancer" in out
    assert "issued by O=Amazon" in out
    assert "the origin (after rollback), certificate issued by O=Sandbox" in out
    assert "Every step and check passed." in out
    plans = [p for p in (tmp_path / "plans").glob("demo-www.example.com-*.json")
             if not planfile.is_state_file(p)]
    assert len(plans) == 1
