"""Rich renderings of a snapshot, a plan and its progress, sized for an 80-column terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from migrator.core.plan import DONE, FAILED, PENDING, REVERTED, REVERTING, RUNNING, SKIPPED, Plan
from migrator.core.snapshot import Snapshot

MARKS = {PENDING: "·", RUNNING: "…", DONE: "✓", FAILED: "✗", SKIPPED: "-", REVERTING: "↺",
         REVERTED: "↩"}
STYLES = {DONE: "green", FAILED: "red", REVERTED: "cyan", RUNNING: "yellow",
          REVERTING: "yellow", SKIPPED: "dim", PENDING: ""}


def snapshot_report(console: Console, snap: Snapshot) -> None:
    console.print(f"[bold]{snap.domain}[/] in account {snap.account}, region {snap.region}")
    console.print(f"Hosted zone: {snap.zone.name} ({snap.zone.id}), name servers "
                  f"{', '.join(snap.zone.nameservers) or 'unknown'}")
    records = Table(title="Records", title_justify="left", expand=False)
    for column in ("name", "type", "TTL", "value"):
        records.add_column(column)
    for r in snap.records:
        value = f"alias {r.alias.get('DNSName')}" if r.alias else ", ".join(r.values)
        records.add_row(r.name, r.type, str(r.ttl or ""), value)
    console.print(records)
    inst = snap.instance
    console.print(f"Instance: {inst.id} {inst.name and f'({inst.name}) '}{inst.state}, "
                  f"{inst.public_ip} → {inst.private_ip}, {inst.availability_zone}, {inst.vpc_id}")
    groups = Table(title="Security groups of the instance", title_justify="left")
    for column in ("group", "ingress", "shared with"):
        groups.add_column(column)
    for g in snap.security_groups:
        groups.add_row(f"{g.id}\n{g.name}", "\n".join(describe_rule(r) for r in g.ingress),
                       ", ".join(g.shared_with) or "-")
    console.print(groups)
    subnets = Table(title=f"Subnets of {inst.vpc_id}", title_justify="left")
    for column in ("zone", "subnet", "CIDR", "public"):
        subnets.add_column(column)
    for s in snap.subnets:
        subnets.add_row(s.availability_zone, s.id, s.cidr, "yes" if s.public else "no")
    console.print(subnets)
    if snap.certificates:
        certs = Table(title="ACM certificates covering the names", title_justify="left")
        for column in ("certificate", "status", "names"):
            certs.add_column(column)
        for c in snap.certificates:
            certs.add_row(c.arn.split("/")[-1], c.status, ", ".join(c.names))
        console.print(certs)
    else:
        console.print("ACM certificates covering the names: none")


def describe_rule(rule: dict[str, Any]) -> str:
    port = rule.get("FromPort")
    ports = "all" if rule["IpProtocol"] == "-1" else (
        str(port) if port == rule.get("ToPort") else f"{port}-{rule.get('ToPort')}")
    sources = [r["CidrIp"] for r in rule.get("IpRanges", [])]
    sources += [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])]
    sources += [r["GroupId"] for r in rule.get("UserIdGroupPairs", [])]
    sources += [r["PrefixListId"] for r in rule.get("PrefixListIds", [])]
    return f"{rule['IpProtocol']}/{ports} from {', '.join(sources)}"


def plan_table(plan: Plan, *, with_inverse: bool = True) -> Table:
    table = Table(title=f"Plan {plan.id} for {', '.join(plan.domains)} ({plan.snapshot.region})",
                  title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("", width=1)
    table.add_column("step")
    if with_inverse:
        table.add_column("undo")
    for number, step in enumerate(plan.steps, 1):
        state = plan.state(step.id)
        row = [str(number), MARKS.get(state.status, "?"),
               f"[bold]{step.id}[/] {step.description}"
               + (f"\n[red]{state.error}[/]" if state.error else "")]
        if with_inverse:
            row.append(step.inverse.description if step.inverse else "-")
        table.add_row(*row, style=STYLES.get(state.status, ""))
    return table
