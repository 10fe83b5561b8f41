"""Plan review: `account_changes` against the plans the planner builds (no AWS), its renderings
(80 columns, NO_COLOR, Markdown, JSON), the plan's digest, `apply --expect-sha256`, and
`check` on the moto world, fresh and after each kind of drift."""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.console import Console

import migrator.cli.commands
from migrator.cli.environment import Environment
from migrator.cli.main import main
from migrator.cli.prompts import CannedPrompter
from migrator.core import planfile, review
from migrator.core.plan import Plan, PlanOptions, plan_digest
from migrator.core.planner import build_plan
from migrator.core.snapshot import (
    Follower,
    Instance,
    NetworkInterface,
    RecordSet,
    SecurityGroup,
    Subnet,
)
from tests.support.aws_state import account_state
from tests.support.snapshots import PUBLIC_WEB, snapshot

PLAN_ID = "mig-0a1b2c3d"
CREATES = ("acm.request_certificate", "elbv2.create_target_group", "ec2.create_security_group",
           "elbv2.create_load_balancer", "elbv2.create_listener")


def www() -> Plan:
    return build_plan(snapshot(), PlanOptions(health_check_path="/health"), plan_id=PLAN_ID)


def apex_and_www_with_a_follower() -> Plan:
    snap = snapshot(
        domain="example.com", names=("example.com", "www.example.com"),
        records=(RecordSet("example.com.", "A", 600, ("127.0.0.10",)),
                 RecordSet("example.com.", "MX", 300, ("10 mail.example.net.",)),
                 RecordSet("www.example.com.", "A", 300, ("127.0.0.10",))),
        followers=(Follower("shop.example.com", "CNAME", "www.example.com"),))
    return build_plan(snap, PlanOptions(sans=("www.example.com",)), plan_id=PLAN_ID)


def shared_group() -> Plan:
    inst = Instance("i-1", "running", "web-1", "vpc-1", "subnet-a", "ap-northeast-1a",
                    "127.0.0.10", "10.0.0.5", ("sg-web", "sg-mon"),
                    interfaces=(NetworkInterface("eni-1", 0, ("sg-web", "sg-mon"),
                                                 ("127.0.0.10",)),
                                NetworkInterface("eni-2", 1, ("sg-app",))),
                    web_interface_id="eni-1")
    snap = snapshot(instance=inst, security_groups=(
        SecurityGroup("sg-web", "web-server", PUBLIC_WEB, ("i-2",)),
        SecurityGroup("sg-mon", "monitoring", PUBLIC_WEB[:1])))
    return build_plan(snap, PlanOptions(), plan_id=PLAN_ID)


def dualstack() -> Plan:
    v6 = "2001:db8::10"
    snap = snapshot(
        records=(RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),
                 RecordSet("www.example.com.", "AAAA", 600, (v6,))),
        instance=Instance("i-1", "running", "web-1", "vpc-1", "subnet-a", "ap-northeast-1a",
                          "127.0.0.10", "10.0.0.5", ("sg-web",), (v6,)),
        subnets=(Subnet("subnet-a", "ap-northeast-1a", "10.0.0.0/24", True, True),
                 Subnet("subnet-c", "ap-northeast-1c", "10.0.1.0/24", True, True)))
    return build_plan(snap, PlanOptions(), plan_id=PLAN_ID)


PLANS = {"www": www, "apex+www+follower": apex_and_www_with_a_follower,
         "shared-group": shared_group, "dualstack": dualstack}


def created_names(plan: Plan) -> set[str]:
    """The names of what the plan's steps create, read from the steps themselves."""
    names = set()
    for step in plan.steps:
        p = step.params
        if step.action == "acm.request_certificate":
            names.add(p["DomainName"])
        elif step.action in ("elbv2.create_target_group", "elbv2.create_load_balancer"):
            names.add(p["Name"])
        elif step.action == "ec2.create_security_group":
            names.add(p["GroupName"])
        elif step.action == "elbv2.create_listener":
            names.add(f"{p['Protocol']}:{p['Port']} of {plan.steps[0].params.get('Name', '')}"
                      .split(" of ")[0])
        elif step.action == "ec2.copy_groups_without_public_web":
            groups = {g.id: g.name for g in plan.snapshot.security_groups}
            names |= {f"{groups[g]}-{p['NameSuffix']}" for g in p["GroupIds"]}
    return names


@pytest.mark.parametrize("make", list(PLANS.values()), ids=list(PLANS))
def test_account_changes_match_what_the_plan_does(make: Any) -> None:
    plan = make()
    changes = review.account_changes(plan)
    snap = plan.snapshot
    # Every resource a step creates is under create, made by that step.
    created = {r.name.split(" of ")[0]: r for r in changes.create}
    assert created_names(plan) <= set(created), created_names(plan) - set(created)
    for step in plan.steps:
        if step.action in CREATES:
            assert any(step.id in r.steps for r in changes.create), step.id
    # Every record of the switch is under change, with its exact before and after.
    switch = next(s for s in plan.steps if s.id == "switch_dns")
    changed = {r.name: r for r in changes.change}
    for original in switch.params["Originals"]:
        record = changed[f"{original['Name']} {original['Type']}"]
        by_name = {c.name: c for c in record.changes}
        assert by_name["TTL"].before == f"{original['TTL']} s"
        assert by_name["TTL"].after.startswith("60 s")
        assert by_name["value"].before == ", ".join(v["Value"]
                                                   for v in original["ResourceRecords"])
        assert plan.steps[[s.id for s in plan.steps].index("load_balancer")].params["Name"] \
            in by_name["value"].after
    # The web interface's groups: before exactly the snapshot's, after with the new group;
    # and at the lockdown, the copies in place of the public groups.
    iface = next(r for r in changes.change if r.kind == "network interface")
    first = iface.changes[0]
    assert first.before == ", ".join(f"{g} ({n})" for g, n in
                                     ((g.id, g.name) for g in snap.security_groups))
    assert first.after.endswith(f"migrator-origin-{snap.domain}-0a1b2c3d")
    if any(s.id == "lockdown_attach" for s in plan.steps):
        assert len(iface.changes) == 2 and "-locked-0a1b2c3d (copy of sg-web)" in \
            iface.changes[1].after
    # Nothing else is changed: only the switched records and that one interface.
    expected = {f"{o['Name']} {o['Type']}" for o in switch.params["Originals"]}
    assert set(changed) == expected | {iface.name}
    untouched = {r.name for r in changes.untouched}
    assert not untouched & set(changed)
    for group in snap.security_groups:
        assert f"{group.id} ({group.name})" in untouched
    for record in snap.records:
        key = f"{record.name} {record.type}"
        assert (key in changed) != (key in untouched), key


def test_what_is_left_alone_is_said_so() -> None:
    changes = review.account_changes(apex_and_www_with_a_follower())
    untouched = {r.name: r for r in changes.untouched}
    assert "follows the switch" in untouched["shop.example.com. CNAME"].note
    assert "example.com. MX" in untouched
    assert "an existing _<ACM's hash> validation CNAME" in untouched
    shared = review.account_changes(shared_group())
    groups = {r.name: r.note for r in shared.untouched}
    assert groups["sg-web (web-server)"].startswith("shared with i-2: never edited")
    assert "eni-2 (eth1) of i-1" in groups
    assert "lockdown" not in groups["sg-mon (monitoring)"]  # not copied: admits no web


def test_a_reused_certificate_is_untouched_and_nothing_is_requested() -> None:
    from migrator.core.snapshot import Certificate

    cert = Certificate("arn:aws:acm:ap-northeast-1:1:certificate/x", "*.example.com",
                       ("*.example.com",), "ISSUED")
    plan = build_plan(snapshot(certificates=(cert,)), PlanOptions(), plan_id=PLAN_ID)
    changes = review.account_changes(plan)
    assert not [r for r in changes.create if r.kind == "ACM certificate"]
    assert not [r for r in changes.create if "validation" in r.name or "_<" in r.name]
    reused = next(r for r in changes.untouched if r.name == cert.arn)
    assert "never deleted" in reused.note
    https = next(r for r in changes.create if r.name.startswith("HTTPS:443"))
    assert any(a.value == f"{cert.arn} (reused)" for a in https.attributes)


def test_dualstack_cost_and_time() -> None:
    changes = review.account_changes(dualstack())
    lb = next(r for r in changes.create if r.kind == "load balancer")
    assert any(a.value.endswith("dualstack") for a in lb.attributes)
    assert changes.cost.before_usd == 0 and changes.cost.after_usd == pytest.approx(
        0.0243 * 730 + 0.005 * 730 * 2, abs=0.01)
    assert changes.timing.old_ttl_seconds == 600
    assert "600 s" in changes.timing.lockdown


@pytest.mark.parametrize("make", list(PLANS.values()), ids=list(PLANS))
def test_text_fits_80_columns_and_no_color_means_no_escapes(make: Any) -> None:
    plan = make()
    changes = review.account_changes(plan)
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, no_color=True)
    review.print_text(console, changes, plan_digest(plan))
    assert "\x1b" not in out.getvalue()
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert f"sha256 {plan_digest(plan)}" in lines
    assert any(line.startswith("+ load balancer ") for line in lines)
    assert any(line.startswith("~ DNS record ") for line in lines)
    assert any(line.startswith("= security group ") for line in lines)
    coloured = io.StringIO()
    review.print_text(Console(file=coloured, width=80, force_terminal=True), changes)
    assert "\x1b[" in coloured.getvalue()


def test_show_leads_with_the_changes_in_80_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    planfile.save(shared_group(), path)
    out, err = io.StringIO(), io.StringIO()
    status = main(["show", str(path)], Environment(stdout=out, stderr=err, stdin_isatty=False,
                                                    variables={"NO_COLOR": "1"}, width=80))
    assert status == 0, err.getvalue()
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.index("Created") < text.index("Plan mig-0a1b2c3d for")  # before the steps
    assert f"sha256 {plan_digest(planfile.load(path))}" in text


def test_show_markdown_and_json(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "p.json"
    plan = apex_and_www_with_a_follower()
    planfile.save(plan, path)
    md = cli("show", str(path), "--format", "markdown")
    assert md.status == 0, md.stderr
    assert "```diff\n+ ACM certificate example.com\n+     names: example.com, www.example.com" \
        in md.stdout
    assert "-     TTL: 600 s\n+     TTL: 60 s (the alias's)" in md.stdout
    assert "<details><summary>" in md.stdout and "</details>" in md.stdout
    assert f"sha256 `{plan_digest(plan)}`" in md.stdout
    assert "\x1b" not in md.stdout
    data = json.loads(cli("show", str(path), "--json").stdout)
    assert data["sha256"] == plan_digest(plan)
    assert data["account_changes"] == review.to_dict(review.account_changes(plan))
    assert set(data["account_changes"]) >= {"create", "change", "destroy", "untouched",
                                           "cost", "timing"}


def test_the_digest_covers_the_reviewed_content_only() -> None:
    plan = www()
    digest = plan_digest(plan)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    plan.state("certificate").status = "done"
    plan.state("certificate").outputs["arn"] = "arn:x"
    plan.record("done", "certificate")
    assert plan_digest(plan) == digest
    assert plan_digest(Plan.from_dict(json.loads(json.dumps(plan.to_dict())))) == digest
    other = replace(plan.steps[2], params={**plan.steps[2].params, "HealthCheckPath": "/x"})
    edited = Plan(plan.id, plan.created_at, plan.snapshot, plan.options,
                  (*plan.steps[:2], other, *plan.steps[3:]))
    assert plan_digest(edited) != digest


def test_the_example_plan_shows_its_changes(cli: Any) -> None:
    example = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"
    result = cli("show", str(example))
    assert result.status == 0, result.stderr
    assert re.search(r"^~ network interface eni-\w+ \(eth0\) of instance i-1$", result.stdout,
                     re.M)
    assert "web-server-locked-0a1b2c3d (copy of sg-web)" in result.stdout


# --- against the moto world ---------------------------------------------------------------------

def make_plan(cli: Any) -> tuple[Path, dict[str, Any]]:
    result = cli("plan", "--domain", "www.example.com", "--out", "p.json")
    assert result.status == 0, result.stderr
    data = json.loads(Path("p.json").read_text())
    assert f"sha256 {plan_digest(planfile.load('p.json'))}" in result.stdout
    return Path("p.json"), data


def test_check_a_fresh_plan_says_it_applies(world: Any, cli: Any) -> None:
    path, _ = make_plan(cli)
    result = cli("check", str(path))
    assert result.status == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert "still applies" in result.stdout


def _record_changed(session: boto3.Session, world: Any, plan: dict[str, Any]) -> None:
    session.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT",
            "ResourceRecordSet": {"Name": "www.example.com.", "Type": "A", "TTL": 60,
                                  "ResourceRecords": [{"Value": "127.0.0.10"}]}}]})


def _instance_stopped(session: boto3.Session, world: Any, plan: dict[str, Any]) -> None:
    session.client("ec2").stop_instances(InstanceIds=[world.instance_id])


def _group_edited(session: boto3.Session, world: Any, plan: dict[str, Any]) -> None:
    session.client("ec2").authorize_security_group_ingress(
        GroupId=world.security_group_id, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
            "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])


def _name_taken(session: boto3.Session, world: Any, plan: dict[str, Any]) -> None:
    name = next(s for s in plan["steps"] if s["id"] == "target_group")["params"]["Name"]
    session.client("elbv2").create_target_group(Name=name, Protocol="HTTPS", Port=443,
                                                VpcId=world.vpc_id)


def _certificate_reusable(session: boto3.Session, world: Any, plan: dict[str, Any]) -> None:
    acm = session.client("acm")
    arn = acm.request_certificate(DomainName="www.example.com",
                                  ValidationMethod="DNS")["CertificateArn"]
    deadline = time.monotonic() + 10
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline, "moto did not issue the certificate"
        time.sleep(0.2)


DRIFTS = {
    "record changed": (_record_changed, "www.example.com. A is now 127.0.0.10 TTL 60"),
    "instance stopped": (_instance_stopped, "is stopped, not running"),
    "group edited": (_group_edited, "the rules of security group"),
    "name taken": (_name_taken, "a name is now taken: target group www-example-com-tg-"),
    "certificate reusable": (_certificate_reusable, "could be reused"),
}


@pytest.mark.parametrize("drift", list(DRIFTS), ids=list(DRIFTS))
def test_check_names_each_kind_of_drift(world: Any, session: boto3.Session, cli: Any,
                                        drift: str) -> None:
    path, data = make_plan(cli)
    make_drift, named = DRIFTS[drift]
    make_drift(session, world, data)
    result = cli("check", str(path))
    assert result.status == 2, (result.stdout, result.stderr)
    assert named in result.stdout, result.stdout
    assert "stale" in result.stderr and len(result.stderr.strip().splitlines()) <= 2


def test_apply_refuses_another_digest_before_connecting(
        world: Any, session: boto3.Session, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = make_plan(cli)
    before = account_state(session)
    connected: list[Any] = []
    real_connect = migrator.cli.commands.connect
    monkeypatch.setattr(migrator.cli.commands, "connect",
                        lambda *a: connected.append(a) or real_connect(*a))
    wrong = cli("apply", str(path), "--yes", "--expect-sha256", "0" * 64)
    assert wrong.status == 2
    assert "is not the approved plan" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 2  # the error and its hint
    assert not connected and account_state(session) == before
    assert cli("apply", str(path), "--yes", "--expect-sha256", "xyz").status == 2
    several = cli("apply", str(path), str(path) + "x", "--yes", "--expect-sha256", "0" * 64)
    assert several.status == 2 and "one plan" in several.stderr
    assert not connected
    digest = plan_digest(planfile.load(path))
    right = cli("apply", str(path), "--yes", "--skip-verify", "--expect-sha256", digest.upper())
    assert right.status == 0, right.stderr
    assert connected
    applied = planfile.load(path)
    assert applied.state("switch_dns").status == "done"
    assert plan_digest(applied) == digest  # applying does not change what was approved


def test_the_wizard_shows_the_changes_before_asking(world: Any, cli: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    prompter = CannedPrompter({"--yes": False})
    monkeypatch.setattr(migrator.cli.commands, "prompter", lambda env, assume_yes=False: prompter)
    result = cli("wizard", "--domain", "www.example.com")
    assert result.status == 0, result.stderr
    assert prompter.asked[-1] == "--yes"
    text = result.stdout
    assert "What plan mig-" in text and "~ DNS record www.example.com. A" in text
    assert text.index("Monthly cost") < text.index("Plan saved to")
    assert re.search(r"^sha256 [0-9a-f]{64}$", text, re.M)
