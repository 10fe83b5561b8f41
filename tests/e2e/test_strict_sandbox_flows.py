"""The whole flow on the strict AWS world with DNS and HTTPS (the sandbox): plan, apply with its
checks, status, verify, rollback, then the same through the wizard and back, for each kind of site AWS makes hard -- a plain site, apex and
www with a CNAME follower, an instance whose public address sits on its second network
interface, a name whose validation CNAME already exists for another certificate, and a
dualstack site. After rollback the account is exactly as before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from migrator.core import planfile
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from migrator_sandbox.world import WorldSpec
from tests.support.aws_state import account_state
from tests.support.sandbox import eventually


@dataclass(frozen=True)
class Site:
    spec: WorldSpec
    plan_args: tuple[str, ...] = ()
    # A certificate of the same name, validated with the CNAME ACM will give ours, exists.
    other_certificate: bool = False
    skip_verify: bool = False
    names: tuple[str, ...] = field(default=("www.example.com",))


SITES = {
    "plain": Site(WorldSpec()),
    "apex-www-cname": Site(
        WorldSpec(domain="example.com", extra_a_names=("www.example.com",),
                  cname_names=("shop.example.com",)),
        ("--san", "www.example.com"), names=("example.com", "www.example.com")),
    "second-interface": Site(WorldSpec(second_interface=True,
                                       public_address_on_second_interface=True)),
    "shared-validation-cname": Site(WorldSpec(), other_certificate=True),
    # The sandbox's data plane speaks IPv4 only: the AAAA answer is checked in the account.
    "dualstack": Site(WorldSpec(ipv6=True, aaaa=True), skip_verify=True),
}


@pytest.fixture(params=sorted(SITES))
def site(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[tuple[Site, Sandbox]]:
    chosen = SITES[request.param]
    with Sandbox(workdir=tmp_path / "sandbox", spec=chosen.spec,
                 strict_config=StrictConfig.fast()) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        yield chosen, sb


def other_certificate_with_its_cname(sb: Sandbox, name: str) -> str:
    """Another certificate of `name` (and of a name still unvalidated, so it stays pending and
    cannot be reused), with `name`'s validation CNAME in the zone: the one ACM gives ours too."""
    session = sb.session()
    acm, route53 = session.client("acm"), session.client("route53")
    arn = acm.request_certificate(DomainName=name, ValidationMethod="DNS",
                                  SubjectAlternativeNames=[name, "api.example.com"]
                                  )["CertificateArn"]
    record = eventually(lambda: next(
        (o.get("ResourceRecord") for o in acm.describe_certificate(CertificateArn=arn)[
            "Certificate"]["DomainValidationOptions"] if o["DomainName"] == name), None))
    route53.change_resource_record_sets(HostedZoneId=sb.world.zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": record["Name"], "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": record["Value"]}]}}]})
    return str(record["Name"])


def test_the_whole_flow(site: tuple[Site, Sandbox], cli: Any) -> None:
    chosen, sb = site
    session = sb.session()
    shared_cname = other_certificate_with_its_cname(sb, chosen.names[0]) \
        if chosen.other_certificate else None
    before = account_state(session)

    planned = cli("plan", "--domain", chosen.names[0], *chosen.plan_args, "--out", "p.json")
    assert planned.status == 0, planned.stdout + planned.stderr
    verify_flag = ("--skip-verify",) if chosen.skip_verify else ()
    applied = cli("apply", "p.json", "--yes", *verify_flag)
    assert applied.status == 0, applied.stdout + applied.stderr
    plan = planfile.load("p.json").to_dict()
    steps = {s["id"]: s for s in plan["steps"]}
    assert all(s["state"]["status"] in ("done", "skipped") for s in plan["steps"]
               if not s["id"].startswith("lockdown")), [
        (s["id"], s["state"]["status"]) for s in plan["steps"]]

    status = cli("status", "p.json")
    assert status.status == 0, status.stderr
    if not chosen.skip_verify:
        verified = cli("verify", "p.json")
        assert verified.status == 0, verified.stdout + verified.stderr

    after = account_state(session)
    world = sb.world
    changed = steps["attach_origin_group"]["state"]["outputs"]["interface"]
    if chosen.spec.public_address_on_second_interface:
        assert changed == world.second_interface_id
        # The other interface keeps exactly its groups.
        assert after["interface_groups"][world.primary_interface_id] == \
            before["interface_groups"][world.primary_interface_id]
    assert len(after["interface_groups"][changed]) == len(before["interface_groups"][changed]) + 1
    if shared_cname:
        outputs = steps["validation_records"]["state"]["outputs"]
        assert outputs["created"] == []
        assert [r["Name"] for r in outputs["preexisting"]] == [shared_cname]
    if chosen.spec.aaaa:
        records = {(r["Name"], r["Type"]): r for r in after["zones"]["example.com."]}
        assert records[("www.example.com.", "AAAA")]["AliasTarget"] == \
            records[("www.example.com.", "A")]["AliasTarget"]

    rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stdout + rolled.stderr
    assert account_state(session) == before

    # The same site through the wizard (its defaults, no questions), and back again.
    sans = [a for n in chosen.names[1:] for a in ("--san", n)]
    wizard = cli("wizard", "--region", sb.spec.region, "--domain", chosen.names[0], *sans,
                 "--yes", *verify_flag)
    assert wizard.status == 0, wizard.stdout + wizard.stderr
    [made] = [p for p in Path("plans").glob("*.json") if not planfile.is_state_file(p)]
    assert all(s["state"]["status"] in ("done", "skipped", "pending")
               for s in planfile.load(made).to_dict()["steps"])
    assert account_state(session) != before
    again = cli("rollback", str(made), "--yes", "--dns-drain", "0")
    assert again.status == 0, again.stdout + again.stderr
    assert account_state(session) == before
