"""Wall time of `migrator apply` against ACM's certificate issuance delay, step by step.

    .venv/bin/python bench/apply_time.py [--delays 3 6 10] [--repeats 1]

What it measures: for each delay N, a fresh sandbox (migrator_sandbox.runner.Sandbox with
acm_delay=N: moto server, DNS, origin and load-balancer data plane, all on loopback) is started,
then `migrator plan --domain www.example.com` and `migrator apply PLAN --yes` run in-process
(migrator.cli.main.main, with the sandbox's variables in the environment). The apply includes both
verifications (through the load balancer, then the site by name); the lockdown waits for the old
record's TTL (300 s) and is therefore deferred, as by default.

Reported per N: the apply's wall time, apply - N (the tool's own share of the critical path: the
issue's target is "N + a few seconds"), the plan's wall time, the apply's API calls, and every
step's duration read from the plan file (each step's started_at / finished_at, as journaled),
with the number of API calls made inside each step (polls, for the wait steps). "outside
steps" is the rest of the apply: connecting, the account/region check and the re-inspection
before the first change, journal writes between steps. "in API calls" and "creating clients"
(botocore loading its service models) overlap both.

The sandbox's start-up is not included (bench/sandbox_startup.py measures it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from _support import (
    aws_environment,
    counting,
    deadline,
    machine,
    plan_with_states,
    require_ok,
    run_cli,
    table,
)

WAIT_STEPS = {"certificate_issued", "load_balancer_active", "target_healthy"}


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def one_run(delay: float, workdir: Path) -> dict[str, Any]:
    from migrator_sandbox.runner import Sandbox

    with Sandbox(acm_delay=delay, workdir=workdir / "sandbox") as sandbox, \
            aws_environment(sandbox.env) as variables:
        plan_file = workdir / "plan.json"
        planned = run_cli(["plan", "--domain", sandbox.spec.domain, "--out", str(plan_file)],
                          variables)
        require_ok(planned, "plan")
        with counting() as log:
            applied = run_cli(["apply", str(plan_file), "--yes"], variables)
        require_ok(applied, "apply")
    plan = plan_with_states(plan_file)
    steps: dict[str, dict[str, Any]] = {}
    in_steps = 0.0
    for step in plan["steps"]:
        state = step["state"]
        began, ended = _ts(state.get("started_at")), _ts(state.get("finished_at"))
        if began is None or ended is None:
            steps[step["id"]] = {"seconds": None, "calls": 0, "status": state["status"]}
            continue
        calls = [c for c in log.calls if began <= c.at <= ended]
        steps[step["id"]] = {"seconds": ended - began, "calls": len(calls),
                             "status": state["status"],
                             "ops": sorted({c.operation for c in calls})}
        in_steps += ended - began
    deferred = [e for e in plan["journal"] if e["event"] == "deferred"]
    return {"apply": applied.seconds, "plan": planned.seconds, "steps": steps,
            "order": [s["id"] for s in plan["steps"]], "in_steps": in_steps,
            "calls": len(log.calls), "api_seconds": log.seconds(),
            "client_seconds": log.client_seconds,
            "deferred": deferred[0]["step"] if deferred else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delays", type=float, nargs="+", default=[3.0, 6.0, 10.0],
                        metavar="N", help="ACM issuance delays to try, seconds (default 3 6 10)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per delay (median shown)")
    parser.add_argument("--deadline", type=float, default=900, metavar="SECONDS",
                        help="stop (with a traceback) if still running after this long")
    args = parser.parse_args(argv)
    deadline(args.deadline)

    print(machine())
    print("plan + apply --yes (with verification; lockdown deferred) on a fresh sandbox per run")
    runs: dict[float, list[dict[str, Any]]] = {}
    for delay in args.delays:
        for i in range(max(1, args.repeats)):
            with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
                result = one_run(delay, Path(tmp))
            runs.setdefault(delay, []).append(result)
            print(f"  N={delay:g} s run {i + 1}: apply {result['apply']:.2f} s")

    def med(delay: float, get: Any) -> float | None:
        values = [v for r in runs[delay] if (v := get(r)) is not None]
        return statistics.median(values) if values else None

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    headers = ["", *(f"N={d:g} s" for d in args.delays)]
    rows: list[list[Any]] = [
        ["apply wall time", *(cell(med(d, lambda r: r["apply"])) for d in args.delays)],
        ["apply - N", *(cell(med(d, lambda r: r["apply"]) - d) for d in args.delays)],  # type: ignore[operator]
        ["  in steps", *(cell(med(d, lambda r: r["in_steps"])) for d in args.delays)],
        ["  outside steps", *(cell(med(d, lambda r: r["apply"] - r["in_steps"]))
                              for d in args.delays)],
        ["  in API calls", *(cell(med(d, lambda r: r["api_seconds"])) for d in args.delays)],
        ["  creating clients", *(cell(med(d, lambda r: r["client_seconds"]))
                                 for d in args.delays)],
        ["apply API calls", *(cell(med(d, lambda r: r["calls"])).removesuffix(".00")
                              for d in args.delays)],
        ["plan wall time", *(cell(med(d, lambda r: r["plan"])) for d in args.delays)],
    ]
    print()
    print("apply against the ACM delay N (seconds; median of the runs)")
    print(table(headers, rows))

    order = runs[args.delays[0]][0]["order"]
    rows = []
    for step in order:
        values = []
        for d in args.delays:
            seconds = med(d, lambda r, s=step: r["steps"][s]["seconds"])
            calls = med(d, lambda r, s=step: r["steps"][s]["calls"])
            status = runs[d][0]["steps"][step]["status"]
            values.append(f"{cell(seconds)} ({int(calls or 0)})" if seconds is not None
                          else status)
        mark = "wait" if step in WAIT_STEPS else ""
        rows.append([step, mark, *values])
    print()
    print("each step of apply: seconds (API calls made in it), from the plan file's started_at /"
          " finished_at")
    print(table(["step", "", *headers[1:]], rows, align="ll" + "r" * len(args.delays)))
    ops = {step: runs[args.delays[-1]][0]["steps"][step].get("ops") for step in order}
    print()
    print(f"API operations per step (N={args.delays[-1]:g} s):")
    for step, names in ops.items():
        if names:
            print(f"  {step}: {', '.join(names)}")
    deferred = {r["deferred"] for rs in runs.values() for r in rs}
    print(f"deferred: {', '.join(sorted(str(d) for d in deferred))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
