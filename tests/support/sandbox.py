"""Helpers for the sandbox tests: an independent client (DNS, HTTP, HTTPS) that goes only where
the sandbox's environment variables say, an AWS scenario builder, and the loopback guard
(re-exported from tests/loopback.py).

The client deliberately does not use migrator's own code (netconfig, verify) nor the sandbox's
parsers: it reads MIGRATOR_NAMESERVERS / MIGRATOR_CONNECT_TO / MIGRATOR_CA_BUNDLE itself.
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.nameserver
import dns.query
import dns.resolver
from cryptography import x509

# The loopback guard lives in tests/loopback.py; re-exported here under its old name.
from tests.support.loopback import loopback_guard as loopback_guard

# -- the independent client ------------------------------------------------------------------


def connect_to_map(env: dict[str, str]) -> dict[tuple[str, int], tuple[str, int]]:
    """MIGRATOR_CONNECT_TO parsed by hand: (host, port) -> (real host, real port)."""
    table = {}
    for entry in env["MIGRATOR_CONNECT_TO"].split(","):
        host, port, to_host, to_port = entry.split(":")
        table[(host, int(port))] = (to_host, int(to_port))
    return table


def nameserver(env: dict[str, str]) -> tuple[str, int]:
    host, port = env["MIGRATOR_NAMESERVERS"].split(",")[0].rsplit(":", 1)
    return host, int(port)


def resolver(env: dict[str, str]) -> dns.resolver.Resolver:
    host, port = nameserver(env)
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    res.cache = None
    res.lifetime = 3
    return res


def query(env: dict[str, str], name: str, rdtype: str, *, tcp: bool = False) -> dns.message.Message:
    """One raw query to the sandbox DNS server (to look at rcode, flags, sections)."""
    host, port = nameserver(env)
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=3)
    return dns.query.udp(q, host, port=port, timeout=3)


def addresses(env: dict[str, str], name: str) -> list[str]:
    try:
        answer = resolver(env).resolve(name, "A")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return sorted(r.address for r in answer)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cert: x509.Certificate | None = None
    tls_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _open(env: dict[str, str], address: str, port: int, timeout: float) -> socket.socket:
    real = connect_to_map(env).get((address, port))
    assert real is not None, f"MIGRATOR_CONNECT_TO has no entry for {address}:{port}"
    return socket.create_connection(real, timeout=timeout)


def client_context(env: dict[str, str]) -> ssl.SSLContext:
    """Trust only the sandbox bundle; verify chain and host name; TLS 1.2+."""
    ctx = ssl.create_default_context(cafile=env["MIGRATOR_CA_BUNDLE"])
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def request(
    env: dict[str, str],
    address: str,
    host: str,
    path: str = "/",
    *,
    tls: bool = True,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5,
    context: ssl.SSLContext | None = None,
) -> Response:
    """GET/POST http(s)://host/path with the TCP connection going to ``address`` (443 or 80)
    through MIGRATOR_CONNECT_TO, verifying TLS against MIGRATOR_CA_BUNDLE."""
    sock = _open(env, address, 443 if tls else 80, timeout)
    cert = None
    version = None
    try:
        if tls:
            sock = (context or client_context(env)).wrap_socket(sock, server_hostname=host)
            der = sock.getpeercert(binary_form=True)
            assert der is not None
            cert = x509.load_der_x509_certificate(der)
            version = sock.version()
        conn = http.client.HTTPConnection(host, timeout=timeout)
        conn.sock = sock
        all_headers = {"Host": host, **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        local = sock.getsockname()[0]
        return Response(resp.status, dict(resp.getheaders()), data, cert, version, {"local": local})
    finally:
        sock.close()


def issuer_org(cert: x509.Certificate) -> str:
    attrs = cert.issuer.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return str(attrs[0].value) if attrs else ""


def issuer_cn(cert: x509.Certificate) -> str:
    attrs = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def eventually(check: Callable[[], Any], timeout: float = 10, interval: float = 0.1) -> Any:
    """Call ``check`` until it returns a truthy value (returned) or raise its last failure."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
            last = AssertionError(f"{check} returned {value!r}")
        except (AssertionError, OSError, ssl.SSLError, dns.exception.DNSException) as exc:
            last = exc
        time.sleep(interval)
    assert last is not None
    raise last


def refused(env: dict[str, str], address: str, port: int) -> bool:
    """True when nothing accepts a TCP connection at address:port (via the connect-to map)."""
    try:
        with _open(env, address, port, 2):
            return False
    except ConnectionRefusedError:
        return True


# -- AWS scenario ----------------------------------------------------------------------------


@dataclass
class Alb:
    arn: str
    dns_name: str
    zone_id: str
    security_group_id: str
    target_group_arn: str
    certificate_arn: str | None = None
    https_listener_arn: str | None = None
    http_listener_arn: str | None = None


def web_security_group(ec2: Any, vpc_id: str, name: str, ports: tuple[int, ...] = (80, 443)) -> str:
    sg = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
    if ports:
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": p,
                    "ToPort": p,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
                for p in ports
            ],
        )
    return sg


def create_alb(
    session: Any, world: Any, name: str, *, open_ports: tuple[int, ...] = (80, 443)
) -> Alb:
    """ALB in the world's two public subnets + an HTTPS target group with the instance."""
    ec2 = session.client("ec2")
    elb = session.client("elbv2")
    sg = web_security_group(ec2, world.vpc_id, f"{name}-sg", open_ports)
    lb = elb.create_load_balancer(
        Name=name,
        Subnets=list(world.subnet_ids.values()),
        SecurityGroups=[sg],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=f"{name}-tg",
        Protocol="HTTPS",
        Port=443,
        VpcId=world.vpc_id,
        HealthCheckProtocol="HTTPS",
        HealthCheckPath="/health",
        TargetType="instance",
    )["TargetGroups"][0]
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": world.instance_id, "Port": 443}]
    )
    return Alb(
        arn=lb["LoadBalancerArn"],
        dns_name=lb["DNSName"],
        zone_id=lb["CanonicalHostedZoneId"],
        security_group_id=sg,
        target_group_arn=tg["TargetGroupArn"],
    )


def site_target_group(session: Any, world: Any, name: str, site: Any) -> str:
    """An HTTPS target group (health check /health) holding one site's instance (a
    ``world.WorldSite``), as create_alb's holds the first site's; its ARN."""
    elb = session.client("elbv2")
    arn: str = elb.create_target_group(
        Name=name, Protocol="HTTPS", Port=443, VpcId=world.vpc_id, HealthCheckProtocol="HTTPS",
        HealthCheckPath="/health", TargetType="instance",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": site.instance_id, "Port": 443}])
    return arn


def host_rule(session: Any, listener_arn: str, priority: int, hosts: list[str],
              target_group_arn: str) -> str:
    """A listener rule forwarding requests whose Host matches one of ``hosts``; its ARN."""
    arn: str = session.client("elbv2").create_rule(
        ListenerArn=listener_arn, Priority=priority,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": hosts}}],
        Actions=[{"Type": "forward", "TargetGroupArn": target_group_arn}],
    )["Rules"][0]["RuleArn"]
    return arn


def request_certificate(session: Any, domain: str, sans: list[str]) -> str:
    acm = session.client("acm")
    return acm.request_certificate(
        DomainName=domain, SubjectAlternativeNames=sans, ValidationMethod="DNS"
    )["CertificateArn"]


def wait_issued(session: Any, arn: str, timeout: float = 15) -> None:
    acm = session.client("acm")
    eventually(
        lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED",
        timeout=timeout,
        interval=0.2,
    )


def add_listeners(session: Any, alb: Alb, certificate_arn: str) -> None:
    elb = session.client("elbv2")
    alb.certificate_arn = certificate_arn
    alb.https_listener_arn = elb.create_listener(
        LoadBalancerArn=alb.arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate_arn}],
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": alb.target_group_arn}],
    )["Listeners"][0]["ListenerArn"]
    alb.http_listener_arn = elb.create_listener(
        LoadBalancerArn=alb.arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )["Listeners"][0]["ListenerArn"]


def upsert(session: Any, zone_id: str, record: dict[str, Any]) -> None:
    session.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
    )


def alias_to(name: str, alb: Alb) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": alb.zone_id,
            "DNSName": f"dualstack.{alb.dns_name}",
            "EvaluateTargetHealth": True,
        },
    }


def a_record(name: str, address: str, ttl: int = 300) -> dict[str, Any]:
    return {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": address}]}


class PollingClient(threading.Thread):
    """A visitor of the site: resolves NAME afresh (no cache) through the sandbox's DNS and
    fetches https://NAME/ every 100 ms, noting which address answered (`ok`) and every failure
    (`failed`). Use as a context manager around what must not lose a request."""

    def __init__(self, env: dict[str, str], name: str = "www.example.com") -> None:
        super().__init__(daemon=True)
        self.env, self.name = env, name
        self.stop = threading.Event()
        self.ok: list[str] = []
        self.failed: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                address = addresses(self.env, self.name)[0]
                response = request(self.env, address, self.name, "/", timeout=3)
                if response.status == 200:
                    self.ok.append(address)
                else:
                    self.failed.append(f"{address}: HTTP {response.status}")
            except Exception as exc:  # every kind of failure counts
                self.failed.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.1)

    def __enter__(self) -> PollingClient:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.join(5)


@dataclass
class Ran:
    """What `migrator ARGV` run in-process printed, and its exit status."""

    status: int
    stdout: str
    stderr: str


def run_migrator(sandbox: Any, workdir: Path, *argv: str) -> Ran:
    """`migrator ARGV` in-process in workdir with the sandbox's variables (for a module-scoped
    sandbox, where the function-scoped `cli` fixture cannot be used)."""
    from migrator.cli.environment import Environment
    from migrator.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    variables = {**os.environ, **sandbox.env}
    cwd = Path.cwd()
    os.chdir(workdir)
    try:
        status = main(list(argv), Environment(stdout=out, stderr=err, stdin_isatty=False,
                                              variables=variables, width=80))
    finally:
        os.chdir(cwd)
    return Ran(status, out.getvalue(), err.getvalue())
