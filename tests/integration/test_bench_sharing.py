"""The AWS calls each site adds to a plan for several sites on one load balancer (the figure
bench/shared_sites.py measures on the strict world, README "Measured"), held as a budget here:
counted with botocore hooks on the tool's own clients while `plan` and `apply --skip-verify` run
in-process against moto in server mode on loopback.

* plan: every added site costs the same number of calls (the plan grows linearly), at most
  PLAN_CALLS_PER_SITE, and none of them reads a whole collection of the account but the known
  one of a one-site plan (tests/integration/test_api_call_budget.py): one capped page of 300 of
  the site's zone, looking for CNAMEs to it -- once per site, even for sites of one zone;
* apply: every added site adds exactly the same changes (its certificate, target group, origin
  group and its rule, the group on its interface, its registration, its host rule, its
  certificate on the listener, its validation CNAME and its DNS switch), and the shared load
  balancer and listeners are made once whatever the number of sites.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3

from migrator_sandbox.world import WorldSpec, default_sites
from tests.support.api_scans import is_scan
from tests.support.iam_recording import client_hooks
from tests.support.worlds import seeded

SPEC = WorldSpec(more_sites=default_sites(3))  # www, shop, blog, docs: one VPC
# Today 27: each site's inspection and preflight are a one-site plan's (25 calls) plus the
# look-ups of load balancers and target groups the shared plan makes per site.
PLAN_CALLS_PER_SITE = 30
READS = ("Describe", "List", "Get")
PER_ADDED_SITE = Counter({
    "acm RequestCertificate": 1, "elbv2 CreateTargetGroup": 1, "ec2 CreateSecurityGroup": 1,
    "ec2 AuthorizeSecurityGroupIngress": 1, "ec2 ModifyNetworkInterfaceAttribute": 1,
    "elbv2 RegisterTargets": 1, "elbv2 CreateRule": 1, "elbv2 AddListenerCertificates": 1,
    "route53 ChangeResourceRecordSets": 2})
# the load balancer's own group and its ingress, the load balancer, its attributes, its two
# listeners
ONCE = Counter({"ec2 CreateSecurityGroup": 1, "ec2 AuthorizeSecurityGroupIngress": 1,
                "elbv2 CreateLoadBalancer": 1, "elbv2 ModifyLoadBalancerAttributes": 1,
                "elbv2 CreateListener": 2})


@contextlib.contextmanager
def counted() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every call of the tool's clients inside the block: ("service Operation", parameters)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    pending: dict[int, dict[str, Any]] = {}

    def params_of(params: dict[str, Any], context: Any = None, **_: Any) -> None:
        pending[id(context)] = dict(params)

    def before_call(model: Any, context: Any = None, **_: Any) -> None:
        calls.append((f"{model.service_model.service_name} {model.name}",
                      pending.pop(id(context), {})))

    with client_hooks(("before-parameter-build.*.*", params_of),
                      ("before-call.*.*", before_call)):
        yield calls


def scan(name: str, params: dict[str, Any]) -> bool:
    service, operation = name.split(" ", 1)
    return is_scan(service, operation, params)


def known_zone_scan(name: str, params: dict[str, Any]) -> bool:
    """preflight/records.py check_followers: one page of the site's zone (see the module)."""
    return name == "route53 ListResourceRecordSets" and params.get("MaxItems") == "300"


def plan_argv(count: int, out: str) -> list[str]:
    domains = [site.domain for site in SPEC.sites][:count]
    return ["plan", *(a for d in domains for a in ("--domain", d)), "--shared-load-balancer",
            "--out", out]


def test_each_added_site_costs_plan_the_same_calls_and_no_scan(
        aws: str, session: boto3.Session, cli: Any) -> None:
    seeded(session, SPEC)
    totals = {}
    for count in (2, 3, 4):
        with counted() as calls:
            planned = cli(*plan_argv(count, f"plans/{count}.json"))
        assert planned.status == 0, planned.stderr
        scans = [(name, params) for name, params in calls
                 if scan(name, params) and not known_zone_scan(name, params)]
        assert scans == [], scans
        assert sum(known_zone_scan(*call) for call in calls) <= count
        totals[count] = Counter(name for name, _ in calls)
    added = [totals[3] - totals[2], totals[4] - totals[3]]
    assert added[0] == added[1], added  # linear: the 3rd and the 4th site cost the same calls
    assert totals[2] - totals[3] == Counter()  # and nothing is asked less often
    assert sum(added[0].values()) <= PLAN_CALLS_PER_SITE, added[0]


def test_each_added_site_adds_its_own_changes_and_the_load_balancer_is_made_once(
        aws: str, session: boto3.Session, cli: Any) -> None:
    changes = {}
    for count in (2, 3):
        seeded(session, SPEC)  # a fresh account holding the four sites
        planned = cli(*plan_argv(count, f"plans/{count}.json"))
        assert planned.status == 0, planned.stderr
        with counted() as calls:
            applied = cli("apply", f"plans/{count}.json", "--yes", "--skip-verify")
        assert applied.status == 0, applied.stderr + applied.stdout
        changes[count] = Counter(name for name, _ in calls
                                 if not name.split(" ")[1].startswith(READS))
    assert changes[3] - changes[2] == PER_ADDED_SITE
    assert changes[2] - changes[3] == Counter()
    # two sites: the shared part once, then each site's own; the first site's certificate is
    # the listener's default (CreateListener), not one added to it
    first = PER_ADDED_SITE - Counter({"elbv2 AddListenerCertificates": 1})
    assert changes[2] == ONCE + first + PER_ADDED_SITE
