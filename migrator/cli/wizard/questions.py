"""The wizard's questions, each asked only when no flag answered it and at most once, with the
proposal as its default. Through NoPrompter (--yes, or no terminal) nothing is asked: defaults
are taken where that is safe, and a missing required answer is an error naming its flag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console

from migrator.cli import candidates, output
from migrator.cli.prompts import Prompter
from migrator.usecases import accounts, validation
from migrator.usecases.accounts import Account
from migrator.usecases.find_sites import find_candidates
from migrator.usecases.guided_plan import DEFAULT_SSL_POLICY
from migrator.usecases.site_proposals import JoinCandidate, JoinCandidates, Proposals

if TYPE_CHECKING:
    from migrator.aws.session import Aws

DEFAULT_IDLE_TIMEOUT = Proposals().idle_timeout_seconds
SSL_POLICIES = {
    DEFAULT_SSL_POLICY: "TLS 1.3 and 1.2: AWS's recommendation, for every current client",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06":
        "TLS 1.3 and 1.2, forward-secret AEAD ciphers only",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09":
        "TLS 1.3 and 1.2, with post-quantum hybrid key exchange",
    "ELBSecurityPolicy-TLS13-1-3-2021-06":
        "TLS 1.3 only: clients without TLS 1.3 cannot connect",
}
OTHER_SITE = "Another name (type it)"
SHORT_TTL = 60  # seconds: waiting this long for the lockdown in the same run is the default


@dataclass(frozen=True)
class ChosenAccount:
    """The profile and region chosen, and the flags that reproduce them in later commands."""

    profile: str | None
    region: str
    flags: tuple[str, ...] = ()

    @property
    def account(self) -> Account:
        return Account(self.profile, self.region)


def choose_account(given: Account, variables: Mapping[str, str],
                   prompter: Prompter) -> ChosenAccount:
    """The profile (asked only when several are configured) and the region."""
    profile = given.profile
    flags: list[str] = []
    if profile is None:
        local = accounts.local_profiles(variables)
        if len(local.configured) > 1:
            configured = list(local.configured)
            default = local.selected if local.selected in configured else configured[0]
            profile = prompter.select("AWS profile:", configured, default=default,
                                      flag="--profile")
            if profile != local.selected:
                flags += ["--profile", profile]
        # else boto3's own choice: AWS_PROFILE, the default profile or variables
    else:
        flags += ["--profile", profile]
    region = given.region
    configured_region = accounts.configured_region(profile)
    if region is None:
        region = prompter.text("AWS region:", default=configured_region or "", flag="--region",
                               validate=validation.region_problem).strip()
    if region != configured_region:
        flags += ["--region", region]
    return ChosenAccount(profile=profile, region=region, flags=tuple(flags))


def choose_site(given: str | None, console: Console, prompter: Prompter, aws: Aws) -> str:
    """--domain, else a name picked from the candidates found in the account, or typed."""
    if given:
        return validation.domain_name(given)
    with console.status(f"Looking for sites served by EC2 instances in {aws.region}…"):
        found = find_candidates(aws)
    output.sites_found(console, found)
    if not found.candidates:
        answer = prompter.text("Site name (e.g. www.example.com):", default="",
                               flag="--domain", validate=validation.domain_problem)
        return validation.domain_name(answer)
    names = found.names()
    answer = prompter.select("Which site?", [*names, OTHER_SITE], default=names[0],
                             flag="--domain", required=True)
    if answer == OTHER_SITE:
        answer = prompter.text("Site name:", default="", flag="--domain",
                               validate=validation.domain_problem)
    return validation.domain_name(answer)


def choose_load_balancer(found: JoinCandidates, zone: str, console: Console,
                         flags: tuple[str, ...], prompter: Prompter) -> JoinCandidate | None:
    """A load balancer of the VPC for the site to join, or None for one of its own. The
    candidates are shown (nothing when the VPC has none); the question is asked only when one
    can take the site. Enter joins the first that can as it is; without a terminal (--yes, or
    no terminal) the site keeps a load balancer of its own unless --load-balancer names one."""
    if not found.candidates and not found.problem:
        return None
    console.print()
    candidates.show(console, found, flags, commands=False, zone=zone)
    answers = candidates.choices(found)
    if len(answers) == 1:  # only "a new load balancer of its own"
        return None
    labels = list(answers)
    as_they_are = [label for label, c in answers.items() if c is not None and not c.add_subnet]
    default = as_they_are[0] if as_they_are else candidates.NEW_LOAD_BALANCER
    answer = prompter.select(f"Put {found.domain} on an existing load balancer?", labels,
                             default=default, flag="--load-balancer",
                             unattended=candidates.NEW_LOAD_BALANCER)
    return answers.get(answer)


def choose_sans(prompter: Prompter, proposals: Proposals) -> tuple[str, ...]:
    chosen = prompter.checkbox("Other names the certificate should cover:",
                               proposals.sans, default=proposals.sans_checked, flag="--san")
    return tuple(validation.domain_name(n, "--san") for n in chosen)


def choose_health_check_path(given: str | None, prompter: Prompter,
                             proposals: Proposals) -> str:
    if given is not None:
        return given
    return prompter.text("Health check path (the load balancer GETs it over HTTPS):",
                         default=proposals.health_check_path, flag="--health-check-path",
                         validate=validation.health_check_path_problem)


def choose_idle_timeout(given: int | None, prompter: Prompter, proposals: Proposals) -> int:
    """--idle-timeout, else the proposal; asked only when the origin closes idle connections
    before the load balancer's default 60 s (the warning above says why)."""
    if given is not None:
        return given
    if proposals.idle_timeout_seconds == DEFAULT_IDLE_TIMEOUT:
        return DEFAULT_IDLE_TIMEOUT
    origin = proposals.origin_idle_seconds
    why = f" (the instance closes idle connections after {origin:g} s)" if origin else ""
    answer = prompter.text(f"Load balancer idle timeout in seconds{why}:",
                           default=str(proposals.idle_timeout_seconds), flag="--idle-timeout",
                           validate=validation.idle_timeout_problem)
    return int(answer.strip())


def choose_ssl_policy(given: str | None, prompter: Prompter) -> str:
    if given is not None:
        return given
    return prompter.select("TLS policy of the HTTPS listener:", list(SSL_POLICIES),
                           default=DEFAULT_SSL_POLICY, flag="--ssl-policy",
                           descriptions=SSL_POLICIES)


def choose_http_redirect(given: bool | None, prompter: Prompter) -> bool:
    if given is not None:
        return given
    return prompter.confirm("Answer plain HTTP (port 80) with a redirect to HTTPS?",
                            default=True, flag="--no-http-redirect", required=False)


def choose_lockdown(given: bool | None, prompter: Prompter, proposals: Proposals) -> bool:
    """Offered only when a group of the instance admits 80/443 from anywhere; proposed unless
    preflight found its copies impossible."""
    if given is not None:
        return given
    if not proposals.lockdown_offered:
        return False
    return prompter.confirm("Then lock the instance down to the load balancer (80/443)?",
                            default=proposals.lockdown_possible, flag="--no-lockdown",
                            required=False)


SWITCH_NOW = "Switch DNS to it now"
STOP_BEFORE_SWITCH = "Stop before the switch"
SWITCH_CHOICES = {  # the descriptions fit 80 columns after questionary's "  Description: "
    SWITCH_NOW: "then check the site by its name; DNS is restored if that fails",
    STOP_BEFORE_SWITCH: "DNS untouched: try the load balancer, switch later with apply",
}


def choose_stop_before_switch(given: bool | None, prompter: Prompter) -> bool:
    """Whether apply stops before the DNS switch (ready to switch) instead of switching."""
    if given is not None:
        return given
    answer = prompter.select("Once the load balancer passes its checks:", list(SWITCH_CHOICES),
                             default=SWITCH_NOW, flag="--stop-before-switch",
                             descriptions=SWITCH_CHOICES)
    return answer == STOP_BEFORE_SWITCH


def choose_wait_for_ttl(given: bool | None, prompter: Prompter, proposals: Proposals) -> bool:
    """The lockdown waits for the old record's TTL after the switch: in this run, or later."""
    if given is not None:
        return given
    ttl = proposals.old_ttl
    return prompter.confirm(f"Wait out the old TTL ({ttl} s) and lock down in this run?",
                            default=ttl <= SHORT_TTL, flag="--wait-for-ttl", required=False)
