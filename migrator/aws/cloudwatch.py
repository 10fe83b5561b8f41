"""CloudWatch: the load balancer's figures over a window, in one GetMetricData request (the
canary's gates)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from migrator.aws.calls import wrap_service

ELB_NAMESPACE = "AWS/ApplicationELB"
# A query: (metric name, its dimensions, the statistic: Sum, Maximum, Average, ...).
Query = tuple[str, Mapping[str, str], str]


@wrap_service
class CloudWatch:
    """Typed wrapper over a CloudWatch client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def elb_metric_values(self, queries: Mapping[str, Query], start: datetime, end: datetime,
                          period: int) -> dict[str, list[float]]:
        """Each AWS/ApplicationELB query's values over [start, end), one per period that had
        data (none at all when nothing was published), by query id (a lower-case letter, then
        letters, digits or _)."""
        request: dict[str, Any] = {
            "MetricDataQueries": [{
                "Id": query_id, "ReturnData": True,
                "MetricStat": {
                    "Metric": {"Namespace": ELB_NAMESPACE, "MetricName": metric,
                               "Dimensions": [{"Name": n, "Value": v}
                                              for n, v in dimensions.items()]},
                    "Period": period, "Stat": stat}}
                for query_id, (metric, dimensions, stat) in queries.items()],
            "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
        values: dict[str, list[float]] = {query_id: [] for query_id in queries}
        while True:
            page = self._client.get_metric_data(**request)
            for result in page.get("MetricDataResults", []):
                values.setdefault(result["Id"], []).extend(float(v) for v in result["Values"])
            token = page.get("NextToken")
            if not token:
                return values
            request["NextToken"] = token
