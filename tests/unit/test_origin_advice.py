"""What to change on the origin once it is behind the load balancer, for nginx, Apache and any
other server (from the Server header preflight recorded in the plan's snapshot), and the
snapshot's new optional fields: left out of a plan made before them, so its sha256 holds."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from migrator.cli import output
from migrator.cli.environment import Environment
from migrator.core.plan import Plan, PlanOptions, plan_digest
from migrator.core.snapshot import Snapshot
from migrator.usecases.origin_advice import (
    APACHE,
    GENERIC,
    NGINX,
    origin_advice,
    server_kind,
)
from tests.support.plans import example_plan

CIDR = "10.0.0.0/16"


def plan_with(server: str | None, cidrs: tuple[str, ...] = (CIDR,), idle: int = 60) -> Plan:
    plan = example_plan()
    snap = replace(plan.snapshot, origin_server=server, vpc_cidrs=cidrs)
    options = replace(plan.options, idle_timeout_seconds=idle)
    return replace(plan, snapshot=snap, options=options)


def config_of(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {item.topic: item.config for item in origin_advice(plan).items}


def printed(plan: Plan) -> str:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin_isatty=False, variables={},
                      width=80)
    output.origin_advice(env.console, origin_advice(plan))
    return out.getvalue()


@pytest.mark.parametrize(("header", "kind"), [
    ("nginx", NGINX), ("nginx/1.24.0", NGINX), ("nginx/1.18.0 (Ubuntu)", NGINX),
    ("openresty/1.21.4.1", NGINX), ("Apache", APACHE), ("Apache/2.4.57 (Debian)", APACHE),
    ("Apache-Coyote/1.1", GENERIC), ("Microsoft-IIS/10.0", GENERIC), ("caddy", GENERIC),
    ("", GENERIC), (None, GENERIC)])
def test_the_server_is_told_by_its_server_header(header: str | None, kind: str) -> None:
    assert server_kind(header) == kind


def test_nginx_trusts_x_forwarded_for_from_the_vpc_only_and_outlasts_the_idle_timeout() -> None:
    config = config_of(plan_with("nginx/1.24.0", idle=60))
    assert config["client address"] == (f"set_real_ip_from {CIDR};",
                                         "real_ip_header X-Forwarded-For;")
    assert config["keep-alive"] == ("keepalive_timeout 75s;",)
    assert config["certificate"][0].startswith("openssl req -x509 -newkey rsa:2048 -nodes "
                                               "-days 3650")
    assert "-subj /CN=www.example.com" in config["certificate"][1]
    assert config["certificate"][2:] == ("ssl_certificate origin.crt;",
                                         "ssl_certificate_key origin.key;")
    text = " ".join(printed(plan_with("nginx/1.24.0")).split())
    assert 'for nginx (its Server header: "nginx/1.24.0")' in text
    assert "may expire without harm" in text
    assert "does not validate the instance's certificate" in text


def test_apache_uses_mod_remoteip_and_keepalivetimeout() -> None:
    config = config_of(plan_with("Apache/2.4.57 (Debian)", idle=120))
    assert config["client address"] == ("LoadModule remoteip_module modules/mod_remoteip.so",
                                         "RemoteIPHeader X-Forwarded-For",
                                         f"RemoteIPTrustedProxy {CIDR}")
    assert config["keep-alive"] == ("KeepAlive On", "KeepAliveTimeout 135")
    assert config["certificate"][2:] == ("SSLCertificateFile origin.crt",
                                         "SSLCertificateKeyFile origin.key")
    assert "mod_remoteip" in printed(plan_with("Apache"))


def test_another_server_gets_the_same_advice_in_words() -> None:
    advice = origin_advice(plan_with("Microsoft-IIS/10.0", cidrs=(CIDR, "10.1.0.0/16")))
    assert advice.server == GENERIC
    words = {item.topic: item.why for item in advice.items}
    assert f"({CIDR}, 10.1.0.0/16)" in words["client address"]
    assert "last entry of X-Forwarded-For" in words["client address"]
    assert "75 s or more" in words["keep-alive"]
    assert {item.topic: item.config for item in advice.items}["client address"] == ()
    text = " ".join(printed(plan_with(None)).split())
    assert "for its web server (it sent no Server header)" in text
    assert all(len(line) <= 80 for line in printed(plan_with(None)).splitlines())


def test_a_plan_made_before_the_vpc_cidr_was_recorded_trusts_its_public_subnets() -> None:
    advice = origin_advice(plan_with("nginx", cidrs=()))
    # the subnets the planner put the load balancer in: one public subnet per zone
    assert advice.trusted_cidrs == ("10.0.0.0/24", "10.0.1.0/24")


def test_the_new_snapshot_fields_are_left_out_when_empty_so_old_plans_keep_their_sha256(
        ) -> None:
    plan = example_plan()
    data = plan.snapshot.to_dict()
    assert "vpc_cidrs" not in data and "origin_server" not in data
    recorded = replace(plan.snapshot, vpc_cidrs=(CIDR,), origin_server="nginx")
    again = Snapshot.from_dict(recorded.to_dict())
    assert again.vpc_cidrs == (CIDR,) and again.origin_server == "nginx"
    assert plan_digest(plan) != plan_digest(replace(plan, snapshot=recorded))
    assert PlanOptions().idle_timeout_seconds == 60
