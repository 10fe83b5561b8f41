"""The cutover against the sandbox: no request fails while the site moves to the load balancer
and back, verification catches a record changed behind the tool's back, and a failed
post-switch verification puts the original DNS back by itself."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.checks.verifier import Verifier
from migrator.checks.verify.model import Check
from migrator.core import planfile
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from tests.support.sandbox import PollingClient, a_record, addresses, upsert

DOMAIN = "www.example.com"
ORIGIN = "127.0.0.10"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path / "sandbox", strict_config=StrictConfig.fast()) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        yield sb


def test_no_request_fails_during_apply_and_rollback(sandbox: Sandbox, cli: Any) -> None:
    client = PollingClient(sandbox.env)
    client.start()
    try:
        time.sleep(0.5)
        assert cli("plan", "--domain", DOMAIN, "--out", "p.json").status == 0
        applied = cli("apply", "p.json", "--yes")
        assert applied.status == 0, applied.stderr
        time.sleep(0.5)
        seen_during_apply = set(client.ok)
        rolled_back = cli("rollback", "p.json", "--yes", "--dns-drain", "1")
        assert rolled_back.status == 0, rolled_back.stderr
        time.sleep(0.5)
    finally:
        client.stop.set()
        client.join(5)
    assert client.failed == []
    assert len(client.ok) > 20
    lb_addresses = seen_during_apply - {ORIGIN}
    assert ORIGIN in seen_during_apply and lb_addresses, "the client never saw the switch"
    assert client.ok[-1] == ORIGIN  # served by the instance again after rollback
    plan = planfile.load("p.json").to_dict()
    verified = next(s for s in plan["steps"] if s["id"] == "verify_site")["state"]["outputs"]
    assert verified["checks"] and all(c["ok"] for c in verified["checks"])


def test_verify_fails_when_the_record_is_changed_behind_the_tools_back(
        sandbox: Sandbox, cli: Any) -> None:
    assert cli("plan", "--domain", DOMAIN, "--out", "p.json").status == 0
    assert cli("apply", "p.json", "--yes").status == 0
    passed = cli("verify", "p.json")
    assert passed.status == 0, passed.stdout + passed.stderr
    by_name = cli("verify", "--domain", DOMAIN)
    assert by_name.status == 0, by_name.stdout + by_name.stderr
    assert "all passed" in by_name.stdout
    upsert(sandbox.session(), sandbox.world.zone_id, a_record(DOMAIN, ORIGIN, 300))
    failed = cli("verify", "p.json")
    assert failed.status == 1
    assert "authoritative answer" in failed.stderr
    report = json.loads(cli("verify", "p.json", "--json").stdout)
    bad = [c for c in report["checks"] if not c["ok"]]
    assert {c["name"] for c in bad} >= {"authoritative answer", "certificate issuer"}


def test_failed_verification_after_the_switch_restores_dns(
        sandbox: Sandbox, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real_site = Verifier.site

    def one_check_fails(self: Verifier, params: dict[str, Any]) -> list[Check]:
        checks = real_site(self, params)
        assert all(c.ok for c in checks), checks  # the real checks pass...
        return [*checks, Check("injected", DOMAIN, False, "made to fail by the test", "https")]

    monkeypatch.setattr(Verifier, "site", one_check_fails)
    assert cli("plan", "--domain", DOMAIN, "--out", "p.json").status == 0
    result = cli("apply", "p.json", "--yes")
    assert result.status == 1
    assert "restoring the original records" in result.stdout
    assert "injected" in result.stderr
    assert addresses(sandbox.env, DOMAIN) == [ORIGIN]
    records = sandbox.session().client("route53").list_resource_record_sets(
        HostedZoneId=sandbox.world.zone_id)["ResourceRecordSets"]
    a = next(r for r in records if r["Name"] == DOMAIN + "." and r["Type"] == "A")
    assert a["TTL"] == 300 and a["ResourceRecords"] == [{"Value": ORIGIN}]
    plan = planfile.load("p.json").to_dict()
    states = {s["id"]: s["state"]["status"] for s in plan["steps"]}
    assert states["switch_dns"] == "pending" and states["verify_site"] == "failed"
