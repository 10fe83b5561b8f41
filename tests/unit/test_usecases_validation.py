"""The use cases' validation, each rule in one place (migrator.usecases.validation), and the use
cases refusing a bad request before they connect to AWS or write anything."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from migrator.checks.preflight.idle import DEFAULT_BOUND
from migrator.errors import (
    DigestMismatchError,
    Interrupted,
    InvalidDomainError,
    PreflightError,
    UsageError,
)
from migrator.exit_status import ExitStatus
from migrator.usecases import guided_plan, validation
from migrator.usecases.accounts import Account
from migrator.usecases.apply_plans import ApplyRequest, plans_to_apply
from migrator.usecases.guided_plan import GuidedRequest
from migrator.usecases.plan_sites import SiteRequest, plan_site
from migrator.usecases.progress import PlanProgress
from migrator.usecases.rollback_plans import RollbackRequest, plans_to_roll_back
from migrator.usecases.several_sites import run_each, worst_status
from migrator.usecases.verify_site import VerifyRequest, verify_site

EXAMPLE = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"


def no_aws(account: Account) -> Any:
    raise AssertionError(f"AWS was asked ({account})")


# --- the rules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 4001, -5])
def test_the_idle_timeout_is_within_elbs_range(value: int) -> None:
    with pytest.raises(UsageError, match=f"--idle-timeout {value} is outside 1-4000 seconds"):
        validation.idle_timeout(value)


def test_an_idle_timeout_in_range_or_none_passes() -> None:
    assert validation.idle_timeout(None) is None
    assert validation.idle_timeout(1) == 1 and validation.idle_timeout(4000) == 4000
    assert validation.idle_timeout_problem("60") is None
    for typed in ("0", "4001", "soon", ""):
        assert validation.idle_timeout_problem(typed) == "a whole number of seconds from 1 to 4000"


def test_the_origin_idle_probe_bound() -> None:
    assert validation.origin_idle_probe(None) == DEFAULT_BOUND
    assert validation.origin_idle_probe(0) == 0.0
    assert validation.origin_idle_probe(0.5) == 0.5
    for value in (-1, 4000.5):
        with pytest.raises(UsageError, match=f"--origin-idle-probe {value:g} is outside 0-4000"):
            validation.origin_idle_probe(value)


@pytest.mark.parametrize("path", ["health", "/a b", "/tab\there", "/" + "x" * 1024, ""])
def test_a_health_check_path_starts_with_a_slash_and_has_no_spaces(path: str) -> None:
    with pytest.raises(UsageError, match=r"--health-check-path .*must start with / and have no "
                                         r"spaces") as raised:
        validation.health_check_path(path)
    assert raised.value.hint == "e.g. --health-check-path /health"
    assert validation.health_check_path_problem(path) == "must start with / and have no spaces"


def test_a_good_health_check_path_passes() -> None:
    for path in ("/", "/health", "/a?b=c", "/" + "x" * 1023):
        assert validation.health_check_path(path) == path
        assert validation.health_check_path_problem(path) is None


def test_names_are_normalized_and_a_bad_one_names_its_flag() -> None:
    assert validation.domain_names("WWW.Example.com.", ["Example.COM"]) == (
        "www.example.com", "example.com")
    with pytest.raises(InvalidDomainError, match=r"^--domain: 'not a name' is not a valid"):
        validation.domain_name("not a name")
    with pytest.raises(InvalidDomainError, match=r"^--san: '10\.0\.0\.1' is an IP address"):
        validation.domain_names("www.example.com", ["10.0.0.1"])
    assert validation.domain_problem("www.example.com") is None
    assert "not a valid domain name" in str(validation.domain_problem("a b"))


def test_acms_quotas_are_refused_before_anything_else() -> None:
    many = [f"n{i}.example.com" for i in range(10)]
    with pytest.raises(PreflightError, match=r"^preflight refused the plan: .*11 names"):
        validation.certificate_names("www.example.com", many)
    long_first = "a" * 60 + ".example.com"
    with pytest.raises(PreflightError, match="octets"):
        validation.certificate_names(long_first, [])
    assert validation.certificate_names("www.example.com", many[:9])[0] == "www.example.com"


def test_an_approved_digest_is_64_hex_digits_for_one_plan() -> None:
    digest = "AB" * 32
    assert validation.expected_sha256(digest, 1) == digest.lower()
    with pytest.raises(UsageError, match="is not a sha256"):
        validation.expected_sha256("xyz", 1)
    with pytest.raises(UsageError, match="approves one plan, and 2 files were given"):
        validation.expected_sha256(digest, 2)


def test_the_default_plan_path_is_under_plans_with_a_utc_stamp() -> None:
    at = datetime(2026, 11, 24, 16, 0, 0, tzinfo=UTC)
    assert validation.default_plan_path("www.example.com", at) == Path(
        "plans/www.example.com-20261124T160000Z.json")
    now = validation.default_plan_path("www.example.com")
    assert now.parent == Path("plans") and now.name.endswith("Z.json")


def test_the_tls_policy_region_and_drain_spellings() -> None:
    assert validation.ssl_policy("ELBSecurityPolicy-TLS13-1-3-2021-06", "x")
    with pytest.raises(UsageError, match="is not an ELB security policy"):
        validation.ssl_policy("TLSv1.2", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert validation.region("eu-west-1") == "eu-west-1"
    assert validation.region_problem("eu-west-1") is None
    with pytest.raises(UsageError, match="is not a region name"):
        validation.region("Europe")
    assert validation.dns_drain(0) == 0
    with pytest.raises(UsageError, match="--dns-drain -1 is negative"):
        validation.dns_drain(-1)


def test_a_bad_network_variable_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="MIGRATOR_NAMESERVERS") as raised:
        validation.network_config({"MIGRATOR_NAMESERVERS": "not an address"})
    assert raised.value.hint == "fix the variable's value"
    assert validation.network_config({}) is not None


# --- the use cases refuse before connecting ------------------------------------------------------

@pytest.mark.parametrize(("site", "message"), [
    (SiteRequest("www.example.com", health_check_path="health"), "--health-check-path"),
    (SiteRequest("www.example.com", idle_timeout=0), "--idle-timeout 0"),
    (SiteRequest("www.example.com", origin_idle_probe=-1), "--origin-idle-probe -1"),
    (SiteRequest("www example com"), "--domain: "),
    (SiteRequest("www.example.com", sans=tuple(f"n{i}.example.com" for i in range(10))),
     "11 names"),
])
def test_plan_refuses_a_bad_request_before_asking_aws(
        site: SiteRequest, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises((UsageError, PreflightError), match=message):
        plan_site(site, Account(), connect=no_aws, variables={}, progress=PlanProgress())
    assert not (tmp_path / "plans").exists()


def test_plan_refuses_a_bad_network_variable_before_asking_aws() -> None:
    with pytest.raises(UsageError, match="MIGRATOR_CONNECT_TO"):
        plan_site(SiteRequest("www.example.com"), Account(), connect=no_aws,
                  variables={"MIGRATOR_CONNECT_TO": "nonsense"}, progress=PlanProgress())


def test_the_wizards_request_is_checked_by_the_same_rules() -> None:
    checked = guided_plan.validated(GuidedRequest(domain="WWW.Example.com", sans=("Example.com",)))
    assert (checked.domain, checked.sans) == ("www.example.com", ("example.com",))
    assert guided_plan.validated(GuidedRequest()).sans is None  # to be asked
    for bad, message in [
            (GuidedRequest(domain="www.example.com", health_check_path="x"), "--health-check-path"),
            (GuidedRequest(idle_timeout=5000), "--idle-timeout 5000"),
            (GuidedRequest(origin_idle_probe=-2), "--origin-idle-probe -2"),
            (GuidedRequest(ssl_policy="TLS1.2"), "--ssl-policy"),
            (GuidedRequest(account=Account(region="Tokyo")), "--region 'Tokyo'"),
            (GuidedRequest(sans=("a b",)), "--san: "),
            (GuidedRequest(domain="www.example.com",
                           sans=tuple(f"n{i}.example.com" for i in range(10))), "11 names")]:
        with pytest.raises((UsageError, PreflightError), match=message):
            guided_plan.validated(bad)


def test_apply_refuses_a_bad_or_unapproved_digest_before_connecting() -> None:
    with pytest.raises(UsageError, match="is not a sha256"):
        plans_to_apply(ApplyRequest((Path("missing.json"),), expect_sha256="xyz"))
    with pytest.raises(UsageError, match="approves one plan"):
        plans_to_apply(ApplyRequest((EXAMPLE, Path("other.json")), expect_sha256="0" * 64))
    with pytest.raises(DigestMismatchError, match="is not the approved plan"):
        plans_to_apply(ApplyRequest((EXAMPLE,), expect_sha256="0" * 64))
    [loaded] = plans_to_apply(ApplyRequest((EXAMPLE, EXAMPLE)))  # each file once
    assert loaded.plan.id == "mig-0a1b2c3d"


def test_rollback_refuses_a_negative_drain() -> None:
    with pytest.raises(UsageError, match="--dns-drain"):
        plans_to_roll_back(RollbackRequest((EXAMPLE,), dns_drain_seconds=-3))


def test_verify_needs_a_plan_or_a_domain() -> None:
    with pytest.raises(UsageError, match="verify needs a plan file or --domain"):
        verify_site(VerifyRequest(), connect=no_aws, variables={})
    with pytest.raises(UsageError, match="--health-check-path"):
        verify_site(VerifyRequest(domain="www.example.com", health_check_path="x"),
                    connect=no_aws, variables={})


# --- several sites at once -----------------------------------------------------------------------

def test_several_sites_run_together_and_each_outcome_is_kept_in_order() -> None:
    both_running = threading.Barrier(2, timeout=10)
    done: list[str] = []

    def job(label: str) -> str:
        if label == "b":
            both_running.wait()
            raise UsageError("b is bad")
        if label == "c":
            both_running.wait()
            raise KeyboardInterrupt
        return label.upper()

    outcomes = run_each(["a", "b", "c"], job, 3, on_done=lambda o: done.append(o.label))
    assert [o.label for o in outcomes] == ["a", "b", "c"]
    assert outcomes[0].result == "A" and outcomes[0].status == ExitStatus.SUCCESS
    assert str(outcomes[1].error) == "b is bad" and outcomes[1].status == ExitStatus.USAGE
    assert isinstance(outcomes[2].error, Interrupted)
    assert worst_status(outcomes) == ExitStatus.INTERRUPTED
    assert sorted(done) == ["a", "b", "c"]
    assert worst_status([]) == ExitStatus.SUCCESS


def test_plan_refuses_to_write_over_an_applied_plan_before_asking_aws(tmp_path: Path) -> None:
    """A plan file whose state file exists records what was done in AWS: `plan --out` there
    would orphan that record, so it is refused before anything is inspected."""
    out = tmp_path / "www.example.com.json"
    out.write_text(EXAMPLE.read_text())
    (tmp_path / "www.example.com.state.json").write_text("{}")
    site = SiteRequest(domain="www.example.com", out=out)
    with pytest.raises(UsageError, match=r"has been applied \(its state is in .*"
                                         r"www\.example\.com\.state\.json\)") as caught:
        plan_site(site, Account(), connect=no_aws, variables={}, progress=PlanProgress())
    assert caught.value.exit_status == ExitStatus.USAGE
    assert out.read_text() == EXAMPLE.read_text()
    with pytest.raises(UsageError, match="names a state file"):
        validation.new_plan_path(tmp_path / "www.example.com.state.json")
    assert validation.new_plan_path(tmp_path / "fresh.json") == tmp_path / "fresh.json"
