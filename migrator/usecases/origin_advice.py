"""What to change on the origin now that it is behind a load balancer (printed at the end of
`apply` and by `status`), for the web server its Server header names: nginx, Apache, or any
other (generic advice).

Three things, from the plan alone (no AWS call):

* the visitor's address: the load balancer connects from its own addresses in the VPC and puts
  the client's in X-Forwarded-For (appending to any the client sent, so the last one is the
  load balancer's); trust the header only from the VPC's CIDR, or anyone could forge it;
* keep-alive: the load balancer reuses idle connections to the origin for its idle timeout, so
  the origin must keep them longer, or a request now and then meets a closed connection (502);
* the old certificate: the load balancer does not validate the target's certificate, so it may
  expire without harm once every client reaches the load balancer, or be replaced by a
  long-lived self-signed one.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.core.plan import Plan

NGINX, APACHE, GENERIC = "nginx", "Apache", "generic"
# A keep-alive this much longer than the load balancer's idle timeout: the two clocks start at
# slightly different moments, and the origin must be the one that never closes first.
KEEPALIVE_MARGIN_SECONDS = 15
SELF_SIGNED_DAYS = 3650
DEFAULT_IDLE_SECONDS = 60  # a load balancer's idle timeout unless set otherwise


@dataclass(frozen=True)
class AdviceItem:
    """One change: what it is about, why, and the configuration lines (empty for generic)."""

    topic: str
    why: str
    config: tuple[str, ...] = ()


@dataclass(frozen=True)
class OriginAdvice:
    server: str  # NGINX, APACHE or GENERIC
    server_header: str | None  # as the origin sent it; None when unknown
    trusted_cidrs: tuple[str, ...]
    idle_timeout: int
    items: tuple[AdviceItem, ...]

    def to_dict(self) -> dict[str, object]:
        return {"server": self.server, "server_header": self.server_header,
                "trusted_cidrs": list(self.trusted_cidrs), "idle_timeout": self.idle_timeout,
                "items": [{"topic": i.topic, "why": i.why, "config": list(i.config)}
                          for i in self.items]}


def server_kind(header: str | None) -> str:
    """nginx (and OpenResty, which is nginx), Apache httpd, or generic. Apache-Coyote is
    Tomcat's connector, not httpd."""
    product = (header or "").strip().lower().split("/")[0].split(" ")[0]
    if product in ("nginx", "openresty"):
        return NGINX
    if product == "apache":
        return APACHE
    return GENERIC


def trusted_cidrs(plan: Plan) -> tuple[str, ...]:
    """The VPC's CIDRs; for a plan made before they were recorded, those of the subnets the
    planner puts the load balancer in (one public subnet per zone: its addresses are there)."""
    snap = plan.snapshot
    if snap.vpc_cidrs:
        return snap.vpc_cidrs
    joined = snap.load_balancer
    if joined is not None:  # a joined load balancer has its addresses in its own subnets
        return tuple(sorted({s.cidr for s in snap.subnets
                             if s.id in joined.subnet_ids and s.cidr}))
    return tuple(sorted({s.cidr for s in snap.public_subnets_by_zone().values()}))


def origin_advice(plan: Plan) -> OriginAdvice:
    snap = plan.snapshot
    kind = server_kind(snap.origin_server)
    cidrs = trusted_cidrs(plan)
    idle = plan.options.idle_timeout_seconds
    joined = snap.load_balancer
    # A joining plan leaves the joined load balancer's idle timeout as it is, as its snapshot
    # recorded it.
    if joined is not None:
        idle = joined.idle_timeout_seconds
    keepalive = idle + KEEPALIVE_MARGIN_SECONDS
    shown_cidrs = cidrs or (f"<the CIDR of {snap.instance.vpc_id}>",)
    address_why = (f"the load balancer connects from its own addresses in {snap.instance.vpc_id} "
                   f"({', '.join(shown_cidrs)}) and sends the visitor's address in "
                   "X-Forwarded-For; trust that header from those addresses only, or anyone "
                   "could forge it")
    keepalive_why = (f"the load balancer keeps idle connections to the origin for {idle} s (its "
                     "idle timeout): the origin must keep them longer, or a request now and "
                     "then meets a connection it just closed (a 502)")
    if joined is not None:
        timeout = f"for {idle} s (its idle timeout, which this plan does not change)"
        keepalive_why = (
            f"{joined.name} keeps idle connections to the origin {timeout}: the origin must "
            "keep them longer, or a request now and then meets a connection it just closed "
            "(a 502)")
    certificate_why = (
        "the load balancer does not validate the instance's certificate: once every client "
        "reaches the load balancer the old one may expire without harm, or be replaced by a "
        f"long-lived self-signed one ({SELF_SIGNED_DAYS // 365} years), so that nothing on the "
        "instance needs renewing again")
    self_signed = (f"openssl req -x509 -newkey rsa:2048 -nodes -days {SELF_SIGNED_DAYS} \\",
                   f"  -subj /CN={snap.domain} -keyout origin.key -out origin.crt")
    if kind == NGINX:
        items = (
            AdviceItem("client address", address_why + " (ngx_http_realip_module, in http {}):",
                       (*(f"set_real_ip_from {c};" for c in shown_cidrs),
                        "real_ip_header X-Forwarded-For;")),
            AdviceItem("keep-alive", keepalive_why + ":", (f"keepalive_timeout {keepalive}s;",)),
            AdviceItem("certificate", certificate_why + ":",
                       (*self_signed, "ssl_certificate origin.crt;",
                        "ssl_certificate_key origin.key;")),
        )
    elif kind == APACHE:
        items = (
            AdviceItem("client address", address_why + " (mod_remoteip; log %a, not %h):",
                       ("LoadModule remoteip_module modules/mod_remoteip.so",
                        "RemoteIPHeader X-Forwarded-For",
                        *(f"RemoteIPTrustedProxy {c}" for c in shown_cidrs))),
            AdviceItem("keep-alive", keepalive_why + ":",
                       ("KeepAlive On", f"KeepAliveTimeout {keepalive}")),
            AdviceItem("certificate", certificate_why + ":",
                       (*self_signed, "SSLCertificateFile origin.crt",
                        "SSLCertificateKeyFile origin.key")),
        )
    else:
        items = (
            AdviceItem("client address", address_why + ": take the client's address from the "
                       "last entry of X-Forwarded-For when the connection comes from them"),
            AdviceItem("keep-alive", keepalive_why + f": {keepalive} s or more"),
            AdviceItem("certificate", certificate_why + ":", self_signed),
        )
    return OriginAdvice(kind, snap.origin_server, cidrs, idle, items)
