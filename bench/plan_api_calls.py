"""API calls and wall time of `migrator plan` on a tiny account and on a large one.

    .venv/bin/python bench/plan_api_calls.py [--instances 2000] [--zones 300]
        [--site-records 3000] [--records-per-zone 5] [--certificates 50] [--repeats 3]

What it measures: `migrator plan --domain www.example.com` (inspection + preflight + planning,
run in-process through migrator.cli.main.main) against moto in server mode on 127.0.0.1
(the sandbox's MotoServer; boto3 pointed at it with AWS_ENDPOINT_URL and dummy
credentials). Every API call of the tool's own clients is counted with botocore event hooks
on the clients migrator.aws.session.Aws creates (before-call per call, before-parameter-build
for its parameters, before-send per HTTP request), per operation.

Two accounts, each the seeded site (migrator_sandbox.world.seed_world) plus, for the large one:
thousands of running instances (run_instances in batches), hundreds of security groups and
Elastic IPs, hundreds of public hosted zones with a few records each, a private namesake of the
site's zone, thousands of records in the site's own zone (around the site's name too), other
load balancers' target groups and ACM certificates. A well-behaved `plan` asks for named things
only, so its call count must not depend on the account's size; the issue's target is at most
25 calls. A call that reads a whole collection (e.g. DescribeInstances without InstanceIds or
a narrowing filter, ListResourceRecordSets without StartRecordName) is listed as a scan.
moto returns every ACM certificate in one ListCertificates page, so growth in certificates
cannot show here (in AWS, Acm.list_summaries pages through all of the region's certificates).

Wall time: the plan is repeated --repeats times per account (the first run of the process also
pays for imports and botocore's model loading: a warm-up plan on the tiny account runs first
and is not reported). The site's address is a loopback one and no MIGRATOR_* network variable
is set, so preflight's DNS and HTTPS probes are skipped: the time is AWS calls plus the tool.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import (
    CallLog,
    aws_environment,
    counting,
    deadline,
    machine,
    min_median,
    moto_server,
    require_ok,
    reset_moto,
    run_cli,
    table,
)

BUDGET = 25
DOMAIN = "www.example.com"


def seed_tiny(session: Any) -> None:
    from migrator_sandbox.world import WorldSpec, seed_world

    seed_world(session, WorldSpec())


def seed_large(session: Any, args: argparse.Namespace, say: Callable[[str], None]) -> None:
    """The site plus a large account around it (see the module docstring)."""
    from migrator_sandbox.world import AMI_ID, WorldSpec, seed_world

    world = seed_world(session, WorldSpec())
    ec2 = session.client("ec2")
    route53 = session.client("route53")
    elbv2 = session.client("elbv2")
    acm = session.client("acm")
    subnets = list(world.subnet_ids.values())  # the site's public subnets

    began = time.perf_counter()
    # Security groups: most instances have their own fleet group; some share the site's group
    # (the "web-server" group reused for a second web tier is common).
    groups = [ec2.create_security_group(GroupName=f"fleet-{i:03d}", Description="fleet",
                                        VpcId=world.vpc_id)["GroupId"]
              for i in range(args.security_groups)]
    # The site's subnets are /24s: the fleet gets a large private subnet of its own in the site's
    # VPC (no route to the internet gateway) and another VPC.
    fleet_subnet = ec2.create_subnet(VpcId=world.vpc_id, CidrBlock="10.20.64.0/18")["Subnet"][
        "SubnetId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.30.0.0/18")["Subnet"][
        "SubnetId"]
    instance_ids: list[str] = []
    # A first batch shares the site's group; the rest alternate between the site's VPC (in
    # fleet groups) and another VPC.
    batches = [min(args.shared_group_instances, args.instances)]
    left = args.instances - batches[0]
    while left > 0:
        batches.append(min(250, left))
        left -= batches[-1]
    for index, count in enumerate(batches):
        if count <= 0:
            continue
        params: dict[str, Any] = {
            "ImageId": AMI_ID, "MinCount": count, "MaxCount": count, "InstanceType": "t3.micro",
            "TagSpecifications": [{"ResourceType": "instance",
                                   "Tags": [{"Key": "Name", "Value": f"fleet-{index}"}]}]}
        if index == 0:
            params.update(SubnetId=subnets[0], SecurityGroupIds=[world.security_group_id])
        elif index % 2 and groups:
            params.update(SubnetId=fleet_subnet, SecurityGroupIds=[groups[index % len(groups)]])
        else:
            params.update(SubnetId=other_subnet)
        reply = ec2.run_instances(**params)
        instance_ids += [i["InstanceId"] for i in reply["Instances"]]
    for i, instance_id in enumerate(instance_ids[: args.elastic_ips]):
        allocation = ec2.allocate_address(Domain="vpc", Address=f"198.18.{i // 250}.{i % 250 + 1}")
        ec2.associate_address(AllocationId=allocation["AllocationId"], InstanceId=instance_id)
    say(f"  {len(instance_ids)} instances, {len(groups)} security groups, "
        f"{min(args.elastic_ips, len(instance_ids))} Elastic IPs "
        f"({time.perf_counter() - began:.1f} s)")

    began = time.perf_counter()
    zone_id = world.zone_id
    names = [f"host-{i:05d}.example.com" for i in range(args.site_records)]
    # Records next to the site's name in Route53's order (labels reversed): below www, and
    # names sorting just before and after it.
    near = [f"{label}.www.example.com" for label in ("a", "api", "cdn", "img", "z")]
    near += ["ww.example.com", "wwv.example.com", "wwx.example.com", "www1.example.com",
             "www-old.example.com"]
    changes = [_change(n, "A", 300, [f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"])
               for i, n in enumerate(names)]
    changes += [_change(n, "A", 300, ["10.99.0.1"]) for n in near]
    changes += [_change(f"alias-{i:03d}.example.com", "CNAME", 300, [f"host-{i:05d}.example.com"])
                for i in range(min(100, args.site_records))]
    for start in range(0, len(changes), 500):
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
            "Changes": changes[start:start + 500]})
    route53.create_hosted_zone(
        Name="example.com", CallerReference="private-example-com",
        VPC={"VPCRegion": "ap-northeast-1", "VPCId": world.vpc_id},
        HostedZoneConfig={"Comment": "private namesake", "PrivateZone": True})
    for z in range(args.zones):
        name = f"zone-{z:04d}.example.net" if z % 3 else f"site-{z:04d}.com"
        other = route53.create_hosted_zone(Name=name, CallerReference=f"bench-{z}")[
            "HostedZone"]["Id"].split("/")[-1]
        if args.records_per_zone:
            route53.change_resource_record_sets(HostedZoneId=other, ChangeBatch={"Changes": [
                _change(f"r{r}.{name}", "A", 300, [f"10.1.{z % 250}.{r % 250 + 1}"])
                for r in range(args.records_per_zone)]})
    say(f"  {len(changes)} records in the site's zone, {args.zones} other zones with "
        f"{args.records_per_zone} records each, 1 private namesake "
        f"({time.perf_counter() - began:.1f} s)")

    began = time.perf_counter()
    for i in range(args.target_groups):
        elbv2.create_target_group(Name=f"fleet-tg-{i:03d}", Protocol="HTTPS", Port=443,
                                  VpcId=world.vpc_id, TargetType="instance")
    for i in range(args.certificates):
        acm.request_certificate(DomainName=f"c{i}.zone-{i:04d}.example.net",
                                ValidationMethod="DNS")
    say(f"  {args.target_groups} target groups, {args.certificates} ACM certificates "
        f"({time.perf_counter() - began:.1f} s)")


def _change(name: str, rtype: str, ttl: int, values: list[str]) -> dict[str, Any]:
    return {"Action": "CREATE", "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}}


def plan_runs(repeats: int, workdir: Path, label: str) -> tuple[CallLog, list[float]]:
    """Run plan `repeats` times; the call log of the first run, the wall times of all."""
    logs: list[CallLog] = []
    times: list[float] = []
    for i in range(repeats):
        with counting() as log:
            result = run_cli(["plan", "--domain", DOMAIN,
                              "--out", str(workdir / f"{label}-{i}.json")])
        require_ok(result, f"plan on the {label} account")
        logs.append(log)
        times.append(result.seconds)
    counts = {len(log.calls) for log in logs}
    if len(counts) != 1:
        print(f"note: the {label} account's plan made {sorted(counts)} calls in different runs")
    return logs[0], times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--security-groups", type=int, default=100)
    parser.add_argument("--shared-group-instances", type=int, default=20,
                        help="of --instances, how many share the site's security group")
    parser.add_argument("--elastic-ips", type=int, default=100)
    parser.add_argument("--zones", type=int, default=300)
    parser.add_argument("--records-per-zone", type=int, default=5)
    parser.add_argument("--site-records", type=int, default=3000,
                        help="records in the site's own zone")
    parser.add_argument("--target-groups", type=int, default=20)
    parser.add_argument("--certificates", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5, help="plans per account")
    parser.add_argument("--deadline", type=float, default=900, metavar="SECONDS",
                        help="stop (with a traceback) if still running after this long")
    args = parser.parse_args(argv)
    deadline(args.deadline)
    args.repeats = max(1, args.repeats)

    print(machine())
    print(f"plan --domain {DOMAIN}, {args.repeats} run(s) per account, moto server on loopback")
    results: dict[str, tuple[CallLog, list[float]]] = {}
    import boto3

    with (moto_server(acm_wait=0) as endpoint, aws_environment(endpoint=endpoint),
          tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp):
        workdir = Path(tmp)
        session = boto3.Session(region_name="ap-northeast-1")
        seed_tiny(session)
        require_ok(run_cli(["plan", "--domain", DOMAIN, "--out", str(workdir / "warm.json")]),
                   "warm-up plan")
        results["tiny"] = plan_runs(args.repeats, workdir, "tiny")

        reset_moto()
        print("seeding the large account:")
        seed_large(session, args, print)
        results["large"] = plan_runs(args.repeats, workdir, "large")

    tiny, large = results["tiny"][0], results["large"][0]
    per_tiny, per_large = tiny.per_operation(), large.per_operation()
    order = list(dict.fromkeys(c.name for c in [*tiny.calls, *large.calls]))
    rows = [[op, per_tiny.get(op, 0), per_large.get(op, 0),
             "" if per_tiny.get(op, 0) == per_large.get(op, 0) else "<- grows"] for op in order]
    rows.append(["total API calls", len(tiny.calls), len(large.calls), ""])
    rows.append(["HTTP requests (with retries)", tiny.http_requests, large.http_requests, ""])
    print()
    print("API calls of plan, per operation (in the order first made)")
    print(table(["operation", "tiny", "large", ""], rows, align="lrrl"))

    print()
    rows = []
    for label, log in (("tiny", tiny), ("large", large)):
        low, mid = min_median(results[label][1])
        rows.append([label, f"{low:.2f}", f"{mid:.2f}", f"{log.seconds():.2f}",
                     f"{log.client_seconds:.2f} ({log.clients})",
                     " ".join(f"{t:.2f}" for t in results[label][1])])
    print("wall time of plan (s); of the first run: time inside API calls, and creating the "
          "clients (how many)")
    print(table(["account", "min", "median", "in API calls", "creating clients", "every run"],
                rows, align="lrrrrl"))

    print()
    for label, log in (("tiny", tiny), ("large", large)):
        scans = log.scans()
        print(f"unfiltered calls on the {label} account: {len(scans)}")
        for call, more in scans:
            pages = f" (+{more} further page(s))" if more else ""
            print(f"  {call.name} {call.params}{pages}")
    duplicates = [(name, n) for name, n in per_large.items() if n > 1]
    if duplicates:
        print("operations called more than once on the large account: "
              + ", ".join(f"{name} x{n}" for name, n in duplicates))
    independent = len(tiny.calls) == len(large.calls) and per_tiny == per_large
    within = len(large.calls) <= BUDGET
    print(f"independent of account size: {'yes' if independent else 'NO'}; "
          f"within the budget of {BUDGET}: {'yes' if within else 'NO'} "
          f"({len(large.calls)} calls on the large account)")
    return 0 if independent and within else 1


if __name__ == "__main__":
    sys.exit(main())
