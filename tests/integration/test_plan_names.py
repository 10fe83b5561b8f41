"""Names the plan would create that already exist: plan picks other, free names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.core import planner
from migrator.core.names import elb_name


def test_a_taken_name_makes_plan_pick_free_ones(world: Any, session: boto3.Session, cli: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    taken = elb_name("www.example.com", "0badcafe")
    session.client("elbv2").create_load_balancer(
        Name=taken, Subnets=list(world.subnet_ids.values()), Type="application")
    ids = iter(["mig-0badcafe", "mig-0badcafe", "mig-600dcafe"])
    monkeypatch.setattr(planner, "new_plan_id", lambda: next(ids))
    result = cli("plan", "--domain", "www.example.com", "--out", "p.json")
    assert result.status == 0, result.stdout + result.stderr
    assert "picked other names (plan mig-600dcafe)" in " ".join(result.stdout.split())
    plan = json.loads(Path("p.json").read_text())
    assert plan["id"] == "mig-600dcafe"
    lb = next(s for s in plan["steps"] if s["id"] == "load_balancer")
    assert lb["params"]["Name"] == elb_name("www.example.com", "600dcafe") != taken
