"""How long the origin keeps idle connections, and the load balancer's idle timeout chosen from
it: the probe against the sandbox origin on loopback (nginx-like, Apache-like, silent, gone),
the pure choice, the plan options it lands in, and the CLI flags.

Sleeping is bounded on purpose: one probe waits ~1 s for an origin closing after 1 s, one 0.5 s
for an origin that outlasts the bound; everything else is answered by a header or refused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrator.checks.preflight.idle import (
    DEFAULT_BOUND,
    IdleProbe,
    OriginIdle,
    choose_idle_timeout,
    measure_origin_idle,
    with_idle_choice,
)
from migrator.checks.preflight.model import Finding
from migrator.core.plan import Plan, PlanOptions
from migrator.errors import PlanFileError
from migrator.net.config import NetConfig
from tests.support.preflight.cli import (
    accepted,
    finding,
    findings_of,
    one_line,
)
from tests.support.preflight.origin import Reply, closed_port

pytestmark = pytest.mark.usefixtures("loopback_only")

SITE, ADDRESS = "www.example.com", "127.0.0.10"
EXAMPLE = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"


def net_to(rule: str) -> NetConfig:
    return NetConfig.from_env({"MIGRATOR_CONNECT_TO": rule})


def measure(rule: str, bound: float = DEFAULT_BOUND) -> tuple[OriginIdle, float]:
    start = time.monotonic()
    result = measure_origin_idle(SITE, ADDRESS, "/health", net_to(rule), bound=bound)
    return result, time.monotonic() - start


# -- the probe -------------------------------------------------------------------------------


def test_an_advertised_keep_alive_timeout_answers_at_once(keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=5, advertise=True)
    result, took = measure(origin.connect_to())
    assert result.seconds == 5 and result.advertised and result.measured
    assert "advertises Keep-Alive: timeout=5" in result.detail
    assert took < 1.0  # no waiting


def test_the_sandbox_origin_is_nginx_like_by_default(keepalive_origin: Any) -> None:
    result, _ = measure(keepalive_origin().connect_to())
    assert (result.seconds, result.advertised) == (75, True)
    assert choose_idle_timeout(result).idle_timeout_seconds == 60


def test_an_origin_closing_after_a_second_without_saying_so_is_timed_in_a_thread(
        keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=1, advertise=False)  # Apache-like, quicker
    start = time.monotonic()
    probe = IdleProbe(SITE, ADDRESS, "/health", net_to(origin.connect_to())).start()
    assert time.monotonic() - start < 0.2  # the other checks run meanwhile
    result = probe.result()
    took = time.monotonic() - start
    assert result.measured and not result.advertised and result.keep_alive
    assert result.seconds is not None and 0.7 <= result.seconds <= 1.6, result
    assert took < 2.5
    assert "closed an idle connection after 1.0 s" in result.detail or \
        "closed an idle connection after 0.9 s" in result.detail
    choice = choose_idle_timeout(result)
    assert choice.idle_timeout_seconds == 1 and choice.finding.level == "warn"


def test_an_origin_outlasting_the_bound_is_none(keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=30, advertise=False)
    result, took = measure(origin.connect_to(), bound=0.5)
    assert result.seconds is None and result.measured and result.bound == 0.5
    assert "kept an idle connection open for 0.5 s" in result.detail
    assert 0.45 <= took < 1.5


def test_an_unreachable_origin_is_not_measured() -> None:
    result, took = measure(f"{ADDRESS}:443:{ADDRESS}:{closed_port()}")
    assert result.seconds is None and not result.measured
    assert result.error is not None and result.error.startswith("connection refused at")
    assert took < 1.0
    choice = choose_idle_timeout(result)
    assert (choice.idle_timeout_seconds, choice.origin_idle_seconds) == (60, None)
    assert choice.finding.level == "info"


def test_a_loopback_address_without_a_connect_to_rule_is_not_contacted() -> None:
    result = measure_origin_idle(SITE, ADDRESS, "/", NetConfig())
    assert not result.measured and "MIGRATOR_CONNECT_TO does not map" in (result.error or "")


def test_an_origin_closing_after_each_response_keeps_sixty(start_origin: Any) -> None:
    origin = start_origin({"/health": Reply(200)})  # answers with Connection: close
    result, took = measure(origin.connect_to())
    assert not result.keep_alive and result.measured and took < 1.0
    choice = choose_idle_timeout(result)
    assert choice.idle_timeout_seconds == 60 and choice.finding.level == "info"
    assert "Connection: close" in choice.finding.message


# -- the choice ------------------------------------------------------------------------------


def origin(seconds: float | None, *, advertised: bool = False, bound: float = DEFAULT_BOUND,
           keep_alive: bool = True, error: str | None = None) -> OriginIdle:
    return OriginIdle(seconds, advertised, "the instance at here does so", bound,
                      keep_alive=keep_alive, error=error)


@pytest.mark.parametrize(("idle", "timeout", "level"), [
    (origin(75, advertised=True), 60, "pass"),      # nginx
    (origin(61), 60, "pass"),
    (origin(None), 60, "pass"),                     # kept open the whole 61 s
    (origin(60.5), 59, "warn"),                     # not a second longer than the ALB
    (origin(60, advertised=True), 59, "warn"),
    (origin(5, advertised=True), 4, "warn"),        # Apache's default, advertised
    (origin(4.97), 4, "warn"),                      # Apache's 5 s, measured
    (origin(2.02), 1, "warn"),
    (origin(1.0), 1, "warn"),                       # ELB's minimum is 1 s
    (origin(0.05), 1, "warn"),                      # closes at once, without saying so
    (origin(None, bound=10), 60, "info"),           # a short probe proves less
    (origin(None, keep_alive=False), 60, "info"),
    (origin(None, error="connection refused"), 60, "info"),
])
def test_the_idle_timeout_proposed(idle: OriginIdle, timeout: int, level: str) -> None:
    choice = choose_idle_timeout(idle)
    assert choice.idle_timeout_seconds == timeout
    assert choice.finding.level == level
    assert choice.finding.check == "idle-timeout"
    assert choice.origin_idle_seconds == idle.seconds
    assert choice.finding.data["idle_timeout_seconds"] == timeout
    if level == "warn":
        assert "502" in choice.finding.message
        assert "keepalive_timeout" in choice.finding.hint
        assert "KeepAliveTimeout" in choice.finding.hint
        assert "plan again to keep 60 s" in choice.finding.hint


@pytest.mark.parametrize(("idle", "override", "level"), [
    (origin(5, advertised=True), 30, "warn"),   # not below the origin's 5 s
    (origin(5, advertised=True), 5, "warn"),
    (origin(5, advertised=True), 4, "pass"),
    (origin(None, bound=0), 30, "info"),        # no header, and the wait was skipped
    (origin(None, error="refused"), 30, "info"),
])
def test_an_override_is_kept_and_judged(idle: OriginIdle, override: int, level: str) -> None:
    choice = choose_idle_timeout(idle, override=override)
    assert choice.idle_timeout_seconds == override
    assert choice.finding.level == level
    if level == "warn":
        assert f"--idle-timeout {override} s is not below the instance's 5 s" in \
            choice.finding.message
        assert "--idle-timeout 4 or less" in choice.finding.hint


def test_the_choice_lands_in_the_plan_options() -> None:
    choice = choose_idle_timeout(origin(5, advertised=True))
    options = with_idle_choice(PlanOptions(), [Finding("cost", "info", "x"), choice.finding])
    assert (options.idle_timeout_seconds, options.origin_idle_seconds) == (4, 5)
    assert with_idle_choice(PlanOptions(), [Finding("cost", "info", "x")]) == PlanOptions()


# -- the plan file ---------------------------------------------------------------------------


def test_plan_files_from_before_the_idle_fields_load_with_the_defaults() -> None:
    data = json.loads(EXAMPLE.read_text())
    data["options"].pop("idle_timeout_seconds", None)
    data["options"].pop("origin_idle_seconds", None)
    plan = Plan.from_dict(data)
    assert plan.options.idle_timeout_seconds == 60
    assert plan.options.origin_idle_seconds is None
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.options == plan.options
    assert plan.to_dict()["options"]["idle_timeout_seconds"] == 60


def test_the_idle_fields_round_trip_and_bad_values_are_refused() -> None:
    data = json.loads(EXAMPLE.read_text())
    data["options"].update(idle_timeout_seconds=4, origin_idle_seconds=4.97)
    plan = Plan.from_dict(data)
    assert (plan.options.idle_timeout_seconds, plan.options.origin_idle_seconds) == (4, 4.97)
    assert Plan.from_dict(plan.to_dict()).options == plan.options
    for bad in (0, 4001, "60", 1.5, True):
        data["options"]["idle_timeout_seconds"] = bad
        with pytest.raises(PlanFileError, match="damaged"):
            Plan.from_dict(data)


# -- through the CLI -------------------------------------------------------------------------


def plan_options() -> dict[str, Any]:
    return json.loads(Path("p.json").read_text())["options"]


def test_plan_proposes_an_idle_timeout_below_an_apache_like_origin(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=5, advertise=True)
    out = one_line(accepted(cli, session, {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}))
    assert "WARN idle-timeout" in out
    assert "closes idle connections after 5 s" in out
    assert "sets the load balancer's idle timeout to 4 s" in out
    assert plan_options()["idle_timeout_seconds"] == 4
    assert plan_options()["origin_idle_seconds"] == 5


def test_plan_times_an_origin_that_closes_without_saying_so(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=1, advertise=False)
    out = one_line(accepted(cli, session, {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}))
    assert "WARN idle-timeout" in out and "closed an idle connection after" in out
    assert plan_options()["idle_timeout_seconds"] == 1
    assert 0.7 <= plan_options()["origin_idle_seconds"] <= 1.6


def test_plan_keeps_sixty_for_an_nginx_like_origin(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        keepalive_origin: Any) -> None:
    origin = keepalive_origin()
    out = one_line(accepted(cli, session, {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}))
    assert "PASS idle-timeout" in out and "WARN" not in out
    assert (plan_options()["idle_timeout_seconds"], plan_options()["origin_idle_seconds"]) == (
        60, 75)


def test_idle_timeout_flag_overrides_and_is_warned_about(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=5, advertise=True)
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(accepted(cli, session, env, "--idle-timeout", "30"))
    assert "WARN idle-timeout --idle-timeout 30 s is not below the instance's 5 s" in out
    assert (plan_options()["idle_timeout_seconds"], plan_options()["origin_idle_seconds"]) == (
        30, 5)


def test_idle_timeout_flag_skips_the_wait(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=30, advertise=False)  # would take 30 s
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    out = one_line(accepted(cli, session, env, "--idle-timeout", "45"))
    assert "INFO idle-timeout the load balancer's idle timeout is 45 s (--idle-timeout)" in out
    assert "not waited for" in out
    assert plan_options()["idle_timeout_seconds"] == 45


def test_origin_idle_probe_flag_bounds_the_wait(
        world: Any, session: boto3.Session, cli: Any, dns_env: dict[str, str],
        keepalive_origin: Any) -> None:
    origin = keepalive_origin(keepalive_seconds=30, advertise=False)
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    idle = finding(findings_of(cli, env, "--origin-idle-probe", "0.5"), "idle-timeout")
    assert idle["level"] == "info"
    assert "kept an idle connection open for 0.5 s" in idle["message"]
    assert idle["data"]["bound"] == 0.5 and idle["data"]["idle_timeout_seconds"] == 60


@pytest.mark.parametrize(("args", "message"), [
    (("--idle-timeout", "0"), "--idle-timeout 0 is outside 1-4000 seconds"),
    (("--idle-timeout", "4001"), "--idle-timeout 4001 is outside 1-4000 seconds"),
    (("--idle-timeout", "soon"), "invalid int value"),
    (("--origin-idle-probe", "-1"), "--origin-idle-probe -1 is outside"),
])
def test_bad_idle_flags_are_usage_errors(cli: Any, aws: str, args: tuple[str, ...],
                                         message: str) -> None:
    result = cli("plan", "--domain", "www.example.com", *args)
    assert result.status == 2
    assert message in result.stderr
    assert not Path("plans").exists()


# -- the wizard ------------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "flags", "expected", "asked"), [
    ({}, (), 4, True),                                  # the proposal, as `plan` makes it
    ({"--idle-timeout": "3"}, (), 3, True),
    ({}, ("--idle-timeout", "2"), 2, False),            # a flag answers the question
])
def test_the_wizard_proposes_the_same_idle_timeout(
        world: Any, cli: Any, dns_env: dict[str, str], keepalive_origin: Any,
        monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], flags: tuple[str, ...],
        expected: int, asked: bool) -> None:
    import migrator.cli.commands
    from migrator.cli.prompts import CannedPrompter

    origin = keepalive_origin(keepalive_seconds=5, advertise=True)
    prompter = CannedPrompter({"--domain": "www.example.com", "--yes": False, **answers})
    monkeypatch.setattr(migrator.cli.commands, "prompter", lambda env, assume_yes=False: prompter)
    env = {**dns_env, "MIGRATOR_CONNECT_TO": origin.connect_to()}
    result = cli("wizard", "--region", "ap-northeast-1", *flags, env=env)
    assert result.status == 0, result.stdout + result.stderr
    [path] = Path("plans").glob("*.json")
    options = json.loads(path.read_text())["options"]
    assert (options["idle_timeout_seconds"], options["origin_idle_seconds"]) == (expected, 5)
    assert ("--idle-timeout" in prompter.asked) is asked
    assert prompter.asked.count("--idle-timeout") <= 1
