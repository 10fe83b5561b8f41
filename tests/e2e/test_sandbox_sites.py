"""Several sites in one sandbox, and one load balancer in front of them: each site its own
instance, origin, certificate, DNS name and address; the data plane routing by Host header and
choosing the certificate by SNI among the listener's default and its certificate list, as ALB
does. Seen by the independent client of tests/support/sandbox.py, on loopback only."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from migrator_sandbox.runner import Sandbox
from migrator_sandbox.world import WorldSite
from tests.support.sandbox import (
    Response,
    add_listeners,
    addresses,
    client_context,
    connect_to_map,
    create_alb,
    eventually,
    host_rule,
    issuer_cn,
    issuer_org,
    loopback_guard,
    refused,
    request,
    request_certificate,
    site_target_group,
    wait_issued,
)

ROOT = Path(__file__).resolve().parents[2]
SITES = (("www.example.com", "127.0.0.10"), ("shop.example.com", "127.0.0.11"),
         ("blog.example.com", "127.0.0.12"))
CLI = "from migrator.cli.main import main; raise SystemExit(main())"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with loopback_guard() as violations:
        sb = Sandbox(acm_delay=1, workdir=tmp_path_factory.mktemp("sandbox"), sites=3)
        with sb:
            yield sb
    assert violations == [], violations


@pytest.fixture(scope="module")
def env(sandbox: Sandbox) -> dict[str, str]:
    return sandbox.env


@pytest.fixture(scope="module")
def session(sandbox: Sandbox) -> Any:
    return sandbox.session()


def _names(cert: x509.Certificate | None) -> list[str]:
    assert cert is not None
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(n) for n in san.get_values_for_type(x509.DNSName)]


def _lax(env: dict[str, str]) -> ssl.SSLContext:
    """The sandbox's CAs, chain verified, the host name not: to see which certificate a
    listener presents for a name it holds no certificate for."""
    ctx = client_context(env)
    ctx.check_hostname = False
    return ctx


# -- the world and its origins -----------------------------------------------------------------


def test_every_site_has_its_instance_address_name_and_origin(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    world = sandbox.world
    assert [(s.domain, s.address) for s in world.sites] == list(SITES)
    assert env["MIGRATOR_SANDBOX_DOMAIN"] == "www.example.com"  # the first site, as before
    assert env["MIGRATOR_SANDBOX_DOMAINS"] == ",".join(d for d, _ in SITES)
    first = world.sites[0]
    assert (first.instance_id, first.allocation_id, first.security_group_id) == (
        world.instance_id, world.allocation_id, world.security_group_id)
    assert len({s.instance_id for s in world.sites}) == 3
    assert len({s.security_group_id for s in world.sites}) == 3
    described = session.client("ec2").describe_instances(
        InstanceIds=[s.instance_id for s in world.sites])
    instances = {i["InstanceId"]: i for r in described["Reservations"] for i in r["Instances"]}
    table = connect_to_map(env)
    for site in world.sites:
        instance = instances[site.instance_id]
        assert instance["State"]["Name"] == "running" and instance["VpcId"] == world.vpc_id
        assert instance["PublicIpAddress"] == site.address
        assert addresses(env, site.domain) == [site.address]
        assert table[(site.address, 443)][0] == site.address
        assert table[(site.address, 80)][0] == site.address
        assert sandbox.origin_for(site.domain).site.instance_id == site.instance_id
    assert sandbox.origin is sandbox.origins[0] is sandbox.origin_for("www.example.com")


@pytest.mark.parametrize(("domain", "address"), SITES)
def test_each_origin_serves_its_own_site_with_its_own_certificate(
    sandbox: Sandbox, env: dict[str, str], domain: str, address: str
) -> None:
    site = sandbox.world.site(domain)
    response = request(env, address, domain)
    assert response.status == 200
    assert f"<h1>{domain}</h1>".encode() in response.body
    assert site.instance_id.encode() in response.body
    assert response.cert is not None and issuer_cn(response.cert) == "Sandbox Origin CA"
    expected = ["www.example.com", "example.com"] if domain == "www.example.com" else [domain]
    assert _names(response.cert) == expected
    # another site's name at this address fails the host name check: a certificate of its own
    other = next(d for d, a in SITES if a != address)
    with pytest.raises(ssl.SSLCertVerificationError):
        request(env, address, other)
    assert request(env, address, domain, "/x?y=1", tls=False).headers["Location"] == (
        f"https://{domain}/x?y=1")


# -- one load balancer for several sites ----------------------------------------------------


def _served_by(response: Response, site: WorldSite) -> bool:
    return (response.status == 200 and f"<h1>{site.domain}</h1>".encode() in response.body
            and site.instance_id.encode() in response.body)


def test_one_alb_routes_by_host_and_serves_each_sites_certificate_by_sni(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    """www's certificate is the listener's default, shop's is added to its certificate list;
    host-header rules forward www and shop to their own target groups, and a lower-ranked
    wildcard rule (created first) sends the rest of example.com to blog's. An unknown host gets
    the default action and the default certificate; shop's certificate, once removed, is no
    longer served (the default is) and, added again, is."""
    world = sandbox.world
    www, shop, blog = world.sites
    elb = session.client("elbv2")
    alb = create_alb(session, world, "sites-alb")  # its target group holds www's instance
    try:
        lb = eventually(lambda: addresses(env, alb.dns_name))[0]
        shop_tg = site_target_group(session, world, "sites-shop-tg", shop)
        blog_tg = site_target_group(session, world, "sites-blog-tg", blog)
        www_cert = request_certificate(session, www.domain, [www.domain])
        shop_cert = request_certificate(session, shop.domain, [shop.domain])
        wait_issued(session, www_cert)
        wait_issued(session, shop_cert)
        add_listeners(session, alb, www_cert)
        elb.modify_listener(ListenerArn=alb.https_listener_arn, DefaultActions=[{
            "Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no such site"}}])
        listener = alb.https_listener_arn
        assert listener is not None
        # created before the others, evaluated after them: priority decides, not creation
        host_rule(session, listener, 30, ["*.EXAMPLE.com"], blog_tg)
        host_rule(session, listener, 10, ["WWW.Example.COM"], alb.target_group_arn)
        host_rule(session, listener, 20, ["sh?p.example.*"], shop_tg)
        # the certificate list grows after the listener started serving
        eventually(lambda: request(env, lb, www.domain).status == 200)
        elb.add_listener_certificates(ListenerArn=alb.https_listener_arn,
                                      Certificates=[{"CertificateArn": shop_cert}])

        served = request(env, lb, www.domain)  # Host and SNI www (verified against www)
        assert _served_by(served, www), served
        assert issuer_org(served.cert) == "Amazon" and _names(served.cert) == [www.domain]
        served = request(env, lb, shop.domain)
        assert _served_by(served, shop), served
        assert issuer_org(served.cert) == "Amazon" and _names(served.cert) == [shop.domain]
        assert any(r.client == lb and r.path == "/" for r in sandbox.origin_for(shop.domain)
                   .requests)
        # SNI is case-insensitive too; the Host header picks the rule whatever SNI said
        assert _names(request(env, lb, "SHOP.example.com").cert) == [shop.domain]
        crossed = request(env, lb, www.domain, headers={"Host": shop.domain})
        assert _served_by(crossed, shop) and _names(crossed.cert) == [www.domain]
        # blog has no certificate on the listener: the default one, and the wildcard rule
        blog_served = request(env, lb, blog.domain, context=_lax(env))
        assert _served_by(blog_served, blog) and _names(blog_served.cert) == [www.domain]
        with pytest.raises(ssl.SSLCertVerificationError):
            request(env, lb, blog.domain)
        # no rule for the host: the default action, and the default certificate for its SNI
        unknown = request(env, lb, "unknown.example.org", context=_lax(env))
        assert (unknown.status, unknown.body) == (404, b"no such site")
        assert _names(unknown.cert) == [www.domain]
        assert _names(_handshake(env, lb, None)) == [www.domain]  # no SNI at all: the default

        elb.remove_listener_certificates(ListenerArn=alb.https_listener_arn,
                                         Certificates=[{"CertificateArn": shop_cert}])
        gone = request(env, lb, shop.domain, context=_lax(env))  # no lag: the call returned
        assert _names(gone.cert) == [www.domain] and _served_by(gone, shop)
        with pytest.raises(ssl.SSLCertVerificationError):
            request(env, lb, shop.domain)
        listed = elb.describe_listener_certificates(ListenerArn=alb.https_listener_arn)
        assert [(c["CertificateArn"], c["IsDefault"]) for c in listed["Certificates"]] == [
            (www_cert, True)]
        elb.add_listener_certificates(ListenerArn=alb.https_listener_arn,
                                      Certificates=[{"CertificateArn": shop_cert}])
        assert _names(request(env, lb, shop.domain).cert) == [shop.domain]
    finally:
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)
        for arn in [g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]
                    if g["TargetGroupName"].startswith("sites-")]:
            elb.delete_target_group(TargetGroupArn=arn)
    eventually(lambda: refused(env, lb, 443))


def test_a_new_default_certificate_keeps_the_certificate_list(
    sandbox: Sandbox, env: dict[str, str], session: Any
) -> None:
    """ModifyListener's Certificates replaces the default certificate only, as on AWS: the
    certificates added to the list are still served by SNI."""
    world = sandbox.world
    www, shop, _ = world.sites
    elb = session.client("elbv2")
    alb = create_alb(session, world, "renew-alb")
    try:
        lb = eventually(lambda: addresses(env, alb.dns_name))[0]
        old, shop_cert = (request_certificate(session, d, [d]) for d in (www.domain, shop.domain))
        renewed = request_certificate(session, www.domain, [www.domain, "example.com"])
        for arn in (old, shop_cert, renewed):
            wait_issued(session, arn)
        add_listeners(session, alb, old)
        elb.add_listener_certificates(ListenerArn=alb.https_listener_arn,
                                      Certificates=[{"CertificateArn": shop_cert}])
        elb.modify_listener(ListenerArn=alb.https_listener_arn,
                            Certificates=[{"CertificateArn": renewed}])
        assert _names(request(env, lb, www.domain).cert) == [www.domain, "example.com"]
        assert _names(request(env, lb, shop.domain).cert) == [shop.domain]
    finally:
        elb.delete_load_balancer(LoadBalancerArn=alb.arn)


def _handshake(env: dict[str, str], address: str, server_name: str | None) -> x509.Certificate:
    """The certificate presented to a client that sends ``server_name`` as SNI (None: none)."""
    import socket

    real = connect_to_map(env)[(address, 443)]
    ctx = _lax(env)
    with socket.create_connection(real, timeout=5) as raw, ctx.wrap_socket(
        raw, server_hostname=server_name
    ) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


# -- `migrator sandbox up --sites N` -------------------------------------------------------------


def test_sandbox_up_with_two_sites(tmp_path: Path) -> None:
    env_file = tmp_path / "sites.env"
    log = tmp_path / "up.log"
    argv = [sys.executable, "-c", CLI, "sandbox", "up", "--sites", "2",
            "--env-file", str(env_file), "--acm-delay", "1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env_file.exists(), log.read_text()
        env = dict(line.removeprefix("export ").split("=", 1)
                   for line in env_file.read_text().splitlines())
        env = {k: v.strip("'") for k, v in env.items()}
        assert env["MIGRATOR_SANDBOX_DOMAINS"] == "www.example.com,shop.example.com"
        with loopback_guard() as violations:
            assert addresses(env, "shop.example.com") == ["127.0.0.11"]
            assert addresses(env, "blog.example.com") == []
            shop = request(env, "127.0.0.11", "shop.example.com")
            assert shop.status == 200 and b"<h1>shop.example.com</h1>" in shop.body
            assert request(env, "127.0.0.10", "www.example.com").status == 200
        assert violations == []
        printed = log.read_text()
        assert "https://shop.example.com/" in printed and "https://www.example.com/" in printed
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("count", ["0", "11", "two"])
def test_sandbox_up_refuses_a_site_count_out_of_range(tmp_path: Path, count: str) -> None:
    ran = subprocess.run([sys.executable, "-c", CLI, "sandbox", "up", "--sites", count],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "--sites" in ran.stderr and "from 1 to 10" in ran.stderr
    assert not (tmp_path / ".sandbox.env").exists()
