"""The load balancers a site could join, as `inspect` and the wizard show them (text sized for
80 columns, and the "load_balancers" list of `inspect --json`), with the command that joins
each one."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.padding import Padding
from rich.text import Text

from migrator.cli import output
from migrator.cli.environment import Environment

if TYPE_CHECKING:
    from rich.console import Console

    from migrator.usecases.inspect_site import Inspection
    from migrator.usecases.site_proposals import JoinCandidate, JoinCandidates

NEW_LOAD_BALANCER = "a new load balancer of its own"


def join_command(domain: str, candidate: JoinCandidate, flags: Sequence[str] = ()) -> str:
    """The `migrator plan` line that puts the site on candidate's load balancer."""
    words = ["migrator", "plan", "--domain", domain, "--load-balancer",
             candidate.load_balancer.name, *(["--add-subnet"] if candidate.add_subnet else []),
             *flags]
    return " ".join(shlex.quote(w) for w in words)


def verdict(candidate: JoinCandidate, zone: str) -> str:
    """Whether it can take the site, in words."""
    if not candidate.usable:
        return f"cannot take it: {candidate.refusal}"
    if candidate.add_subnet:
        return (f"can take it with --add-subnet (no subnet in {zone}, the instance's zone: "
                "the plan adds one; rollback removes it)")
    return "can take it"


def usage_text(candidate: JoinCandidate) -> str:
    lb = candidate.load_balancer
    return (f"zones {', '.join(lb.availability_zones)}; certificates "
            f"{candidate.certificates_used} of {lb.certificate_quota}, rules "
            f"{candidate.rules_used} of {lb.rule_quota} used")


def tls_text(candidate: JoinCandidate) -> str:
    policy = candidate.load_balancer.ssl_policy
    if policy is None:
        return "no HTTPS:443 listener yet: joining adds one (and rollback removes it)"
    if candidate.allows_old_tls:
        return (f"TLS policy {policy}: still allows TLS 1.0/1.1 (joining does not change it; "
                "other sites use that listener)")
    return f"TLS policy {policy}"


def show(console: Console, found: JoinCandidates, flags: Sequence[str] = (), *,
         commands: bool = True, zone: str = "") -> None:
    """Each load balancer: whether it can take the site (or why not), what it uses of its
    quotas, its TLS policy, the monthly cost saved and (commands) the command that joins it;
    one line when the VPC has none. zone: the instance's Availability Zone."""
    domain = found.domain
    if found.problem:
        console.print(f"! Load balancers in {found.vpc_id} that could take {domain}: not listed "
                      f"({found.problem})", markup=False)
        return
    if not found.candidates:
        console.print(f"Load balancers in {found.vpc_id} that could take {domain}: none.",
                      markup=False, soft_wrap=True)
        return
    console.print(f"[bold]Load balancers in {found.vpc_id} that could take {domain}[/] "
                  "(instead of one of its own):")
    for c in found.candidates:
        lb = c.load_balancer
        saving = (f"; saves about ${c.monthly_saving:.2f} a month"
                  if c.usable and c.monthly_saving is not None else "")
        _indented(console, 2, f"{lb.name}: {verdict(c, zone or 'its zone')}{saving}")
        _indented(console, 4, usage_text(c))
        _indented(console, 4, tls_text(c))
        if c.usable and commands:  # on one line, to be copied
            console.print(f"    join it: {join_command(domain, c, flags)}", markup=False,
                          soft_wrap=True)
    if found.usable:
        _indented(console, 2, "(saved: the base price and public IPv4 addresses of a load "
                              "balancer of its own; LCUs are billed by traffic either way)")
    else:
        _indented(console, 2, f"None of them can take {domain}: a plan gives it a load "
                              "balancer of its own.")


def _indented(console: Console, indent: int, line: str) -> None:
    """line as it is (no markup), wrapped lines indented as the first."""
    console.print(Padding(Text(line), (0, 0, 0, indent)))


def to_dicts(found: JoinCandidates, flags: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The "load_balancers" list of `inspect --json`."""
    out = []
    for c in found.candidates:
        lb = c.load_balancer
        out.append({
            "name": lb.name, "arn": lb.arn, "dns_name": lb.dns_name, "vpc_id": lb.vpc_id,
            "zones": list(lb.availability_zones), "can_take_site": c.usable,
            "add_subnet": c.add_subnet, "reason": c.refusal, "hint": c.hint or None,
            "certificates": c.certificates_used, "certificate_quota": lb.certificate_quota,
            "rules": c.rules_used, "rule_quota": lb.rule_quota,
            "https_listener": lb.https_listener_arn is not None,
            "ssl_policy": lb.ssl_policy, "allows_tls_1_0_or_1_1": c.allows_old_tls,
            "monthly_saving_usd": c.monthly_saving,
            "created_by": lb.created_by, "joined_by": list(lb.joined_by),
            "join_command": join_command(found.domain, c, flags) if c.usable else None})
    return out


def inspection(env: Environment, result: Inspection, *, as_json: bool,
               flags: Sequence[str] = ()) -> None:
    """`migrator inspect`: output.inspection's report, then the load balancers the site could
    join; with --json, one document holding both ("load_balancers" beside "snapshot" and
    "findings")."""
    found = result.load_balancers
    if as_json:
        from migrator.checks.preflight import findings_to_dicts

        document: dict[str, Any] = {"snapshot": result.snapshot.to_dict(),
                                    "findings": findings_to_dicts(result.findings),
                                    "load_balancers": to_dicts(found, flags) if found else []}
        if found is not None and found.problem:
            document["load_balancers_problem"] = found.problem
        output.json_document(env, json.dumps(document, default=str))
        return
    output.inspection(env, result, as_json=False)
    if found is not None:
        env.console.print()
        show(env.console, found, flags, zone=result.snapshot.instance.availability_zone)


def choices(found: JoinCandidates) -> dict[str, JoinCandidate | None]:
    """The wizard's answers to "Put D on an existing load balancer?": each load balancer that
    can take the site (those needing a subnet last), then a new one of its own (None)."""
    out: dict[str, JoinCandidate | None] = {}
    for c in found.usable:
        lb = c.load_balancer
        label = f"join {lb.name}"
        if c.add_subnet:
            label += ", adding a subnet of the instance's zone to it"
        if c.monthly_saving is not None:
            label += f" — saves about ${c.monthly_saving:.2f} a month"
        out[label] = c
    out[NEW_LOAD_BALANCER] = None
    return out
