"""`migrator apply` on the strict AWS world against its critical-path floor.

    .venv/bin/python bench/strict_apply.py [--scales 1 2 4] [--repeats 3]

The strict world (migrator_sandbox.strict) makes moto behave like AWS with its delays scaled
down: visibility after creation, load balancer provisioning, health checks (interval x
threshold), ACM validation through Route 53, Route 53 PENDING -> INSYNC. Whatever the tool does,
an apply cannot end before

    floor = max(ACM records + issuance after the CNAMEs exist,
                load balancer active + first healthy) + Route 53 INSYNC of the switch

(StrictConfig.floor, computed from the configured delays). For each scale k, every delay of
StrictConfig.fast() is multiplied by k and a fresh strict sandbox runs `migrator plan` then
`migrator apply PLAN --yes` in-process (with both verifications; the lockdown is deferred, as by
default). Reported: apply's wall time, the floor, and apply - floor (the target: within 2 s),
and which steps took the time. The sandbox's start-up is not included.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from _support import (
    aws_environment,
    deadline,
    machine,
    plan_with_states,
    require_ok,
    run_cli,
    table,
)

SCALED = ("ec2_visibility", "target_group_visibility", "certificate_visibility",
          "load_balancer_provisioning", "health_time_scale", "deregistration_delay",
          "eni_linger", "acm_records_delay", "acm_issue_delay", "certificate_in_use_linger",
          "route53_insync_delay")


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def config_at(scale: float) -> Any:
    from migrator_sandbox.strict import StrictConfig

    base = StrictConfig.fast()
    return dataclasses.replace(base, **{name: getattr(base, name) * scale for name in SCALED})


def one_run(scale: float, workdir: Path) -> dict[str, Any]:
    from migrator_sandbox.runner import Sandbox

    config = config_at(scale)
    with Sandbox(workdir=workdir / "sandbox", strict_config=config) as sandbox, \
            aws_environment(sandbox.env) as variables:
        plan_file = workdir / "plan.json"
        require_ok(run_cli(["plan", "--domain", sandbox.spec.domain, "--out", str(plan_file)],
                           variables), "plan")
        applied = run_cli(["apply", str(plan_file), "--yes"], variables)
        require_ok(applied, "apply")
    plan = plan_with_states(plan_file)
    steps = {}
    for step in plan["steps"]:
        began, ended = _ts(step["state"].get("started_at")), _ts(step["state"].get("finished_at"))
        steps[step["id"]] = None if began is None or ended is None else ended - began
    return {"apply": applied.seconds, "floor": config.floor, "steps": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 4.0],
                        metavar="K", help="multiply StrictConfig.fast()'s delays by K")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scale (median shown)")
    parser.add_argument("--deadline", type=float, default=900, metavar="SECONDS")
    args = parser.parse_args(argv)
    deadline(args.deadline)

    print(machine())
    runs: dict[float, list[dict[str, Any]]] = {}
    for scale in args.scales:
        for i in range(max(1, args.repeats)):
            with tempfile.TemporaryDirectory(prefix="bench-strict-") as tmp:
                result = one_run(scale, Path(tmp))
            runs.setdefault(scale, []).append(result)
            print(f"  k={scale:g} run {i + 1}: apply {result['apply']:.2f} s, "
                  f"floor {result['floor']:.2f} s")

    def med(scale: float, key: str) -> float:
        return statistics.median(r[key] for r in runs[scale])

    headers = ["", *(f"k={k:g}" for k in args.scales)]
    rows: list[list[Any]] = [
        ["apply wall time (s)", *(f"{med(k, 'apply'):.2f}" for k in args.scales)],
        ["critical-path floor (s)", *(f"{med(k, 'floor'):.2f}" for k in args.scales)],
        ["apply - floor (s)", *(f"{med(k, 'apply') - med(k, 'floor'):.2f}"
                                for k in args.scales)],
    ]
    print()
    print("apply on the strict world (median of the runs); target: apply - floor <= 2 s")
    print(table(headers, rows))
    order = list(runs[args.scales[0]][0]["steps"])
    step_rows = []
    for step in order:
        cells = []
        for k in args.scales:
            values = [r["steps"][step] for r in runs[k] if r["steps"][step] is not None]
            cells.append(f"{statistics.median(values):.2f}" if values else "-")
        step_rows.append([step, *cells])
    print()
    print("seconds per step (median), from the plan's journal")
    print(table(["step", *headers[1:]], step_rows, align="l" + "r" * len(args.scales)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
