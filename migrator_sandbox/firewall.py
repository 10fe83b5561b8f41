"""Security groups, enforced on loopback: who may open a connection to whom.

Two checks, both read moto's EC2 state at connection time:

* a load balancer listener admits a client when one of the load balancer's security groups (the
  VPC's default group if it has none) allows TCP to the listener port from the client address;
  "the internet" is whatever connects from an address that is no sandbox load balancer, so in
  practice the rule must cover 127.0.0.1 (``0.0.0.0/0`` does);
* the origin admits a connection to the instance's Elastic IP when the instance is running, the
  Elastic IP is associated with it, and one of the security groups of the network interface
  holding that address (as on AWS: groups filter per interface) allows the port:
  from the client address, or -- for a connection from a load balancer (the data plane opens
  those from the load balancer's own loopback address) -- from one of the load balancer's
  security groups or from a CIDR overlapping the load balancer's subnets.

A refused connection is reset at once; a real security group would drop it and let the client
time out, which is slower to rehearse but means the same thing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import moto_state
from .moto_state import LoadBalancer

log = logging.getLogger(__name__)

LoadBalancerAt = Callable[[str], LoadBalancer | None]


def _lb_groups(lb: LoadBalancer) -> tuple[str, ...]:
    if lb.security_group_ids:
        return lb.security_group_ids
    default = moto_state.default_security_group(lb.account_id, lb.region, lb.vpc_id)
    return (default,) if default else ()


def load_balancer_admits(lb: LoadBalancer, port: int, client: str) -> bool:
    """May ``client`` connect to ``lb``'s listener on ``port``?"""
    if lb.scheme == "internal":
        return False
    rules = moto_state.ingress_rules(lb.account_id, lb.region, _lb_groups(lb))
    return any(r.covers_port(port) and r.covers_source(client) for r in rules)


def origin_admits(address: str, port: int, client: str, load_balancer_at: LoadBalancerAt) -> bool:
    """May ``client`` connect to the instance behind Elastic IP ``address`` on ``port``?"""
    found = moto_state.instance_at(address)
    if found is None:
        return False
    account_id, region, instance = found
    if instance.state != "running":
        return False
    groups = instance.public_group_ids or instance.security_group_ids
    rules = [
        r for r in moto_state.ingress_rules(account_id, region, groups) if r.covers_port(port)
    ]
    lb = load_balancer_at(client)
    if lb is not None:
        groups = _lb_groups(lb)
        return any(r.covers_source(client, groups) or r.overlaps(lb.subnet_cidrs) for r in rules)
    return any(r.covers_source(client) for r in rules)
