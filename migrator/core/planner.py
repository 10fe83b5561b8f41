"""Turn a snapshot and the user's options into an ordered, reversible plan (no AWS calls).

The order puts everything that does not need the issued certificate (target group, security
groups, load balancer, HTTP listener) between the certificate request and the wait for it, so
those run while ACM validates.
"""

from __future__ import annotations

import secrets
from typing import Any

from migrator.core.gates import ELB_5XX, RESPONSE_TIME, TARGET_5XX, UNHEALTHY, response_time_bound
from migrator.core.inspector import covers
from migrator.core.lockdown import has_public_web, without_public_web
from migrator.core.names import elb_name
from migrator.core.plan import Inverse, Plan, PlanOptions, Step, now, ref
from migrator.core.snapshot import Instance, RecordSet, Snapshot
from migrator.errors import PreflightError

TAG_KEY = "migrator:plan"
WARMUP_PORT = 8443
MAX_GROUPS_PER_INTERFACE = 5  # the default EC2 quota of security groups per network interface
HTTPS_EVERYWHERE = [
    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
     "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": f"{label} from the internet"}],
     "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": f"{label} from the internet"}]}
    for port, label in ((443, "HTTPS"), (80, "HTTP, redirected to HTTPS"))
]


# The longest wait of an apply is the load balancer's: provisioning, then health checks (which
# start only once a listener forwards). So its group and the load balancer come first, and
# every other resource is made while it provisions. AWS's reads are eventually consistent: a
# step naming a resource made a moment ago may wait for it, so each is used a few steps after
# its creation, by when it is usually visible.
CREATION_ORDER = (
    "lb_security_group", "certificate", "target_group", "origin_security_group", "lb_ingress",
    "load_balancer", "validation_records", "origin_ingress", "attach_origin_group",
    "register_instance", "load_balancer_active", "load_balancer_attributes",
)


def new_plan_id() -> str:
    return "mig-" + secrets.token_hex(4)


def build_plan(snapshot: Snapshot, options: PlanOptions, *, plan_id: str | None = None,
               created_at: str | None = None) -> Plan:
    """The plan that moves snapshot's site behind a load balancer with options' choices."""
    plan_id = plan_id or new_plan_id()
    return Plan(id=plan_id, created_at=created_at or now(), snapshot=snapshot, options=options,
                steps=tuple(plan_steps(snapshot, options, plan_id)))


def plan_steps(snap: Snapshot, opts: PlanOptions, plan_id: str, *,
               joining: bool = False) -> list[Step]:
    """The steps of the plan; joining: for a site that joins a load balancer that exists
    (shared_planner takes the site's own steps from these), so the VPC's subnets are not the
    new load balancer's to check."""
    subnets = {} if joining else load_balancer_subnets(snap)
    records = records_to_switch(snap, joining=joining)
    old_ttl = max(r.ttl or 0 for r in records)
    check_security_group_room(snap)
    suffix = plan_id.removeprefix("mig-")
    inst = snap.instance
    target = [{"Id": inst.id, "Port": 443}]
    tags = [{"Key": TAG_KEY, "Value": plan_id}]
    reused = reusable_certificate(snap)
    cert_arn: Any = reused.arn if reused else ref("certificate.arn")
    lb_group_name = f"migrator-alb-{snap.domain}-{suffix}"
    instance_group_name = f"migrator-origin-{snap.domain}-{suffix}"

    steps: list[Step] = []
    if not reused:
        steps += [
            Step("certificate", "acm.request_certificate",
                 f"Request an ACM certificate for {', '.join(snap.names)} (DNS validation)",
                 {"DomainName": snap.domain,
                  **({"SubjectAlternativeNames": list(snap.names)} if len(snap.names) > 1 else {}),
                  "ValidationMethod": "DNS", "KeyAlgorithm": "RSA_2048",
                  "IdempotencyToken": plan_id.replace("-", ""),
                  "Options": {"CertificateTransparencyLoggingPreference": "ENABLED"},
                  "Tags": tags},
                 Inverse("acm.delete_certificate", {"CertificateArn": ref("certificate.arn"),
                                                    "DomainName": snap.domain},
                         "Delete the certificate this plan requested")),
            Step("validation_records", "route53.create_validation_records",
                 f"Create the certificate's DNS validation CNAMEs in {snap.zone.name}",
                 {"HostedZoneId": snap.zone.id, "CertificateArn": ref("certificate.arn")},
                 Inverse("route53.delete_validation_records",
                         {"HostedZoneId": snap.zone.id, "CertificateArn": ref("certificate.arn"),
                          "Created": ref("validation_records.created")},
                         "Delete the validation CNAMEs this plan created, unless another "
                         "certificate uses them")),
        ]
    tg_name = elb_name(snap.domain, suffix, "tg")
    steps += [
        Step("target_group", "elbv2.create_target_group",
             f"Create target group {tg_name} (HTTPS:443, health check HTTPS "
             f"{opts.health_check_path} expecting {opts.health_check_matcher})",
             {"Name": tg_name, "Protocol": "HTTPS", "ProtocolVersion": "HTTP1", "Port": 443,
              "VpcId": inst.vpc_id, "TargetType": "instance", "HealthCheckProtocol": "HTTPS",
              "HealthCheckPort": "traffic-port", "HealthCheckPath": opts.health_check_path,
              "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5,
              "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
              "Matcher": {"HttpCode": opts.health_check_matcher}, "Tags": tags},
             Inverse("elbv2.delete_target_group",
                     {"TargetGroupArn": ref("target_group.arn"), "Name": tg_name},
                     "Delete the target group")),
        Step("register_instance", "elbv2.register_targets",
             f"Register instance {inst.id} on port 443",
             {"TargetGroupArn": ref("target_group.arn"), "Targets": target},
             Inverse("elbv2.deregister_targets",
                     {"TargetGroupArn": ref("target_group.arn"), "Targets": target},
                     "Deregister the instance")),
        Step("lb_security_group", "ec2.create_security_group",
             f"Create security group {lb_group_name} for the load balancer",
             {"GroupName": lb_group_name, "VpcId": inst.vpc_id,
              "Description": f"Load balancer of {snap.domain} (migrator {plan_id})",
              "TagSpecifications": [{"ResourceType": "security-group", "Tags": tags}]},
             Inverse("ec2.delete_security_group",
                     {"GroupId": ref("lb_security_group.group_id"), "GroupName": lb_group_name,
                      "VpcId": inst.vpc_id}, "Delete the load balancer's security group")),
        Step("lb_ingress", "ec2.authorize_ingress",
             "Admit HTTPS (443) and HTTP (80) from anywhere (IPv4 and IPv6) to the load balancer",
             {"GroupId": ref("lb_security_group.group_id"), "IpPermissions": HTTPS_EVERYWHERE},
             Inverse("ec2.revoke_ingress",
                     {"GroupId": ref("lb_security_group.group_id"),
                      "IpPermissions": HTTPS_EVERYWHERE}, "Remove those rules")),
        Step("origin_security_group", "ec2.create_security_group",
             f"Create security group {instance_group_name} for the instance",
             {"GroupName": instance_group_name, "VpcId": inst.vpc_id,
              "Description": f"Admits the load balancer of {snap.domain} (migrator {plan_id})",
              "TagSpecifications": [{"ResourceType": "security-group", "Tags": tags}]},
             Inverse("ec2.delete_security_group",
                     {"GroupId": ref("origin_security_group.group_id"),
                      "GroupName": instance_group_name, "VpcId": inst.vpc_id},
                     "Delete the instance's new security group")),
        Step("origin_ingress", "ec2.authorize_ingress",
             "Admit HTTPS (443) from the load balancer's group to the instance",
             {"GroupId": ref("origin_security_group.group_id"),
              "IpPermissions": [_from_group(ref("lb_security_group.group_id"))]},
             Inverse("ec2.revoke_ingress",
                     {"GroupId": ref("origin_security_group.group_id"),
                      "IpPermissions": [_from_group(ref("lb_security_group.group_id"))]},
                     "Remove that rule")),
        Step("attach_origin_group", "ec2.set_interface_groups",
             f"Attach the new group to {interface_in_words(inst)} beside its groups "
             f"{', '.join(inst.security_group_ids)}",
             {**_where(inst),
              "Groups": [*inst.security_group_ids, ref("origin_security_group.group_id")]},
             Inverse("ec2.set_interface_groups",
                     {**_where(inst), "Groups": list(inst.security_group_ids)},
                     f"Give {interface_in_words(inst)} back exactly "
                     f"{', '.join(inst.security_group_ids)}")),
        Step("load_balancer", "elbv2.create_load_balancer",
             f"Create internet-facing application load balancer "
             f"{elb_name(snap.domain, suffix)} in {', '.join(subnets)}",
             {"Name": elb_name(snap.domain, suffix), "Type": "application",
              "Scheme": "internet-facing",
              "IpAddressType": "dualstack" if dualstack(records) else "ipv4",
              "Subnets": [s.id for s in subnets.values()],
              "SecurityGroups": [ref("lb_security_group.group_id")], "Tags": tags},
             Inverse("elbv2.delete_load_balancer",
                     {"LoadBalancerArn": ref("load_balancer.arn"),
                      "Name": elb_name(snap.domain, suffix)},
                     "Delete the load balancer (after DNS no longer points at it)")),
        Step("load_balancer_active", "elbv2.wait_load_balancer_active",
             "Wait for the load balancer to be active",
             {"LoadBalancerArn": ref("load_balancer.arn")}),
        Step("load_balancer_attributes", "elbv2.set_load_balancer_attributes",
             f"Set the load balancer's idle timeout to {opts.idle_timeout_seconds} s "
             f"({_idle_reason(opts)})",
             {"LoadBalancerArn": ref("load_balancer.arn"),
              "Attributes": {"idle_timeout.timeout_seconds": str(opts.idle_timeout_seconds)}}),
    ]
    by_id = {step.id: step for step in steps}
    steps = [by_id[i] for i in CREATION_ORDER if i in by_id]
    if opts.http_redirect:
        steps.append(Step(
            "http_listener", "elbv2.create_listener",
            "Add the HTTP:80 listener answering 301 to HTTPS",
            {"LoadBalancerArn": ref("load_balancer.arn"), "Protocol": "HTTP", "Port": 80,
             "DefaultActions": [{"Type": "redirect", "RedirectConfig": {
                 "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                 "Query": "#{query}", "StatusCode": "HTTP_301"}}],
             "Tags": tags},
            Inverse("elbv2.delete_listener",
                    {"ListenerArn": ref("http_listener.arn"),
                     "LoadBalancerArn": ref("load_balancer.arn"), "Port": 80},
                    "Delete the HTTP listener")))
    # Health checks start only once a listener forwards to the target group. A listener on a
    # port the load balancer's security group does not admit starts them without exposing
    # anything, so the instance turns healthy while ACM is still validating.
    steps += [
        Step("warmup_listener", "elbv2.create_listener",
             f"Start health checks early: a listener on port {WARMUP_PORT}, closed to the "
             "internet by the security group, forwarding to the target group",
             {"LoadBalancerArn": ref("load_balancer.arn"), "Protocol": "HTTP",
              "Port": WARMUP_PORT,
              "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("target_group.arn")}],
              "Tags": tags},
             Inverse("elbv2.delete_listener",
                     {"ListenerArn": ref("warmup_listener.arn"),
                      "LoadBalancerArn": ref("load_balancer.arn"), "Port": WARMUP_PORT},
                     f"Delete the port {WARMUP_PORT} listener")),
        Step("target_healthy", "elbv2.wait_target_healthy",
             f"Wait for instance {inst.id} to pass the health check",
             {"TargetGroupArn": ref("target_group.arn"), "Targets": target,
              "TimeoutSeconds": 900}),
    ]
    if not reused:
        steps.append(Step(
            "certificate_issued", "acm.wait_certificate_issued",
            "Wait until ACM has validated and ISSUED the certificate",
            {"CertificateArn": cert_arn, "TimeoutSeconds": opts.certificate_timeout_seconds}))
    steps += [
        Step("https_listener", "elbv2.create_listener",
             f"Add the HTTPS:443 listener ({opts.ssl_policy}) forwarding to the target group",
             {"LoadBalancerArn": ref("load_balancer.arn"), "Protocol": "HTTPS", "Port": 443,
              "SslPolicy": opts.ssl_policy, "Certificates": [{"CertificateArn": cert_arn}],
              "DefaultActions": [{"Type": "forward",
                                  "TargetGroupArn": ref("target_group.arn")}],
              "Tags": tags},
             Inverse("elbv2.delete_listener",
                     {"ListenerArn": ref("https_listener.arn"),
                      "LoadBalancerArn": ref("load_balancer.arn"), "Port": 443},
                     "Delete the HTTPS listener")),
        Step("warmup_listener_removed", "elbv2.delete_listener",
             f"Delete the port {WARMUP_PORT} listener: the HTTPS listener keeps the health "
             "checks going",
             {"ListenerArn": ref("warmup_listener.arn"),
              "LoadBalancerArn": ref("load_balancer.arn"), "Port": WARMUP_PORT}),
        Step("verify_load_balancer", "verify.load_balancer",
             "Check HTTPS through the load balancer's own address before touching DNS",
             {"DNSName": ref("load_balancer.dns_name"), "Names": list(snap.names),
              "HealthCheckPath": opts.health_check_path,
              "Matcher": opts.health_check_matcher}),
        switch_step(snap, opts, plan_id, records),
        Step("verify_site", "verify.site",
             "Check DNS and HTTPS of the site through its name",
             {"Names": list(dict.fromkeys(r.name.rstrip(".") for r in records)),
              "CertificateNames": list(snap.names),
              "DNSName": ref("load_balancer.dns_name"),
              "ZoneNameservers": list(snap.zone.nameservers),
              "OriginAddress": inst.public_ip, "HealthCheckPath": opts.health_check_path,
              "Matcher": opts.health_check_matcher}),
    ]
    steps += lockdown_steps(snap, opts, plan_id, old_ttl)
    return steps


def switch_step(snap: Snapshot, opts: PlanOptions, plan_id: str,
                records: list[RecordSet]) -> Step:
    """The DNS switch: one change batch to the alias, or the canary's stages when the options
    ask for one."""
    old_ttl = max(r.ttl or 0 for r in records)
    switched = ", ".join(f"{r.name.rstrip('.')} {r.type}" for r in records)
    where = {"HostedZoneId": snap.zone.id, "Originals": [r.to_route53() for r in records],
             "Alias": {"DNSName": ref("load_balancer.dns_name"),
                       "HostedZoneId": ref("load_balancer.zone_id"),
                       "EvaluateTargetHealth": True}}
    if opts.canary_stages:
        return canary_step(opts, plan_id, where, switched, old_ttl)
    return Step("switch_dns", "route53.switch_to_alias",
                f"Point {switched} at the load balancer (alias, one change batch; TTL was "
                f"{old_ttl} s)", where,
                Inverse("route53.restore_records", where,
                        "Restore the original records (values and TTL), wait for them to be "
                        "in sync and for the alias TTL to pass"))


def set_identifiers(plan_id: str) -> dict[str, str]:
    """The SetIdentifiers of a canary's weighted pair: the original's and the load balancer's."""
    return {"Origin": f"migrator-{plan_id}-origin", "LoadBalancer": f"migrator-{plan_id}-lb"}


def canary_step(opts: PlanOptions, plan_id: str, where: dict[str, Any], switched: str,
                old_ttl: int) -> Step:
    """The switch in stages of weighted records, each soaked behind the metric gates."""
    stages = list(opts.canary_stages)
    bounds = canary_bounds(opts)
    soaks = len(stages) - 1
    return Step(
        "switch_dns", "route53.canary_switch",
        f"Move {switched} to the load balancer in stages of "
        f"{', '.join(f'{w}%' for w in stages)} (weighted records; TTL was {old_ttl} s), "
        f"soaking {opts.canary_soak_seconds} s after each of the first {soaks} while its "
        "CloudWatch figures stay within bounds; back to the original records at once if not",
        {**where, "Stages": stages, "SoakSeconds": opts.canary_soak_seconds,
         "SetIdentifiers": set_identifiers(plan_id),
         "Metrics": {"LoadBalancerArn": ref("load_balancer.arn"),
                     "TargetGroupArn": ref("target_group.arn")},
         "Bounds": bounds},
        Inverse("route53.restore_from_canary", {**where, "SetIdentifiers":
                                                set_identifiers(plan_id)},
                "Restore the original records exactly (values and TTL, no weighted record "
                "left) from whatever stage, wait for them to be in sync and for the alias TTL "
                "to pass"))


def canary_bounds(opts: PlanOptions) -> dict[str, float]:
    """The gates of every soak: the most each figure may reach (counts over the soak)."""
    return {
        TARGET_5XX: opts.canary_max_target_5xx,
        ELB_5XX: opts.canary_max_elb_5xx,
        UNHEALTHY: opts.canary_max_unhealthy_hosts,
        RESPONSE_TIME: response_time_bound(
            opts.origin_latency_seconds, opts.canary_response_time_factor,
            opts.canary_response_time_margin_seconds),
    }


def _idle_reason(opts: PlanOptions) -> str:
    """Why that idle timeout, in words, for the step list a reviewer reads."""
    measured = opts.origin_idle_seconds
    if measured is None:
        return "the origin was not seen closing idle connections"
    if opts.idle_timeout_seconds < measured:
        return f"below the {measured:g} s the origin keeps idle connections open"
    return f"NOT below the {measured:g} s the origin keeps idle connections open: expect 502s"


def lockdown_steps(snap: Snapshot, opts: PlanOptions, plan_id: str, ttl: int) -> list[Step]:
    """Close the instance's web ports to the internet once no resolver can still send clients
    there: copies of its public groups, without the public 80/443 rules, take their place."""
    public = [g for g in snap.security_groups if has_public_web(g.ingress)]
    if not opts.lockdown or not public:
        return []
    for group in public:
        without_public_web(list(group.ingress), group.id)  # refuses what it cannot rewrite
    inst = snap.instance
    ids = [g.id for g in public]
    suffix = f"locked-{plan_id.removeprefix('mig-')}"
    tags = [{"Key": TAG_KEY, "Value": plan_id}]
    locked = [ref(f"lockdown_groups.{gid}") if gid in ids else gid
              for gid in inst.security_group_ids]
    return [
        Step("lockdown_ready", "dns.wait_old_ttl",
             f"Wait until the old answer has left every resolver cache (switch time + {ttl} s)",
             {"SwitchedAt": ref("switch_dns.switched_at"), "TTL": ref("switch_dns.old_ttl")}),
        Step("lockdown_groups", "ec2.copy_groups_without_public_web",
             f"Copy {', '.join(ids)} without the rules admitting 80/443 from anywhere",
             {"GroupIds": ids, "VpcId": inst.vpc_id, "NameSuffix": suffix, "Tags": tags},
             Inverse("ec2.delete_group_copies",
                     {"Copies": ref("lockdown_groups.copies"), "GroupIds": ids,
                      "VpcId": inst.vpc_id, "NameSuffix": suffix},
                     "Delete the copies")),
        Step("lockdown_attach", "ec2.set_interface_groups",
             f"Lock the instance down: the copies replace {', '.join(ids)} on "
             f"{interface_in_words(inst)}, so web traffic comes only through the load balancer",
             {**_where(inst), "Groups": [*locked, ref("origin_security_group.group_id")]},
             Inverse("ec2.set_interface_groups",
                     {**_where(inst), "Groups": [*inst.security_group_ids,
                                                 ref("origin_security_group.group_id")]},
                     f"Give {interface_in_words(inst)} its original groups back")),
    ]


def _where(inst: Instance) -> dict[str, str]:
    """Which interface's groups a step sets: the one holding the site's public address."""
    where = {"InstanceId": inst.id}
    if inst.web_interface_id:
        where["NetworkInterfaceId"] = inst.web_interface_id
    return where


def interface_in_words(inst: Instance) -> str:
    """The changed interface in words: "eni-1 (eth1) of instance i-1"."""
    iface = next((i for i in inst.interfaces if i.id == inst.web_interface_id), None)
    if iface is None:
        return f"instance {inst.id}"
    return f"{iface.id} (eth{iface.device_index}) of instance {inst.id}"


def _from_group(group: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "UserIdGroupPairs": [{"GroupId": group, "Description": "from the load balancer"}]}


def load_balancer_subnets(snap: Snapshot) -> dict[str, Any]:
    """One public subnet in each Availability Zone; AWS requires at least two, and the instance's
    own zone must be among them or the target is never used."""
    by_zone = snap.public_subnets_by_zone()
    if len(by_zone) < 2:
        zones = ", ".join(by_zone) or "none"
        raise PreflightError(
            f"the load balancer needs public subnets in at least two Availability Zones of "
            f"{snap.instance.vpc_id}; public subnets are in: {zones}",
            hint="add a subnet in another zone with a route to the internet gateway "
                 "(aws ec2 create-subnet ... then associate the public route table)")
    if snap.instance.availability_zone not in by_zone:
        raise PreflightError(
            f"no public subnet in {snap.instance.availability_zone}, the instance's zone",
            hint="a load balancer only sends traffic to targets in its own zones; add one")
    return by_zone


def records_to_switch(snap: Snapshot, *, joining: bool = False) -> list[RecordSet]:
    """The records that will become aliases: the A (and AAAA) records of the domain and of each
    extra name that point at this instance. An AAAA record needs a dualstack load balancer, so
    every subnet it uses must have IPv6; otherwise IPv6 clients would bypass it."""
    chosen = []
    for name in snap.names:
        a_records = snap.records_of(name, "A")
        if a_records:
            record = a_records[0]
            if (record.alias or record.set_identifier
                    or record.values != (snap.instance.public_ip,)):
                raise PreflightError(
                    f"{name}'s A record does not point at the instance {snap.instance.public_ip}",
                    hint=f"drop --san {name}, or point it at the instance first")
            chosen.append(record)
        for record in snap.records_of(name, "AAAA"):
            # A load balancer that exists has its subnets: preflight checks it is dualstack.
            if not joining:
                _check_aaaa(snap, name, record)
            chosen.append(record)
    return chosen


def _check_aaaa(snap: Snapshot, name: str, record: RecordSet) -> None:
    subnets = list(snap.public_subnets_by_zone().values())
    without = [s.id for s in subnets if not s.ipv6]
    if without or not subnets:
        raise PreflightError(
            f"{name} AAAA {', '.join(record.values)}: IPv6 clients would keep reaching the "
            "instance, and a dualstack load balancer would need IPv6 subnets "
            f"({', '.join(without) or 'none'} "
            "have no IPv6 CIDR with a ::/0 route to the internet gateway)",
            hint="give the subnets IPv6, or remove the AAAA record (and wait its TTL) first")
    if record.alias or record.set_identifier or not set(record.values) <= set(
            snap.instance.ipv6_addresses):
        raise PreflightError(
            f"{name}'s AAAA record does not point at the instance's IPv6 address "
            f"({', '.join(snap.instance.ipv6_addresses) or 'it has none'})",
            hint="point it at the instance or remove it first")


def dualstack(records: list[RecordSet]) -> bool:
    return any(r.type == "AAAA" for r in records)


def check_security_group_room(snap: Snapshot) -> None:
    if len(snap.instance.security_group_ids) >= MAX_GROUPS_PER_INTERFACE:
        raise PreflightError(
            f"{interface_in_words(snap.instance)} already has {MAX_GROUPS_PER_INTERFACE} security "
            "groups, the default limit per network interface",
            hint="detach one, or raise the quota 'Security groups per network interface'")


def reusable_certificate(snap: Snapshot) -> Any:
    """An ISSUED certificate that already covers every name (never deleted by rollback)."""
    for cert in snap.certificates:
        if cert.status == "ISSUED" and all(
                any(covers(p, n) for p in cert.names) for n in snap.names):
            return cert
    return None
