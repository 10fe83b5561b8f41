"""Several sites at once: one plan file each, applied and rolled back concurrently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from migrator.core import planfile
from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.aws_state import account_state

SITES = (("www.example.com", "example.com", "127.0.0.10"),
         ("www.example.org", "example.org", "127.0.0.11"),
         ("shop.example.net", "example.net", "127.0.0.12"))


def test_plan_apply_and_rollback_three_sites_concurrently(session: boto3.Session,
                                                          cli: Any) -> None:
    for domain, zone, address in SITES:
        seed_world(session, WorldSpec(domain=domain, zone=zone, address=address))
    original = account_state(session)

    planned = cli("plan", *[a for d, _, _ in SITES for a in ("--domain", d)], "--parallel", "3")
    assert planned.status == 0, planned.stdout + planned.stderr
    files = sorted(str(p) for p in Path("plans").glob("*.json"))
    assert [Path(f).name.split("-2")[0] for f in files] == sorted(d for d, _, _ in SITES)
    assert account_state(session) == original

    applied = cli("apply", *files, "--yes", "--skip-verify")
    assert applied.status == 0, applied.stdout + applied.stderr
    assert "3 plans applied" in applied.stdout
    state = account_state(session)
    assert len(state["load_balancers"]) == 3 and len(state["certificates"]) == 3
    for file in files:
        plan = planfile.load(file).to_dict()
        done = {s["id"] for s in plan["steps"] if s["state"]["status"] == "done"}
        assert "switch_dns" in done

    rolled = cli("rollback", *files, "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stdout + rolled.stderr
    assert account_state(session) == original


def test_one_failing_site_does_not_stop_the_others(session: boto3.Session, cli: Any) -> None:
    seed_world(session, WorldSpec())
    result = cli("plan", "--domain", "www.example.com", "--domain", "www.example.org")
    assert result.status == 2
    assert "no public Route53 hosted zone holds www.example.org" in result.stdout
    assert len(list(Path("plans").glob("www.example.com-*.json"))) == 1


def test_out_goes_with_one_domain(session: boto3.Session, cli: Any) -> None:
    result = cli("plan", "--domain", "a.example.com", "--domain", "b.example.com", "--out", "x")
    assert result.status == 2
    assert "--out, --san and --json go with a single --domain" in result.stderr
