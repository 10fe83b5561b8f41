"""`migrator status PLAN` as the health view of a migrated site, on the strict sandbox (AWS, DNS
and the origin): a healthy site (exit 0, every line), its --json shape, and a site whose
validation CNAME was deleted and whose record was changed behind migrator's back (exit 1, both
named). One site is migrated for the module; the test that breaks it puts it back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migrator.core import planfile
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from tests.support.sandbox import Ran, run_migrator

DOMAIN = "www.example.com"
VPC_CIDR = "10.20.0.0/16"  # the sandbox world's VPC


@dataclass
class Migrated:
    sandbox: Sandbox
    workdir: Path
    plan: Path

    def migrator(self, *argv: str) -> Ran:
        return run_migrator(self.sandbox, self.workdir, *argv)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    workdir = tmp_path_factory.mktemp("site-health")
    with Sandbox(workdir=workdir / "sandbox", strict_config=StrictConfig.fast()) as sb, \
            pytest.MonkeyPatch.context() as patch:
        for key, value in sb.env.items():
            patch.setenv(key, value)
        site = Migrated(sb, workdir, workdir / "p.json")
        planned = site.migrator("plan", "--domain", DOMAIN, "--out", "p.json")
        assert planned.status == 0, planned.stdout + planned.stderr
        applied = site.migrator("apply", "p.json", "--yes")
        assert applied.status == 0, applied.stdout + applied.stderr
        site.applied_output = applied.stdout  # type: ignore[attr-defined]
        yield site


def _validation_record(site: Migrated) -> dict[str, Any]:
    acm = site.sandbox.session().client("acm")
    plan = planfile.load(site.plan)
    arn = next(st.outputs["arn"] for sid, st in plan.states.items()
               if sid == "certificate")
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"][
        "DomainValidationOptions"]
    return dict(options[0]["ResourceRecord"])


def test_apply_ends_with_what_to_change_on_the_nginx_origin(migrated: Migrated) -> None:
    out = migrated.applied_output  # type: ignore[attr-defined]
    assert 'On the origin now, for nginx (its Server header: "nginx")' in out
    assert f"    set_real_ip_from {VPC_CIDR};" in out
    assert "    real_ip_header X-Forwarded-For;" in out
    assert "    keepalive_timeout 75s;" in out


def test_status_of_a_healthy_migrated_site(migrated: Migrated) -> None:
    ran = migrated.migrator("status", "p.json")
    assert ran.status == 0, ran.stdout + ran.stderr
    out = ran.stdout
    assert f"Health of {DOMAIN}" in out
    health_view = out[out.index(f"Health of {DOMAIN}"):]
    assert all(len(line.rstrip()) <= 80 for line in health_view.splitlines()), health_view
    for expected in ("ISSUED", "RenewalEligibility ELIGIBLE", "by the load balancer",
                     "in Route53 with ACM's value, answered by DNS", "active",
                     "an alias to the load balancer",
                     "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09, the newest AWS recommends",
                     "pending: possible from",
                     "none needs attention", f"set_real_ip_from {VPC_CIDR};"):
        assert expected in " ".join(out.split()), (expected, out)
    assert "healthy" in out
    assert "WARN" not in out and "FAIL" not in out


def test_an_older_tls_policy_is_worth_knowing_not_a_failure(migrated: Migrated) -> None:
    """A listener whose policy someone set to an older one: a WARN naming the recommended
    policy, exit 0 (nothing is broken); the listener is put back afterwards."""
    elbv2 = migrated.sandbox.session().client("elbv2")
    lb = planfile.load(migrated.plan).states["load_balancer"].outputs["arn"]
    https = next(x for x in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"]
                 if x["Port"] == 443)
    elbv2.modify_listener(ListenerArn=https["ListenerArn"],
                          SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
    try:
        ran = migrated.migrator("status", "p.json")
    finally:
        elbv2.modify_listener(ListenerArn=https["ListenerArn"],
                              SslPolicy=https["SslPolicy"])
    assert ran.status == 0, ran.stdout + ran.stderr
    text = " ".join(ran.stdout.split())
    assert "WARN" in text and "FAIL" not in text
    assert ("ELBSecurityPolicy-TLS13-1-2-2021-06; the newest AWS recommends is "
            "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09") in text, ran.stdout


def test_status_json_has_the_health_object(migrated: Migrated) -> None:
    ran = migrated.migrator("status", "p.json", "--json")
    assert ran.status == 0, ran.stderr
    document = json.loads(ran.stdout)
    assert document["phase"] == "applied (lockdown pending)"
    health = document["health"]
    assert health["checked"] is True and health["ok"] is True and health["attention"] == 0
    areas = [c["area"] for c in health["checks"]]
    assert list(dict.fromkeys(areas)) == ["certificate", "load balancer", "dns", "lockdown"]
    for check in health["checks"]:
        assert set(check) == {"area", "check", "target", "level", "message", "hint"}
        assert check["level"] in ("pass", "info", "warn")
    by_check = {(c["area"], c["check"]): c for c in health["checks"]}
    assert by_check[("certificate", "renewal")]["level"] == "pass"
    assert by_check[("load balancer", "target")]["message"] == "healthy"
    advice = health["origin_advice"]
    assert advice["server"] == "nginx" and advice["trusted_cidrs"] == [VPC_CIDR]
    assert [i["topic"] for i in advice["items"]] == ["client address", "keep-alive",
                                                      "certificate"]


def test_status_names_a_deleted_validation_cname_and_a_changed_record(
        migrated: Migrated) -> None:
    session = migrated.sandbox.session()
    route53 = session.client("route53")
    zone = migrated.sandbox.world.zone_id
    record = _validation_record(migrated)
    cname = {"Name": record["Name"], "Type": "CNAME", "TTL": 300,
             "ResourceRecords": [{"Value": record["Value"]}]}
    alias = next(r for r in route53.list_resource_record_sets(
        HostedZoneId=zone, StartRecordName=DOMAIN)["ResourceRecordSets"]
        if r["Name"] == DOMAIN + "." and r["Type"] == "A")
    someone_elses = {"Name": DOMAIN + ".", "Type": "A", "TTL": 60,
                     "ResourceRecords": [{"Value": "127.0.0.99"}]}
    # Behind migrator's back, with the test's own session: the CNAME deleted, the alias
    # replaced by a plain record.
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": cname},
        {"Action": "DELETE", "ResourceRecordSet": alias},
        {"Action": "CREATE", "ResourceRecordSet": someone_elses}]})
    try:
        ran = migrated.migrator("status", "p.json")
        assert ran.status == 1, ran.stdout + ran.stderr
        flat = " ".join(ran.stdout.split())
        assert "missing from Route53" in flat
        assert "the classic way to lose automatic renewal" in flat
        assert "changed behind migrator's back: now 127.0.0.99 TTL 60" in flat
        assert "2 of" in flat and "checks need attention" in flat
        error = " ".join(ran.stderr.split())
        assert error.startswith(f"error: {DOMAIN} needs attention: certificate validation "
                                "CNAME: missing from Route53"), error
        assert "(and 1 more above)" in error
        assert f"recreate it: {record['Name']} CNAME {record['Value']}" in error

        as_json = json.loads(migrated.migrator("status", "p.json", "--json").stdout)
        failed = [(c["area"], c["check"], c["target"]) for c in as_json["health"]["checks"]
                  if c["level"] == "fail"]
        assert failed == [("certificate", "validation CNAME",
                           record["Name"].rstrip(".").lower()),
                          ("dns", "record", f"{DOMAIN} A")]
        assert as_json["health"]["ok"] is False
    finally:
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": someone_elses},
            {"Action": "CREATE", "ResourceRecordSet": alias},
            {"Action": "CREATE", "ResourceRecordSet": cname}]})
