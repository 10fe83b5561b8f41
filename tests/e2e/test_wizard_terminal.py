"""The wizard in a real pseudo-terminal (pexpect) against the sandbox: moto, DNS, the origin's
HTTPS and the load balancers' data plane, all on loopback, started in this test process.

`.venv/bin/migrator wizard` runs as a child process with the sandbox's variables, TERM=xterm,
80 columns and NO_COLOR=1, and is driven with keystrokes: Enter to accept a default, Ctrl-C to
interrupt. The child never sees this process's AWS variables or configuration files.
The tables must fit the 80 columns, and NO_COLOR must leave no colour in the output.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from migrator.checks.preflight.joining import monthly_saving
from migrator.core import planfile
from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from migrator_sandbox.world import WorldSpec
from tests.support.aws_state import account_state
from tests.support.sandbox import create_alb

pexpect = pytest.importorskip("pexpect")

MIGRATOR = Path(sys.executable).with_name("migrator")
if not MIGRATOR.exists():
    pytest.skip(f"no {MIGRATOR} (install the project: pip install -e .)", allow_module_level=True)
# Every question the wizard asks on the sandbox's world, in order (Enter accepts each default).
QUESTIONS = ["AWS region", "Which site", "Other names", "Health check path", "TLS policy",
             "redirect to HTTPS", "lock the instance down", "passes its checks",
             "lock down in this run", "Apply this plan now"]
# With a load balancer in the VPC that can take the site: the question whether to join it, and
# no question on plain HTTP (the joined load balancer's HTTP listener redirects already).
JOIN = "Put www.example.com on an existing load balancer?"
JOIN_QUESTIONS = ["AWS region", "Which site", JOIN, "Other names", "Health check path",
                  "TLS policy", "lock the instance down", "passes its checks",
                  "lock down in this run", "Apply this plan now"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """sandbox(acm_delay) -> a running Sandbox whose old TTL is 1 s; stopped after the test."""
    with ExitStack() as stack:

        def start(acm_delay: float) -> Sandbox:
            return stack.enter_context(Sandbox(
                workdir=tmp_path / "sandbox", spec=WorldSpec(ttl=1),
                strict_config=StrictConfig.fast(acm_issue_delay=acm_delay)))

        yield start


class Terminal:
    """`migrator ARGS` in a pseudo-terminal of 80 columns, in its own working directory."""

    def __init__(self, sb: Sandbox, cwd: Path, *args: str) -> None:
        self.cwd = cwd
        cwd.mkdir(exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd),
               "LANG": "C.UTF-8", "TERM": "xterm", "COLUMNS": "80", "LINES": "50",
               "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1",
               "AWS_CONFIG_FILE": str(cwd / "no-aws-config"),
               "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "no-aws-credentials"), **sb.env}
        self.log = io.StringIO()
        self.child = pexpect.spawn(str(MIGRATOR), list(args), env=env, cwd=str(cwd),
                                   encoding="utf-8", timeout=30, dimensions=(50, 80))
        self.child.logfile_read = self.log

    def answer_every_question_with_enter(self) -> None:
        for question in QUESTIONS:
            self.child.expect_exact(question)
            self.child.send("\r")

    def finish(self, timeout: float = 60) -> int:
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        assert self.child.signalstatus is None, self.output
        return int(self.child.exitstatus)

    @property
    def output(self) -> str:
        return self.log.getvalue()

    def plans(self) -> list[Path]:
        return sorted(p for p in (self.cwd / "plans").glob("*.json")
                      if not planfile.is_state_file(p))


def statuses(path: Path) -> dict[str, str]:
    plan = planfile.load(path).to_dict()  # both files whole, or this fails
    return {s["id"]: s["state"]["status"] for s in plan["steps"]}


def test_enter_through_every_default_migrates_the_site_and_verifies_it(
        sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox(acm_delay=1)
    term = Terminal(sb, tmp_path / "run", "wizard")
    term.answer_every_question_with_enter()
    assert term.finish() == 0, term.output
    [path] = term.plans()
    assert set(statuses(path).values()) == {"done"}, statuses(path)
    assert "checks: all passed" in term.output
    assert f"migrator rollback plans/{path.name}" in term.output
    # Every table (report, preflight, plan, verification) fits 80 columns; NO_COLOR is honoured.
    tables = [line for line in _plain(term.output).splitlines() if line[:1] in "┏│└┃┡├─"]
    assert len(tables) > 40 and max(len(line) for line in tables) <= 80
    assert _colours(term.output) == set()
    # Before the question, the change to the account (plan review, in the real terminal).
    plain = _plain(term.output)
    summary = plain[plain.index("What plan"):plain.index("Apply this plan now")]
    assert "to create" in summary and "sha256 " in summary and "~ DNS record" in summary
    assert max(len(line) for line in summary.splitlines()) <= 80
    records = sb.session().client("route53").list_resource_record_sets(
        HostedZoneId=sb.world.zone_id)["ResourceRecordSets"]
    www = next(r for r in records if r["Name"] == "www.example.com." and r["Type"] == "A")
    assert "AliasTarget" in www
    # No load balancer in the VPC: nothing proposed, nothing asked about one.
    assert "existing load balancer" not in plain
    assert "could take www.example.com" not in plain


def test_the_load_balancer_of_the_vpc_is_proposed_and_joining_it_migrates_the_site(
        sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox(acm_delay=1)
    session = sb.session()
    assert sb.strict_layer is not None
    with sb.strict_layer.relaxed():  # someone else's load balancer, there for a while
        team = create_alb(session, sb.world, "team-web")
        session.client("elbv2").create_listener(
            LoadBalancerArn=team.arn, Protocol="HTTP", Port=80, DefaultActions=[{
                "Type": "redirect", "RedirectConfig": {
                    "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    before = account_state(session)
    saving = monthly_saving(sb.world.spec.region, 2)
    term = Terminal(sb, tmp_path / "run", "wizard")
    for question in JOIN_QUESTIONS:
        term.child.expect_exact(question)
        if question == JOIN:  # the load balancer first (the default), then one of its own
            term.child.expect_exact(f"join team-web — saves about ${saving:.2f} a month")
            term.child.expect_exact("a new load balancer of its own")
        term.child.send("\r")
    assert term.finish() == 0, term.output
    plain = _plain(term.output)
    assert "team-web: can take it; saves about" in plain
    assert "redirect to HTTPS" not in plain
    [path] = term.plans()
    assert set(statuses(path).values()) == {"done"}, statuses(path)
    plan = planfile.load(path)
    assert plan.snapshot.load_balancer is not None
    assert plan.snapshot.load_balancer.arn == team.arn
    assert "elbv2.create_load_balancer" not in [s.action for s in plan.steps]
    assert "checks: all passed" in term.output
    lines = [line for line in plain.splitlines() if line[:1] in "┏│└┃┡├─"]
    assert max(len(line) for line in lines) <= 80
    records = session.client("route53").list_resource_record_sets(
        HostedZoneId=sb.world.zone_id)["ResourceRecordSets"]
    www = next(r for r in records if r["Name"] == "www.example.com." and r["Type"] == "A")
    assert www["AliasTarget"]["DNSName"].rstrip(".").lower() == team.dns_name.lower()
    assert len(session.client("elbv2").describe_load_balancers()["LoadBalancers"]) == 1
    # Its rollback takes the site off that load balancer, exactly as it was.
    undo = Terminal(sb, term.cwd, "rollback", f"plans/{path.name}", "--yes", "--dns-drain", "0")
    assert undo.finish() == 0, undo.output
    assert account_state(session) == before


def test_ctrl_c_at_the_first_prompt_exits_130_and_writes_nothing(
        sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox(acm_delay=1)
    before = account_state(sb.session())
    term = Terminal(sb, tmp_path / "run", "wizard")
    term.child.expect_exact(QUESTIONS[0])
    term.child.sendintr()
    assert term.finish() == 130, term.output
    assert "nothing was changed" in term.output
    assert not (term.cwd / "plans").exists()
    assert account_state(sb.session()) == before


def test_ctrl_c_during_apply_keeps_the_plan_consistent_and_prints_the_way_back(
        sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox(acm_delay=5)
    before = account_state(sb.session())
    term = Terminal(sb, tmp_path / "run", "wizard")
    term.answer_every_question_with_enter()
    term.child.expect_exact("Plan saved to")
    term.child.expect_exact("Wait until ACM")  # the spinner of the running certificate wait
    time.sleep(0.5)
    term.child.sendintr()
    assert term.finish() == 130, term.output
    [path] = term.plans()
    steps = statuses(path)
    order = list(steps)
    at = order.index("certificate_issued")
    assert [steps[s] for s in order[:at]] == ["done"] * at
    assert steps["certificate_issued"] == "failed"
    assert {steps[s] for s in order[at + 1:]} == {"pending"}
    relative = f"plans/{path.name}"
    assert f"Resume:    migrator apply {relative}" in term.output
    assert f"Roll back: migrator rollback {relative}" in term.output
    # The printed rollback command undoes everything.
    undo = Terminal(sb, term.cwd, "rollback", relative, "--yes", "--dns-drain", "0")
    assert undo.finish() == 0, undo.output
    assert account_state(sb.session()) == before


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


def _colours(text: str) -> set[str]:
    """The colour parameters of the SGR sequences in text (30-38, 40-48, 90-97, 100-107)."""
    colours = {str(n) for n in (*range(30, 39), *range(40, 49), *range(90, 98),
                                *range(100, 108))}
    return {param for sgr in re.findall(r"\x1b\[([0-9;]*)m", text)
            for param in sgr.split(";") if param in colours}
