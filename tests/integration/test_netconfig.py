"""NetConfig: parsing of the MIGRATOR_* variables, connect-to rules, resolver and TLS trust."""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace
from pathlib import Path

import dns.nameserver
import dns.resolver
import pytest

from migrator.net.config import ConnectTo, NameServer, NetConfig
from tests.support.verify.fixtures import SITE_ROUTES, loopback_only, pki, start_dns, start_server
from tests.support.verify.pki import TestPKI

pytestmark = pytest.mark.usefixtures("loopback_only")

# fixtures used by name
__all__ = ["loopback_only", "pki", "start_dns", "start_server"]


# -- MIGRATOR_NAMESERVERS -------------------------------------------------------------


def test_nameservers_forms() -> None:
    net = NetConfig.from_env(
        {"MIGRATOR_NAMESERVERS": "127.0.0.53:5353, 127.0.0.54,[::1]:5300,::1,[::2]"}
    )
    assert net.nameservers == (
        NameServer("127.0.0.53", 5353),
        NameServer("127.0.0.54", 53),
        NameServer("::1", 5300),
        NameServer("::1", 53),
        NameServer("::2", 53),
    )
    assert net.pinned_dns


def test_empty_environment_is_unpinned() -> None:
    net = NetConfig.from_env({})
    assert net == NetConfig()
    assert not net.pinned_dns
    assert net.connect_target("example.com", "192.0.2.1", 443) == ("192.0.2.1", 443)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ns1.example.com:53", "is not an IP address"),
        ("127.0.0.1:0", "is not a port number"),
        ("127.0.0.1:99999", "is not a port number"),
        ("127.0.0.1:dns", "is not a port number"),
        ("[::1:53", "missing ']'"),
        ("[::1]53", "expected ':PORT'"),
    ],
)
def test_nameservers_errors(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        NetConfig.from_env({"MIGRATOR_NAMESERVERS": value})
    text = str(info.value)
    assert text.startswith("MIGRATOR_NAMESERVERS: ")
    assert "\n" not in text


# -- MIGRATOR_CONNECT_TO ---------------------------------------------------------------


SANDBOX = (
    "127.0.0.10:443:127.0.0.10:18443,127.0.0.10:80:127.0.0.10:18080,127.0.0.20:443:127.0.0.20:18443"
)


def test_connect_to_sandbox_form() -> None:
    net = NetConfig.from_env({"MIGRATOR_CONNECT_TO": SANDBOX})
    assert net.connect_target("www.example.com", "127.0.0.10", 443) == ("127.0.0.10", 18443)
    assert net.connect_target("www.example.com", "127.0.0.10", 80) == ("127.0.0.10", 18080)
    assert net.connect_target("www.example.com", "127.0.0.20", 443) == ("127.0.0.20", 18443)
    # no rule for 127.0.0.20:80 -> untouched
    assert net.connect_target("www.example.com", "127.0.0.20", 80) == ("127.0.0.20", 80)


def test_connect_to_matches_host_name_or_address_and_first_rule_wins() -> None:
    net = NetConfig.from_env(
        {
            "MIGRATOR_CONNECT_TO": (
                "WWW.Example.com.:443:127.0.0.5:1443,"
                ":443:127.0.0.6:2443,"  # any host, port 443
                "192.0.2.7::127.0.0.7:,"  # any port, keep the port
                ":::4000"  # anything else: keep the host, port 4000
            )
        }
    )
    assert net.connect_target("www.example.com", "192.0.2.1", 443) == ("127.0.0.5", 1443)
    assert net.connect_target("api.example.com", "192.0.2.1", 443) == ("127.0.0.6", 2443)
    assert net.connect_target("x.example.com", "192.0.2.7", 8080) == ("127.0.0.7", 8080)
    assert net.connect_target("x.example.com", "192.0.2.8", 80) == ("192.0.2.8", 4000)


def test_connect_to_ipv6_brackets_and_round_trip() -> None:
    value = "[::1]:443:[::1]:8443,:80:127.0.0.1:8080"
    net = NetConfig.from_env({"MIGRATOR_CONNECT_TO": value})
    assert net.connect_to == (
        ConnectTo("::1", 443, "::1", 8443),
        ConnectTo(None, 80, "127.0.0.1", 8080),
    )
    assert net.connect_target("h", "0:0::1", 443) == ("::1", 8443)
    assert NetConfig.from_env(net.to_env()) == net


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("127.0.0.1:443:127.0.0.1", "is not HOST1:PORT1:HOST2:PORT2"),
        ("a:443:b:1:2", "is not HOST1:PORT1:HOST2:PORT2"),
        ("example.com:443:origin.internal:443", "is not an IP address"),
        ("example.com:https:127.0.0.1:443", "is not a port number"),
        ("[::1:443:127.0.0.1:443", "missing ']'"),
    ],
)
def test_connect_to_errors(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        NetConfig.from_env({"MIGRATOR_CONNECT_TO": value})
    assert str(info.value).startswith("MIGRATOR_CONNECT_TO: ")


# -- MIGRATOR_CA_BUNDLE ----------------------------------------------------------------


def test_ca_bundle_must_exist_and_be_pem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MIGRATOR_CA_BUNDLE: no such file"):
        NetConfig.from_env({"MIGRATOR_CA_BUNDLE": str(tmp_path / "missing.pem")})
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="is not a PEM file"):
        NetConfig.from_env({"MIGRATOR_CA_BUNDLE": str(junk)})


def _handshake(net: NetConfig, host: str, port: int, name: str) -> str:
    with (
        socket.create_connection((host, port), timeout=3) as raw,
        net.ssl_context().wrap_socket(raw, server_hostname=name) as tls,
    ):
        return str(tls.version())


def test_ssl_context_trusts_bundle_in_addition_to_system(pki: TestPKI, start_server) -> None:
    server = start_server("127.0.0.31", SITE_ROUTES, pki.lb)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(NetConfig(), server.host, server.port, "www.example.com")
    net = NetConfig.from_env({"MIGRATOR_CA_BUNDLE": str(pki.bundle)})
    assert _handshake(net, server.host, server.port, "www.example.com") in ("TLSv1.2", "TLSv1.3")
    # the system store is still loaded, not replaced by the bundle
    assert net.ssl_context().cert_store_stats()["x509_ca"] > 2
    assert "bundle.pem" in net.describe_trust()


def test_ssl_context_uses_the_default_verify_paths(
    pki: TestPKI, start_server, monkeypatch: pytest.MonkeyPatch
) -> None:

    server = start_server("127.0.0.31", SITE_ROUTES, pki.lb)
    # OpenSSL's default verify paths honour SSL_CERT_FILE: stand in for the system store
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.bundle))
    assert _handshake(NetConfig(), server.host, server.port, "www.example.com")


def test_ssl_context_refuses_old_protocols_unless_legacy() -> None:
    net = NetConfig()
    assert net.ssl_context().minimum_version == ssl.TLSVersion.TLSv1_2
    assert net.ssl_context(legacy=True).minimum_version < ssl.TLSVersion.TLSv1_2
    assert net.ssl_context(verify=False).verify_mode == ssl.CERT_NONE


# -- resolver --------------------------------------------------------------------------


def test_resolver_uses_only_configured_servers(start_dns) -> None:
    dead = start_dns(host="127.0.0.54", mode="drop")
    live = start_dns(host="127.0.0.53", zone={"www.example.com": {"A": (["127.0.0.20"], 60)}})
    net = NetConfig.from_env({"MIGRATOR_NAMESERVERS": f"{dead.address},{live.address}"})
    net = replace(net, dns_timeout=1.0)  # the dead server costs 0.5 s, not 1.5 s
    res = net.resolver()
    assert [(ns.address, ns.port) for ns in res.nameservers] == [
        (dead.host, dead.port),
        (live.host, live.port),
    ]
    assert all(isinstance(ns, dns.nameserver.Do53Nameserver) for ns in res.nameservers)
    assert res.cache is None
    answer = res.resolve("www.example.com", "A")
    assert [r.address for r in answer] == ["127.0.0.20"]
    assert live.queries and live.queries[0][:3] == ("www.example.com", "A", True)


def test_resolver_without_configuration_is_the_system_one(monkeypatch) -> None:
    configured: list[bool] = []
    real_init = dns.resolver.Resolver.__init__

    def spy(self, filename="/etc/resolv.conf", configure=True):  # type: ignore[no-untyped-def]
        configured.append(configure)
        real_init(self, filename, configure=False)  # don't read the host's resolv.conf here

    monkeypatch.setattr(dns.resolver.Resolver, "__init__", spy)
    NetConfig().resolver()
    assert configured == [True]
    NetConfig(nameservers=(NameServer("127.0.0.53", 5353),)).resolver()
    assert configured == [True, False]
