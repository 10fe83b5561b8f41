"""The canary's gates as a plan states them: which of the load balancer's CloudWatch metrics
are bounded, and the bound on its response time drawn from the origin's latency (pure data,
shared by the planner, the review and the canary action)."""

from __future__ import annotations

from collections.abc import Mapping

TARGET_5XX = "HTTPCode_Target_5XX_Count"
ELB_5XX = "HTTPCode_ELB_5XX_Count"
UNHEALTHY = "UnHealthyHostCount"
RESPONSE_TIME = "TargetResponseTime"
REQUESTS = "RequestCount"
BOUNDED = (TARGET_5XX, ELB_5XX, UNHEALTHY, RESPONSE_TIME)
# The response time bound when preflight could not measure the origin (HTTPS not reachable).
UNMEASURED_RESPONSE_TIME_BOUND = 1.0
SHORT_NAMES = {TARGET_5XX: "target 5XX", ELB_5XX: "ELB 5XX", UNHEALTHY: "unhealthy hosts",
               RESPONSE_TIME: "response time", REQUESTS: "requests"}
MEANING = {
    TARGET_5XX: "5XX answers of the instance through the load balancer, over the soak",
    ELB_5XX: "5XX answers of the load balancer itself (502, 503, 504), over the soak",
    UNHEALTHY: "targets failing the health check at any one time",
    RESPONSE_TIME: "the instance's average response time through the load balancer, per "
                   "minute",
}


def response_time_bound(origin_latency: float | None, factor: float, margin: float) -> float:
    """The highest TargetResponseTime a stage may show: factor x the origin's latency as
    preflight measured it, plus margin (UNMEASURED_RESPONSE_TIME_BOUND when not measured)."""
    if origin_latency is None:
        return UNMEASURED_RESPONSE_TIME_BOUND
    return round(origin_latency * factor + margin, 3)


def number(metric: str, value: float) -> str:
    """A figure or bound as people read it: seconds for the response time, else a count."""
    return f"{value:.3f} s" if metric == RESPONSE_TIME else f"{value:g}"


def breaches(figures: Mapping[str, float | None], bounds: Mapping[str, float]) -> list[str]:
    """Each bounded figure above its bound, in words ("HTTPCode_Target_5XX_Count 12 > 0"); a
    figure without data (no request yet) breaks nothing."""
    found = []
    for metric in BOUNDED:
        value, bound = figures.get(metric), bounds.get(metric)
        if value is not None and bound is not None and value > bound:
            found.append(f"{metric} {number(metric, value)} > {number(metric, bound)}")
    return found
