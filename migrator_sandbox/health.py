"""Target health, checked for real and reported through moto's DescribeTargetHealth.

Every ``interval`` seconds each target of every target group that a load balancer listener
forwards to is probed the way the target group's health check says (protocol, port -- the
``traffic-port`` or a number --, path, success codes), from the load balancer's own address, so
security groups apply. The state is the last probe's result:

* ``initial`` (Elb.RegistrationInProgress) until the first probe of a target finished,
* ``healthy``, or ``unhealthy`` with Target.ResponseCodeMismatch / Target.Timeout /
  Target.FailedHealthChecks,
* ``unused`` (Target.NotInUse) for target groups no listener forwards to.

Deregistered, draining and stopped targets keep moto's own answer. The sandbox probes every second
and needs one result to change state (AWS: 30 s and 5 results by default), so a rehearsal does
not wait minutes.

With ``time_scale`` (the strict AWS world) the checks follow the target group as AWS does, on a
scaled clock: each group is probed every HealthCheckIntervalSeconds x ``time_scale``; a target
turns ``healthy`` after HealthyThresholdCount consecutive successes and ``unhealthy`` after
UnhealthyThresholdCount consecutive failures (it stays ``initial`` until one of them), and only
listeners of ``active`` load balancers put a group in use.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import moto_state
from .moto_state import LoadBalancer, Target, TargetGroup
from .proxy import Upstream, UpstreamConnection

log = logging.getLogger(__name__)

# (load balancer, group, target, protocol, port) -> (target address, how to reach it)
ResolveTarget = Callable[[LoadBalancer, TargetGroup, Target, str, int], tuple[str, Upstream] | None]


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str | None = None
    description: str | None = None


INITIAL = Verdict("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
UNUSED = Verdict(
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)
HEALTHY = Verdict("healthy")

STRICT_TICK = 0.05  # how often the strict loop looks for due probes (seconds)


@dataclass
class _Track:
    """Consecutive results of one target (strict mode)."""

    verdict: Verdict = INITIAL
    successes: int = 0
    failures: int = 0

    def add(self, result: Verdict, healthy_threshold: int, unhealthy_threshold: int) -> None:
        if result.state == "healthy":
            self.successes, self.failures = self.successes + 1, 0
            if self.verdict.state != "healthy" and self.successes >= healthy_threshold:
                self.verdict = HEALTHY
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.verdict.state == "unhealthy" or self.failures >= unhealthy_threshold:
                self.verdict = result


def code_matches(matcher: str, status: int) -> bool:
    """ELBv2 success codes: ``200``, ``200,202``, ``200-299``."""
    for part in matcher.replace(" ", "").split(","):
        if "-" in part:
            low, _, high = part.partition("-")
            if low.isdigit() and high.isdigit() and int(low) <= status <= int(high):
                return True
        elif part.isdigit() and int(part) == status:
            return True
    return False


def forwarded_groups(lbs: list[LoadBalancer]) -> dict[str, LoadBalancer]:
    """Target group ARN -> the (first) load balancer whose listeners forward to it."""
    groups: dict[str, LoadBalancer] = {}
    for lb in lbs:
        for listener in lb.listeners:
            actions = list(listener.default_actions)
            for rule in listener.rules:
                actions += list(rule.actions)
            for action in actions:
                for arn, _weight in action.forward_groups():
                    groups.setdefault(arn, lb)
    return groups


class HealthMonitor:
    """Probes targets in a thread; answers ``verdict()`` for the proxy and for moto."""

    def __init__(
        self,
        resolve: ResolveTarget,
        *,
        interval: float = 1.0,
        timeout: float = 2.0,
        time_scale: float | None = None,
    ):
        self._resolve = resolve
        self.interval = interval
        self.timeout = timeout
        self.time_scale = time_scale
        self._tracks: dict[tuple[str, str, int], _Track] = {}
        self._next_due: dict[str, float] = {}
        self._lock = threading.Lock()
        self._verdicts: dict[tuple[str, str, int], Verdict] = {}
        self._in_use: set[str] = set()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._cycle = threading.Condition()
        self._cycles = 0
        self._original_health_for: Any = None

    # -- queries ----------------------------------------------------------------------------

    def verdict(self, tg_arn: str, target_id: str, port: int) -> Verdict:
        with self._lock:
            if tg_arn not in self._in_use:
                return UNUSED
            return self._verdicts.get((tg_arn, target_id, int(port)), INITIAL)

    def wait_cycles(self, count: int = 2, timeout: float = 10.0) -> bool:
        """Block until ``count`` more probe rounds finished (tests)."""
        with self._cycle:
            goal = self._cycles + count
            return self._cycle.wait_for(lambda: self._cycles >= goal, timeout=timeout)

    # -- probing ----------------------------------------------------------------------------

    def probe(self, upstream: Upstream, path: str, matcher: str, host: str) -> Verdict:
        conn = UpstreamConnection(upstream)
        try:
            conn.putrequest("GET", path or "/", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host)
            conn.putheader("User-Agent", "ELB-HealthChecker/2.0")
            conn.putheader("Connection", "close")
            conn.endheaders()
            response = conn.getresponse()
            response.read(64 * 1024)
        except TimeoutError:
            return Verdict("unhealthy", "Target.Timeout", "Request timed out")
        except (OSError, http.client.HTTPException):
            return Verdict("unhealthy", "Target.FailedHealthChecks", "Health checks failed")
        finally:
            conn.close()
        if code_matches(matcher, response.status):
            return HEALTHY
        return Verdict(
            "unhealthy",
            "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{response.status}]",
        )

    def _probe_target(self, lb: LoadBalancer, tg: TargetGroup, target: Target) -> Verdict:
        if tg.health_check_port == "traffic-port":
            port = target.port
        else:
            port = int(tg.health_check_port) if tg.health_check_port.isdigit() else 0
        resolved = self._resolve(lb, tg, target, tg.health_check_protocol, port)
        if resolved is None:
            return Verdict("unhealthy", "Target.FailedHealthChecks", "Health checks failed")
        address, found = resolved
        upstream = Upstream(
            found.host,
            found.port,
            tls=found.tls,
            sni=None,  # health checks carry no SNI; Host is the target's address
            source_address=found.source_address,
            timeout=min(self.timeout, tg.health_check_timeout),
        )
        return self.probe(upstream, tg.health_check_path, tg.matcher, f"{address}:{port}")

    def run_once(self) -> None:
        lbs = moto_state.load_balancers()
        if self.time_scale is not None:
            lbs = [lb for lb in lbs if lb.state == "active"]
        users = forwarded_groups(lbs)
        if self.time_scale is not None:
            verdicts = self._strict_round(users)
        else:
            verdicts = {}
            for tg_arn, lb in users.items():
                tg = moto_state.target_group(lb.account_id, lb.region, tg_arn)
                if tg is None:
                    continue
                for target in tg.targets:
                    verdicts[(tg_arn, target.id, target.port)] = self._probe_target(lb, tg, target)
        with self._lock:
            self._verdicts = verdicts
            self._in_use = set(users)
        with self._cycle:
            self._cycles += 1
            self._cycle.notify_all()

    def _strict_round(self, users: dict[str, LoadBalancer]) -> dict[tuple[str, str, int], Verdict]:
        """Probe the groups that are due; thresholds decide each target's state."""
        assert self.time_scale is not None
        now = time.monotonic()
        live: set[tuple[str, str, int]] = set()
        for tg_arn, lb in users.items():
            tg = moto_state.target_group(lb.account_id, lb.region, tg_arn)
            if tg is None:
                continue
            keys = [(tg_arn, t.id, t.port) for t in tg.targets]
            live.update(keys)
            if now < self._next_due.get(tg_arn, 0.0):
                continue
            self._next_due[tg_arn] = now + max(tg.health_check_interval * self.time_scale, 0.01)
            for key, target in zip(keys, tg.targets, strict=True):
                result = self._probe_target(lb, tg, target)
                track = self._tracks.setdefault(key, _Track())
                track.add(result, tg.healthy_threshold, tg.unhealthy_threshold)
        for key in [k for k in self._tracks if k not in live]:
            del self._tracks[key]
        for tg_arn in [a for a in self._next_due if a not in users]:
            del self._next_due[tg_arn]
        return {key: track.verdict for key, track in self._tracks.items()}

    def wake(self) -> None:
        """Probe now rather than at the next interval (e.g. a listener started using a group)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:  # keep probing whatever moto does meanwhile
                log.debug("health: probe round failed", exc_info=True)
            tick = self.interval if self.time_scale is None else min(self.interval, STRICT_TICK)
            self._wake.wait(tick)

    def start(self) -> None:
        self._install_moto_patch()
        self._thread = threading.Thread(target=self._loop, name="sandbox-health", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._remove_moto_patch()

    # -- moto -------------------------------------------------------------------------------

    def _install_moto_patch(self) -> None:
        from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

        original = FakeTargetGroup.health_for
        monitor = self

        def health_for(tg: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
            status = original(tg, target, ec2_backend)
            if status.status != "healthy":
                return status
            verdict = monitor.verdict(tg.arn, str(status.instance_id), int(status.port))
            if verdict.state == "healthy":
                return status
            return FakeHealthStatus(
                status.instance_id,
                status.port,
                status.health_check_port,
                verdict.state,
                verdict.reason,
                verdict.description,
            )

        self._original_health_for = original
        FakeTargetGroup.health_for = health_for  # type: ignore[method-assign, assignment]  # deliberate moto monkeypatch

    def _remove_moto_patch(self) -> None:
        if self._original_health_for is None:
            return
        from moto.elbv2.models import FakeTargetGroup

        with contextlib.suppress(Exception):
            FakeTargetGroup.health_for = self._original_health_for  # type: ignore[method-assign]  # deliberate moto monkeypatch
        self._original_health_for = None
