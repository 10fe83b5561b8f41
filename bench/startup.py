"""Start-up time of the commands that need no AWS, against importing boto3 alone.

    .venv/bin/python bench/startup.py [--repeats 10]

What it measures: each command below runs as a fresh subprocess (the venv's interpreter running
its `migrator` console script, from the repository root, stdin not a terminal) --repeats times;
min and median wall time are printed:

* `migrator --help`
* an argument error: `migrator plan` without --domain (exit status 2)
* `migrator show plans/example-www.example.com.json`
* `python -c "import boto3"` and `python -c pass`, for comparison

Then each command runs once more under `python -X importtime`, to say whether boto3 or botocore
got imported (they must not be, for these commands) and which top-level packages cost the most
(cumulative import time, microseconds as Python reports them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _support import deadline, machine, table

ROOT = Path(__file__).resolve().parent.parent
PLAN = "plans/example-www.example.com.json"


def commands() -> list[tuple[str, list[str], int]]:
    """(label, argv after the interpreter, expected exit status)."""
    script = Path(sys.executable).with_name("migrator")
    entry = [str(script)] if script.exists() else ["-m", "migrator"]
    return [
        ("migrator --help", [*entry, "--help"], 0),
        ("migrator plan (argument error)", [*entry, "plan"], 2),
        (f"migrator show {PLAN}", [*entry, "show", PLAN], 0),
        ('python -c "import boto3"', ["-c", "import boto3"], 0),
        ("python -c pass", ["-c", "pass"], 0),
    ]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MIGRATOR_"))}
    env["NO_COLOR"] = "1"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def run(argv: list[str], expected: int, *, importtime: bool = False) -> tuple[float, str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), *argv]
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != expected:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}, expected {expected}:\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stderr


def imports(stderr: str) -> tuple[set[str], dict[str, int]]:
    """From -X importtime's lines: every module imported, and the top-level imports (those the
    program itself triggered, not nested in another) -> cumulative time in microseconds."""
    every: set[str] = set()
    top: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not cumulative.strip().isdigit():
            continue
        module = name.strip()
        every.add(module)
        if not name.startswith("  "):  # one space: not nested in another import
            top[module] = max(top.get(module, 0), int(cumulative))
    return every, top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="runs per command (default 10)")
    parser.add_argument("--deadline", type=float, default=600, metavar="SECONDS",
                        help="stop (with a traceback) if still running after this long")
    args = parser.parse_args(argv)
    deadline(args.deadline)
    repeats = max(1, args.repeats)

    print(machine())
    print(f"each command {repeats} times as a subprocess, from {ROOT}")
    rows = []
    imported: dict[str, tuple[set[str], dict[str, int]]] = {}
    for label, command, expected in commands():
        times = [run(command, expected)[0] for _ in range(repeats)]
        rows.append([label, f"{min(times):.3f}", f"{statistics.median(times):.3f}"])
        imported[label] = imports(run(command, expected, importtime=True)[1])
    print()
    print("start-up, seconds")
    print(table(["command", "min", "median"], rows))

    print()
    failures = 0
    for label, _, _ in commands()[:3]:
        every, top = imported[label]
        aws = sorted(m for m in every if m.split(".")[0] in ("boto3", "botocore", "s3transfer"))
        if aws:
            failures += 1
        costly = sorted(top.items(), key=lambda item: -item[1])[:4]
        shown = f"YES ({len(aws)} modules, e.g. {', '.join(aws[:3])})" if aws else "no"
        print(f"{label}: boto3/botocore imported: {shown}; {len(every)} modules; costliest: "
              + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in costly))
    every, top = imported['python -c "import boto3"']
    print(f'python -c "import boto3": {len(every)} modules, boto3 {top.get("boto3", 0) / 1000:.0f} '
          "ms cumulative import time")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
