"""When the load balancers cannot be listed (DescribeLoadBalancers denied), `inspect` still
reports the site and says why the list is missing; against moto in server mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from migrator.aws.elbv2 import Elbv2
from migrator.errors import AccessDeniedError
from migrator_sandbox.world import World


def test_a_denied_listing_is_said_and_inspect_goes_on(world: World, cli: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: Elbv2) -> Any:
        raise AccessDeniedError("AWS denied elasticloadbalancing:DescribeLoadBalancers")

    monkeypatch.setattr(Elbv2, "load_balancers", denied)
    result = cli("inspect", "--domain", "www.example.com", "--origin-idle-probe", "0")
    assert result.status == 0, result.stderr
    assert (f"! Load balancers in {world.vpc_id} that could take www.example.com: not listed "
            "(AWS denied elasticloadbalancing:DescribeLoadBalancers)"
            ) in " ".join(result.stdout.split())
    assert "Preflight" in result.stdout  # the rest of the report is there
    document = json.loads(cli("inspect", "--domain", "www.example.com", "--json",
                              "--origin-idle-probe", "0").stdout)
    assert document["load_balancers"] == []
    assert "DescribeLoadBalancers" in document["load_balancers_problem"]
