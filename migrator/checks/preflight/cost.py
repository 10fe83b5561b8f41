"""Preflight's cost finding: the load balancer's monthly base price in the region, with its
sources (prices in migrator.core.pricing)."""

from __future__ import annotations

from migrator.checks.preflight.model import Finding
from migrator.core.pricing import (
    ALB_PRICES,
    HOURS_PER_MONTH,
    IPV4_HOURLY,
    IPV4_SOURCE,
    PRICE_DATE,
    PRICE_SOURCE,
    monthly_base,
)

__all__ = ["ALB_PRICES", "PRICE_DATE", "PRICE_SOURCE", "check_cost", "monthly_base"]


def check_cost(region: str, zones: int = 2) -> Finding:
    """The monthly base price of the load balancer in `region`, spanning `zones` zones."""
    price = ALB_PRICES.get(region)
    if price is None:
        return Finding(
            "cost", "info",
            f"price unknown for {region}: an Application Load Balancer is billed per hour "
            "plus LCU-hours",
            hint=f"see {PRICE_SOURCE}", data={"region": region, "source": PRICE_SOURCE})
    monthly = monthly_base(region)
    ipv4 = round(IPV4_HOURLY * HOURS_PER_MONTH * zones, 2)
    return Finding(
        "cost", "info",
        f"the load balancer costs about ${monthly:.2f} a month in {region} "
        f"(${price.hourly} per hour x {HOURS_PER_MONTH} h), plus ${price.lcu_hourly} per "
        "LCU-hour of traffic (one LCU: 25 new connections/s, 3,000 active connections/min, "
        "1 GB/h or 1,000 rule evaluations/s; a small site uses a fraction of one) and about "
        f"${ipv4:.2f} for its public IPv4 addresses (${IPV4_HOURLY}/h each, one per zone); "
        "the ACM certificate is free",
        hint=f"prices from {PRICE_SOURCE} and {IPV4_SOURCE} as of {PRICE_DATE}",
        data={"region": region, "hourly_usd": price.hourly, "monthly_usd": monthly,
              "lcu_hourly_usd": price.lcu_hourly, "hours_per_month": HOURS_PER_MONTH,
              "ipv4_monthly_usd": ipv4, "zones": zones,
              "source": PRICE_SOURCE, "as_of": PRICE_DATE})
