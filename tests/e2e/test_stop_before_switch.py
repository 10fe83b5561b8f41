"""`apply --stop-before-switch` on the strict AWS world: every step up to the DNS switch, the
checks through the load balancer's own address, then a stop with DNS untouched ("ready to
switch"), printed as curl lines and an /etc/hosts line that really reach the load balancer;
`status` shows the stage; a later apply checks again and switches; rollback from the stage sends
no change for the site's records; several plans each stop there; a plan already switched is left
as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.aws.session import observing
from migrator.core import planfile
from migrator.core.actions import traits
from migrator.net.config import NetConfig
from migrator.net.dns import resolve_fresh
from migrator.net.http import pinned_session
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictAWS, StrictConfig
from migrator_sandbox.world import WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.sandbox import issuer_org, request

CURL = re.compile(r"^\s+curl --connect-to (?P<name>[^:\s]+):443:(?P<lb>[^:\s]+):443 "
                  r"https://(?P<host>[^/\s]+)(?P<path>/\S*)$", re.M)
HOSTS = re.compile(r"^\s+(?P<address>\d+\.\d+\.\d+\.\d+) (?P<names>[a-z0-9. -]+)$", re.M)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox on the strict AWS world, its variables in this process's environment."""
    with Sandbox(workdir=tmp_path / "sandbox", spec=WorldSpec(),
                 strict_config=StrictConfig.fast()) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        yield sb


def statuses(path: str | Path) -> dict[str, str]:
    return {s["id"]: s["state"]["status"] for s in planfile.load(path).to_dict()["steps"]}


def split_at_switch(path: str | Path) -> tuple[list[str], str, list[str]]:
    """The plan's step ids before its DNS switch (by trait), the switch, and those after."""
    steps = planfile.load(path).steps
    at = next(i for i, step in enumerate(steps) if traits(step).dns_switch)
    return [s.id for s in steps[:at]], steps[at].id, [s.id for s in steps[at + 1:]]


def site_records(session: boto3.Session, zone_id: str, name: str) -> list[dict[str, Any]]:
    records = session.client("route53").list_resource_record_sets(
        HostedZoneId=zone_id)["ResourceRecordSets"]
    return [r for r in records if r["Name"] == name]


def journal_events(path: str | Path) -> list[str]:
    return [entry["event"] for entry in planfile.load(path).journal]


class ChangeBatches:
    """Every Route53 change batch the tool sends while active (its records' names and types)."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str]] = []

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        for change in params["ChangeBatch"]["Changes"]:
            record = change["ResourceRecordSet"]
            self.changes.append((change["Action"], record["Name"], record["Type"]))


def test_stop_try_it_through_the_load_balancer_then_switch(sandbox: Sandbox, cli: Any) -> None:
    session, env = sandbox.session(), sandbox.env
    original = site_records(session, sandbox.world.zone_id, "www.example.com.")
    assert cli("plan", "--domain", "www.example.com", "--health-check-path", "/",
               "--out", "p.json").status == 0

    stopped = cli("apply", "p.json", "--yes", "--stop-before-switch")
    assert stopped.status == 0, stopped.stdout + stopped.stderr
    assert "Ready to switch." in stopped.stdout
    before, switch, after = split_at_switch("p.json")
    steps = statuses("p.json")
    assert {steps[s] for s in before} == {"done"}  # the check through the load balancer too
    assert {steps[s] for s in [switch, *after]} == {"pending"}
    assert journal_events("p.json")[-1] == "stopped-before-switch"
    assert site_records(session, sandbox.world.zone_id, "www.example.com.") == original

    # The printed curl line and /etc/hosts line reach the load balancer, not the instance.
    lb = planfile.load("p.json").state("load_balancer").outputs["dns_name"]
    [curl] = [m.groupdict() for m in CURL.finditer(stopped.stdout)]
    assert curl == {"name": "www.example.com", "lb": lb, "host": "www.example.com",
                    "path": "/"}
    [hosts] = [m.groupdict() for m in HOSTS.finditer(stopped.stdout)]
    assert hosts["names"] == "www.example.com"
    assert "/etc/hosts" in stopped.stdout and "remove it afterwards" in stopped.stdout
    net = NetConfig.from_env(env)
    [address] = resolve_fresh(curl["lb"], net)  # --connect-to's HOST2, as curl resolves it
    assert address == hosts["address"] != sandbox.spec.address
    with pinned_session(net, curl["name"], address) as through_lb:
        response = through_lb.get(f"https://{curl['host']}{curl['path']}", timeout=5)
    assert response.status_code == 200
    assert issuer_org(request(env, address, curl["name"]).cert) == "Amazon"  # ACM's, via the LB
    assert "migrator apply p.json" in stopped.stdout
    assert "migrator rollback p.json" in stopped.stdout

    status = cli("status", "p.json", "--json")
    assert status.status == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["phase"] == "ready to switch"
    assert document["ready_to_switch"]["switch_step"] == switch
    assert document["switched_at"] is None
    text = cli("status", "p.json")
    assert "ready to switch" in text.stdout

    # Going on: the checks through the load balancer run again, then the switch as usual.
    went_on = cli("apply", "p.json", "--yes")
    assert went_on.status == 0, went_on.stdout + went_on.stderr
    steps = statuses("p.json")
    assert steps[switch] == "done" and steps["verify_site"] == "done"
    events = journal_events("p.json")
    assert events.count("checking-again") == 1
    assert events.index("checking-again") < events.index("started", events.index("checking-again"))
    [a] = [r for r in site_records(session, sandbox.world.zone_id, "www.example.com.")
           if r["Type"] == "A"]
    assert a["AliasTarget"]["DNSName"].rstrip(".").endswith(lb)
    assert cli("verify", "p.json").status == 0
    assert "ready to switch" not in cli("status", "p.json").stdout

    # Asked to stop before a switch that is done: one line, and nothing is done at all.
    state_before = planfile.state_path(Path("p.json")).read_bytes()
    again = cli("apply", "p.json", "--yes", "--stop-before-switch")
    assert again.status == 0, again.stderr
    assert len(again.stdout.strip().splitlines()) == 1
    assert "nothing was done" in again.stdout and "is done already" in again.stdout
    assert planfile.state_path(Path("p.json")).read_bytes() == state_before


def test_rollback_from_the_stop_never_touches_the_sites_records(sandbox: Sandbox,
                                                               cli: Any) -> None:
    session = sandbox.session()
    untouched = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    assert cli("apply", "p.json", "--yes", "--stop-before-switch").status == 0
    _, switch, _ = split_at_switch("p.json")

    batches = ChangeBatches()
    with observing(("before-parameter-build.route53.ChangeResourceRecordSets", batches)):
        rolled = cli("rollback", "p.json", "--yes", "--dns-drain", "0")
    assert rolled.status == 0, rolled.stdout + rolled.stderr
    assert account_state(session) == untouched
    # Only the certificate's validation CNAMEs were deleted; the switch was never undone.
    assert batches.changes and all(
        (action, rtype) == ("DELETE", "CNAME") and name.startswith("_")
        for action, name, rtype in batches.changes), batches.changes
    journal = planfile.load("p.json").journal
    assert [e["event"] for e in journal if e.get("step") == switch] == ["stopped-before-switch"]


def test_the_wizard_stops_before_the_switch_when_asked(sandbox: Sandbox, cli: Any) -> None:
    session = sandbox.session()
    original = site_records(session, sandbox.world.zone_id, "www.example.com.")
    result = cli("wizard", "--region", sandbox.spec.region, "--domain", "www.example.com",
                 "--stop-before-switch", "--yes")
    assert result.status == 0, result.stdout + result.stderr
    [path] = [p for p in Path("plans").glob("*.json") if not planfile.is_state_file(p)]
    assert "Verification, through the load balancer's address" in result.stdout
    assert "Ready to switch." in result.stdout
    assert [m["name"] for m in CURL.finditer(result.stdout)] == ["www.example.com"]
    assert f"migrator apply {path}" in result.stdout
    assert f"migrator rollback {path}" in result.stdout
    _, switch, after = split_at_switch(path)
    steps = statuses(path)
    assert {steps[s] for s in [switch, *after]} == {"pending"}
    assert site_records(session, sandbox.world.zone_id, "www.example.com.") == original


SITES = (("www.example.com", "example.com", "127.0.0.10"),
         ("www.example.org", "example.org", "127.0.0.11"))


def test_several_plans_each_stop_before_their_switch(strict_aws: StrictAWS,
                                                     session: boto3.Session, cli: Any) -> None:
    with strict_aws.relaxed():
        zones = {domain: seed_world(session, WorldSpec(domain=domain, zone=zone,
                                                       address=address)).zone_id
                 for domain, zone, address in SITES}
    original = {domain: site_records(session, zone, domain + ".")
                for domain, zone in zones.items()}
    assert cli("plan", *[a for d, _, _ in SITES for a in ("--domain", d)]).status == 0
    files = sorted(str(p) for p in Path("plans").glob("*.json")
                   if not planfile.is_state_file(p))

    applied = cli("apply", *files, "--yes", "--skip-verify", "--stop-before-switch")
    assert applied.status == 0, applied.stdout + applied.stderr
    assert "2 plans applied" in applied.stdout
    assert applied.stdout.count("Ready to switch.") >= 2
    assert sorted(m["name"] for m in CURL.finditer(applied.stdout)) == sorted(
        d for d, _, _ in SITES)
    # No verification ran, and said so; the rehearsal world's names are in no DNS here.
    assert applied.stdout.count("not checked (--skip-verify)") == 2
    assert applied.stdout.count("No /etc/hosts line") == 2
    for file in files:
        _, switch, after = split_at_switch(file)
        steps = statuses(file)
        assert {steps[s] for s in [switch, *after]} == {"pending"}
    for domain, zone in zones.items():
        assert site_records(session, zone, domain + ".") == original[domain]

    # One of them switched meanwhile: it is set aside, the other stops again.
    assert cli("apply", files[0], "--yes", "--skip-verify").status == 0
    again = cli("apply", *files, "--yes", "--skip-verify", "--stop-before-switch")
    assert again.status == 0, again.stdout + again.stderr
    assert f"{files[0]}: the DNS switch of" in again.stdout
    assert "Ready to switch." in again.stdout


def test_in_a_terminal_the_choice_is_one_arrow_key_away(tmp_path: Path) -> None:
    """The wizard in a real pseudo-terminal (see test_wizard_terminal.py): Enter through every
    default except the switch question, answered with the other choice."""
    from tests.e2e.test_wizard_terminal import QUESTIONS, Terminal

    with Sandbox(workdir=tmp_path / "sandbox", spec=WorldSpec(ttl=1),
                 strict_config=StrictConfig.fast(acm_issue_delay=1)) as sb:
        original = site_records(sb.session(), sb.world.zone_id, "www.example.com.")
        term = Terminal(sb, tmp_path / "run", "wizard")
        for question in [q for q in QUESTIONS if q != "lock down in this run"]:
            term.child.expect_exact(question)
            if question == "passes its checks":
                term.child.expect_exact("Stop before the switch")
                term.child.send("\x1b[B")  # the arrow down: the second choice
            term.child.send("\r")
        assert term.finish() == 0, term.output
        [path] = term.plans()
        assert "Ready to switch." in term.output
        assert f"migrator apply plans/{path.name}" in term.output
        assert statuses(path)["verify_load_balancer"] == "done"
        assert site_records(sb.session(), sb.world.zone_id, "www.example.com.") == original
