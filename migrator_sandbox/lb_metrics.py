"""The load balancers' CloudWatch metrics: what the data plane serves, published to moto's
CloudWatch the way an Application Load Balancer publishes them (namespace AWS/ApplicationELB).

The data plane reports each request it answers (``served``); every ``interval`` seconds the
counts are published as one aggregated datum per metric, timestamped then:

* dimension LoadBalancer (``app/NAME/ID``): RequestCount, HTTPCode_ELB_5XX_Count (the load
  balancer's own 502/503/504);
* dimensions LoadBalancer + TargetGroup (``targetgroup/NAME/ID``), in that order (moto matches
  dimensions in the order given): HTTPCode_Target_5XX_Count, TargetResponseTime (seconds, from
  sending the request to the target until its answer was relayed), and UnHealthyHostCount for
  every target group a listener forwards to, published every interval whatever the traffic.

As on AWS, a count is published only when it is not zero. AWS aggregates per minute; a soak of
a few seconds can read these per-second data with a 60-second period all the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

NAMESPACE = "AWS/ApplicationELB"
# (account, region, load balancer ARN, target group ARN) -> targets failing the health check
Unhealthy = Callable[[], dict[tuple[str, str, str, str], int]]


def dimension(arn: str) -> str:
    """A load balancer's or target group's CloudWatch dimension value from its ARN."""
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix("loadbalancer/")


@dataclass
class _Counts:
    requests: int = 0
    elb_5xx: int = 0
    target_5xx: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    response_times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class LoadBalancerMetrics:
    """Counts what the data plane answers; publishes it to moto's CloudWatch in a thread."""

    def __init__(self, unhealthy: Unhealthy, *, interval: float = 1.0) -> None:
        self.unhealthy = unhealthy
        self.interval = interval
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], _Counts] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def served(self, account: str, region: str, lb_arn: str, *, elb_status: int | None = None,
               target_group: str | None = None, target_status: int | None = None,
               seconds: float | None = None) -> None:
        """One request answered: by the load balancer itself (elb_status), or relayed from a
        target of target_group (target_status, taking seconds)."""
        with self._lock:
            counts = self._counts.setdefault((account, region, lb_arn), _Counts())
            counts.requests += 1
            if elb_status is not None and elb_status >= 500:
                counts.elb_5xx += 1
            if target_group is not None:
                if target_status is not None and target_status >= 500:
                    counts.target_5xx[target_group] += 1
                if seconds is not None:
                    counts.response_times[target_group].append(seconds)

    def flush(self) -> None:
        """Publish what was counted since the last flush, and the unhealthy host counts."""
        with self._lock:
            counts, self._counts = self._counts, {}
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # moto compares naive UTC times
        data: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for (account, region, lb_arn), c in counts.items():
            lb = [{"Name": "LoadBalancer", "Value": dimension(lb_arn)}]
            out = data[(account, region)]
            out.append(_count("RequestCount", lb, c.requests, at))
            if c.elb_5xx:
                out.append(_count("HTTPCode_ELB_5XX_Count", lb, c.elb_5xx, at))
            for tg_arn, n in c.target_5xx.items():
                out.append(_count("HTTPCode_Target_5XX_Count", _target(lb, tg_arn), n, at))
            for tg_arn, times in c.response_times.items():
                out.append({"MetricName": "TargetResponseTime", "Dimensions": _target(lb, tg_arn),
                            "Timestamp": at, "Unit": "Seconds", "StatisticValues": {
                                "SampleCount": len(times), "Sum": sum(times),
                                "Minimum": min(times), "Maximum": max(times)}})
        for (account, region, lb_arn, tg_arn), n in self.unhealthy().items():
            lb = [{"Name": "LoadBalancer", "Value": dimension(lb_arn)}]
            data[(account, region)].append({
                "MetricName": "UnHealthyHostCount", "Dimensions": _target(lb, tg_arn),
                "Timestamp": at, "Unit": "Count", "Value": float(n)})
        for (account, region), metrics in data.items():
            _put(account, region, metrics)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # moto changing under us; the next round publishes
                log.debug("load balancer metrics: flush failed", exc_info=True)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sandbox-lb-metrics",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _target(lb: list[dict[str, str]], tg_arn: str) -> list[dict[str, str]]:
    return [*lb, {"Name": "TargetGroup", "Value": dimension(tg_arn)}]


def _count(name: str, dimensions: list[dict[str, str]], n: int,
           at: dt.datetime) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Unit": "Count",
            "StatisticValues": {"SampleCount": float(n), "Sum": float(n), "Minimum": 1.0,
                                "Maximum": 1.0}}


def _put(account: str, region: str, metrics: list[dict[str, Any]]) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[account][region]
    for start in range(0, len(metrics), 1000):  # PutMetricData's limit per request
        backend.put_metric_data(NAMESPACE, metrics[start:start + 1000])
