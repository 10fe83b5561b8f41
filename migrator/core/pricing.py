"""What a load balancer costs: its hourly base price in the region times 730 hours, plus a note on
LCUs (load balancer capacity units), billed per hour on top by traffic.

The figures are On-Demand prices in USD for an Application Load Balancer, from the Elastic Load
Balancing pricing page (PRICE_SOURCE), taken on PRICE_DATE. They have not changed since AWS
launched these regions' rates (the same figures appear in the AWS Price List and in
third-party tables from 2017 to 2026), but prices can change: the source is the authority.
Regions not in the table get "price unknown".
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_SOURCE = "https://aws.amazon.com/elasticloadbalancing/pricing/"
PRICE_DATE = "2026-11-24"
HOURS_PER_MONTH = 730  # AWS's own convention for a month in its pricing examples
# Every public IPv4 address is billed since 2024-02-01 (VPC pricing page), including the ones
# an internet-facing load balancer holds: at least one per Availability Zone.
IPV4_HOURLY = 0.005
IPV4_SOURCE = "https://aws.amazon.com/vpc/pricing/"


@dataclass(frozen=True)
class AlbPrice:
    """USD per load balancer-hour and per LCU-hour."""

    hourly: float
    lcu_hourly: float


ALB_PRICES: dict[str, AlbPrice] = {
    "us-east-1": AlbPrice(0.0225, 0.008),       # N. Virginia
    "us-east-2": AlbPrice(0.0225, 0.008),       # Ohio
    "us-west-1": AlbPrice(0.0252, 0.008),       # N. California
    "us-west-2": AlbPrice(0.0225, 0.008),       # Oregon
    "ca-central-1": AlbPrice(0.02475, 0.008),   # Canada (Central)
    "eu-west-1": AlbPrice(0.0252, 0.008),       # Ireland
    "eu-west-2": AlbPrice(0.02646, 0.0084),     # London
    "eu-central-1": AlbPrice(0.027, 0.008),     # Frankfurt
    "ap-northeast-1": AlbPrice(0.0243, 0.008),  # Tokyo
    "ap-northeast-2": AlbPrice(0.0225, 0.008),  # Seoul
    "ap-southeast-1": AlbPrice(0.0252, 0.008),  # Singapore
    "ap-southeast-2": AlbPrice(0.0252, 0.008),  # Sydney
}


def monthly_base(region: str) -> float | None:
    price = ALB_PRICES.get(region)
    return None if price is None else round(price.hourly * HOURS_PER_MONTH, 2)
