"""The load balancers' data plane: serves, on loopback, whatever moto's ELBv2 state describes.

Every ELBv2 API call that changes something re-syncs the data plane before moto answers it (so
a listener is served by the time CreateListener returns, and gone when DeleteListener returns);
a thread also polls moto every ``poll_interval`` seconds (certificates turning ISSUED, etc.):

* every load balancer gets a loopback address from the pool, in creation order (an address freed
  by a deleted load balancer is handed out again only after the rest of the pool);
* every HTTP listener, and every HTTPS listener whose default ACM certificate is ISSUED, of an
  ``application`` load balancer is served on that address -- at the real port the connect-to
  table maps 80/443 to (other ports >= 1024 are served as they are). HTTPS presents the ACM
  certificate's names re-issued by the sandbox Amazon CA (same key, serial number and validity
  as ACM reports), TLS 1.2+, SNI picks among the listener's certificates (see
  ``CertificateStore.listener_context``), and a change of that set (ModifyListener,
  AddListenerCertificates, RemoveListenerCertificates, a certificate re-issued) is served from
  the next handshake on, by the same listener;
* a listener, certificate or load balancer that goes away stops being served: the port is
  closed (connection refused) and open connections are dropped.

Requests follow the listener's rules and actions: ``redirect`` and ``fixed-response`` are answered
as configured; ``forward`` proxies to a target of the chosen target group (healthy targets
first, all registered targets when none is healthy, 503 when there are none): an instance
target's address is its Elastic IP, reached through the connect-to table, over HTTPS with SNI =
Host when the target group's protocol is HTTPS; X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id
are added. Connections to targets leave from the load balancer's own address.

Every answer is counted and published to moto's CloudWatch as the load balancer's metrics
(``lb_metrics.py``: RequestCount, HTTPCode_ELB_5XX_Count, HTTPCode_Target_5XX_Count,
TargetResponseTime, UnHealthyHostCount), so a canary's gates read what was served.

In the strict AWS world (``only_active``) a load balancer serves nothing while it is still
``provisioning``, and health checks follow the target groups' own intervals and thresholds on a
scaled clock (``health_time_scale``, see ``health.py``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from . import firewall, moto_state, pki
from .health import HealthMonitor, forwarded_groups
from .lb_metrics import LoadBalancerMetrics
from .moto_state import Listener, LoadBalancer, Target, TargetGroup
from .ports import ConnectToTable, PortReservation, bound_socket, is_loopback
from .proxy import Upstream, UpstreamError, forward
from .routing import (
    Request,
    final_action,
    fixed_response,
    pick_target_group,
    redirect,
    select_actions,
)
from .servers import QuietHandler, SandboxHTTPServer

log = logging.getLogger(__name__)

ALB_SERVER = "awselb/2.0"
_MUTATING_VERBS = frozenset(
    {"create", "delete", "modify", "add", "remove", "set", "register", "deregister"}
)


# -- addresses -------------------------------------------------------------------------------


class AddressPool:
    """Loopback addresses for load balancers, handed out in order."""

    def __init__(self, addresses: Sequence[str]):
        self.addresses = list(addresses)
        self._by_arn: dict[str, str] = {}
        self._cursor = 0
        self._warned: set[str] = set()

    def sync(self, arns: Sequence[str]) -> None:
        live = set(arns)
        for arn in [a for a in self._by_arn if a not in live]:
            del self._by_arn[arn]
        for arn in arns:
            if arn in self._by_arn:
                continue
            address = self._next_free()
            if address is None:
                if arn not in self._warned:
                    self._warned.add(arn)
                    log.warning("no sandbox address left for load balancer %s", arn)
                continue
            self._by_arn[arn] = address

    def _next_free(self) -> str | None:
        used = set(self._by_arn.values())
        size = len(self.addresses)
        for step in range(size):
            index = (self._cursor + step) % size
            if self.addresses[index] not in used:
                self._cursor = index + 1
                return self.addresses[index]
        return None

    def address_of(self, arn: str) -> str | None:
        return self._by_arn.get(arn)

    def assigned(self) -> dict[str, str]:
        return dict(self._by_arn)


# -- certificates ----------------------------------------------------------------------------


def name_matches(pattern: str, name: str) -> bool:
    """Certificate name matching: exact, or ``*.`` for exactly one leftmost label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


@dataclass(frozen=True)
class ServedCertificate:
    arn: str
    fingerprint: bytes
    names: tuple[str, ...]
    issued: pki.Issued
    context: ssl.SSLContext
    chain: tuple[x509.Certificate, ...] = ()

    def matches(self, server_name: str) -> bool:
        return any(name_matches(n, server_name) for n in self.names)

    def preference(self) -> tuple[int, int]:
        """How ALB ranks certificates that all match a name: ECDSA before RSA, then the longer
        key (the hash and the validity period, its further criteria, never differ here)."""
        key = self.issued.key
        return (1 if isinstance(key, ec.EllipticCurvePrivateKey) else 0,
                int(getattr(key, "key_size", 0)))


def choose_certificate(
    certificates: Sequence[ServedCertificate], server_name: str | None
) -> ServedCertificate:
    """The certificate a listener presents for ``server_name`` (SNI), as ALB chooses it: the
    default (the first) without SNI or when no certificate covers the name; else the best of
    those that do, by ``preference``, the earliest of equals (the default first)."""
    default = certificates[0]
    if not server_name:
        return default
    matching = [c for c in certificates if c.matches(server_name)]
    if not matching:
        return default
    best = max(c.preference() for c in matching)
    return next(c for c in matching if c.preference() == best)


class CertificateStore:
    """ACM certificates as served by the sandbox: re-issued by the sandbox Amazon CA."""

    def __init__(self, ca: pki.CertificateAuthority):
        self.ca = ca
        self._cache: dict[tuple[str, bytes], ServedCertificate] = {}
        self._contexts: dict[tuple[tuple[str, bytes], ...], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def served(self, arn: str) -> ServedCertificate | None:
        """The certificate as the load balancer presents it; None unless ACM says ISSUED."""
        cert = moto_state.certificate(arn)
        if cert is None or cert.status != "ISSUED":
            return None
        fingerprint = hashlib.sha256(cert.cert_pem + cert.key_pem).digest()
        with self._lock:
            found = self._cache.get((arn, fingerprint))
        if found is not None:
            return found
        moto_cert = x509.load_pem_x509_certificate(cert.cert_pem)
        key: Any = load_pem_private_key(cert.key_pem, password=None)
        chain: list[x509.Certificate] = []
        if cert.type == "IMPORTED":
            issued = pki.Issued(moto_cert, key)
            with contextlib.suppress(ValueError):
                chain = x509.load_pem_x509_certificates(cert.chain_pem)
        else:
            issued = self.ca.issue(
                list(cert.names) or [cert.domain_name],
                not_before=moto_cert.not_valid_before_utc,
                not_after=moto_cert.not_valid_after_utc,
                key=key,
                serial=moto_cert.serial_number,
                common_name=cert.domain_name,
            )
        served = ServedCertificate(
            arn=arn,
            fingerprint=fingerprint,
            names=tuple(cert.names),
            issued=issued,
            context=pki.server_context(issued, chain),
            chain=tuple(chain),
        )
        with self._lock:
            self._cache[(arn, fingerprint)] = served
        return served

    def listener_context(
        self, arns: Sequence[str]
    ) -> tuple[tuple[tuple[str, bytes], ...], ssl.SSLContext] | None:
        """(identity, context) for a listener's certificates, the default one first; None if
        the default isn't ISSUED. Of the others, those not ISSUED are left out.

        The context presents the default certificate and, through its SNI callback, whichever
        ``choose_certificate`` picks for the name the client sends. The identity (each served
        certificate's ARN and fingerprint) changes whenever what is served would, so the data
        plane swaps a running listener's context exactly then; contexts are kept per identity,
        so an unchanged listener costs no new context per poll.
        """
        if not arns:
            return None
        served: list[ServedCertificate] = []
        for index, arn in enumerate(dict.fromkeys(arns)):
            found = self.served(arn)
            if found is None and index == 0:
                return None
            if found is not None:
                served.append(found)
        identity = tuple((s.arn, s.fingerprint) for s in served)
        with self._lock:
            known = self._contexts.get(identity)
        if known is not None:
            return identity, known
        default = served[0]
        ctx = pki.server_context(default.issued, default.chain)
        if len(served) > 1:
            chosen = tuple(served)

            def choose(sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
                certificate = choose_certificate(chosen, server_name)
                if certificate is not default:
                    sock.context = certificate.context

            ctx.sni_callback = choose
        with self._lock:
            if len(self._contexts) >= 256:  # listeners come and go; keep the recent ones
                self._contexts.pop(next(iter(self._contexts)))
            self._contexts[identity] = ctx
        return identity, ctx


# -- serving -----------------------------------------------------------------------------------


def _error_body(status: int, reason: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"


class _LoadBalancerHandler(QuietHandler):
    """One listener of one load balancer."""

    # What the metrics count of the request being answered: the load balancer's own status,
    # or (target group ARN, the target's status, seconds) when a target answered.
    _elb_status: int | None = None
    _target: tuple[str, int | None, float] | None = None

    def _plane(self) -> DataPlane:
        plane: DataPlane = self.server.attributes["plane"]
        return plane

    def _error(self, status: int, reason: str) -> None:
        self._elb_status = status
        self.send_simple(status, _error_body(status, reason), "text/html", server_header=ALB_SERVER)

    def _handle(self) -> None:
        attrs = self.server.attributes
        plane = self._plane()
        found = plane.listener(attrs["listener_arn"])
        if found is None:
            self.close_connection = True  # the listener is gone; so is this connection
            return
        lb, listener = found
        self._elb_status = self._target = None
        try:
            self._answer(plane, lb, listener)
        finally:
            tg, status, seconds = self._target or (None, None, None)
            plane.metrics.served(lb.account_id, lb.region, lb.arn, elb_status=self._elb_status,
                                 target_group=tg, target_status=status, seconds=seconds)

    def _answer(self, plane: DataPlane, lb: LoadBalancer, listener: Listener) -> None:
        attrs = self.server.attributes
        request = Request.parse(
            self.command,
            self.path,
            dict(self.headers.items()),
            self.client_address[0],
            listener.protocol,
            listener.port,
            attrs["address"],
        )
        action = final_action(select_actions(listener, request))
        if action is None:
            self._error(503, "Service Temporarily Unavailable")
            return
        if action.type == "redirect":
            status, location = redirect(action.data.get("RedirectConfig") or {}, request)
            self.discard_body()
            reason = "Moved Permanently" if status == 301 else "Found"
            self.send_simple(
                status,
                _error_body(status, reason),
                "text/html",
                {"Location": location},
                server_header=ALB_SERVER,
            )
            return
        if action.type == "fixed-response":
            status, ctype, body = fixed_response(action.data.get("FixedResponseConfig") or {})
            self.discard_body()
            self.send_simple(status, body, ctype, server_header=ALB_SERVER)
            return
        self._forward(plane, lb, listener, action, request)

    def _forward(
        self,
        plane: DataPlane,
        lb: LoadBalancer,
        listener: Listener,
        action: moto_state.Action,
        request: Request,
    ) -> None:
        tg_arn = pick_target_group(action, plane.rng)
        tg = moto_state.target_group(lb.account_id, lb.region, tg_arn) if tg_arn else None
        target = plane.choose_target(tg) if tg is not None else None
        if tg is None or target is None:
            self.discard_body()
            self._error(503, "Service Temporarily Unavailable")
            return
        resolved = plane.resolve_target(lb, tg, target, tg.protocol, target.port)
        if resolved is None:
            self.discard_body()
            self.close_connection = True
            self._error(502, "Bad Gateway")
            return
        _address, upstream = resolved
        if upstream.tls:
            sni = request.host if request.host and not is_loopback(request.host) else None
            upstream = Upstream(
                upstream.host,
                upstream.port,
                tls=True,
                sni=sni,
                source_address=upstream.source_address,
                timeout=upstream.timeout,
            )
        previous = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers = {
            "X-Forwarded-For": f"{previous}, {client}" if previous else client,
            "X-Forwarded-Proto": listener.protocol.lower(),
            "X-Forwarded-Port": str(listener.port),
            "X-Amzn-Trace-Id": _trace_id(),
        }
        began = time.monotonic()
        try:
            status = forward(self, upstream, headers)
            self._target = (tg.arn, status, time.monotonic() - began)
        except UpstreamError as exc:
            log.debug("%s: %s", self.server.name, exc)
            self.close_connection = True
            if exc.status == 504:
                self._error(504, "Gateway Time-out")
            else:
                self._error(502, "Bad Gateway")
        except OSError:
            self.close_connection = True  # failed after the response started

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle


@dataclass
class _Running:
    server: SandboxHTTPServer
    lb_arn: str
    address: str
    port: int
    protocol: str
    reservation: PortReservation | None
    tls_identity: Any = None


class DataPlane:
    """Follows moto's load balancers and serves them on loopback."""

    def __init__(
        self,
        addresses: Sequence[str],
        listen_ports: Mapping[int, PortReservation],
        connect_to: ConnectToTable,
        ca: pki.CertificateAuthority,
        *,
        poll_interval: float = 0.2,
        health_interval: float = 1.0,
        enforce_security_groups: bool = True,
        upstream_timeout: float = 30.0,
        on_event: Callable[[str], None] | None = None,
        health_time_scale: float | None = None,
        only_active: bool = False,
        metrics_interval: float = 1.0,
    ):
        self.on_event = on_event
        self.only_active = only_active
        self.pool = AddressPool(addresses)
        self.listen_ports = dict(listen_ports)
        self.connect_to = connect_to
        self.certificates = CertificateStore(ca)
        self.poll_interval = poll_interval
        self.enforce_security_groups = enforce_security_groups
        self.upstream_timeout = upstream_timeout
        self.health = HealthMonitor(
            self.resolve_target, interval=health_interval, time_scale=health_time_scale
        )
        self.metrics = LoadBalancerMetrics(self.unhealthy_hosts, interval=metrics_interval)
        self.rng = random.Random()
        self._round_robin = itertools.count()
        self._lock = threading.RLock()
        self._lbs: dict[str, LoadBalancer] = {}
        self._listeners: dict[str, tuple[LoadBalancer, Listener]] = {}
        self._running: dict[str, _Running] = {}
        self._warned: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rounds = threading.Condition()
        self._round_count = 0
        self._moto_originals: dict[str, Any] = {}

    # -- views for the other parts --------------------------------------------------------

    def load_balancer_addresses(self) -> dict[str, str]:
        """Load balancer DNS name (lower case) -> sandbox address (what the DNS server needs).

        Read from moto on every call, so a load balancer's name resolves as soon as it exists.
        """
        with self._lock:  # read under the lock: snapshots are applied in the order taken
            lbs = moto_state.load_balancers()
            self.pool.sync([lb.arn for lb in lbs])
            self._lbs = {lb.arn: lb for lb in lbs}
            assigned = self.pool.assigned()
            return {lb.dns_name: assigned[arn] for arn, lb in self._lbs.items() if arn in assigned}

    def load_balancer_at(self, address: str) -> LoadBalancer | None:
        # lock-free on purpose (called while accepting connections, which stop() waits for):
        # both dicts are replaced or copied atomically, never iterated live
        lbs = self._lbs
        for arn, assigned in self.pool.assigned().items():
            if assigned == address:
                return lbs.get(arn)
        return None

    def address_of(self, lb_arn: str) -> str | None:
        with self._lock:
            return self.pool.address_of(lb_arn)

    def listener(self, arn: str) -> tuple[LoadBalancer, Listener] | None:
        with self._lock:
            return self._listeners.get(arn) if arn in self._running else None

    def serving(self) -> list[tuple[str, int, str, str]]:
        """(address, listener port, protocol, load balancer name) currently served."""
        with self._lock:
            return [
                (r.address, r.port, r.protocol, self._lbs[r.lb_arn].name)
                for r in self._running.values()
                if r.lb_arn in self._lbs
            ]

    # -- targets ----------------------------------------------------------------------------

    def resolve_target(
        self, lb: LoadBalancer, tg: TargetGroup, target: Target, protocol: str, port: int
    ) -> tuple[str, Upstream] | None:
        """(target address, how to reach it from ``lb``) or None if it cannot be reached."""
        if tg.target_type == "instance":
            inst = moto_state.instance(tg.account_id, tg.region, target.id)
            if inst is None or inst.state != "running" or not inst.public_ip:
                return None
            address = inst.public_ip
        elif tg.target_type == "ip":
            address = target.id
        else:
            return None
        if not port or not is_loopback(address):
            return None  # never leave loopback
        host, real_port = self.connect_to.resolve(address, port)
        if not is_loopback(host):
            return None
        return address, Upstream(
            host,
            real_port,
            tls=protocol.upper() == "HTTPS",
            source_address=self.address_of(lb.arn),
            timeout=self.upstream_timeout,
        )

    def unhealthy_hosts(self) -> dict[tuple[str, str, str, str], int]:
        """(account, region, load balancer ARN, target group ARN) -> how many of the group's
        targets fail the health check, for every group a served load balancer forwards to."""
        counts = {}
        for tg_arn, lb in forwarded_groups(list(self._lbs.values())).items():
            tg = moto_state.target_group(lb.account_id, lb.region, tg_arn)
            if tg is None:
                continue
            failing = sum(1 for t in tg.targets
                          if self.health.verdict(tg.arn, t.id, t.port).state == "unhealthy")
            counts[(lb.account_id, lb.region, lb.arn, tg_arn)] = failing
        return counts

    def choose_target(self, tg: TargetGroup) -> Target | None:
        """Round robin over healthy targets; over all registered ones if none is healthy."""
        if not tg.targets:
            return None
        healthy = [
            t for t in tg.targets if self.health.verdict(tg.arn, t.id, t.port).state == "healthy"
        ]
        pool = healthy or list(tg.targets)
        return pool[next(self._round_robin) % len(pool)]

    # -- polling ----------------------------------------------------------------------------

    def sync(self) -> None:
        """Make what is served match moto's state (one poll)."""
        desired: dict[str, tuple[LoadBalancer, Listener, str, Any]] = {}
        with self._lock:
            lbs = moto_state.load_balancers()
            self.pool.sync([lb.arn for lb in lbs])
            self._lbs = {lb.arn: lb for lb in lbs}
            self._listeners = {li.arn: (lb, li) for lb in lbs for li in lb.listeners}
            for lb in lbs:
                address = self.pool.address_of(lb.arn)
                if address is None or lb.type != "application":
                    continue
                if self.only_active and lb.state != "active":
                    continue
                ports: set[int] = set()
                for li in lb.listeners:
                    if li.protocol not in ("HTTP", "HTTPS") or li.port in ports:
                        continue
                    ports.add(li.port)
                    tls = None
                    if li.protocol == "HTTPS":
                        try:
                            tls = self.certificates.listener_context(li.certificate_arns)
                        except Exception:
                            log.warning("cannot serve certificate of %s", li.arn, exc_info=True)
                        if tls is None:
                            continue
                    desired[li.arn] = (lb, li, address, tls)
            run: _Running | None  # the second loop below may find none
            for arn, run in list(self._running.items()):
                want = desired.get(arn)
                if want is None or (want[2], want[1].port, want[1].protocol) != (
                    run.address,
                    run.port,
                    run.protocol,
                ):
                    self._stop_listener(arn)
            for arn, (lb, li, address, tls) in desired.items():
                run = self._running.get(arn)
                if run is None:
                    self._start_listener(lb, li, address, tls)
                elif tls is not None and tls[0] != run.tls_identity:
                    run.server.tls_context = tls[1]
                    run.tls_identity = tls[0]
        with self._rounds:
            self._round_count += 1
            self._rounds.notify_all()

    def wait_synced(self, rounds: int = 2, timeout: float = 10.0) -> bool:
        """Block until ``rounds`` more polls finished (so moto changes made before are served)."""
        with self._rounds:
            goal = self._round_count + rounds
            return self._rounds.wait_for(lambda: self._round_count >= goal, timeout=timeout)

    def _admit(self, lb_arn: str, port: int) -> Any:
        if not self.enforce_security_groups:
            return None

        def admit(client: str) -> bool:
            lb = self._lbs.get(lb_arn)  # no lock: see load_balancer_at
            return lb is not None and firewall.load_balancer_admits(lb, port, client)

        return admit

    def _start_listener(self, lb: LoadBalancer, li: Listener, address: str, tls: Any) -> None:
        reservation = self.listen_ports.get(li.port)
        try:
            if reservation is not None:
                sock = reservation.take(address)
            elif li.port >= 1024:
                sock = bound_socket(address, li.port)
            else:
                if (address, li.port) not in self._warned:
                    self._warned.add((address, li.port))
                    log.warning("%s: listener port %d has no sandbox mapping", lb.name, li.port)
                return
        except OSError as exc:
            if (address, li.port) not in self._warned:
                self._warned.add((address, li.port))
                log.warning("%s: cannot listen on %s:%d: %s", lb.name, address, li.port, exc)
            return
        server = SandboxHTTPServer(
            sock,
            _LoadBalancerHandler,
            tls_context=tls[1] if tls else None,
            admit=self._admit(lb.arn, li.port),
            name=f"lb-{lb.name}-{li.port}",
            attributes={"plane": self, "listener_arn": li.arn, "address": address},
        )
        try:
            server.start()
        except OSError as exc:
            server.server_close()
            if reservation is not None:
                reservation.give_back(address)
            log.warning("%s: cannot listen on %s:%d: %s", lb.name, address, li.port, exc)
            return
        self._running[li.arn] = _Running(
            server=server,
            lb_arn=lb.arn,
            address=address,
            port=li.port,
            protocol=li.protocol,
            reservation=reservation,
            tls_identity=tls[0] if tls else None,
        )
        self._event(f"load balancer {lb.name}: serving {li.protocol} on {address}:{li.port}")

    def _stop_listener(self, arn: str) -> None:
        run = self._running.pop(arn)
        run.server.stop()
        if run.reservation is not None:
            run.reservation.give_back(run.address)
        lb = self._lbs.get(run.lb_arn)
        name = lb.name if lb is not None else run.lb_arn.rsplit("/", 2)[-2]
        self._event(f"load balancer {name}: stopped {run.protocol} on {run.address}:{run.port}")

    def _event(self, message: str) -> None:
        log.info("%s", message)
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(message)

    # -- moto hooks -------------------------------------------------------------------------

    def _install_moto_hooks(self) -> None:
        """Wrap ELBv2's mutating backend methods: sync (and re-probe health) after each one."""
        from moto.elbv2.models import ELBv2Backend

        plane = self

        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def hooked(*args: Any, **kwargs: Any) -> Any:
                result = original(*args, **kwargs)
                if not plane._stop.is_set():
                    try:
                        plane.sync()
                    except Exception:
                        log.debug(
                            "data plane: sync after %s failed", original.__name__, exc_info=True
                        )
                    plane.health.wake()
                return result

            return hooked

        for name, value in list(vars(ELBv2Backend).items()):
            if callable(value) and name.split("_", 1)[0] in _MUTATING_VERBS:
                self._moto_originals[name] = value
                setattr(ELBv2Backend, name, wrap(value))

    def _remove_moto_hooks(self) -> None:
        from moto.elbv2.models import ELBv2Backend

        for name, value in self._moto_originals.items():
            setattr(ELBv2Backend, name, value)
        self._moto_originals.clear()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.sync()
            except Exception:  # moto mutating under us; try again next round
                log.debug("data plane: poll failed", exc_info=True)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.sync()
        self._install_moto_hooks()
        self._thread = threading.Thread(target=self._loop, name="sandbox-dataplane", daemon=True)
        self._thread.start()
        self.health.start()
        self.metrics.start()

    def stop(self) -> None:
        self._stop.set()
        self._remove_moto_hooks()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.health.stop()
        self.metrics.stop()
        with self._lock:
            for arn in list(self._running):
                self._stop_listener(arn)
