"""Plans of the kinds issue #14 added, built offline from the example plan's snapshot with the
real planners (`build_shared_plan`, `build_join_plan`), for the IAM policy's tests: a shared
load balancer for two sites, and a third site joining a load balancer that exists, with its
variants (no HTTPS listener yet, an HTTP listener that does not redirect, --add-subnet)."""

from __future__ import annotations

import dataclasses

from migrator.core.plan import Plan
from migrator.core.shared_planner import build_join_plan, build_shared_plan
from migrator.core.snapshot import (
    Instance,
    ListenerRule,
    LoadBalancer,
    NetworkInterface,
    RecordSet,
    Snapshot,
)
from tests.support.plans import example_plan

REGION, ACCOUNT = "ap-northeast-1", "123456789012"
LB_NAME = "shared-web"
LB_ID = "50dc6c495c0c9188"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{LB_NAME}/{LB_ID}"
HTTPS_LISTENER = LB_ARN.replace(":loadbalancer/", ":listener/") + "/f2f7dc8efc522ab2"
HTTP_LISTENER = LB_ARN.replace(":loadbalancer/", ":listener/") + "/0467ef3c8400ae65"
OTHER_CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0c6b6f9e-1d6a-4d0e-9a51-1"


def site(domain: str, address: str, instance_id: str, interface: str) -> Snapshot:
    """The example snapshot's site, moved to another domain and instance of the same VPC."""
    snap = example_plan().snapshot
    inst = snap.instance
    instance = Instance(**{
        **{f.name: getattr(inst, f.name) for f in dataclasses.fields(Instance)},
        "id": instance_id, "public_ip": address, "web_interface_id": interface,
        "interfaces": (NetworkInterface(interface, 0, inst.security_group_ids, (address,)),)})
    return dataclasses.replace(
        snap, domain=domain, names=(domain,), instance=instance,
        records=(RecordSet(f"{domain}.", "A", 300, (address,)),))


def shared_plan() -> Plan:
    """www.example.com and shop.example.com behind one new load balancer."""
    base = example_plan()
    shop = site("shop.example.com", "127.0.0.11", "i-2", "eni-0b1b2c3d4e5f60719")
    return build_shared_plan([base.snapshot, shop], base.options, plan_id="mig-5ba7ed01",
                             created_at=base.created_at)


TWO_ZONES = (("ap-northeast-1a", "subnet-a"), ("ap-northeast-1c", "subnet-c"))


def load_balancer(*, https: bool = True, http_redirects: bool = False,
                  subnets: tuple[tuple[str, str], ...] = TWO_ZONES) -> LoadBalancer:
    """An internet-facing ALB of the example's VPC that another site is on already."""
    rule = HTTPS_LISTENER.replace(":listener/", ":listener-rule/") + "/9683b2d02a6cabee"
    return LoadBalancer(
        arn=LB_ARN, name=LB_NAME, dns_name=f"{LB_NAME}-1.{REGION}.elb.amazonaws.com",
        zone_id="Z14GRHDCWA56QT", type="application", scheme="internet-facing",
        vpc_id="vpc-1", state="active", ip_address_type="ipv4", subnets=subnets,
        security_group_ids=("sg-lb",),
        https_listener_arn=HTTPS_LISTENER if https else None,
        ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06" if https else None,
        certificate_arns=(OTHER_CERTIFICATE,) if https else (),
        rules=(ListenerRule(rule, 1, ("shop.example.com",)),) if https else (),
        http_listener_arn=HTTP_LISTENER, http_redirects=http_redirects)


def joining_plan(*, https: bool = True, http_redirects: bool = False,
                 add_subnet: bool = False) -> Plan:
    """blog.example.com joining LB_NAME. add_subnet: the load balancer's two zones miss the
    instance's (ap-northeast-1a), and the plan adds its subnet."""
    base = example_plan()
    blog = site("blog.example.com", "127.0.0.12", "i-3", "eni-0c1b2c3d4e5f60720")
    subnets = TWO_ZONES
    if add_subnet:
        blog = dataclasses.replace(blog, subnets=(
            *blog.subnets, dataclasses.replace(blog.subnets[0], id="subnet-d",
                                               availability_zone="ap-northeast-1d")))
        subnets = (("ap-northeast-1c", "subnet-c"), ("ap-northeast-1d", "subnet-d"))
    lb = load_balancer(https=https, http_redirects=http_redirects, subnets=subnets)
    return build_join_plan(dataclasses.replace(blog, load_balancer=lb), base.options,
                           add_subnet=add_subnet, plan_id="mig-b10cb10c",
                           created_at=base.created_at)
