"""Measure how long the sandbox takes to start (and stop): N rounds, min/median printed.

    .venv/bin/python bench/sandbox_startup.py [N]          # in-process Sandbox.start()/stop()
    .venv/bin/python bench/sandbox_startup.py [N] --cold   # `migrator sandbox up` as a user runs it

In-process, start-up is timed from ``Sandbox.start()`` until every part answers (what
``migrator sandbox up`` waits for before writing the env file); the first round also pays for
moto's lazy loading, so it is shown separately. ``--cold`` times a fresh ``migrator sandbox up``
process from launch until its env file exists (interpreter start and imports included), then
stops it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "from migrator.cli.main import main; raise SystemExit(main())"


def _report(label: str, values: list[float]) -> None:
    print(f"{label}: min {min(values):.2f} s, median {statistics.median(values):.2f} s")


def in_process(rounds: int) -> None:
    from migrator_sandbox.runner import Sandbox

    starts: list[float] = []
    stops: list[float] = []
    for _ in range(rounds):
        sandbox = Sandbox(acm_delay=5)
        began = time.perf_counter()
        sandbox.start()
        up = time.perf_counter()
        sandbox.stop()
        starts.append(up - began)
        stops.append(time.perf_counter() - up)
    print(f"rounds: {rounds} (in-process)")
    print(f"start-up, first round: {starts[0]:.2f} s")
    if rounds > 1:
        _report("start-up, later rounds", starts[1:])
    _report("stop", stops)


def cold(rounds: int) -> None:
    ups: list[float] = []
    downs: list[float] = []
    root = Path(__file__).resolve().parent.parent
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            env_file = Path(tmp, "sandbox.env")
            began = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", CLI, "sandbox", "up", "--env-file", str(env_file)],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
            try:
                while not env_file.exists():
                    if proc.poll() is not None:
                        raise SystemExit(f"migrator sandbox up exited with {proc.returncode}")
                    time.sleep(0.02)
                up = time.perf_counter()
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
                ups.append(up - began)
                downs.append(time.perf_counter() - up)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    print(f"rounds: {rounds} (cold `migrator sandbox up`, launch -> env file written)")
    _report("start-up", ups)
    _report("SIGTERM -> process gone", downs)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 5
    if "--cold" in sys.argv:
        cold(count)
    else:
        in_process(count)
