"""Every check of a request's plain values, in one place: names, the health check path, the idle
timeout and the idle probe's bound, the canary's stages, soak and bounds, the TLS policy's and
the region's spelling, an approved sha256, rollback's DNS drain, the network variables, and the
default plan file name.

Each check raises a UsageError naming the option the way the user gave it (its flag); the
``*_problem`` forms return the same verdict as one line (None when acceptable), for a question
that asks again instead of failing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.core import planfile
from migrator.errors import InvalidDomainError, MigratorError, PlanFileError, UsageError

if TYPE_CHECKING:
    from migrator.net.config import NetConfig

IDLE_TIMEOUT_RANGE = (1, 4000)  # seconds; what ELB allows for idle_timeout.timeout_seconds
IDLE_PROBE_MAX = 4000.0
HEALTH_CHECK_PATH_MAX = 1024  # characters; ELB's limit
_POLICY_NAME = re.compile(r"^ELBSecurityPolicy-[A-Za-z0-9-]{1,100}$")
_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


# --- names ----------------------------------------------------------------------------------------

def domain_name(name: str, flag: str = "--domain") -> str:
    """The normalized form of a host name given with `flag`."""
    from migrator.core.names import normalize_domain

    try:
        return normalize_domain(name)
    except MigratorError as exc:
        raise InvalidDomainError(f"{flag}: {exc.message}", hint=exc.hint) from exc


def domain_problem(value: str) -> str | None:
    from migrator.core.names import normalize_domain

    try:
        normalize_domain(value)
    except MigratorError as exc:
        return exc.message
    return None


def domain_names(domain: str, sans: Sequence[str]) -> tuple[str, ...]:
    """The site's name, then each other name, normalized (in the order given)."""
    return (domain_name(domain), *(domain_name(n, "--san") for n in sans))


def certificate_names(domain: str, sans: Sequence[str]) -> tuple[str, ...]:
    """domain_names, refused (before any AWS call) when ACM would refuse them on one
    certificate: more names than its quota, or a first name longer than 64 octets."""
    from migrator.checks.preflight.quotas import require_acm_quotas

    names = domain_names(domain, sans)
    require_acm_quotas(names)
    return names


# --- the load balancer's options ----------------------------------------------------------------

def health_check_path(path: str) -> str:
    problem = health_check_path_problem(path)
    if problem:
        raise UsageError(f"--health-check-path {path!r}: {problem}",
                         hint="e.g. --health-check-path /health")
    return path


def health_check_path_problem(value: str) -> str | None:
    if (not value.startswith("/") or any(c.isspace() for c in value)
            or len(value) > HEALTH_CHECK_PATH_MAX):
        return "must start with / and have no spaces"
    return None


def idle_timeout(value: int | None) -> int | None:
    """--idle-timeout, checked against ELB's range (None when not given)."""
    low, high = IDLE_TIMEOUT_RANGE
    if value is not None and not low <= value <= high:
        raise UsageError(f"--idle-timeout {value} is outside {low}-{high} seconds, the range "
                         "an Application Load Balancer accepts",
                         hint="e.g. --idle-timeout 60 (the load balancer's default)")
    return int(value) if value is not None else None


def idle_timeout_problem(text: str) -> str | None:
    """The same range, for a typed answer."""
    low, high = IDLE_TIMEOUT_RANGE
    if not text.strip().isdigit() or not low <= int(text) <= high:
        return f"a whole number of seconds from {low} to {high}"
    return None


def origin_idle_probe(value: float | None) -> float:
    """--origin-idle-probe: how long preflight waits for the origin to close an idle
    connection (the default when not given)."""
    from migrator.checks.preflight.idle import DEFAULT_BOUND

    if value is None:
        return DEFAULT_BOUND
    if not 0 <= value <= IDLE_PROBE_MAX:
        raise UsageError(f"--origin-idle-probe {value:g} is outside 0-{IDLE_PROBE_MAX:g} seconds",
                         hint=f"e.g. --origin-idle-probe {DEFAULT_BOUND:g} (the default)")
    return float(value)


def ssl_policy(name: str, example: str) -> str:
    if not _POLICY_NAME.match(name):
        raise UsageError(f"--ssl-policy {name!r} is not an ELB security policy",
                         hint=f"e.g. --ssl-policy {example}")
    return name


# --- the canary -----------------------------------------------------------------------------------

SOAK_MAX = 24 * 3600  # seconds; a soak longer than a day is a mistake


def canary_stages(text: str | None) -> tuple[int, ...]:
    """--canary 10,50,100: the percentages of the traffic sent to the load balancer, stage by
    stage; whole numbers from 1 to 100, increasing, ending at 100 (() when not given)."""
    if text is None:
        return ()
    hint = "e.g. --canary 10,50,100 (10% of the traffic, then half, then everyone)"
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        raise UsageError(f"--canary {text!r} is not a list of percentages", hint=hint)
    stages = tuple(int(part) for part in parts)
    if not all(1 <= w <= 100 for w in stages):
        raise UsageError(f"--canary {text}: every stage is a percentage from 1 to 100",
                         hint=hint)
    if any(a >= b for a, b in itertools.pairwise(stages)):
        raise UsageError(f"--canary {text}: the stages must increase", hint=hint)
    if stages[-1] != 100:
        raise UsageError(f"--canary {text}: the last stage must be 100 (everyone on the load "
                         "balancer)", hint=hint)
    return stages


def soak_seconds(value: int | None) -> int | None:
    """--soak: how long each stage but the last is held, 0 to a day (None when not given)."""
    if value is not None and not 0 <= value <= SOAK_MAX:
        raise UsageError(f"--soak {value} is outside 0-{SOAK_MAX} seconds",
                         hint="e.g. --soak 300 (CloudWatch has the load balancer's figures "
                              "per minute)")
    return value


def canary_count(value: int | None, flag: str) -> int | None:
    """A bound on a count (--max-target-5xx, ...): a whole number, 0 or more."""
    if value is not None and value < 0:
        raise UsageError(f"{flag} {value} is negative", hint=f"e.g. {flag} 0")
    return value


def response_time_factor(value: float | None) -> float | None:
    """--max-response-time-factor: a multiple of the origin's latency, above 0."""
    if value is not None and not 0 < value <= 1000:
        raise UsageError(f"--max-response-time-factor {value:g} is not a multiple from above "
                         "0 to 1000", hint="e.g. --max-response-time-factor 3")
    return value


def response_time_margin(value: float | None) -> float | None:
    """--response-time-margin: seconds added to the bound, 0 to 60."""
    if value is not None and not 0 <= value <= 60:
        raise UsageError(f"--response-time-margin {value:g} is outside 0-60 seconds",
                         hint="e.g. --response-time-margin 0.25")
    return value


def canary_flags_without_canary(given: Mapping[str, object]) -> None:
    """The canary's bounds and soak mean nothing without --canary: refuse them alone."""
    alone = [flag for flag, value in given.items() if value is not None]
    if alone:
        raise UsageError(f"{', '.join(alone)} go with --canary",
                         hint="add e.g. --canary 10,50,100, or leave them out")


# --- the account ---------------------------------------------------------------------------------

def region(name: str) -> str:
    if region_problem(name):
        raise UsageError(f"--region {name!r} is not a region name",
                         hint="e.g. --region eu-west-1")
    return name


def region_problem(value: str) -> str | None:
    if not _REGION_NAME.match(value.strip()):
        return "not a region name like eu-west-1"
    return None


# --- plan files, apply and rollback -------------------------------------------------------------

def expected_sha256(value: str, plans: int) -> str:
    """An approved plan digest (lower-case): 64 hexadecimal digits, for exactly one plan."""
    from migrator.core.plan import SHA256_HEX

    if not SHA256_HEX.match(value):
        raise UsageError(f"--expect-sha256 {value!r} is not a sha256 (64 hexadecimal digits)",
                         hint="copy the digest `migrator show PLAN` prints")
    if plans != 1:
        raise UsageError(f"--expect-sha256 approves one plan, and {plans} files were given",
                         hint="apply each approved plan with its own --expect-sha256")
    return value.lower()


def dns_drain(seconds: float) -> float:
    """--dns-drain: a wait, so not negative."""
    if seconds < 0:
        raise UsageError(f"--dns-drain {seconds:g} is negative",
                         hint="e.g. --dns-drain 60 (the alias record's TTL)")
    return seconds


def shared_sites(domains: Sequence[str], joining: Sequence[bool]) -> None:
    """A plan for several sites behind one new load balancer: two sites at least, each named
    once, none of them also joining another load balancer."""
    if len(dict.fromkeys(domains)) < 2:
        raise UsageError("--shared-load-balancer puts several sites on one load balancer: "
                         "name at least two with --domain",
                         hint="e.g. --domain www.example.com --domain shop.example.com")
    if len(dict.fromkeys(domains)) != len(domains):
        raise UsageError("a site is named twice", hint="name each site once with --domain")
    if any(joining):
        raise UsageError("--shared-load-balancer makes a new load balancer; --load-balancer "
                         "joins one that exists", hint="pass one of them")


def default_plan_path(domain: str, at: datetime | None = None) -> Path:
    """plans/<domain>-<UTC stamp>.json, where `plan` and the wizard write a new plan."""
    stamp = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path("plans") / f"{domain}-{stamp}.json"


def new_plan_path(path: Path) -> Path:
    """Where `plan` may write a new plan: not over a plan that apply or rollback has already
    recorded state for (the new plan would be refused beside that state, and its record of
    what was done in AWS would be orphaned)."""
    state = planfile.state_path(path)
    if planfile.is_state_file(path):
        raise UsageError(f"{path} names a state file, not a place for a plan",
                         hint="pass a plan file name such as plans/www.example.com.json")
    if state.exists():
        raise PlanFileError(f"{path} has been applied (its state is in {state}): a new plan "
                            "written there would lose the record of what was done",
                            hint="write the new plan to another file with --out, or roll the "
                                 "old one back and move both files away first")
    return path


# --- the process's variables --------------------------------------------------------------------

def network_config(variables: Mapping[str, str]) -> NetConfig:
    """The DNS and HTTPS configuration from MIGRATOR_* variables (MIGRATOR_NAMESERVERS,
    MIGRATOR_CONNECT_TO, MIGRATOR_CA_BUNDLE) for preflight and verification alike; a bad value
    is a usage error."""
    from migrator.checks.preflight import net_from_env

    return net_from_env(variables)
