"""N sites applied concurrently against one site alone, in one moto account.

    .venv/bin/python bench/parallel_sites.py [--sites 4] [--acm-wait 5] [--parallel N]

What it measures: one moto server (the sandbox's MotoServer on 127.0.0.1, in this process,
with moto.settings.ACM_VALIDATION_WAIT = --acm-wait: a certificate turns ISSUED that many seconds
after its request) holds N + 1 seeded sites (migrator_sandbox.world.seed_world): zone
example-K.com, site www.example-K.com at 127.0.0.(10+K), each in its own VPC. Then, through
migrator.cli.main.main in-process:

* `migrator plan --domain www.example-0.com` (one site) and
  `migrator plan --domain www.example-1.com ... --domain www.example-N.com --parallel N`;
* `migrator apply PLAN0 --yes --skip-verify` (one site), then
  `migrator apply PLAN1 ... PLANN --yes --skip-verify --parallel N` (N sites at once).

Printed: wall times, the ratio N sites / 1 site (1.0 would be perfect overlap: the ACM wait
dominates and the sites share it), API calls, and the time inside them. The lockdown is
deferred (the seeded records' TTL is 300 s) and verification is skipped (no data plane here).

Caveat: the moto server runs in this process, so its request handling shares the interpreter
lock with the N client threads; against AWS the service side costs the client nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _support import (
    aws_environment,
    counting,
    deadline,
    machine,
    moto_server,
    require_ok,
    run_cli,
    table,
)


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def domain(k: int) -> str:
    return f"www.example-{k}.com"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=4, help="N, sites applied at once")
    parser.add_argument("--acm-wait", type=float, default=5.0, metavar="D",
                        help="seconds before ACM issues a certificate (default 5)")
    parser.add_argument("--parallel", type=int, default=None,
                        help="--parallel passed to plan/apply (default: N)")
    parser.add_argument("--deadline", type=float, default=600, metavar="SECONDS",
                        help="stop (with a traceback) if still running after this long")
    args = parser.parse_args(argv)
    deadline(args.deadline)
    n = max(1, args.sites)
    if n + 10 > 250:
        parser.error("at most 240 sites (addresses 127.0.0.10 and up)")
    parallel = args.parallel or n

    import boto3

    from migrator_sandbox.world import WorldSpec, seed_world

    print(machine())
    print(f"{n} sites at once against 1, ACM wait {args.acm_wait:g} s, --parallel {parallel}, "
          "one in-process moto server on loopback")
    with (moto_server(acm_wait=args.acm_wait) as endpoint, aws_environment(endpoint=endpoint),
          tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp, chdir(Path(tmp))):
        session = boto3.Session(region_name="ap-northeast-1")
        for k in range(n + 1):
            seed_world(session, WorldSpec(domain=domain(k), zone=f"example-{k}.com",
                                          address=f"127.0.0.{10 + k}"))

        plan_one = run_cli(["plan", "--domain", domain(0), "--out", "one.json"])
        require_ok(plan_one, "plan of one site")
        many_args = [a for k in range(1, n + 1) for a in ("--domain", domain(k))]
        plan_many = run_cli(["plan", *many_args, "--parallel", str(parallel)])
        require_ok(plan_many, f"plan of {n} sites")
        files = sorted(str(p) for p in Path("plans").glob("*.json"))
        if len(files) != n:
            raise SystemExit(f"expected {n} plan files, found {files}")

        with counting() as one_log:
            apply_one = run_cli(["apply", "one.json", "--yes", "--skip-verify"])
        require_ok(apply_one, "apply of one site")
        with counting() as many_log:
            apply_many = run_cli(["apply", *files, "--yes", "--skip-verify",
                                  "--parallel", str(parallel)])
        require_ok(apply_many, f"apply of {n} sites")
        if f"{n} plans applied" not in apply_many.output:
            raise SystemExit(f"apply of {n} sites did not report them all:\n"
                             f"{apply_many.output[-3000:]}")

    rows = [
        ["plan (wall, s)", plan_one.seconds, plan_many.seconds,
         f"{plan_many.seconds / plan_one.seconds:.2f}"],
        ["apply (wall, s)", apply_one.seconds, apply_many.seconds,
         f"{apply_many.seconds / apply_one.seconds:.2f}"],
        ["apply - ACM wait (s)", apply_one.seconds - args.acm_wait,
         apply_many.seconds - args.acm_wait,
         f"{(apply_many.seconds - args.acm_wait) / (apply_one.seconds - args.acm_wait):.2f}"],
        ["apply API calls", len(one_log.calls), len(many_log.calls),
         f"{len(many_log.calls) / len(one_log.calls):.2f}"],
        ["apply time inside API calls (s, summed over threads)", one_log.seconds(),
         many_log.seconds(), f"{many_log.seconds() / one_log.seconds():.2f}"],
        ["apply time creating clients (s, summed over threads)", one_log.client_seconds,
         many_log.client_seconds, f"{many_log.client_seconds / one_log.client_seconds:.2f}"],
    ]
    print()
    print(table(["", "1 site", f"{n} sites", "ratio"], rows))
    per_call_one = one_log.seconds() / max(1, len(one_log.calls)) * 1000
    per_call_many = many_log.seconds() / max(1, len(many_log.calls)) * 1000
    print(f"mean API call latency: {per_call_one:.1f} ms alone, {per_call_many:.1f} ms with "
          f"{n} sites at once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
