"""AWS Certificate Manager as AWS behaves where moto does not.

* Validation records: a name's CNAME (name and value) is derived from the account and the name,
  so every certificate of the account gets the same one for a name; ``*.x`` shares ``x``'s.
  They appear in DescribeCertificate ``acm_records_delay`` after the request (before that
  ``DomainValidationOptions`` carry no ``ResourceRecord``).
* Issuance: an AMAZON_ISSUED certificate stays PENDING_VALIDATION until every one of its CNAMEs
  exists, with exactly ACM's value (final dots aside), in a public Route 53 hosted zone of its
  account; it is ISSUED ``acm_issue_delay`` after the later of (its last CNAME was written, its
  records were shown). A name's ``ValidationStatus`` turns SUCCESS by the same rule, per name.
  moto's own timer (``ACM_VALIDATION_WAIT``) plays no part.
* DeleteCertificate -> ``ResourceInUseException`` while a listener uses the certificate and for
  ``certificate_in_use_linger`` after the last one let go. ``InUseBy`` lists the load balancers;
  ``RenewalEligibility`` is ELIGIBLE for an issued Amazon certificate one of them uses (ACM User
  Guide, "Managed certificate renewal"), INELIGIBLE otherwise.

``status_of`` is what the sandbox's own readers (``moto_state.certificate``, the data plane's
TLS) ask, so they see what the API says.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import Any

from moto.acm.models import AWSCertificateManagerBackend, CertBundle, acm_backends
from moto.core.utils import utcnow
from moto.route53.models import route53_backends

from ..backends import account_backends, existing_backend
from . import errors, usage
from .config import StrictConfig
from .ledger import OLD, Ledger
from .patching import Patcher, arguments

CERTIFICATE = "certificate"
PENDING, ISSUED = "PENDING_VALIDATION", "ISSUED"


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def validation_base(name: str) -> str:
    """The name whose CNAME validates ``name`` (``*.x`` -> ``x``), lower case, no final dot."""
    name = name.strip().lower().rstrip(".")
    return name[2:] if name.startswith("*.") else name


def validation_record(account_id: str, name: str) -> tuple[str, str]:
    """(CNAME name, CNAME value) ACM gives ``name`` in this account, both with a final dot."""
    base = validation_base(name)
    label = _hash("acm-validation-name", account_id, base)[:32]
    value = _hash("acm-validation-value", account_id, base)
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in value[32:42])
    return f"_{label}.{base}.", f"_{value[:32]}.{letters}.acm-validations.aws."


def _same(a: str, b: str) -> bool:
    return a.strip().lower().rstrip(".") == b.strip().lower().rstrip(".")


class ACMRules:
    """Installs the ACM rules; answers certificate status for the rest of the sandbox."""

    def __init__(self, ledger: Ledger, config: StrictConfig):
        self.ledger = ledger
        self.config = config
        self._names: dict[str, tuple[str, ...]] = {}  # ARN -> names in request order

    # -- reading ------------------------------------------------------------------------------

    def bundle(self, arn: str) -> Any | None:
        where = usage.arn_account_region(arn)
        if where is None:
            return None
        backend = existing_backend(acm_backends, *where)
        return None if backend is None else backend._certificates.get(arn)

    def status_of(self, arn_or_bundle: Any) -> str | None:
        """The certificate's status right now (issuing it if its time came); None if unknown."""
        bundle = self.bundle(arn_or_bundle) if isinstance(arn_or_bundle, str) else arn_or_bundle
        if bundle is None:
            return None
        bundle.check()
        return str(bundle.status)

    def names(self, bundle: Any) -> tuple[str, ...]:
        with self.ledger.lock:
            known = self._names.get(bundle.arn)
        if known:
            return known
        domain = str(bundle.common_name or "")
        others = sorted(n for n in bundle.sans if n and n != domain)
        return tuple(([domain] if domain else []) + others)

    def cname_written(self, account_id: str, name: str, value: str) -> float | None:
        """When the CNAME ``name`` -> ``value`` was written to a public zone of the account
        (the earliest if several hold it; OLD if before the ledger); None if none holds it."""
        found: list[float] = []
        for backend in account_backends(route53_backends, account_id):
            for zone in list(backend.zones.values()):
                if zone.private_zone:
                    continue
                for record in list(zone.rrsets):
                    if str(record.type).upper() != "CNAME" or not _same(str(record.name), name):
                        continue
                    values = [v.get("Value", "") if isinstance(v, dict) else str(v)
                              for v in list(record.records or [])]
                    if any(_same(v, value) for v in values):
                        key = (zone.id, name.lower().rstrip("."), "CNAME")
                        with self.ledger.lock:
                            found.append(self.ledger.record_changed.get(key, OLD))
        return min(found) if found else None

    def _records_shown_at(self, arn: str) -> float:
        return self.ledger.created_at(CERTIFICATE, arn) + self.config.acm_records_delay

    def validated_at(self, bundle: Any, name: str) -> float | None:
        """When ACM validates ``name`` of this certificate (None: its CNAME is missing)."""
        account_id = bundle.arn.split(":")[4]
        cname, value = validation_record(account_id, name)
        written = self.cname_written(account_id, cname, value)
        if written is None:
            return None
        return max(self._records_shown_at(bundle.arn), written) + self.config.acm_issue_delay

    def issue_if_ready(self, bundle: Any) -> None:
        moments = [self.validated_at(bundle, name) for name in self.names(bundle)]
        if not moments or any(m is None for m in moments):
            return
        ready = max(m for m in moments if m is not None)
        with self.ledger.lock:
            if self.ledger.now() >= ready and bundle.status == PENDING:
                bundle.status = ISSUED
                self.ledger.issued[bundle.arn] = ready

    def users(self, arn: str) -> tuple[str, ...]:
        return usage.certificate_users(self.ledger, arn)

    def _wall(self, moment: float) -> float:
        """A ledger clock reading as a UNIX time."""
        if moment == OLD:
            return time.time()
        return time.time() - (self.ledger.now() - moment)

    def validation_options(self, bundle: Any) -> list[dict[str, Any]]:
        account_id = bundle.arn.split(":")[4]
        shown = self.ledger.now() >= self._records_shown_at(bundle.arn)
        options = []
        for name in self.names(bundle):
            if bundle.status == ISSUED:
                state = "SUCCESS"
            elif bundle.status == PENDING:
                at = self.validated_at(bundle, name)
                state = "SUCCESS" if at is not None and self.ledger.now() >= at else PENDING
            else:
                state = str(bundle.status)
            option: dict[str, Any] = {
                "DomainName": name,
                "ValidationDomain": name,
                "ValidationStatus": state,
                "ValidationMethod": "DNS",
            }
            if shown:
                cname, value = validation_record(account_id, name)
                option["ResourceRecord"] = {"Name": cname, "Type": "CNAME", "Value": value}
            options.append(option)
        return options

    # -- install ------------------------------------------------------------------------------

    def install(self, patcher: Patcher) -> None:
        rules = self
        ledger = self.ledger

        def request(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                arn = original(*args, **kwargs)
                ledger.record_created(CERTIFICATE, arn)
                names: list[str] = []
                for name in [given["domain_name"], *list(given.get("subject_alt_names") or [])]:
                    if name and name not in names:
                        names.append(name)
                with ledger.lock:
                    rules._names.setdefault(arn, tuple(names))
                return arn

            return call

        patcher.wrap(AWSCertificateManagerBackend, "request_certificate", request)

        def check(bundle: Any) -> None:
            if bundle._not_valid_after(bundle._cert) <= utcnow():
                bundle.status = "EXPIRED"
                return
            if bundle.type == "AMAZON_ISSUED" and bundle.status == PENDING:
                rules.issue_if_ready(bundle)

        patcher.set(CertBundle, "check", check)

        def describe(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(bundle: Any) -> Any:
                result = original(bundle)
                cert = result["Certificate"]
                if bundle.type == "AMAZON_ISSUED":
                    names = list(rules.names(bundle))
                    cert["SubjectAlternativeNames"] = names
                    cert["DomainValidationOptions"] = rules.validation_options(bundle)
                    if bundle.status == ISSUED:
                        with ledger.lock:
                            issued = ledger.issued.get(bundle.arn, OLD)
                        if issued != OLD:
                            cert["IssuedAt"] = rules._wall(issued)
                    else:
                        cert.pop("IssuedAt", None)
                cert["InUseBy"] = list(rules.users(bundle.arn))
                # moto says INELIGIBLE always; ACM: an issued Amazon certificate is eligible
                # for managed renewal while another service (a load balancer) uses it.
                cert["RenewalEligibility"] = "ELIGIBLE" if (
                    bundle.type == "AMAZON_ISSUED" and bundle.status == ISSUED
                    and cert["InUseBy"]) else "INELIGIBLE"
                created = ledger.created_at(CERTIFICATE, bundle.arn)
                if created != OLD and "CreatedAt" in cert:
                    cert["CreatedAt"] = rules._wall(created)
                return result

            return call

        patcher.wrap(CertBundle, "describe", describe)

        def delete(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(*args: Any, **kwargs: Any) -> Any:
                given = arguments(original, args, kwargs)
                backend, arn = given["self"], given["arn"]
                if arn in backend._certificates:
                    users = rules.users(arn)
                    if users:
                        raise errors.certificate_in_use(arn, users)
                    with ledger.lock:
                        released = ledger.certificate_released.get(arn)
                        lingering = released is not None and (
                            ledger.now() < released.at + rules.config.certificate_in_use_linger
                        )
                    if lingering and released is not None:
                        raise errors.certificate_in_use(arn, released.users)
                result = original(*args, **kwargs)
                with ledger.lock:
                    ledger.issued.pop(arn, None)
                    ledger.certificate_released.pop(arn, None)
                    rules._names.pop(arn, None)
                return result

            return call

        patcher.wrap(AWSCertificateManagerBackend, "delete_certificate", delete)

