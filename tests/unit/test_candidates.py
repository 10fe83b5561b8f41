"""The load balancers a site could join, judged (site_proposals.judge: preflight's refusals, as
it is and with a subnet added), rendered (cli.candidates) and offered by the wizard's question
(its default, and its answer without a terminal)."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console

from migrator.checks.preflight.joining import monthly_saving
from migrator.cli import candidates
from migrator.cli.prompts import CannedPrompter, NoPrompter
from migrator.cli.wizard.questions import choose_load_balancer
from migrator.core.snapshot import ListenerRule, LoadBalancer
from migrator.usecases.site_proposals import JoinCandidates, judge, ranked
from tests.support.snapshots import snapshot
from tests.unit.test_joining_refusals import LB

OTHER_ZONES = (("ap-northeast-1c", "subnet-c"), ("ap-northeast-1d", "subnet-d"))
SNAP = snapshot()


def found(*lbs: LoadBalancer) -> JoinCandidates:
    return JoinCandidates("vpc-1", SNAP.domain, ranked(SNAP, lbs))


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=80, no_color=True), out


def test_judged_as_it_is_with_a_subnet_added_or_refused_with_preflights_reason() -> None:
    usable = judge(SNAP, LB)
    assert usable.usable and not usable.add_subnet and usable.refusal is None
    assert usable.monthly_saving == monthly_saving("ap-northeast-1", 2)
    assert usable.certificates_used == 1 and usable.rules_used == 1
    needs = judge(SNAP, replace(LB, subnets=OTHER_ZONES))
    assert needs.usable and needs.add_subnet
    routed = judge(SNAP, replace(LB, rules=(ListenerRule("arn:rule/7", 7, ("www.example.com",)),)))
    assert not routed.usable and "already routed by rule 7" in (routed.refusal or "")
    # A load balancer lacking the zone AND refused for another reason is refused for that.
    both = judge(SNAP, replace(LB, subnets=OTHER_ZONES, certificate_arns=tuple(
        f"arn:aws:acm:cert/{n}" for n in range(25))))
    assert not both.usable and "25 certificates" in (both.refusal or "")
    assert judge(SNAP, replace(LB, ssl_policy="ELBSecurityPolicy-2016-08")).allows_old_tls


def test_the_question_defaults_to_the_first_that_takes_it_as_it_is() -> None:
    listed = found(replace(LB, name="a-needs-subnet", subnets=OTHER_ZONES), replace(LB, name="z"))
    labels = list(candidates.choices(listed))
    assert labels[0].startswith("join z — saves about $")
    assert labels[1].startswith("join a-needs-subnet, adding a subnet")
    assert labels[-1] == candidates.NEW_LOAD_BALANCER
    out, _ = console()
    prompter = CannedPrompter({})  # Enter: the default
    chosen = choose_load_balancer(listed, "ap-northeast-1a", out, (), prompter)
    assert chosen is not None and chosen.load_balancer.name == "z"
    assert prompter.asked == ["--load-balancer"]


def test_one_that_needs_a_subnet_is_offered_but_not_the_default() -> None:
    listed = found(replace(LB, subnets=OTHER_ZONES))
    out, _ = console()
    assert choose_load_balancer(listed, "ap-northeast-1a", out, (), CannedPrompter({})) is None
    label = next(iter(candidates.choices(listed)))
    chosen = choose_load_balancer(listed, "ap-northeast-1a", out, (),
                                  CannedPrompter({"--load-balancer": label}))
    assert chosen is not None and chosen.add_subnet


def test_without_a_terminal_the_site_keeps_a_load_balancer_of_its_own() -> None:
    out, text = console()
    assert choose_load_balancer(found(LB), "ap-northeast-1a", out, (), NoPrompter()) is None
    assert "shared: can take it" in text.getvalue()


def test_nothing_shown_or_asked_when_the_vpc_has_none() -> None:
    out, text = console()
    prompter = CannedPrompter({})
    empty = JoinCandidates("vpc-1", SNAP.domain)
    assert choose_load_balancer(empty, "ap-northeast-1a", out, (), prompter) is None
    assert prompter.asked == [] and text.getvalue() == ""


def test_a_listing_that_failed_is_said_and_nothing_asked() -> None:
    out, text = console()
    prompter = CannedPrompter({})
    failed = JoinCandidates("vpc-1", SNAP.domain, problem="access denied")
    assert choose_load_balancer(failed, "ap-northeast-1a", out, (), prompter) is None
    assert prompter.asked == []
    assert ("that could take www.example.com: not listed (access denied)"
            in " ".join(text.getvalue().split()))


def test_the_lines_fit_80_columns_and_the_join_command_stays_whole() -> None:
    long = replace(LB, name="a-very-long-load-balancer-name-of-32", subnets=OTHER_ZONES,
                   ssl_policy="ELBSecurityPolicy-2016-08")
    out, text = console()
    candidates.show(out, found(long), ("--region", "ap-northeast-1"), zone="ap-northeast-1a")
    lines = text.getvalue().splitlines()
    command = ("    join it: migrator plan --domain www.example.com --load-balancer "
               "a-very-long-load-balancer-name-of-32 --add-subnet --region ap-northeast-1")
    assert command in lines
    assert all(len(line.rstrip()) <= 80 for line in lines if line != command)
    assert "still allows TLS 1.0/1.1" in " ".join(text.getvalue().split())
