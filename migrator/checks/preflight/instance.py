"""The instance today: running, answering HTTPS for the site's name at its public address, and
the certificate it serves (issuer, expiry, names).

Names on that certificate which the plan's certificate will not carry are reported (the wizard
offers them as extra names), and so is a certificate that expires before the migration is safely
over: clients still holding the old DNS answer keep reaching the instance for a TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from migrator.checks.preflight.model import Finding, Level
from migrator.core.snapshot import Snapshot
from migrator.net.config import NetConfig
from migrator.net.probe import https_skip_reason, tcp_reach
from migrator.net.tls import CertInfo, probe_tls

# How long after planning the old certificate must stay valid besides the record's TTL: the
# apply waits for ACM (minutes to hours) and then for caches to drop the old answer.
EXPIRY_MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class InstanceReport:
    """What the HTTPS probe learned; ``reachable`` False when nothing usable answered."""

    findings: list[Finding]
    reachable: bool
    cert: CertInfo | None = None


def check_running(snap: Snapshot) -> Finding:
    inst = snap.instance
    label = f"{inst.id} ({inst.name})" if inst.name else inst.id
    level: Level = "pass" if inst.state == "running" else "fail"
    return Finding("instance", level,
                   f"instance {label} is {inst.state} in {inst.availability_zone}, "
                   f"public address {inst.public_ip}",
                   hint="" if level == "pass" else "start it first",
                   data={"instance_id": inst.id, "state": inst.state})


def check_https(snap: Snapshot, net: NetConfig, *, now: datetime | None = None
                ) -> InstanceReport:
    """Handshake with the instance's public address (SNI = the domain) and read its certificate."""
    name, address = snap.domain, snap.instance.public_ip
    skip = https_skip_reason(net, name, address)
    if skip:
        return InstanceReport([Finding("https", "info", f"HTTPS at the instance not checked: "
                                                        f"{skip}")], reachable=False)
    reach = tcp_reach(name, address, 443, net)
    if not reach.ok:
        if reach.refused:
            return InstanceReport([Finding(
                "https", "fail",
                f"nothing listens for HTTPS at the instance ({reach.error}); the load balancer "
                "forwards to port 443 and would find it unhealthy",
                hint="make the web server listen on 443 with TLS (any certificate will do)",
                data={"error": reach.error})], reachable=False)
        return InstanceReport([Finding(
            "https", "warn", f"could not reach the instance over HTTPS from here: {reach.error}",
            hint="if its security group admits only some sources, that is fine: the plan "
                 "admits the load balancer; otherwise check that the web server runs",
            data={"error": reach.error})], reachable=False)
    hs = probe_tls(name, address, 443, net)
    if hs.error and hs.error.startswith("no TLS handshake within"):
        return InstanceReport([Finding(
            "https", "warn", f"the instance accepted a connection but {hs.error}",
            hint="check that the web server serves TLS on 443 and is not overloaded",
            data={"error": hs.error})], reachable=False)
    if hs.error:
        return InstanceReport([Finding(
            "https", "fail", f"the instance does not complete a TLS handshake: {hs.error}",
            hint="the target group speaks HTTPS to port 443; serve TLS there",
            data={"error": hs.error})], reachable=False)
    findings = [Finding("https", "pass",
                        f"the instance answers HTTPS for {name} at {reach.at}, {hs.version}",
                        data={"protocol": hs.version, "cipher": hs.cipher})]
    if hs.cert is None:
        findings.append(Finding("certificate", "warn",
                                "the instance's certificate could not be read",
                                hint="install the 'cryptography' package to decode it"))
        return InstanceReport(findings, reachable=True)
    findings += certificate_findings(snap, hs.cert, hs.chain_ok, hs.chain_error, now=now)
    return InstanceReport(findings, reachable=True, cert=hs.cert)


def certificate_findings(snap: Snapshot, cert: CertInfo, chain_ok: bool,
                         chain_error: str | None, *, now: datetime | None = None
                         ) -> list[Finding]:
    """What the served certificate is, which of its names the plan drops, and its expiry."""
    now = now or datetime.now(UTC)
    days = (cert.not_after - now).total_seconds() / 86400
    trust = "trusted" if chain_ok else f"not trusted from here: {chain_error}"
    names = list(cert.dns_names)
    data = {"issuer": cert.issuer, "not_after": cert.not_after.isoformat(),
            "names": names, "chain_ok": chain_ok}
    findings = [Finding(
        "certificate", "info",
        f"the instance serves a certificate for {', '.join(names) or 'no DNS names'}, "
        f"issued by {cert.issuer}, expiring {cert.not_after:%Y-%m-%d} ({days:.0f} days; "
        f"{trust})",
        data=data)]
    planned = set(snap.names)
    uncovered = [n for n in names if n.lower().rstrip(".") not in planned]
    if uncovered:
        findings.append(Finding(
            "certificate-names", "warn",
            f"the instance's certificate also covers {', '.join(uncovered)}, which the plan's "
            "certificate does not: those names would lose HTTPS if they move to the load "
            "balancer",
            hint="add the ones served by this site with --san NAME (wildcards are not "
                 "supported)",
            data={"uncovered_names": uncovered}))
    else:
        findings.append(Finding("certificate-names", "pass",
                                "the plan's certificate covers every name on the instance's"))
    ttl = max((r.ttl or 0 for r in snap.records_of(snap.domain, "A")), default=0)
    safe_until = now + timedelta(seconds=ttl) + EXPIRY_MARGIN
    expiry = {"not_after": cert.not_after.isoformat(), "ttl": ttl,
              "margin_seconds": int(EXPIRY_MARGIN.total_seconds())}
    if cert.not_after <= now:
        findings.append(Finding(
            "certificate-expiry", "warn",
            f"the instance's certificate expired on {cert.not_after:%Y-%m-%d %H:%M} UTC: "
            f"visitors already see errors, and those holding the old answer (TTL {ttl} s) "
            "will until it expires from their caches",
            hint="migrate now, and renew it anyway for the transition", data=expiry))
    elif cert.not_after < safe_until:
        findings.append(Finding(
            "certificate-expiry", "warn",
            f"the instance's certificate expires {cert.not_after:%Y-%m-%d %H:%M} UTC, before "
            f"the migration is safely over (TTL {ttl} s plus "
            f"{EXPIRY_MARGIN.days} days for validation and caches): clients holding the old "
            "answer would see an expired certificate",
            hint="renew it on the instance first (e.g. certbot renew)", data=expiry))
    else:
        findings.append(Finding(
            "certificate-expiry", "pass",
            f"the instance's certificate stays valid past the switch ({days:.0f} days left)",
            data=expiry))
    return findings
