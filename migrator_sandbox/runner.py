"""The whole sandbox in one object: moto, the seeded world, origin, DNS and load balancers.

    with Sandbox(acm_delay=5, workdir=tmp) as sb:
        sb.env      # the variables that point migrator (or anything) at the sandbox
        sb.world    # identifiers of the seeded "before" world

Everything listens on 127.0.0.0/8 at ports >= 1024. moto's state is process-wide, so one process
runs one Sandbox at a time.

Several sites: ``Sandbox(sites=3)`` seeds shop.example.com (127.0.0.11) and blog.example.com
(127.0.0.12) beside www.example.com (127.0.0.10), each on an instance of its own in the same VPC
(``world.with_sites``); ``Sandbox(spec=WorldSpec(more_sites=(SiteSpec(...), ...)))`` chooses
them. Every site gets its own origin (``sandbox.origins``, in ``spec.sites`` order; ``origin`` is
the first) with a certificate of its own, its name in DNS and its address in the connect-to
table; ``MIGRATOR_SANDBOX_DOMAINS`` lists every site's name.

``Sandbox(strict=True)`` runs the strict AWS world (``sandbox/strict``) for the sandbox's
lifetime, installed once the "before" world is seeded (what was there before counts as old):
eventual consistency, load balancer provisioning, health checks on the target groups' scaled
intervals and thresholds, ACM issuing only once its CNAMEs exist, Route 53 PENDING then INSYNC.
Without ``strict_config`` it uses ``StrictConfig.demo()`` with ``acm_delay`` as the issuance
delay.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import dns.message
import dns.query
import dns.rcode

from . import firewall, pki
from .dataplane import DataPlane
from .dns_records import MotoRecordSource
from .dns_server import DNSServer
from .moto_server import (
    SANDBOX_ACCESS_KEY_ID,
    SANDBOX_SECRET_ACCESS_KEY,
    MotoServer,
    SandboxSession,
)
from .origin import Origin, Site, origin_certificate
from .ports import ConnectTo, ConnectToTable, PortReservation, address_pool, reserve_common_port
from .strict import StrictAWS, StrictConfig
from .world import World, WorldSpec, seed_world, with_sites

log = logging.getLogger(__name__)

DEFAULT_LB_FIRST_ADDRESS = "127.0.0.20"
DEFAULT_LB_POOL_SIZE = 8
HTTPS, HTTP = 443, 80


@dataclass(frozen=True)
class _Keys:
    origin_ca: pki.CertificateAuthority
    amazon_ca: pki.CertificateAuthority
    origin_cert: pki.Issued  # the first site's
    site_certs: tuple[pki.Issued, ...] = ()  # every site's, in spec.sites order


@dataclass
class SandboxInfo:
    """Where each part runs (for the summary)."""

    moto_endpoint: str = ""
    nameserver: str = ""
    origin_address: str = ""
    origin_https: tuple[str, int] = ("", 0)
    origin_http: tuple[str, int] = ("", 0)
    lb_addresses: list[str] = field(default_factory=list)
    https_port: int = 0
    http_port: int = 0
    ca_bundle: str = ""
    origin_not_after: str = ""
    # every site: (domain, address, instance id, its origin certificate's expiry), first first
    sites: list[tuple[str, str, str, str]] = field(default_factory=list)


class Sandbox:
    """A local rehearsal world: AWS (moto) + DNS + HTTPS, on loopback.

    ``spec`` is the "before" world (``WorldSpec()``: www.example.com alone). ``sites=N`` (1 to
    ``world.MAX_SITES``) gives it N sites in all: ``spec`` with ``with_sites(spec, N)``'s
    further sites, shop.ZONE at 127.0.0.11, blog.ZONE at 127.0.0.12, ...; a ``spec`` that names
    its own ``more_sites`` is used as it is (``sites``, if given too, must count them). Each
    site is served by an origin of its own (:attr:`origins`, :meth:`origin_for`) whose page
    names the site and its instance; :attr:`world` ``.sites`` has their identifiers.
    """

    def __init__(
        self,
        acm_delay: float = 5.0,
        workdir: str | Path | None = None,
        *,
        spec: WorldSpec | None = None,
        sites: int | None = None,
        lb_first_address: str = DEFAULT_LB_FIRST_ADDRESS,
        lb_pool_size: int = DEFAULT_LB_POOL_SIZE,
        origin_cert_days: float = 12,
        enforce_security_groups: bool = True,
        poll_interval: float = 0.2,
        health_interval: float = 1.0,
        on_event: Callable[[str], None] | None = None,
        strict: bool = False,
        strict_config: StrictConfig | None = None,
    ):
        self.acm_delay = acm_delay
        self.strict = strict or strict_config is not None
        self.strict_config: StrictConfig | None = None
        if self.strict:
            self.strict_config = strict_config or StrictConfig.demo(acm_issue_delay=acm_delay)
        self.strict_layer: StrictAWS | None = None
        self.spec = _sites_spec(spec or WorldSpec(), sites)
        self.lb_addresses = address_pool(lb_first_address, lb_pool_size)
        self.origin_cert_days = origin_cert_days
        self.enforce_security_groups = enforce_security_groups
        self.poll_interval = poll_interval
        self.health_interval = health_interval
        self.on_event = on_event
        self._given_workdir = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self.moto: MotoServer | None = None
        self.dns: DNSServer | None = None
        self.origin: Origin | None = None
        self.origins: tuple[Origin, ...] = ()
        self.dataplane: DataPlane | None = None
        self.keys: _Keys | None = None
        self.info = SandboxInfo()
        self.startup_seconds = 0.0
        self._world: World | None = None
        self._env: dict[str, str] | None = None
        self._reservations: list[PortReservation] = []
        self._connect_to = ConnectToTable()
        self._started = False

    # -- public -----------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The environment that points migrator at the sandbox (a copy)."""
        if self._env is None:
            raise RuntimeError("the sandbox is not running")
        return dict(self._env)

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError("the sandbox is not running")
        return self._world

    @property
    def connect_to(self) -> ConnectToTable:
        return self._connect_to

    def origin_for(self, domain: str) -> Origin:
        """The origin serving ``domain`` (one of :attr:`origins`)."""
        for origin in self.origins:
            if origin.site.domain == domain:
                return origin
        raise KeyError(domain)

    def session(self) -> SandboxSession:
        """A boto3 session on the sandbox's moto (clients get the endpoint automatically)."""
        if self.moto is None:
            raise RuntimeError("the sandbox is not running")
        return self.moto.session(self.spec.region)

    def write_env_file(self, path: str | Path) -> Path:
        """Write ``export NAME=value`` lines for :attr:`env` to ``path``."""
        target = Path(path)
        target.write_text(render_env(self.env))
        return target

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- start ------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._started:
            raise RuntimeError("the sandbox is already running")
        self._started = True
        began = time.perf_counter()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - began
        log.info("sandbox up in %.2f s", self.startup_seconds)
        return self

    def _start(self) -> None:
        spec = self.spec
        site_addresses = [site.address for site in spec.sites]
        for address in site_addresses:
            if address in self.lb_addresses:
                raise ValueError(f"{address} is both an origin and a load balancer address")
        if len(set(site_addresses)) != len(site_addresses):
            raise ValueError(f"two sites share an address: {', '.join(site_addresses)}")
        keys_box: dict[str, _Keys | BaseException] = {}
        keys_thread = threading.Thread(
            target=self._make_keys, args=(keys_box,), name="sandbox-pki", daemon=True
        )
        keys_thread.start()

        if self._given_workdir is not None:
            self._given_workdir.mkdir(parents=True, exist_ok=True)
            self.workdir = self._given_workdir
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="migrator-sandbox-"))

        hosts = [*site_addresses, *self.lb_addresses]
        https = reserve_common_port(hosts, 18443)
        self._reservations.append(https)
        http = reserve_common_port(hosts, 18080, avoid={https.port})
        self._reservations.append(http)
        entries = []
        for host in hosts:
            entries.append(ConnectTo(host, HTTPS, host, https.port))
            entries.append(ConnectTo(host, HTTP, host, http.port))
        self._connect_to = ConnectToTable(entries)

        self.moto = MotoServer(acm_delay=self.acm_delay)
        self.moto.start()
        self._world = seed_world(self.moto.session(spec.region), spec)
        if self.strict_config is not None:
            self.strict_layer = StrictAWS(self.strict_config).install()

        keys_thread.join()
        keys = keys_box.get("keys")
        if not isinstance(keys, _Keys):
            error = keys_box.get("error")
            raise RuntimeError("could not create the sandbox certificates") from (
                error if isinstance(error, BaseException) else None
            )
        self.keys = keys
        bundle = pki.write_bundle(self.workdir / "ca-bundle.pem", [keys.origin_ca, keys.amazon_ca])

        self.dataplane = DataPlane(
            self.lb_addresses,
            {HTTPS: https, HTTP: http},
            self._connect_to,
            keys.amazon_ca,
            poll_interval=self.poll_interval,
            health_interval=self.health_interval,
            enforce_security_groups=self.enforce_security_groups,
            on_event=self.on_event,
            health_time_scale=(
                self.strict_config.health_time_scale if self.strict_config is not None else None
            ),
            only_active=self.strict_config is not None,
        )
        self.dns = DNSServer(MotoRecordSource(self.dataplane.load_balancer_addresses))
        self.dns.start()
        origins = []
        for site, certificate in zip(self._world.sites, keys.site_certs, strict=True):
            origin = Origin(
                Site(site.domain, site.instance_id),
                https.take(site.address),
                http.take(site.address),
                certificate,
                admit_https=self._origin_admit(site.address, HTTPS),
                admit_http=self._origin_admit(site.address, HTTP),
            )
            origins.append(origin)
            self.origins = tuple(origins)  # so that stop() stops those started already
            origin.start()
        self.origin = self.origins[0]
        self.dataplane.start()

        self._check_ready(bundle)
        self.info = SandboxInfo(
            moto_endpoint=self.moto.endpoint_url,
            nameserver=self.dns.address,
            origin_address=spec.address,
            origin_https=(spec.address, https.port),
            origin_http=(spec.address, http.port),
            lb_addresses=list(self.lb_addresses),
            https_port=https.port,
            http_port=http.port,
            ca_bundle=str(bundle),
            origin_not_after=keys.origin_cert.cert.not_valid_after_utc.isoformat(),
            sites=[
                (site.domain, site.address, site.instance_id,
                 cert.cert.not_valid_after_utc.isoformat())
                for site, cert in zip(self._world.sites, keys.site_certs, strict=True)
            ],
        )
        self._env = {
            "AWS_ENDPOINT_URL": self.moto.endpoint_url,
            "AWS_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET_ACCESS_KEY,
            "AWS_REGION": spec.region,
            # boto3 reads the region from AWS_DEFAULT_REGION (AWS_REGION only in newer SDKs)
            "AWS_DEFAULT_REGION": spec.region,
            "MIGRATOR_NAMESERVERS": self.dns.address,
            "MIGRATOR_CONNECT_TO": self._connect_to.to_env(),
            "MIGRATOR_CA_BUNDLE": str(bundle.resolve()),
            "MIGRATOR_SANDBOX_DOMAIN": spec.domain,
            "MIGRATOR_SANDBOX_DOMAINS": ",".join(site.domain for site in spec.sites),
        }

    def _make_keys(self, box: dict[str, _Keys | BaseException]) -> None:
        try:
            origin_ca = pki.origin_ca()
            names = [self.spec.domain, *self.spec.extra_a_names]
            if self.spec.zone not in names and self.spec.domain.endswith("." + self.spec.zone):
                names.append(self.spec.zone)
            first = origin_certificate(origin_ca, names, days_left=self.origin_cert_days)
            # every further site has a certificate of its own, for its name alone
            others = [origin_certificate(origin_ca, [site.domain], days_left=self.origin_cert_days)
                      for site in self.spec.more_sites]
            box["keys"] = _Keys(
                origin_ca=origin_ca,
                amazon_ca=pki.amazon_ca(),
                origin_cert=first,
                site_certs=(first, *others),
            )
        except BaseException as exc:  # handed to the starting thread
            box["error"] = exc

    def _origin_admit(self, address: str, port: int) -> Callable[[str], bool] | None:
        if not self.enforce_security_groups:
            return None

        def admit(client: str) -> bool:
            plane = self.dataplane
            lookup = plane.load_balancer_at if plane is not None else (lambda _a: None)
            return firewall.origin_admits(address, port, client, lookup)

        return admit

    def _check_ready(self, bundle: Path) -> None:
        """Every part answers: DNS has every site's zone, each origin completes a verified
        handshake for its site's name."""
        assert self.dns is not None
        world = self.world
        for zone in dict.fromkeys(site.zone for site in world.sites):
            query = dns.message.make_query(zone, "SOA")
            reply = dns.query.udp(query, self.dns.host, port=self.dns.port, timeout=3)
            if reply.rcode() != dns.rcode.NOERROR or not reply.answer:
                raise RuntimeError(f"sandbox DNS does not serve {zone}")
        ctx = ssl.create_default_context(cafile=str(bundle))
        for site in world.sites:
            host, port = self._connect_to.resolve(site.address, HTTPS)
            with (
                socket.create_connection((host, port), timeout=3) as raw,
                ctx.wrap_socket(raw, server_hostname=site.domain),
            ):
                pass

    # -- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every part (idempotent); the moto state and a temporary workdir go away."""
        if not self._started:
            return
        self._started = False
        # the strict layer goes after the data plane's moto hooks (stacked on it) and before
        # moto (whose own corrections it is stacked on)
        for part in (self.dataplane, *self.origins, self.dns, self.strict_layer, self.moto):
            if part is not None:
                try:
                    if isinstance(part, StrictAWS):
                        part.uninstall()
                    else:
                        part.stop()
                except Exception:
                    log.warning("stopping %s failed", type(part).__name__, exc_info=True)
        for reservation in self._reservations:
            reservation.close()
        self._reservations.clear()
        if self.workdir is not None and self._given_workdir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.dataplane = self.origin = self.dns = self.moto = None
        self.origins = ()
        self.strict_layer = None
        self._env = None
        self._world = None


def _sites_spec(spec: WorldSpec, sites: int | None) -> WorldSpec:
    """``spec`` with ``sites`` sites in all (None: as it is)."""
    if sites is None:
        return spec
    if spec.more_sites:
        if len(spec.sites) != sites:
            raise ValueError(f"sites={sites}, but the spec names {len(spec.sites)} sites")
        return spec
    return with_sites(spec, sites)


def render_env(env: dict[str, str]) -> str:
    """``export NAME=value`` lines, values shell-quoted when needed."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
