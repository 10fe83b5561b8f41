"""Ten sites on one shared load balancer against one site alone, on the strict AWS world.

    .venv/bin/python bench/shared_sites.py [--sites 10] [--repeats 3] [--skip-verify] [--scale K]

What it measures: a fresh strict sandbox per run (migrator_sandbox.runner.Sandbox with
StrictConfig.fast(), data plane, DNS and one origin per site, on loopback) seeded with N sites in
one VPC (WorldSpec(more_sites=default_sites(N - 1)): www.example.com, shop.example.com,
blog.example.com, ...). In each sandbox, in-process through migrator.cli.main.main:

* 1 site: `migrator plan --domain www.example.com` (a plan of its own, as today), then
  `migrator apply PLAN --yes`;
* 2 sites and N sites: `migrator plan --domain www.example.com --domain shop.example.com ...
  --shared-load-balancer`, then `migrator apply PLAN --yes`.

Apply runs with both verifications on the sandbox, as bench/strict_apply.py does (or without,
with --skip-verify); the lockdown is deferred (the records' TTL is 300 s), as by default.
--scale K multiplies every delay of the strict world by K (as bench/strict_apply.py does), to
see the ratio as AWS's waits grow against the tool's own work (on AWS they are minutes). The
world always holds N sites, so the one-site apply meets the same account. Runs alternate
(1, 2, N, 1, 2, N, ...) so that the machine's load is spread over all three; medians are shown.

Reported: apply's wall time for 1, 2 and N sites and the ratio N / 1 (the issue's target: within
1.3x); the AWS calls of plan and of apply (the tool's own clients, counted with botocore event
hooks) for 1, 2 and N sites, and the calls per added site: (calls(N) - calls(2)) / (N - 2), and
calls(2) - calls(1) for the second; the seconds per step from the plan's journal (a per-site
step runs for every site at once, up to 8 together: its time is from the first site's start to
the last one's end); and the monthly cost of N separate load balancers against one shared
(migrator.core.pricing: the hourly base price x 730 h plus a public IPv4 address per
Availability Zone, in ap-northeast-1; LCUs are billed by traffic either way). The sandboxes'
start-up is not included.

Caveat (as in bench/parallel_sites.py): moto and the data plane run in this process, so the
concurrent calls of a wave share the interpreter lock and 2 cores with the AWS side; against AWS
the service side costs the client nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from _support import aws_environment, counting, deadline, machine, require_ok, run_cli, table
from strict_apply import config_at

REGION = "ap-northeast-1"


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def one_run(count: int, world_sites: int, workdir: Path, *, verify: bool,
            scale: float = 1.0) -> dict[str, Any]:
    """plan + apply of `count` sites (1: a one-site plan; more: one shared plan) in a fresh
    strict sandbox holding `world_sites` sites."""
    from migrator.core import planfile
    from migrator.core.shared_planner import base_step_id
    from migrator_sandbox.runner import Sandbox
    from migrator_sandbox.world import WorldSpec, default_sites

    spec = WorldSpec(more_sites=default_sites(world_sites - 1))
    with Sandbox(workdir=workdir / "sandbox", spec=spec,
                 strict_config=config_at(scale)) as sandbox, \
            aws_environment(sandbox.env) as variables:
        domains = [site.domain for site in sandbox.world.sites][:count]
        plan_file = workdir / "plan.json"
        argv = ["plan", *(a for d in domains for a in ("--domain", d))]
        if count > 1:
            argv.append("--shared-load-balancer")
        with counting() as plan_log:
            planned = run_cli([*argv, "--out", str(plan_file)], variables)
        require_ok(planned, f"plan of {count} site(s)")
        with counting() as apply_log:
            applied = run_cli(["apply", str(plan_file), "--yes",
                               *(() if verify else ("--skip-verify",))], variables)
        require_ok(applied, f"apply of {count} site(s)")
    plan = planfile.load(plan_file)
    # Each step of every site runs at once (a wave per step), so a per-site step's time is its
    # wave's: from the first site's start to the last site's end.
    spans: dict[str, tuple[float, float]] = {}
    sites_of: Counter[str] = Counter()
    for step in plan.steps:
        state = plan.states.get(step.id)
        if state is None:
            continue
        began, ended = _ts(state.started_at), _ts(state.finished_at)
        if began is None or ended is None:
            continue
        base = base_step_id(step.id)
        first, last = spans.get(base, (began, ended))
        spans[base] = (min(first, began), max(last, ended))
        sites_of[base] += 1
    in_steps = (max(e for _, e in spans.values()) - min(b for b, _ in spans.values())
                if spans else 0.0)
    lb = next(s for s in plan.steps if s.action == "elbv2.create_load_balancer")
    return {"apply": applied.seconds, "plan": planned.seconds,
            "plan_calls": plan_log.per_operation(), "apply_calls": apply_log.per_operation(),
            "steps": {base: end - start for base, (start, end) in spans.items()},
            "outside": applied.seconds - in_steps,
            "in_steps": in_steps,
            "per_site": sites_of,
            "order": list(dict.fromkeys(base_step_id(s.id) for s in plan.steps)),
            "zones": len(lb.params["Subnets"])}


def monthly(zones: int) -> float:
    from migrator.core.pricing import HOURS_PER_MONTH, IPV4_HOURLY, monthly_base

    base = monthly_base(REGION)
    assert base is not None
    return base + IPV4_HOURLY * HOURS_PER_MONTH * zones


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=10, help="N, sites on the shared one")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (median shown)")
    parser.add_argument("--scale", type=float, default=1.0, metavar="K",
                        help="multiply StrictConfig.fast()'s delays by K (as strict_apply.py)")
    parser.add_argument("--skip-verify", action="store_true",
                        help="apply --skip-verify (no verification through the data plane)")
    parser.add_argument("--deadline", type=float, default=1200, metavar="SECONDS")
    args = parser.parse_args(argv)
    deadline(args.deadline)
    from migrator_sandbox.world import MAX_SITES

    n = args.sites
    if not 3 <= n <= MAX_SITES:
        parser.error(f"--sites between 3 and {MAX_SITES}")
    counts = (1, 2, n)
    verify = not args.skip_verify

    print(machine())
    print(f"apply of 1 site alone, then 2 and {n} sites on one shared load balancer, on the "
          f"strict world (StrictConfig.fast(), delays x{args.scale:g}: critical-path floor "
          f"{config_at(args.scale).floor:.2f} s), {n} sites seeded, verification "
          f"{'on' if verify else 'skipped'}, lockdown deferred")
    runs: dict[int, list[dict[str, Any]]] = {c: [] for c in counts}
    for i in range(max(1, args.repeats)):
        for count in counts:
            with tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
                result = one_run(count, n, Path(tmp), verify=verify, scale=args.scale)
            runs[count].append(result)
            print(f"  run {i + 1}, {count} site(s): plan {result['plan']:.2f} s, apply "
                  f"{result['apply']:.2f} s, {sum(result['apply_calls'].values())} apply calls")

    def med(count: int, key: str) -> float:
        return statistics.median(r[key] for r in runs[count])

    def calls(count: int, key: str) -> float:
        return statistics.median(sum(r[key].values()) for r in runs[count])

    one = med(1, "apply")
    rows: list[list[Any]] = [
        ["apply wall time (s)", *(f"{med(c, 'apply'):.2f}" for c in counts)],
        ["  against 1 site alone", *(f"{med(c, 'apply') / one:.2f}x" for c in counts)],
        ["plan wall time (s)", *(f"{med(c, 'plan'):.2f}" for c in counts)],
        ["plan AWS calls", *(f"{calls(c, 'plan_calls'):g}" for c in counts)],
        ["apply AWS calls", *(f"{calls(c, 'apply_calls'):g}" for c in counts)],
    ]
    print()
    print(f"median of {max(1, args.repeats)} runs; target: {n} sites within 1.3x of 1 site")
    print(table(["", "1 site", "2 sites (shared)", f"{n} sites (shared)"], rows))

    print()
    print("AWS calls per added site")
    per_site_rows = []
    for key, what in (("plan_calls", "plan"), ("apply_calls", "apply")):
        first_added = calls(2, key) - calls(1, key)
        each_more = (calls(n, key) - calls(2, key)) / (n - 2)
        per_site_rows.append([what, f"{first_added:g}", f"{each_more:.1f}"])
    print(table(["", "2nd site (2 - 1)", f"each of sites 3..{n} (({n} - 2) / {n - 2})"],
                per_site_rows))
    print()
    print(f"apply calls by operation (median; {n} sites against 2: what each site adds)")
    ops = sorted({op for c in counts for r in runs[c] for op in r["apply_calls"]})
    op_rows = []
    for op in ops:
        values = [statistics.median(r["apply_calls"].get(op, 0) for r in runs[c]) for c in counts]
        op_rows.append([op, *(f"{v:g}" for v in values),
                        f"{(values[2] - values[1]) / (n - 2):.1f}"])
    op_rows.sort(key=lambda row: -float(row[3]))
    print(table(["operation", "1", "2", str(n), "per added site"], op_rows))

    print()
    print("seconds per step of apply (median), from the plan's journal: a per-site step runs "
          "for every site at once,\nfrom the first site's start to the last one's end (how many "
          "sites in brackets)")
    order = list(dict.fromkeys(s for c in counts for s in runs[c][0]["order"]))
    step_rows = []
    for step in order:
        cells = []
        for c in counts:
            values = [r["steps"][step] for r in runs[c] if step in r["steps"]]
            sites = runs[c][0]["per_site"].get(step, 0)
            cells.append(f"{statistics.median(values):.2f} ({sites})" if values else "-")
        step_rows.append([step, *cells])
    step_rows.append(["all steps, first start to last end (waves overlap)",
                      *(f"{med(c, 'in_steps'):.2f}" for c in counts)])
    step_rows.append(["before and after the steps (re-inspection, summary)",
                      *(f"{med(c, 'outside'):.2f}" for c in counts)])
    print(table(["step", "1 site", "2 sites", f"{n} sites"], step_rows, align="lrrr"))
    extra = []
    for step in order:
        n_values = [r["steps"].get(step, 0.0) for r in runs[n]]
        one_values = [r["steps"].get(step, 0.0) for r in runs[1]]
        extra.append((statistics.median(n_values) - statistics.median(one_values), step))
    extra.append((med(n, "outside") - med(1, "outside"), "before and after the steps"))
    extra.sort(reverse=True)
    total_extra = med(n, "apply") - one
    print()
    print(f"where the {total_extra:.2f} s more of {n} sites go (step time, {n} sites - 1 site; "
          "the biggest):")
    for seconds, step in extra[:8]:
        print(f"  {step}: +{seconds:.2f} s")

    zones = runs[n][0]["zones"]
    each = monthly(zones)
    print()
    print(f"monthly cost in {REGION} (base price + {zones} public IPv4 addresses, one per "
          "Availability Zone; LCUs by traffic either way)")
    print(table(["", "USD a month"], [
        [f"{n} separate load balancers", f"{n * each:.2f}"],
        ["one shared load balancer", f"{each:.2f}"],
        ["saved", f"{(n - 1) * each:.2f}"],
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
