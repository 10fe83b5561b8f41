"""The canary's gate: the load balancer's CloudWatch figures over a soak, judged against the
plan's bounds (the Flagger / Argo Rollouts kind of analysis, on the ALB's own metrics).

Figures (namespace AWS/ApplicationELB, 60-second periods, as the load balancer publishes them):
HTTPCode_Target_5XX_Count and HTTPCode_ELB_5XX_Count (Sum over the soak),
UnHealthyHostCount (the Maximum seen), TargetResponseTime (the highest per-minute Average), and
RequestCount (Sum, shown, not bounded). A count without data is 0 (a load balancer publishes
counts only when they are not zero); another figure without data (no request yet, or no
target group in use) is None and breaks no bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from migrator.core.gates import (
    BOUNDED,
    ELB_5XX,
    REQUESTS,
    RESPONSE_TIME,
    SHORT_NAMES,
    TARGET_5XX,
    UNHEALTHY,
    number,
)
from migrator.errors import MigratorError

PERIOD = 60  # seconds: an ALB publishes its metrics per minute

# Query id -> (metric, whose dimensions: the load balancer's alone or with the target group's,
# the statistic); the figure is then the sum, the maximum or the maximum of the values read.
_QUERIES: dict[str, tuple[str, str, str, Callable[[list[float]], float]]] = {
    "target5xx": (TARGET_5XX, "target", "Sum", sum),
    "elb5xx": (ELB_5XX, "lb", "Sum", sum),
    "unhealthy": (UNHEALTHY, "target", "Maximum", max),
    "responsetime": (RESPONSE_TIME, "target", "Average", max),
    "requests": (REQUESTS, "lb", "Sum", sum),
}
Figures = dict[str, float | None]


def arn_suffix(arn: str, kind: str) -> str:
    """The CloudWatch dimension value of a load balancer ("app/NAME/ID") or target group
    ("targetgroup/NAME/ID") ARN: what follows "loadbalancer/", or the resource part."""
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix("loadbalancer/") if kind == "lb" else resource


def read_figures(aws: Any, load_balancer_arn: str, target_group_arn: str, since: datetime,
                 until: datetime) -> Figures:
    """The figures from `since` to `until`, by metric name (None: no data). CloudWatch rounds
    a start time down to the whole minute, so on AWS the first minute may count requests from
    just before `since`: a gate errs on the side of caution."""
    lb = {"LoadBalancer": arn_suffix(load_balancer_arn, "lb")}
    # LoadBalancer first, as AWS lists them (moto matches dimensions in the order given).
    target = {**lb, "TargetGroup": arn_suffix(target_group_arn, "tg")}
    queries = {qid: (metric, target if dims == "target" else lb, stat)
               for qid, (metric, dims, stat, _) in _QUERIES.items()}
    end = max(until, since + timedelta(seconds=1))
    values = aws.cloudwatch.elb_metric_values(queries, since, end + timedelta(seconds=PERIOD),
                                              PERIOD)
    figures: Figures = {}
    for qid, (metric, _dims, stat, combine) in _QUERIES.items():
        read = values.get(qid) or []
        # A load balancer publishes a count only when it is not zero: no data is none counted.
        nothing = 0.0 if stat == "Sum" else None
        figures[metric] = float(combine(read)) if read else nothing
    return figures


def in_words(figures: Mapping[str, float | None], bounds: Mapping[str, float]) -> str:
    """The live figures with their bounds, for the progress line."""
    parts = []
    for metric in (REQUESTS, *BOUNDED):
        value = figures.get(metric)
        shown = "-" if value is None else number(metric, value)
        if metric in bounds:
            shown += f" (max {number(metric, bounds[metric])})"
        parts.append(f"{SHORT_NAMES[metric]} {shown}")
    return ", ".join(parts)


class CanaryGateError(MigratorError):
    """A canary stage's figures broke the plan's bounds; every name was put back on its
    original record. `failed` are the broken bounds in words, `figures` everything read."""

    def __init__(self, message: str, *, hint: str | None = None, stage: int = 0,
                 weight: int = 0, figures: Mapping[str, float | None] | None = None,
                 bounds: Mapping[str, float] | None = None,
                 failed: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint=hint)
        self.stage = stage
        self.weight = weight
        self.figures = dict(figures or {})
        self.bounds = dict(bounds or {})
        self.failed = failed
