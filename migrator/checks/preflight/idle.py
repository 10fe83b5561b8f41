"""How long the origin keeps an idle keep-alive connection open, and the load balancer's idle
timeout that follows from it.

An ALB closes a connection idle for its idle timeout (60 s by default), towards the client and
towards the target alike. When the target closes an idle connection sooner, the load balancer
may send a request on it just as it closes, and the client gets a 502 (ALB User Guide,
"Connection idle timeout"). nginx's ``keepalive_timeout`` is 75 s by default, Apache's
``KeepAliveTimeout`` 5 s.

The measurement: one TLS connection to the instance's public address (through NetConfig, SNI and
Host the site's name, as the HTTPS probe), one keep-alive GET of the health check path, the whole
response read. A ``Keep-Alive: timeout=N`` header answers at once; otherwise the connection is
left idle until the server closes it, for at most ``bound`` seconds (61 by default: one more than
the load balancer's 60). :class:`IdleProbe` runs it in a thread beside the other checks.

The choice (:func:`choose_idle_timeout`, pure): an origin that keeps connections 61 s or more
keeps the load balancer's 60 s; one that closes them after K s gets ``max(1, K - 1)`` and a
warning saying which origin setting to raise instead; one that cannot be measured keeps 60 s
with a note. ``--idle-timeout`` overrides the choice (and is warned about when it is not below
what the origin advertises). :func:`with_idle_choice` puts the choice into the plan's options.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace

from migrator.checks.preflight.model import Finding
from migrator.core.plan import PlanOptions
from migrator.core.snapshot import Snapshot
from migrator.net.config import NetConfig, where
from migrator.net.probe import https_skip_reason
from migrator.retry import SYSTEM_CLOCK, Clock

__all__ = [
    "ALB_DEFAULT_IDLE_TIMEOUT",
    "ALB_IDLE_TIMEOUT_RANGE",
    "CHECK",
    "DEFAULT_BOUND",
    "IdleChoice",
    "IdleProbe",
    "OriginIdle",
    "choose_idle_timeout",
    "idle_choice",
    "measure_origin_idle",
    "with_idle_choice",
]

CHECK = "idle-timeout"
ALB_DEFAULT_IDLE_TIMEOUT = 60
ALB_IDLE_TIMEOUT_RANGE = (1, 4000)  # what ELB accepts for idle_timeout.timeout_seconds
# An origin keeping idle connections this long (or longer) keeps the load balancer's default.
KEEPS_DEFAULT = ALB_DEFAULT_IDLE_TIMEOUT + 1
DEFAULT_BOUND = float(KEEPS_DEFAULT)
USER_AGENT = "migrator preflight (idle connection probe)"
_TIMEOUT = re.compile(r"(?:^|[,;\s])timeout\s*=\s*(\d+)", re.IGNORECASE)
_ORIGIN_SETTINGS = "nginx keepalive_timeout, Apache KeepAliveTimeout"


@dataclass(frozen=True)
class OriginIdle:
    """What the probe learned.

    ``seconds``: how long the origin keeps an idle connection (advertised or measured); None
    when it kept it open for the whole ``bound``, or when nothing was measured (``error`` says
    why). ``keep_alive`` False: the origin closes after every response (``Connection: close``).
    """

    seconds: float | None
    advertised: bool
    detail: str
    bound: float = DEFAULT_BOUND
    keep_alive: bool = True
    error: str | None = None

    @property
    def measured(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class IdleChoice:
    """The load balancer's idle timeout, what the origin does (kept in the plan), and the
    finding that explains it."""

    idle_timeout_seconds: int
    origin_idle_seconds: float | None
    finding: Finding


# -- the measurement ---------------------------------------------------------------------------


def _request(path: str, host: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\nConnection: keep-alive\r\n\r\n").encode("ascii", "replace")


def _wait_for_close(tls: ssl.SSLSocket, bound: float, clock: Clock = SYSTEM_CLOCK
                    ) -> float | None:
    """Seconds until the server closes the connection, or None if it stays open for bound
    (timed on `clock`; the socket's own timeout does the waiting)."""
    start = clock.monotonic()
    deadline = start + bound
    while True:
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            return None
        tls.settimeout(remaining)
        try:
            if not tls.recv(4096):  # a clean close (close_notify or FIN)
                return clock.monotonic() - start
        except TimeoutError:
            return None
        except (ssl.SSLError, OSError):  # reset, or a close without close_notify
            return clock.monotonic() - start
        # bytes after the response (a 408 before closing, say): keep waiting for the close


def measure_origin_idle(name: str, address: str, path: str, net: NetConfig, *,
                        bound: float = DEFAULT_BOUND, port: int = 443,
                        host_header: str | None = None) -> OriginIdle:
    """Open one TLS connection to address:port (SNI ``name``), GET ``path`` with keep-alive and
    read the answer; then the advertised ``Keep-Alive: timeout=N``, or how long the idle
    connection stays open (at most ``bound`` seconds; 0: only the header is read). Never
    raises."""
    skip = https_skip_reason(net, name, address, port)
    if skip:
        return OriginIdle(None, False, f"not measured: {skip}", bound, error=skip)
    target = net.connect_target(name, address, port)
    at = where(address, port, target)
    try:
        raw = socket.create_connection(target, timeout=net.connect_timeout)
    except OSError as exc:
        reason = ("connection refused" if isinstance(exc, ConnectionRefusedError)
                  else f"no connection ({exc.strerror or exc})")
        return OriginIdle(None, False, f"{reason} at {at}", bound, error=f"{reason} at {at}")
    try:
        raw.settimeout(net.read_timeout)
        with net.ssl_context(verify=False).wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(_request(path, host_header or name))
            response = http.client.HTTPResponse(tls, method="GET")
            response.begin()
            response.read()
            header = response.getheader("Keep-Alive") or ""
            if response.will_close:
                return OriginIdle(None, False,
                                  f"the instance at {at} closes the connection after each "
                                  "response (Connection: close)", bound, keep_alive=False)
            advertised = _TIMEOUT.search(header)
            if advertised:
                seconds = float(advertised.group(1))
                return OriginIdle(seconds, True,
                                  f"the instance at {at} closes idle connections after "
                                  f"{seconds:g} s (it advertises Keep-Alive: {header.strip()})",
                                  bound)
            closed = _wait_for_close(tls, bound)
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        error = f"GET {path} at {at} failed: {text}"
        return OriginIdle(None, False, error, bound, error=error)
    finally:
        with contextlib.suppress(OSError):
            raw.close()
    if closed is None and bound <= 0:
        return OriginIdle(None, False, f"the instance at {at} advertises no Keep-Alive timeout, "
                                       "and the probe did not wait", bound)
    if closed is None:
        return OriginIdle(None, False, f"the instance at {at} kept an idle connection open for "
                                       f"{bound:g} s (the probe's limit)", bound)
    return OriginIdle(round(closed, 2), False, f"the instance at {at} closed an idle "
                                               f"connection after {closed:.1f} s", bound)


class IdleProbe:
    """``measure_origin_idle`` in a daemon thread: ``start()`` returns at once, ``result()``
    waits for it (at most the bound plus the connection's own timeouts)."""

    def __init__(self, name: str, address: str, path: str, net: NetConfig, *,
                 bound: float = DEFAULT_BOUND, host_header: str | None = None) -> None:
        self.name, self.address, self.path, self.net = name, address, path, net
        self.bound = bound
        self.host_header = host_header
        self._result: OriginIdle | None = None
        self._thread = threading.Thread(target=self._run, name="preflight-idle-probe",
                                        daemon=True)

    @classmethod
    def for_site(cls, snap: Snapshot, net: NetConfig, path: str, *,
                 bound: float = DEFAULT_BOUND) -> IdleProbe:
        """The probe of the site's instance: its public address, SNI and Host the domain."""
        return cls(snap.domain, snap.instance.public_ip, path, net, bound=bound)

    def _run(self) -> None:
        self._result = measure_origin_idle(self.name, self.address, self.path, self.net,
                                           bound=self.bound, host_header=self.host_header)

    def start(self) -> IdleProbe:
        self._thread.start()
        return self

    def result(self) -> OriginIdle:
        limit = self.bound + self.net.connect_timeout + 2 * self.net.read_timeout + 1
        self._thread.join(timeout=limit)
        if self._result is None:
            error = f"the idle connection probe did not finish within {limit:g} s"
            return OriginIdle(None, False, error, self.bound, error=error)
        return self._result


# -- the choice --------------------------------------------------------------------------------


def _proposal(seconds: float) -> int:
    # round(): a measured 4.99 s is Apache's 5; the result stays at least half a second below.
    return max(ALB_IDLE_TIMEOUT_RANGE[0], round(seconds) - 1)


def _data(origin: OriginIdle, timeout: int, override: int | None) -> dict[str, object]:
    return {"origin_idle_seconds": origin.seconds, "advertised": origin.advertised,
            "keep_alive": origin.keep_alive, "bound": origin.bound, "error": origin.error,
            "idle_timeout_seconds": timeout, "override": override}


def joined_idle_timeout(origin: OriginIdle, load_balancer: str, timeout: int) -> IdleChoice:
    """The idle timeout of a load balancer the site joins: its own, which the plan does not
    change (other sites use it); warned about when the instance closes idle connections
    sooner."""
    seconds = origin.seconds
    data = {**_data(origin, timeout, None), "load_balancer": load_balancer}
    if seconds is not None and timeout >= seconds:
        return IdleChoice(timeout, seconds, Finding(
            CHECK, "warn",
            f"{load_balancer} keeps idle connections {timeout} s (its own setting, which the "
            f"plan leaves alone) and the instance closes them after {seconds:g} s "
            f"({origin.detail}): clients will get occasional 502s",
            hint=f"raise the web server's keep-alive timeout above {timeout} s "
                 f"({_ORIGIN_SETTINGS})", data=data))
    if seconds is not None:
        return IdleChoice(timeout, seconds, Finding(
            CHECK, "pass", f"{load_balancer}'s idle timeout is {timeout} s, below the "
                           f"instance's {seconds:g} s ({origin.detail})", data=data))
    return IdleChoice(timeout, None, Finding(
        CHECK, "info", f"{load_balancer}'s idle timeout is {timeout} s; how long the instance "
                       f"keeps idle connections was not measured ({origin.detail})",
        hint=f"keep the web server's keep-alive timeout above {timeout} s "
             f"({_ORIGIN_SETTINGS})", data=data))


def choose_idle_timeout(origin: OriginIdle, *, override: int | None = None) -> IdleChoice:
    """The load balancer's idle timeout for an origin that behaves as ``origin`` says, and the
    finding explaining it; ``override`` is --idle-timeout (taken as given, warned about when it
    is not below the origin's known idle timeout)."""
    default = ALB_DEFAULT_IDLE_TIMEOUT
    seconds = origin.seconds
    if override is not None:
        data = _data(origin, override, override)
        if seconds is not None and override >= seconds:
            return IdleChoice(override, seconds, Finding(
                CHECK, "warn",
                f"--idle-timeout {override} s is not below the instance's {seconds:g} s "
                f"({origin.detail}): the instance may close a connection just as the load "
                "balancer reuses it, and clients get occasional 502s",
                hint=f"use --idle-timeout {_proposal(seconds)} or less, or raise the web "
                     f"server's keep-alive timeout above {override} s ({_ORIGIN_SETTINGS})",
                data=data))
        if seconds is not None:
            return IdleChoice(override, seconds, Finding(
                CHECK, "pass", f"the load balancer's idle timeout is {override} s "
                               f"(--idle-timeout), below the instance's {seconds:g} s "
                               f"({origin.detail})", data=data))
        return IdleChoice(override, None, Finding(
            CHECK, "info", f"the load balancer's idle timeout is {override} s (--idle-timeout); "
                           f"how long the instance keeps idle connections was not waited for "
                           f"({origin.detail})",
            hint=f"keep the web server's keep-alive timeout above {override} s "
                 f"({_ORIGIN_SETTINGS})", data=data))
    if not origin.measured:
        return IdleChoice(default, None, Finding(
            CHECK, "info", f"how long the instance keeps idle connections was not measured "
                           f"({origin.detail}); the load balancer keeps its {default} s idle "
                           "timeout",
            hint=f"make sure the web server keeps idle connections open longer than {default} s "
                 f"({_ORIGIN_SETTINGS}), or clients may see occasional 502s",
            data=_data(origin, default, None)))
    if not origin.keep_alive:
        return IdleChoice(default, None, Finding(
            CHECK, "info", f"{origin.detail}: the load balancer opens a new connection for each "
                           f"request, so its {default} s idle timeout stays",
            data=_data(origin, default, None)))
    if seconds is None:
        if origin.bound >= KEEPS_DEFAULT:
            return IdleChoice(default, None, Finding(
                CHECK, "pass", f"{origin.detail}: longer than the load balancer's {default} s "
                               "idle timeout, which stays", data=_data(origin, default, None)))
        return IdleChoice(default, None, Finding(
            CHECK, "info", f"{origin.detail}, not proven longer than the load balancer's "
                           f"{default} s idle timeout, which stays",
            hint=f"probe for {DEFAULT_BOUND:g} s (the default of --origin-idle-probe) to be sure",
            data=_data(origin, default, None)))
    if seconds >= KEEPS_DEFAULT:
        return IdleChoice(default, seconds, Finding(
            CHECK, "pass", f"{origin.detail}: longer than the load balancer's {default} s idle "
                           "timeout, which stays", data=_data(origin, default, None)))
    proposed = _proposal(seconds)
    than = "sooner than" if seconds < default else "hardly later than"
    return IdleChoice(proposed, seconds, Finding(
        CHECK, "warn",
        f"{origin.detail}, {than} the load balancer's {default} s idle timeout: it could "
        "close a connection just as the load balancer reuses it (occasional 502s), so the plan "
        f"sets the load balancer's idle timeout to {proposed} s (which also ends client "
        f"connections idle for {proposed} s)",
        hint=f"better: raise the web server's keep-alive timeout above {default} s (nginx "
             f"keepalive_timeout 75s; Apache KeepAliveTimeout 75), then plan again to keep "
             f"{default} s; or choose with --idle-timeout",
        data=_data(origin, proposed, None)))


def idle_choice(findings: Iterable[Finding]) -> tuple[int, float | None] | None:
    """(idle timeout, origin's idle seconds) from an idle-timeout finding, or None."""
    for finding in findings:
        if finding.check == CHECK and "idle_timeout_seconds" in finding.data:
            return int(finding.data["idle_timeout_seconds"]), finding.data["origin_idle_seconds"]
    return None


def with_idle_choice(options: PlanOptions, findings: Iterable[Finding]) -> PlanOptions:
    """``options`` with the idle timeout the findings chose (and what the origin does, so a
    reviewer of the plan sees why); unchanged when preflight did not probe."""
    chosen = idle_choice(findings)
    if chosen is None:
        return options
    timeout, origin = chosen
    return replace(options, idle_timeout_seconds=timeout, origin_idle_seconds=origin)
