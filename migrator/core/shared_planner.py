"""Plans that put sites on ONE load balancer: several sites behind a new shared one
(`plan --domain A --domain B --shared-load-balancer`), or one site joining a load balancer that
exists (`plan --domain C --load-balancer NAME_OR_ARN`). No AWS calls.

Each site's steps are the single-site planner's own (certificate, target group, security groups,
checks, switch, lockdown), so the two kinds of plan cannot drift apart; what differs is the
routing: a host-header rule per site on the HTTPS:443 listener, forwarding to the site's target
group, and its certificate added to the listener by SNI (`AddListenerCertificates`).

In a plan for several sites a site's steps have ids `<step>@<domain>` and say their site; steps
the sites share (the load balancer, its listeners, the first site's certificate, which is the
listener's default) have plain ids. So a site whose checks fail can be reverted alone
(`executor`), and `sites.site_view` shows each site's part as a plan for one site.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from migrator.core.load_balancers import site_tag
from migrator.core.names import elb_name
from migrator.core.plan import Inverse, Plan, PlanOptions, Step, is_ref, now, ref, ref_parts
from migrator.core.planner import (
    TAG_KEY,
    check_security_group_room,
    load_balancer_subnets,
    new_plan_id,
    plan_steps,
    records_to_switch,
)
from migrator.core.snapshot import LoadBalancer, Snapshot
from migrator.errors import PreflightError

SITE_SEPARATOR = "@"
NO_SITE_HERE = {"Type": "fixed-response", "FixedResponseConfig": {
    "StatusCode": "404", "ContentType": "text/plain",
    "MessageBody": "No site is configured for this host name on this load balancer."}}

# The steps of a site, in the single-site planner's ids, taken from its plan for that site.
SITE_PREPARATION = ("certificate", "target_group", "origin_security_group",
                    "validation_records", "origin_ingress", "attach_origin_group",
                    "register_instance")
SITE_CUTOVER = ("verify_load_balancer", "switch_dns", "verify_site")
LOCKDOWN = ("lockdown_ready", "lockdown_groups", "lockdown_attach")
SHARED = ("lb_security_group", "lb_ingress", "load_balancer", "load_balancer_active",
          "load_balancer_attributes", "http_listener")


def site_step_id(base: str, site: str) -> str:
    return f"{base}{SITE_SEPARATOR}{site}"


def base_step_id(step_id: str) -> str:
    return step_id.partition(SITE_SEPARATOR)[0]


# --- several sites, one new load balancer ------------------------------------------------------


def build_shared_plan(snapshots: Sequence[Snapshot], options: PlanOptions, *,
                      plan_id: str | None = None, created_at: str | None = None) -> Plan:
    """One plan that puts every site of `snapshots` behind one new load balancer."""
    plan_id = plan_id or new_plan_id()
    return Plan(id=plan_id, created_at=created_at or now(), snapshot=snapshots[0],
                options=options, steps=tuple(shared_plan_steps(snapshots, options, plan_id)),
                more_sites=tuple(snapshots[1:]))


def shared_plan_steps(snapshots: Sequence[Snapshot], opts: PlanOptions,
                      plan_id: str) -> list[Step]:
    _check_sites(snapshots)
    first = snapshots[0]
    suffix = plan_id.removeprefix("mig-")
    tags = [{"Key": TAG_KEY, "Value": plan_id}]
    per_site = {snap.domain: {s.id: s for s in plan_steps(snap, opts, plan_id)}
                for snap in snapshots}
    own = per_site[first.domain]
    zones = {zone: subnet for snap in snapshots
             for zone, subnet in load_balancer_subnets(snap).items()}
    dualstack = any(r.type == "AAAA" for snap in snapshots for r in records_to_switch(snap))
    lb_name = elb_name(first.domain, suffix, "shared")
    domains = ", ".join(s.domain for s in snapshots)

    shared = {sid: own[sid] for sid in SHARED if sid in own}
    shared["lb_security_group"] = _describe(
        shared["lb_security_group"], f"Create security group "
        f"{shared['lb_security_group'].params['GroupName']} for the shared load balancer",
        Description=f"Load balancer shared by {_short(domains)} (migrator {plan_id})"[:255])
    shared["load_balancer"] = _load_balancer(own["load_balancer"], lb_name, zones, dualstack,
                                             domains)
    default_cert = own.get("certificate")
    cert_arn: Any = ref("certificate.arn") if default_cert else _reused_arn(own)
    https = own["https_listener"]
    shared["https_listener"] = replace(
        https, description=f"Add the HTTPS:443 listener ({opts.ssl_policy}) with "
        f"{first.domain}'s certificate as its default, answering 404 for a host no site has",
        params={**https.params, "Certificates": [{"CertificateArn": cert_arn}],
                "DefaultActions": [NO_SITE_HERE]})

    steps: list[Step] = [shared["lb_security_group"]]
    sites: dict[str, dict[str, Step]] = {}
    for index, snap in enumerate(snapshots):
        mine = per_site[snap.domain]
        chosen = {sid: mine[sid] for sid in (*SITE_PREPARATION, "target_healthy",
                                             "certificate_issued", *SITE_CUTOVER, *LOCKDOWN)
                  if sid in mine}
        if index > 0 and "certificate" in chosen:
            chosen["certificate"] = _own_token(chosen["certificate"], snap.domain)
        chosen["site_rule"] = _site_rule(snap, ref("https_listener.arn"), priority=index + 1,
                                         tags=tags)
        site_cert: Any = ref("certificate.arn") if "certificate" in chosen else _reused_arn(mine)
        same_certificate = not is_ref(site_cert) and site_cert == cert_arn
        if index > 0 and not same_certificate:
            chosen["listener_certificate"] = _listener_certificate(
                snap, ref("https_listener.arn"), site_cert)
        _name_apart(chosen["target_group"], index, snapshots, per_site)
        sites[snap.domain] = chosen

    # The first site's certificate is the listener's default: every site shares it.
    first_steps = sites[first.domain]
    shared_cert = {sid: first_steps.pop(sid) for sid in
                   ("certificate", "validation_records", "certificate_issued")
                   if sid in first_steps}

    def each(base: str) -> list[Step]:
        return [_for_site(sites[s.domain][base], s.domain, sites[s.domain])
                for s in snapshots if base in sites[s.domain]]

    steps += ([shared_cert["certificate"]] if "certificate" in shared_cert else [])
    steps += each("certificate")
    steps += each("target_group") + each("origin_security_group")
    steps += [shared["lb_ingress"], shared["load_balancer"]]
    steps += ([shared_cert["validation_records"]] if "validation_records" in shared_cert else [])
    steps += each("validation_records")
    steps += each("origin_ingress") + each("attach_origin_group") + each("register_instance")
    steps += [shared["load_balancer_active"], shared["load_balancer_attributes"]]
    steps += [shared["http_listener"]] if "http_listener" in shared else []
    steps += ([shared_cert["certificate_issued"]] if "certificate_issued" in shared_cert else [])
    steps += [shared["https_listener"]]
    # Health checks start once a rule forwards to a target group: every site's rule goes on at
    # once, so the instances turn healthy while the other certificates are still validating.
    steps += each("site_rule")
    steps += each("certificate_issued") + each("listener_certificate")
    steps += each("target_healthy")
    for base in (*SITE_CUTOVER, *LOCKDOWN):
        steps += each(base)
    return steps


def _own_token(step: Step, domain: str) -> Step:
    """ACM answers every RequestCertificate with the same IdempotencyToken within an hour with
    the first one's certificate: each site's request needs a token of its own."""
    digest = hashlib.sha256(domain.encode()).hexdigest()[:12]
    token = f"{step.params['IdempotencyToken']}{digest}"[:32]
    return replace(step, params={**step.params, "IdempotencyToken": token})


def _name_apart(step: Step, index: int, snapshots: Sequence[Snapshot],
                per_site: dict[str, dict[str, Step]]) -> None:
    """Target group names are cut to 32 characters: two long domains may give one name."""
    names = [per_site[s.domain]["target_group"].params["Name"] for s in snapshots]
    if names.count(step.params["Name"]) > 1:
        raise PreflightError(
            f"the target group names of {', '.join(s.domain for s in snapshots)} would be the "
            f"same ({step.params['Name']}: names are cut to 32 characters)",
            hint="plan these sites in separate shared plans, or join them one by one with "
                 "--load-balancer")


def _check_sites(snapshots: Sequence[Snapshot]) -> None:
    if len(snapshots) < 2:
        raise PreflightError("a shared load balancer needs at least two sites",
                             hint="name each with --domain, or drop --shared-load-balancer")
    domains = [s.domain for s in snapshots]
    if len(set(domains)) != len(domains):
        raise PreflightError("a site is named twice", hint="name each site once with --domain")
    first = snapshots[0]
    for snap in snapshots[1:]:
        if (snap.account, snap.region) != (first.account, first.region):
            raise PreflightError(f"{snap.domain} is in another account or region than "
                                 f"{first.domain}", hint="plan each account's sites apart")
        if snap.instance.vpc_id != first.instance.vpc_id:
            raise PreflightError(
                f"{snap.domain}'s instance {snap.instance.id} is in {snap.instance.vpc_id}, "
                f"{first.domain}'s in {first.instance.vpc_id}: one load balancer serves one VPC",
                hint="plan the sites of each VPC together")
    instances = [s.instance.id for s in snapshots]
    for instance in dict.fromkeys(instances):
        if instances.count(instance) > 1:
            named = ", ".join(s.domain for s in snapshots if s.instance.id == instance)
            raise PreflightError(
                f"{named} are all served by {instance}: plan them as one site",
                hint=f"pass one --domain with the others as --san, e.g. --domain "
                     f"{named.split(', ')[0]} --san {named.split(', ')[1]}")
    names = [n for s in snapshots for n in s.names]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PreflightError(f"{', '.join(twice)} belongs to several sites",
                             hint="name each host name once")


def _short(text: str, room: int = 120) -> str:
    return text if len(text) <= room else text[:room - 3] + "..."


def _describe(step: Step, description: str, **params: Any) -> Step:
    return replace(step, description=description, params={**step.params, **params})


def _load_balancer(step: Step, name: str, zones: dict[str, Any], dualstack: bool,
                   domains: str) -> Step:
    return replace(
        step, description=f"Create internet-facing application load balancer {name}, shared by "
        f"{_short(domains)}, in {', '.join(sorted(zones))}",
        params={**step.params, "Name": name, "IpAddressType": "dualstack" if dualstack
                else "ipv4", "Subnets": [zones[z].id for z in sorted(zones)]},
        inverse=Inverse(step.inverse.action, {**step.inverse.params, "Name": name},
                        step.inverse.description) if step.inverse else None)


def _reused_arn(steps: dict[str, Step]) -> str:
    """The ARN of the ISSUED certificate a site's plan reuses (its HTTPS listener names it)."""
    return str(steps["https_listener"].params["Certificates"][0]["CertificateArn"])


def _site_rule(snap: Snapshot, listener: Any, *, priority: int | None,
               tags: list[dict[str, str]], before: int | None = None) -> Step:
    hosts = list(snap.names)
    params: dict[str, Any] = {
        "ListenerArn": listener, "Hosts": hosts,
        "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": hosts}}],
        "Actions": [{"Type": "forward", "TargetGroupArn": ref("target_group.arn")}],
        "Tags": tags}
    if priority is not None:
        params["Priority"] = priority
    if before is not None:
        params["Before"] = before
    where = f"at priority {priority}" if priority is not None else "at the lowest free priority"
    if before is not None:
        where += f", before rule {before}, which matches every host"
    return Step("site_rule", "elbv2.create_rule",
                f"Route {', '.join(hosts)} on the HTTPS listener to its target group "
                f"(host-header rule {where})", params,
                Inverse("elbv2.delete_rule", {"RuleArn": ref("site_rule.arn"),
                                              "ListenerArn": listener, "Hosts": hosts},
                        "Delete the rule"))


def _listener_certificate(snap: Snapshot, listener: Any, cert_arn: Any) -> Step:
    where = {"ListenerArn": listener, "CertificateArn": cert_arn}
    return Step("listener_certificate", "elbv2.add_listener_certificate",
                f"Add {snap.domain}'s certificate to the HTTPS listener (chosen by SNI)", where,
                Inverse("elbv2.remove_listener_certificate", where,
                        "Remove the certificate from the listener"))


def _for_site(step: Step, site: str, siblings: dict[str, Step]) -> Step:
    """A site's step in a plan for several sites: its id and its refs to its own steps carry
    the site's domain; refs to shared steps stay as they are."""
    def rename(path_step: str) -> str:
        return site_step_id(path_step, site) if path_step in siblings else path_step

    return replace(step, id=site_step_id(step.id, site), site=site,
                   params=rewrite_refs(step.params, rename),
                   inverse=Inverse(step.inverse.action, rewrite_refs(step.inverse.params,
                                                                     rename),
                                   step.inverse.description) if step.inverse else None)


def rewrite_refs(value: Any, rename: Callable[[str], str]) -> Any:
    """value with the step id of every ref passed through rename."""
    if is_ref(value):
        step_id, key = ref_parts(value)
        return ref(f"{rename(step_id)}.{key}")
    if isinstance(value, dict):
        return {k: rewrite_refs(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite_refs(v, rename) for v in value]
    return value


def replace_refs(value: Any, literals: dict[str, Any]) -> Any:
    """value with every ref whose path is in literals replaced by that literal."""
    if is_ref(value) and value["ref"] in literals:
        return literals[value["ref"]]
    if isinstance(value, dict):
        return {k: replace_refs(v, literals) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_refs(v, literals) for v in value]
    return value


# --- one site joining a load balancer that exists ----------------------------------------------


def build_join_plan(snapshot: Snapshot, options: PlanOptions, *, add_subnet: bool = False,
                    plan_id: str | None = None, created_at: str | None = None) -> Plan:
    """The plan that puts snapshot's site on snapshot.load_balancer."""
    plan_id = plan_id or new_plan_id()
    return Plan(id=plan_id, created_at=created_at or now(), snapshot=snapshot, options=options,
                steps=tuple(join_plan_steps(snapshot, options, plan_id,
                                            add_subnet=add_subnet)))


def join_plan_steps(snap: Snapshot, opts: PlanOptions, plan_id: str, *,
                    add_subnet: bool = False) -> list[Step]:
    lb = snap.load_balancer
    assert lb is not None, "a joining plan's snapshot names its load balancer"
    refuse_to_join(snap, lb, add_subnet=add_subnet)
    check_security_group_room(snap)
    records_to_switch(snap, joining=True)
    mine = {s.id: s for s in plan_steps(snap, opts, plan_id, joining=True)}
    tags = [{"Key": TAG_KEY, "Value": plan_id}]
    literals: dict[str, Any] = {"load_balancer.arn": lb.arn,
                                "load_balancer.dns_name": lb.dns_name,
                                "load_balancer.zone_id": lb.zone_id}
    if lb.https_listener_arn:
        literals["https_listener.arn"] = lb.https_listener_arn

    def adapted(step_id: str) -> Step:
        return replace_refs_in_step(mine[step_id], literals)

    steps: list[Step] = []
    steps += [adapted(s) for s in ("certificate", "target_group", "origin_security_group",
                                   "validation_records") if s in mine]
    # The instance admits HTTPS from the load balancer's own groups.
    ingress = mine["origin_ingress"]
    from_lb = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": g, "Description": "from the load balancer"}
                                     for g in lb.security_group_ids]}]
    steps.append(replace(
        ingress, description=f"Admit HTTPS (443) from {lb.name}'s security groups "
        f"({', '.join(lb.security_group_ids)}) to the instance",
        params={**ingress.params, "IpPermissions": from_lb},
        inverse=Inverse(ingress.inverse.action, {**ingress.inverse.params,
                                                  "IpPermissions": from_lb},
                        ingress.inverse.description) if ingress.inverse else None))
    steps += [adapted(s) for s in ("attach_origin_group", "register_instance")]
    steps.append(_join_tag(snap, lb, plan_id))
    missing_zone = snap.instance.availability_zone not in lb.availability_zones
    if missing_zone:
        steps.append(_add_subnet(snap, lb))
    cert_arn = mine["https_listener"].params["Certificates"][0]["CertificateArn"]
    listener: Any = lb.https_listener_arn
    if listener is None:
        # No HTTPS listener yet: the plan adds one, with this site's certificate as its default
        # (so it needs the certificate issued first), and removes it on rollback.
        steps += [adapted("certificate_issued")] if "certificate_issued" in mine else []
        https = adapted("https_listener")
        steps.append(replace(
            https, description=f"Add the HTTPS:443 listener ({opts.ssl_policy}) to {lb.name} "
            f"with {snap.domain}'s certificate as its default, answering 404 for other hosts",
            params={**https.params, "DefaultActions": [NO_SITE_HERE]}))
        listener = ref("https_listener.arn")
    catch_all = lb.first_catch_all()
    steps.append(_site_rule(snap, listener, priority=None, tags=tags,
                            before=catch_all.priority if catch_all else None))
    http = _http_redirect_rule(snap, lb, tags)
    if http is not None:
        steps.append(http)
    if lb.https_listener_arn is not None:
        steps += [adapted("certificate_issued")] if "certificate_issued" in mine else []
        if cert_arn not in lb.certificate_arns:
            steps.append(_listener_certificate(snap, listener, cert_arn))
    steps.append(adapted("target_healthy"))
    steps += [adapted(s) for s in (*SITE_CUTOVER, *LOCKDOWN) if s in mine]
    return steps


def replace_refs_in_step(step: Step, literals: dict[str, Any]) -> Step:
    return replace(step, params=replace_refs(step.params, literals),
                   inverse=Inverse(step.inverse.action, replace_refs(step.inverse.params,
                                                                     literals),
                                   step.inverse.description) if step.inverse else None)


def refuse_to_join(snap: Snapshot, lb: LoadBalancer, *, add_subnet: bool) -> None:
    """What makes a load balancer unable to take the site, as one PreflightError."""
    inst = snap.instance
    if lb.type != "application":
        raise PreflightError(f"{lb.name} is a {lb.type} load balancer: only an application "
                             "load balancer routes by host name and serves certificates by SNI",
                             hint="pick an application load balancer, or drop --load-balancer")
    if lb.scheme != "internet-facing":
        raise PreflightError(f"{lb.name} is {lb.scheme}: the internet cannot reach it",
                             hint="pick an internet-facing load balancer")
    if lb.vpc_id != inst.vpc_id:
        raise PreflightError(
            f"{lb.name} is in {lb.vpc_id}, the instance {inst.id} in {inst.vpc_id}: a load "
            "balancer only sends traffic to instances of its own VPC",
            hint="pick a load balancer of the instance's VPC, or drop --load-balancer")
    if lb.state not in ("active", "active_impaired"):
        raise PreflightError(f"{lb.name} is {lb.state or 'in no known state'}, not active",
                             hint="wait for it to be active, then plan again")
    if inst.availability_zone not in lb.availability_zones:
        subnet = _subnet_to_add(snap, lb)
        if not add_subnet:
            raise PreflightError(
                f"{lb.name} has no subnet in {inst.availability_zone}, the instance's zone "
                f"(it uses {', '.join(lb.availability_zones)}), so it would never send "
                "traffic to the instance",
                hint=(f"pass --add-subnet to add {subnet} (an undoable SetSubnets)"
                      if subnet else "add a public subnet in that zone to the VPC first"))
        if subnet is None:
            raise PreflightError(
                f"no public subnet in {inst.availability_zone} to add to {lb.name}",
                hint="create one with a route to the internet gateway, then plan again")
    names_used = [n for n in snap.names if lb.rule_for_host(n) is not None]
    if names_used:
        rule = lb.rule_for_host(names_used[0])
        assert rule is not None
        raise PreflightError(
            f"{names_used[0]} is already routed by rule {rule.priority} of {lb.name}'s HTTPS "
            f"listener (hosts {', '.join(rule.hosts)})",
            hint="that site is on this load balancer already; remove the rule or pick "
                 "another load balancer")
    catch_all = lb.first_catch_all()
    if catch_all is not None and lb.free_priority(below=catch_all.priority) is None:
        raise PreflightError(
            f"rule {catch_all.priority} of {lb.name}'s HTTPS listener matches every host "
            f"({', '.join(catch_all.other_conditions) or 'no condition'}) and no priority "
            "before it is free, so it would take some of the site's requests",
            hint="give that rule a host-header condition or a higher priority number")
    if lb.https_listener_arn and len(lb.certificate_arns) >= lb.certificate_quota:
        raise PreflightError(
            f"{lb.name}'s HTTPS listener has {len(lb.certificate_arns)} certificates, the "
            f"account's quota of {lb.certificate_quota} per load balancer",
            hint="raise 'Certificates per Application Load Balancer' in Service Quotas, or "
                 "pick another load balancer")
    rules_needed = 1 + (1 if lb.http_listener_arn and not lb.http_redirects else 0)
    if "AAAA" in {r.type for r in snap.records if r.name.rstrip(".") in snap.names} \
            and lb.ip_address_type == "ipv4":
        raise PreflightError(
            f"{snap.domain} has an AAAA record and {lb.name} is IPv4 only: IPv6 clients would "
            "keep reaching the instance",
            hint="pick a dualstack load balancer, or remove the AAAA record first")
    if len(lb.rules) + lb.other_rules + rules_needed > lb.rule_quota:
        raise PreflightError(
            f"{lb.name} has {len(lb.rules) + lb.other_rules} rules, the account's quota of "
            f"{lb.rule_quota} per load balancer",
            hint="raise 'Rules per Application Load Balancer' in Service Quotas, or pick "
                 "another load balancer")


def _subnet_to_add(snap: Snapshot, lb: LoadBalancer) -> str | None:
    """The public subnet of the instance's zone that --add-subnet adds: its own if public."""
    zone = snap.instance.availability_zone
    subnets = [s for s in snap.subnets if s.availability_zone == zone and s.public
               and s.zone_type == "availability-zone"]
    subnets.sort(key=lambda s: (s.id != snap.instance.subnet_id, s.id))
    return subnets[0].id if subnets else None


def _add_subnet(snap: Snapshot, lb: LoadBalancer) -> Step:
    subnet = _subnet_to_add(snap, lb)
    assert subnet is not None
    before = list(lb.subnet_ids)
    return Step("add_subnet", "elbv2.set_subnets",
                f"Add subnet {subnet} ({snap.instance.availability_zone}, the instance's zone) "
                f"to {lb.name}", {"LoadBalancerArn": lb.arn, "Subnets": [*before, subnet],
                                  "Before": before},
                Inverse("elbv2.set_subnets", {"LoadBalancerArn": lb.arn, "Subnets": before,
                                              "Before": [*before, subnet]},
                        f"Give {lb.name} back exactly its subnets {', '.join(before)}"))


def _join_tag(snap: Snapshot, lb: LoadBalancer, plan_id: str) -> Step:
    key = site_tag(plan_id)
    return Step("join_tag", "elbv2.tag_load_balancer",
                f"Tag {lb.name} {key}={snap.domain}, so the plan that made it can tell this "
                "site is on it", {"LoadBalancerArn": lb.arn, "Tags": {key: snap.domain}},
                Inverse("elbv2.untag_load_balancer", {"LoadBalancerArn": lb.arn,
                                                      "TagKeys": [key]},
                        "Remove the tag"))


def _http_redirect_rule(snap: Snapshot, lb: LoadBalancer,
                        tags: list[dict[str, str]]) -> Step | None:
    """On an HTTP:80 listener that does not redirect to HTTPS by default, a host rule that does
    for this site (its http:// addresses kept working); None when there is nothing to add."""
    if lb.http_listener_arn is None or lb.http_redirects:
        return None
    hosts = list(snap.names)
    params = {"ListenerArn": lb.http_listener_arn, "Hosts": hosts,
              "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": hosts}}],
              "Actions": [{"Type": "redirect", "RedirectConfig": {
                  "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                  "Query": "#{query}", "StatusCode": "HTTP_301"}}],
              "Tags": tags}
    return Step("http_rule", "elbv2.create_rule",
                f"Answer http://{hosts[0]} on {lb.name}'s HTTP listener with 301 to HTTPS "
                "(host-header rule at the lowest free priority)", params,
                Inverse("elbv2.delete_rule", {"RuleArn": ref("http_rule.arn"),
                                              "ListenerArn": lb.http_listener_arn,
                                              "Hosts": hosts}, "Delete the rule"))
