"""The sandbox's parts on their own, without moto: PKI, ports, the DNS authority over a static
record source, ALB routing math, health-check matching, the proxy's streaming."""

from __future__ import annotations

import datetime as dt
import http.client
import random
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from migrator_sandbox import pki
from migrator_sandbox.dataplane import AddressPool, name_matches
from migrator_sandbox.dns_server import (
    Alias,
    Authority,
    DNSServer,
    RecordSet,
    StaticSource,
    Zone,
)
from migrator_sandbox.health import code_matches
from migrator_sandbox.moto_state import Action, Listener, Rule
from migrator_sandbox.origin import origin_certificate
from migrator_sandbox.ports import (
    ConnectToTable,
    NotLoopbackError,
    bound_socket,
    ensure_loopback,
    reserve_common_port,
)
from migrator_sandbox.proxy import Upstream, UpstreamError, forward
from migrator_sandbox.routing import (
    Request,
    condition_matches,
    fixed_response,
    pick_target_group,
    redirect,
    select_actions,
)
from migrator_sandbox.servers import QuietHandler, SandboxHTTPServer
from tests.support.sandbox import loopback_guard


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    with loopback_guard() as violations:
        yield
    assert violations == []


# -- PKI -------------------------------------------------------------------------------------


def test_leaf_is_signed_by_its_ca_and_names_the_site() -> None:
    ca = pki.amazon_ca()
    leaf = ca.issue(["www.example.com", "example.com", "127.0.0.5"])
    leaf.cert.verify_directly_issued_by(ca.cert)
    assert leaf.names() == ["www.example.com", "example.com", "127.0.0.5"]
    assert ca.cert.subject.rfc4514_string().endswith("O=Amazon,C=US")
    other = pki.origin_ca()
    with pytest.raises(ValueError):
        leaf.cert.verify_directly_issued_by(other.cert)


def test_leaf_can_mirror_a_given_key_serial_and_validity() -> None:
    ca = pki.amazon_ca()
    key = pki.new_key()
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    leaf = ca.issue(
        ["a.example"],
        key=key,
        serial=12345,
        not_before=start,
        not_after=start + dt.timedelta(days=395),
        common_name="a.example",
    )
    assert leaf.cert.serial_number == 12345
    assert leaf.cert.not_valid_before_utc == start
    assert leaf.cert.public_key() == key.public_key()


def test_origin_certificate_expires_soon() -> None:
    cert = origin_certificate(pki.origin_ca(), ["www.example.com"], days_left=12).cert
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=11, hours=23) < left <= dt.timedelta(days=12)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=90)


def test_server_context_is_tls12_or_newer() -> None:
    ctx = pki.server_context(pki.origin_ca().issue(["x.example"]))
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2


# -- ports -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "localhost", "::1", "128.0.0.1"])
def test_everything_outside_127_8_is_refused(host: str) -> None:
    with pytest.raises(NotLoopbackError):
        ensure_loopback(host)
    assert ensure_loopback("127.1.2.3") == "127.1.2.3"


def test_privileged_ports_are_refused() -> None:
    with pytest.raises(ValueError):
        bound_socket("127.0.0.1", 443)


def test_connect_to_table_round_trip() -> None:
    text = "127.0.0.10:443:127.0.0.10:18443,127.0.0.10:80:127.0.0.10:18080"
    table = ConnectToTable.parse(text)
    assert table.resolve("127.0.0.10", 443) == ("127.0.0.10", 18443)
    assert table.resolve("127.0.0.10", 8443) == ("127.0.0.10", 8443)
    assert table.to_env() == text
    with pytest.raises(ValueError):
        ConnectToTable.parse("127.0.0.10:443:127.0.0.10")


def test_common_port_is_held_on_every_address() -> None:
    hosts = ["127.0.0.101", "127.0.0.102", "127.0.0.103"]
    reservation = reserve_common_port(hosts)
    try:
        for host in hosts:
            with pytest.raises(OSError):
                bound_socket(host, reservation.port, reuse=False)
            # held, not listening: connections are refused
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((host, reservation.port), timeout=1)
        taken = reservation.take(hosts[0])
        taken.listen()
        socket.create_connection((hosts[0], reservation.port), timeout=1).close()
        taken.close()
        reservation.give_back(hosts[0])
    finally:
        reservation.close()
    bound_socket(hosts[1], reservation.port, reuse=False).close()  # released


# -- DNS authority ---------------------------------------------------------------------------

SOA = "ns-1.awsdns-1.com. hostmaster.example.com. 1 7200 900 1209600 86400"
LB_NAME = "web-1.ap-northeast-1.elb.amazonaws.com"


def _zone() -> Zone:
    return Zone(
        "example.com",
        (
            RecordSet("example.com.", "SOA", 900, (SOA,)),
            RecordSet("example.com", "NS", 172800, ("ns-1.awsdns-1.com", "ns-2.awsdns-2.net")),
            RecordSet("example.com", "MX", 3600, ("10 mail.example.net.",)),
            RecordSet("example.com", "CAA", 3600, ('0 issue "amazon.com"',)),
            RecordSet("example.com", "TXT", 3600, ('"v=spf1 -all"',)),
            RecordSet("www.example.com", "A", 300, ("127.0.0.10",)),
            RecordSet("shop.example.com", "CNAME", 300, ("www.example.com",)),
            RecordSet("loop1.example.com", "CNAME", 300, ("loop2.example.com",)),
            RecordSet("loop2.example.com", "CNAME", 300, ("loop1.example.com",)),
            RecordSet("out.example.com", "CNAME", 300, ("cdn.example.net",)),
            RecordSet("lb.example.com", "A", alias=Alias(f"dualstack.{LB_NAME}.")),
            RecordSet(
                "gone.example.com", "A", alias=Alias("old-2.ap-northeast-1.elb.amazonaws.com")
            ),
            RecordSet("apex-alias.example.com", "A", alias=Alias("www.example.com.")),
            RecordSet("a.b.deep.example.com", "A", 60, ("127.0.0.11",)),
            RecordSet("\\052.wild.example.com", "A", 60, ("127.0.0.12",)),
            RecordSet("sub.example.com", "NS", 300, ("ns1.sub.example.com",)),
            RecordSet("ns1.sub.example.com", "A", 300, ("127.0.0.13",)),
            RecordSet("big.example.com", "TXT", 60, tuple(f'"{"x" * 200}{i}"' for i in range(8))),
        ),
    )


@pytest.fixture
def authority() -> Authority:
    return Authority(StaticSource([_zone()], {LB_NAME: "127.0.0.20"}), rng=random.Random(1))


def ask(authority: Authority, name: str, rdtype: str) -> dns.message.Message:
    return authority.respond(dns.message.make_query(name, rdtype))


def texts(reply: dns.message.Message) -> list[tuple[str, str, str]]:
    return [
        (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rd.to_text())
        for rrset in reply.answer
        for rd in rrset
    ]


def test_plain_answers_are_authoritative(authority: Authority) -> None:
    reply = ask(authority, "www.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA
    assert not reply.flags & dns.flags.RA
    assert texts(reply) == [("www.example.com.", "A", "127.0.0.10")]
    assert reply.answer[0].ttl == 300


@pytest.mark.parametrize(
    ("rdtype", "value"),
    [
        ("MX", "10 mail.example.net."),
        ("CAA", '0 issue "amazon.com"'),
        ("TXT", '"v=spf1 -all"'),
        ("SOA", SOA),
    ],
)
def test_other_types(authority: Authority, rdtype: str, value: str) -> None:
    assert texts(ask(authority, "example.com", rdtype)) == [("example.com.", rdtype, value)]


def test_ns_values_become_absolute(authority: Authority) -> None:
    values = sorted(v for _, _, v in texts(ask(authority, "example.com", "NS")))
    assert values == ["ns-1.awsdns-1.com.", "ns-2.awsdns-2.net."]


def test_cname_is_chased_within_the_zone(authority: Authority) -> None:
    assert texts(ask(authority, "shop.example.com", "A")) == [
        ("shop.example.com.", "CNAME", "www.example.com."),
        ("www.example.com.", "A", "127.0.0.10"),
    ]
    assert texts(ask(authority, "shop.example.com", "CNAME")) == [
        ("shop.example.com.", "CNAME", "www.example.com."),
    ]


def test_cname_out_of_zone_and_loops_stop(authority: Authority) -> None:
    assert texts(ask(authority, "out.example.com", "A")) == [
        ("out.example.com.", "CNAME", "cdn.example.net."),
    ]
    looped = ask(authority, "loop1.example.com", "A")
    assert looped.rcode() == dns.rcode.NOERROR
    assert len(looped.answer) == 2


def test_alias_to_a_load_balancer(authority: Authority) -> None:
    reply = ask(authority, "lb.example.com", "A")
    assert texts(reply) == [("lb.example.com.", "A", "127.0.0.20")]
    assert reply.answer[0].ttl == 60
    nodata = ask(authority, "lb.example.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    gone = ask(authority, "gone.example.com", "A")
    assert gone.rcode() == dns.rcode.NOERROR and not gone.answer


def test_alias_to_a_record_in_the_zone(authority: Authority) -> None:
    assert texts(ask(authority, "apex-alias.example.com", "A")) == [
        ("apex-alias.example.com.", "A", "127.0.0.10"),
    ]


def test_load_balancer_names(authority: Authority) -> None:
    for name in (LB_NAME, f"dualstack.{LB_NAME}", LB_NAME.upper()):
        reply = ask(authority, name, "A")
        assert [v for _, _, v in texts(reply)] == ["127.0.0.20"], name
        assert reply.flags & dns.flags.AA
    missing = ask(authority, "nope-1.ap-northeast-1.elb.amazonaws.com", "A")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.authority[0].rdtype == dns.rdatatype.SOA


def test_negative_answers(authority: Authority) -> None:
    nx = ask(authority, "nope.example.com", "A")
    assert nx.rcode() == dns.rcode.NXDOMAIN and nx.flags & dns.flags.AA
    (soa,) = nx.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.ttl == 900  # min(TTL, SOA minimum)
    nodata = ask(authority, "www.example.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and nodata.authority
    empty_nonterminal = ask(authority, "b.deep.example.com", "A")
    assert empty_nonterminal.rcode() == dns.rcode.NOERROR and not empty_nonterminal.answer
    refused = ask(authority, "www.example.org", "A")
    assert refused.rcode() == dns.rcode.REFUSED and not refused.flags & dns.flags.AA


def test_wildcards(authority: Authority) -> None:
    assert texts(ask(authority, "anything.wild.example.com", "A")) == [
        ("anything.wild.example.com.", "A", "127.0.0.12"),
    ]


def test_delegation_gives_a_referral(authority: Authority) -> None:
    reply = ask(authority, "host.sub.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer
    assert not reply.flags & dns.flags.AA
    assert reply.authority[0].rdtype == dns.rdatatype.NS
    assert [rd.to_text() for rd in reply.additional[0]] == ["127.0.0.13"]


def test_query_name_case_is_kept(authority: Authority) -> None:
    reply = ask(authority, "WwW.ExAmPlE.CoM", "A")
    assert reply.answer[0].name.to_text() == "WwW.ExAmPlE.CoM."


def test_record_source_is_read_on_every_query() -> None:
    source = StaticSource([_zone()], {})
    authority = Authority(source)
    assert ask(authority, LB_NAME, "A").rcode() == dns.rcode.NXDOMAIN
    source.lbs[LB_NAME] = "127.0.0.21"
    assert [v for _, _, v in texts(ask(authority, "lb.example.com", "A"))] == ["127.0.0.21"]


def test_weighted_records_pick_one() -> None:
    zone = Zone(
        "example.com",
        (
            RecordSet("example.com", "SOA", 900, (SOA,)),
            RecordSet("w.example.com", "A", 60, ("127.0.0.1",), set_identifier="a", weight=0),
            RecordSet("w.example.com", "A", 60, ("127.0.0.2",), set_identifier="b", weight=10),
        ),
    )
    authority = Authority(StaticSource([zone]))
    for _ in range(5):
        assert texts(ask(authority, "w.example.com", "A")) == [("w.example.com.", "A", "127.0.0.2")]


@pytest.fixture
def dns_server() -> Iterator[DNSServer]:
    server = DNSServer(StaticSource([_zone()], {LB_NAME: "127.0.0.20"}))
    server.start()
    yield server
    server.stop()


def test_server_truncates_udp_and_answers_in_full_over_tcp(dns_server: DNSServer) -> None:
    q = dns.message.make_query("big.example.com", "TXT")
    udp = dns.query.udp(q, dns_server.host, port=dns_server.port, timeout=3)
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = dns.query.tcp(q, dns_server.host, port=dns_server.port, timeout=3)
    assert len(tcp.answer[0]) == 8
    edns = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=4096)
    big = dns.query.udp(edns, dns_server.host, port=dns_server.port, timeout=3)
    assert not big.flags & dns.flags.TC and len(big.answer[0]) == 8


def test_server_stops(dns_server: DNSServer) -> None:
    port = dns_server.port
    dns_server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((dns_server.host, port), timeout=1)


# -- ALB routing -----------------------------------------------------------------------------


def _request(target: str = "/a/b?x=1", host: str = "www.example.com:80", **kw: Any) -> Request:
    return Request.parse(
        kw.get("method", "GET"),
        target,
        {"Host": host, **kw.get("headers", {})},
        kw.get("client", "127.0.0.1"),
        kw.get("protocol", "HTTP"),
        kw.get("port", 80),
        "127.0.0.20",
    )


def test_redirect_defaults_keep_everything_but_protocol_and_port() -> None:
    config = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    assert redirect(config, _request()) == (301, "https://www.example.com:443/a/b?x=1")
    assert redirect(config, _request("/")) == (301, "https://www.example.com:443/")


def test_redirect_with_placeholders_and_302() -> None:
    config = {
        "Protocol": "#{protocol}",
        "Host": "new.#{host}",
        "Port": "#{port}",
        "Path": "/v2/#{path}",
        "Query": "from=#{host}&#{query}",
        "StatusCode": "HTTP_302",
    }
    assert redirect(config, _request()) == (
        302,
        "http://new.www.example.com:80/v2/a/b?from=www.example.com&x=1",
    )


def test_fixed_response() -> None:
    config = {"StatusCode": "503", "ContentType": "text/plain", "MessageBody": "down"}
    assert fixed_response(config) == (503, "text/plain", b"down")


def _action(kind: str, **data: Any) -> Action:
    return Action(kind, 1, {"Type": kind, **data})


def test_rules_match_by_priority_then_default() -> None:
    default = (_action("fixed-response", FixedResponseConfig={"StatusCode": "404"}),)
    api = (_action("fixed-response", FixedResponseConfig={"StatusCode": "200"}),)
    host = (_action("fixed-response", FixedResponseConfig={"StatusCode": "201"}),)
    listener = Listener(
        arn="l",
        load_balancer_arn="lb",
        port=80,
        protocol="HTTP",
        certificate_arns=(),
        ssl_policy=None,
        default_actions=default,
        rules=(
            Rule(1, ({"Field": "path-pattern", "Values": ["/api/*"]},), api),
            Rule(
                2,
                ({"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}},),
                host,
            ),
        ),
    )
    assert select_actions(listener, _request("/api/x")) == api
    assert select_actions(listener, _request("/other")) == host
    assert select_actions(listener, _request("/other", host="example.org")) == default


def test_conditions() -> None:
    req = _request(headers={"User-Agent": "curl/8"}, client="127.0.0.1")
    assert condition_matches(
        {
            "Field": "http-header",
            "HttpHeaderConfig": {"HttpHeaderName": "user-agent", "Values": ["curl*"]},
        },
        req,
    )
    assert condition_matches(
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}}, req
    )
    assert not condition_matches(
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}, req
    )
    assert condition_matches(
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "x", "Value": "1"}]}},
        req,
    )
    assert condition_matches(
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}, req
    )
    assert not condition_matches({"Field": "something-new", "Values": ["x"]}, req)


def test_weighted_forward() -> None:
    action = _action(
        "forward",
        ForwardConfig={
            "TargetGroups": [
                {"TargetGroupArn": "a", "Weight": 0},
                {"TargetGroupArn": "b", "Weight": 3},
            ]
        },
    )
    rng = random.Random(0)
    assert {pick_target_group(action, rng) for _ in range(20)} == {"b"}
    assert pick_target_group(_action("forward", TargetGroupArn="c"), rng) == "c"


@pytest.mark.parametrize(
    ("matcher", "status", "ok"),
    [("200", 200, True), ("200", 301, False), ("200-299", 204, True), ("200,302", 302, True)],
)
def test_health_check_matcher(matcher: str, status: int, ok: bool) -> None:
    assert code_matches(matcher, status) is ok


def test_certificate_name_matching() -> None:
    assert name_matches("*.example.com", "www.example.com")
    assert not name_matches("*.example.com", "a.b.example.com")
    assert not name_matches("*.example.com", "example.com")
    assert name_matches("WWW.example.com", "www.EXAMPLE.com.")


def test_address_pool_hands_out_in_order_without_immediate_reuse() -> None:
    pool = AddressPool(["127.0.0.20", "127.0.0.21", "127.0.0.22"])
    pool.sync(["lb1", "lb2"])
    assert (pool.address_of("lb1"), pool.address_of("lb2")) == ("127.0.0.20", "127.0.0.21")
    pool.sync(["lb2", "lb3"])
    assert pool.address_of("lb3") == "127.0.0.22" and pool.address_of("lb1") is None
    pool.sync(["lb2", "lb3", "lb4", "lb5"])
    assert pool.address_of("lb4") == "127.0.0.20" and pool.address_of("lb5") is None


# -- proxy -----------------------------------------------------------------------------------


class _Echo(QuietHandler):
    """Upstream: echoes method, path, selected headers and the body; answers without a length."""

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length")
        if length is not None:
            body = self.rfile.read(int(length))
        else:  # chunked
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        self.send_response_only(200)
        self.send_header("X-Seen-Forwarded-For", self.headers.get("X-Forwarded-For", ""))
        self.send_header("X-Seen-Connection", self.headers.get("Connection", ""))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for i in range(0, len(body), 1000):  # streamed out in pieces, no Content-Length
            self.wfile.write(body[i : i + 1000])


class _Front(QuietHandler):
    def do_POST(self) -> None:
        upstream: Upstream = self.server.attributes["upstream"]
        try:
            forward(self, upstream, {"X-Forwarded-For": self.client_address[0]})
        except UpstreamError as exc:
            self.send_simple(exc.status, b"bad gateway")


def _server(handler: type, **attrs: Any) -> SandboxHTTPServer:
    server = SandboxHTTPServer(bound_socket("127.0.0.1", 0), handler, attributes=attrs)
    server.start()
    return server


def test_proxy_streams_bodies_both_ways() -> None:
    upstream = _server(_Echo)
    front = _server(_Front, upstream=Upstream("127.0.0.1", upstream.server_address[1]))
    try:
        payload = bytes(range(256)) * 4096  # 1 MiB

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(payload), 65536):
                yield payload[i : i + 65536]

        for body in (payload, chunks()):
            conn = http.client.HTTPConnection("127.0.0.1", front.server_address[1], timeout=10)
            conn.request(
                "POST",
                "/echo",
                body=body,
                headers={"Connection": "keep-alive"},
                encode_chunked=not isinstance(body, bytes),
            )
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Transfer-Encoding") == "chunked"  # re-chunked
            assert response.read() == payload
            assert response.getheader("X-Seen-Forwarded-For") == "127.0.0.1"
            assert response.getheader("X-Seen-Connection") == ""  # hop-by-hop dropped
            conn.close()
    finally:
        front.stop()
        upstream.stop()


def test_proxy_reports_502_when_the_target_is_down() -> None:
    dead = bound_socket("127.0.0.1", 0)  # bound, never listening
    front = _server(_Front, upstream=Upstream("127.0.0.1", dead.getsockname()[1]))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", front.server_address[1], timeout=5)
        conn.request("POST", "/", body=b"x")
        assert conn.getresponse().status == 502
    finally:
        front.stop()
        dead.close()


def test_proxy_refuses_to_leave_loopback() -> None:
    from migrator_sandbox.proxy import UpstreamConnection

    with pytest.raises(NotLoopbackError):
        UpstreamConnection(Upstream("192.0.2.1", 8443))


def test_stopped_server_drops_open_connections() -> None:
    upstream = _server(_Echo)
    port = upstream.server_address[1]
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # a request that never ends
        deadline = time.monotonic() + 5
        while not upstream._connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert upstream._connections, "the server never accepted the connection"
        upstream.stop()
        assert sock.recv(10) == b""  # closed by the server, not left hanging
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
    finally:
        sock.close()
