"""Crash safety: `migrator apply` (and `rollback`) run as a real process against the moto
server and killed with SIGKILL at every step; the next run resumes from the journal in the plan's
state file (the plan file itself stays byte for byte as `plan` wrote it).
At the end every resource exists exactly once, the end state is right, and rollback (itself killed
at every undo step) restores the account exactly.

Two kill points, watched in the plan's state file (polled every 20 ms):
- "running": the step is journaled as running and AWS has just carried out its change: the tool
  dies before it hears back, the hardest case for a journal. Steps that only wait are killed
  while waiting. The moto server (in this process) holds back its answers to the subprocess by
  100 ms while the watched step is in progress, so the polling always sees that moment.
- "done": the step is journaled done; the process dies between steps or early in the next one.

To keep the suite short, one plan is carried through a chain of kills: each new process resumes
where the previous one died and is killed at the next step.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from migrator.core import planfile
from migrator.errors import PlanFileError
from migrator_sandbox.strict import StrictAWS
from migrator_sandbox.world import SiteSpec, WorldSpec, seed_world
from tests.support.aws_state import account_state
from tests.support.forkserver import Child, ForkServer, fork_server

APP_ID = "migrator-crash-test"  # botocore puts it in the User-Agent (AWS_SDK_UA_APP_ID)
HOLD = 0.1  # seconds the server holds back answers to the subprocess during the watched step
POLL = 0.02
STEP_TIMEOUT = 60.0
APPLY = ("apply", "p.json", "--yes", "--skip-verify")
ROLLBACK = ("rollback", "p.json", "--yes", "--dns-drain", "0")


@pytest.fixture
def world(strict_world: Any) -> Any:
    """These flows run on the strict AWS world (tests/strict_fixtures.py)."""
    return strict_world


class Watch:
    """The moto server's view of the watched step: is it in progress (per the plan file) when a
    request from the subprocess arrives, and has AWS carried out a change for it."""

    def __init__(self, plan: Path) -> None:
        self.plan = plan
        self.step: str | None = None
        self.changed = False
        self.lock = threading.Lock()

    def watch(self, step: str | None) -> None:
        with self.lock:
            self.step, self.changed = step, False

    def answered(self, change: bool) -> bool:
        """Note a request just carried out; whether to hold back its answer."""
        step = self.step
        if step is None:
            return False
        steps = read_steps(self.plan) or read_steps(self.plan) or []
        busy = any(s["id"] == step and s["state"]["status"] in ("running", "reverting")
                   for s in steps)
        if busy and change:
            with self.lock:
                self.changed = self.changed or self.step == step
        return busy

    def changed_for(self, step: str) -> bool:
        with self.lock:
            return self.step == step and self.changed


def is_change(environ: dict[str, Any]) -> bool:
    """Whether a request changes something: the query protocol's Action (EC2, ELBv2, STS) or the
    JSON protocol's X-Amz-Target (ACM) is not a read; for Route 53's REST API, a POST."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(size) if size else b""
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    action = target.rpartition(".")[2] or parse_qs(body.decode(errors="replace")).get(
        "Action", [""])[0]
    if action:
        return not action.startswith(("Describe", "List", "Get"))
    return environ.get("REQUEST_METHOD") == "POST"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Watch:
    """Watch the subprocesses' requests at the (in-process) moto server."""
    watch = Watch(tmp_path / "p.json")
    answer = DomainDispatcherApplication.__call__

    def watched(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if APP_ID not in environ.get("HTTP_USER_AGENT", ""):
            return answer(self, environ, start_response)
        change = is_change(environ)
        response = answer(self, environ, start_response)  # AWS acts here
        if watch.answered(change):
            time.sleep(HOLD)
        return response

    monkeypatch.setattr(DomainDispatcherApplication, "__call__", watched)
    return watch


def read_steps(path: Path) -> list[dict[str, Any]] | None:
    """The plan's steps with their states (from its state file), or None if they cannot be read
    right now."""
    try:
        return planfile.load(path).to_dict()["steps"]
    except PlanFileError:
        return None


def statuses(path: Path) -> dict[str, str]:
    steps = read_steps(path)
    assert steps is not None, f"{path} or its state file is not readable"  # saves are atomic
    return {s["id"]: s["state"]["status"] for s in steps}


_FORKS: list[ForkServer] = []


@pytest.fixture(scope="module", autouse=True)
def forks() -> Iterator[ForkServer]:
    """The processes are forked from a server that imported boto3 and parsed its models once
    (tests/forkserver.py): real processes, without 1.3 s of start-up CPU each."""
    with fork_server() as server:
        _FORKS.append(server)
        yield server
        _FORKS.remove(server)


def start(cwd: Path, args: Iterable[str]) -> Child:
    env = {**os.environ, "AWS_SDK_UA_APP_ID": APP_ID, "NO_COLOR": "1"}
    return _FORKS[0].spawn(list(args), cwd, env)


def reap(proc: Child, *, kill: bool = False) -> str:
    """Wait for the process (killing it first if asked) and return what it wrote to stderr.
    Reaped, its pid is dead, so the plan's lock it left is stale, as after a real crash."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.stderr_text()


class Missed(AssertionError):
    """The step finished before the kill point was seen."""


def kill_at(proc: Child, path: Path, step: str, wanted: str,
            server: Watch | None = None, *, after_change: bool = False
            ) -> dict[str, str] | None:
    """SIGKILL the process once `step`'s status is `wanted` (and, with `after_change`, once the
    server carried out a change for it); the statuses then, or None if the process ended
    first. With `server`, the server holds back answers while the step is in progress."""
    deadline = time.monotonic() + STEP_TIMEOUT
    if server is not None:
        server.watch(step)
    started = False
    while time.monotonic() < deadline:
        steps = read_steps(path)  # may be mid-replace: then try again
        seen = {s["id"]: s["state"]["status"] for s in steps} if steps else {}
        status = seen.get(step)
        started = started or status == wanted
        if status == wanted and (not after_change or (server and server.changed_for(step))):
            reap(proc, kill=True)
            return seen
        if started and status != wanted:
            reap(proc, kill=True)
            raise Missed(f"step {step} went on to {status} before the kill point")
        if proc.poll() is not None:
            return None
        time.sleep(POLL)
    reap(proc, kill=True)
    raise AssertionError(f"step {step} never reached the kill point within {STEP_TIMEOUT} s")


def kill_chain(cwd: Path, args: tuple[str, ...], targets: list[tuple[str, bool]], wanted: str,
               server: Watch | None) -> list[str]:
    """One process per (step, changes something) target, each resuming the last and killed at
    its step (given `server`, after the step's change if it makes one); the steps it was killed
    at (a process that finished first ends the chain)."""
    path = cwd / "p.json"
    killed = []
    for step, changing in targets:
        proc = start(cwd, args)
        try:
            seen = kill_at(proc, path, step, wanted, server,
                           after_change=changing and server is not None)
        except Missed:
            # A wait that ends within one poll on a loaded machine can slip past its kill point;
            # the process was killed a moment later all the same. A step that changes something
            # cannot slip: the server holds its answer back.
            if changing and server is not None:
                raise
            killed.append(f"{step} (late)")
            statuses(path)
            continue
        if seen is None:
            stderr = reap(proc)
            assert proc.returncode == 0, f"{' '.join(args)} failed before {step}: {stderr}"
            break
        killed.append(step)
        statuses(path)  # still a whole, valid state file after the kill
    return killed


def apply_targets(path: Path) -> list[tuple[str, bool]]:
    """Every step apply runs here (not the skipped checks, nor the lockdown, deferred until the
    old TTL has passed), and whether it changes something (waits do not)."""
    targets = []
    for step in read_steps(path) or []:
        if step["action"] == "dns.wait_old_ttl":
            break
        if not step["action"].startswith("verify."):
            targets.append((step["id"], ".wait_" not in step["action"]))
    return targets


def rollback_targets(path: Path) -> list[tuple[str, bool]]:
    """The steps rollback undoes with an AWS call, in its order (every undo changes something)."""
    done = [s for s in read_steps(path) or []
            if s["inverse"] and s["state"]["status"] == "done"]
    return [(s["id"], True) for s in reversed(done)]


def assert_migrated(state: dict[str, Any], original: dict[str, Any]) -> None:
    """Exactly one of everything the plan creates, and the site switched."""
    assert len(state["load_balancers"]) == 1, state["load_balancers"]
    assert len(state["target_groups"]) == 1, state["target_groups"]
    assert len(state["certificates"]) == 1, state["certificates"]
    assert len(state["security_groups"]) == len(original["security_groups"]) + 2
    assert sorted(port for _, port in state["listeners"]) == [80, 443]
    assert state["addresses"] == original["addresses"]
    (instance, groups), = state["instance_groups"].items()
    assert set(original["instance_groups"][instance]) < set(groups)
    www = [r for r in state["zones"]["example.com."]
           if r["Name"] == "www.example.com." and r["Type"] == "A"]
    assert len(www) == 1 and "AliasTarget" in www[0]


@pytest.mark.parametrize("kill_when", ["running", "done"])
def test_apply_and_rollback_killed_at_every_step(world: Any, session: boto3.Session, cli: Any,
                                                 tmp_path: Path, server: Watch,
                                                 kill_when: str) -> None:
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    path = tmp_path / "p.json"
    planned = path.read_bytes()
    watching = server if kill_when == "running" else None

    targets = apply_targets(path)
    killed = [k.removesuffix(" (late)") for k in
              kill_chain(tmp_path, APPLY, targets, kill_when, watching)]
    steps = [step for step, _ in targets]
    # Killed at every step (the last "done" kill may race the process's normal end).
    assert killed == steps or (kill_when == "done" and killed == steps[:-1]), killed

    resumed = cli(*APPLY)
    assert resumed.status == 0, resumed.stderr
    assert all(statuses(path)[step] == "done" for step in steps)
    assert_migrated(account_state(session), original)

    undo = rollback_targets(path)
    wanted = "reverting" if kill_when == "running" else "reverted"
    killed = kill_chain(tmp_path, ROLLBACK, undo, wanted, watching)
    steps = [step for step, _ in undo]
    assert killed == steps or (kill_when == "done" and killed == steps[:-1]), killed

    rolled = cli(*ROLLBACK)
    assert rolled.status == 0, rolled.stderr
    assert set(statuses(path).values()) <= {"reverted", "pending"}
    assert account_state(session) == original
    assert path.read_bytes() == planned  # every kill hit the state file, never the plan's


@pytest.mark.parametrize("step", ["certificate", "load_balancer", "switch_dns"])
def test_rollback_straight_after_a_killed_apply(world: Any, session: boto3.Session, cli: Any,
                                                tmp_path: Path, server: Watch,
                                                step: str) -> None:
    """No resume in between: rollback finds what the dead process created but never recorded
    (the step's outputs are missing) by its name and the plan's tag."""
    original = account_state(session)
    assert cli("plan", "--domain", "www.example.com", "--out", "p.json").status == 0
    path = tmp_path / "p.json"
    proc = start(tmp_path, APPLY)
    assert kill_at(proc, path, step, "running", server, after_change=True) is not None, \
        reap(proc)
    assert statuses(path)[step] == "running"

    rolled = cli(*ROLLBACK)
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == original


# Each kind of site AWS makes hard, killed inside the steps that differ for it (the plain site is
# killed at every step above): the process dies after AWS carried out the step's change and
# before the journal recorded it; apply then resumes, and a rollback killed inside the same
# step's undo is run again.
SITES = {
    "apex-www-cname": (WorldSpec(domain="example.com", extra_a_names=("www.example.com",),
                                 cname_names=("shop.example.com",)),
                       ("--domain", "example.com", "--san", "www.example.com")),
    "second-interface": (WorldSpec(second_interface=True, public_address_on_second_interface=True),
                         ("--domain", "www.example.com")),
    "dualstack": (WorldSpec(ipv6=True, aaaa=True), ("--domain", "www.example.com")),
}


@pytest.mark.parametrize(("site", "step"), [
    ("apex-www-cname", "validation_records"), ("apex-www-cname", "switch_dns"),
    ("second-interface", "attach_origin_group"),
    ("dualstack", "load_balancer"), ("dualstack", "switch_dns"),
])
def test_each_kind_of_site_survives_a_kill_inside_its_own_steps(
        strict_aws: StrictAWS, session: boto3.Session, cli: Any, tmp_path: Path,
        server: Watch, site: str, step: str) -> None:
    spec, plan_args = SITES[site]
    with strict_aws.relaxed():
        seed_world(session, spec)
    original = account_state(session)
    assert cli("plan", *plan_args, "--out", "p.json").status == 0
    path = tmp_path / "p.json"

    proc = start(tmp_path, APPLY)
    assert kill_at(proc, path, step, "running", server, after_change=True) is not None, \
        reap(proc)
    resumed = cli(*APPLY)
    assert resumed.status == 0, resumed.stderr
    migrated = account_state(session)
    assert len(migrated["load_balancers"]) == 1 and len(migrated["certificates"]) == 1

    proc = start(tmp_path, ROLLBACK)
    assert kill_at(proc, path, step, "reverting", server, after_change=True) is not None, \
        reap(proc)
    rolled = cli(*ROLLBACK)
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == original


# One load balancer for several sites: the steps only such plans have, each killed after AWS
# carried out its change and before the journal recorded it, on the way in (then apply resumes)
# and inside its undo (then rollback runs again). Every resource exists once at the end, the
# other sites keep their rules and certificates, and the account comes back exactly.
MORE_SITES = (SiteSpec("shop.example.com", "127.0.0.11"), SiteSpec("blog.example.com", "127.0.0.12"))
SHARED_ARGS = ("--domain", "www.example.com", "--domain", "shop.example.com",
               "--shared-load-balancer")
SHARED_STEPS = ("https_listener", "site_rule@shop.example.com",
                "listener_certificate@shop.example.com", "switch_dns@shop.example.com")
JOIN_STEPS = ("join_tag", "site_rule", "listener_certificate", "switch_dns")


def _host_rules(session: boto3.Session) -> list[tuple[str, ...]]:
    client = session.client("elbv2", region_name="ap-northeast-1")
    found = []
    for lb in client.describe_load_balancers()["LoadBalancers"]:
        for listener in client.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
                "Listeners"]:
            for rule in client.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                for condition in rule["Conditions"]:
                    if condition["Field"] == "host-header":
                        found.append(tuple(condition["HostHeaderConfig"]["Values"]))
    return sorted(found)


def _kill_at_each(tmp_path: Path, steps: tuple[str, ...], server: Watch) -> None:
    """Apply, killed inside each of steps in turn (each process resuming the last), then
    resumed to the end."""
    killed = kill_chain(tmp_path, APPLY, [(s, True) for s in steps], "running", server)
    assert killed == list(steps), killed


def _roll_back_killed_at_each(tmp_path: Path, steps: tuple[str, ...], server: Watch) -> None:
    """Rollback, killed inside the undo of each of steps (newest first), then run again."""
    undo = [(s, True) for s in reversed(steps)]
    killed = kill_chain(tmp_path, ROLLBACK, undo, "reverting", server)
    assert killed == [s for s, _ in undo], killed


def test_a_shared_plan_survives_kills_inside_its_own_steps(
        strict_aws: StrictAWS, session: boto3.Session, cli: Any, tmp_path: Path,
        server: Watch) -> None:
    with strict_aws.relaxed():
        seed_world(session, WorldSpec(more_sites=MORE_SITES[:1]))
    original = account_state(session)
    assert cli("plan", *SHARED_ARGS, "--out", "p.json").status == 0

    _kill_at_each(tmp_path, SHARED_STEPS, server)
    resumed = cli(*APPLY)
    assert resumed.status == 0, resumed.stderr
    migrated = account_state(session)
    assert len(migrated["load_balancers"]) == 1 and len(migrated["certificates"]) == 2
    assert len(migrated["target_groups"]) == 2
    assert _host_rules(session) == [("shop.example.com",), ("www.example.com",)]

    _roll_back_killed_at_each(tmp_path, SHARED_STEPS, server)
    rolled = cli(*ROLLBACK)
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == original


def test_a_joining_plan_survives_kills_inside_its_own_steps(
        strict_aws: StrictAWS, session: boto3.Session, cli: Any, tmp_path: Path,
        server: Watch) -> None:
    with strict_aws.relaxed():
        seed_world(session, WorldSpec(more_sites=MORE_SITES))
    original = account_state(session)
    assert cli("plan", *SHARED_ARGS, "--out", "shared.json").status == 0
    applied = cli("apply", "shared.json", "--yes", "--skip-verify")
    assert applied.status == 0, applied.stderr
    shared = account_state(session)
    lb = planfile.load(tmp_path / "shared.json").state("load_balancer").outputs["arn"]
    assert cli("plan", "--domain", "blog.example.com", "--load-balancer", lb,
               "--out", "p.json").status == 0

    _kill_at_each(tmp_path, JOIN_STEPS, server)
    resumed = cli(*APPLY)
    assert resumed.status == 0, resumed.stderr
    joined = account_state(session)
    assert joined["load_balancers"] == shared["load_balancers"]
    assert len(joined["certificates"]) == 3 and len(joined["target_groups"]) == 3
    assert _host_rules(session) == [("blog.example.com",), ("shop.example.com",),
                                    ("www.example.com",)]

    _roll_back_killed_at_each(tmp_path, JOIN_STEPS, server)
    rolled = cli(*ROLLBACK)
    assert rolled.status == 0, rolled.stderr
    assert account_state(session) == shared
    assert cli("rollback", "shared.json", "--yes", "--dns-drain", "0").status == 0
    assert account_state(session) == original
