"""The verification tests' certificates, made with the sandbox's PKI (``migrator_sandbox.pki``).

On top of what the sandbox issues, the tests need a few deliberately bad leaves: one about to
expire, one expired, one for another name, and one from an issuer the bundle does not trust.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from migrator_sandbox.pki import CertificateAuthority, Issued, write_bundle


def leaf(
    ca: CertificateAuthority,
    names: list[str],
    *,
    valid_from: dt.timedelta = dt.timedelta(days=-1),
    valid_for: dt.timedelta = dt.timedelta(days=90),
) -> Issued:
    """A server certificate (``Issued``: ``.cert``, ``.key``) for *names*, valid from
    now + valid_from for valid_for."""
    start = dt.datetime.now(dt.UTC) + valid_from
    return ca.issue(names, not_before=start, not_after=start + valid_for)


@dataclass
class TestPKI:
    """Everything the tests need. ``bundle`` trusts the Amazon-like and origin CAs."""

    __test__ = False  # not a pytest test class

    directory: Path
    bundle: Path
    lb: Issued  # Amazon issuer, example.com + *.example.com, 90 days
    origin: Issued  # non-Amazon issuer, example.com + www.example.com, 90 days
    expiring: Issued  # Amazon issuer, expires in 10 days
    wrong_name: Issued  # Amazon issuer, only other.example.net
    untrusted: Issued  # issuer not in the bundle
    expired: Issued  # Amazon issuer, expired 2 days ago


def make_pki(directory: Path) -> TestPKI:
    amazon = CertificateAuthority.create("Amazon RSA 2048 M01", "Amazon")
    origin_ca = CertificateAuthority.create("Origin Test CA", "Example Origin Trust")
    rogue = CertificateAuthority.create("Rogue CA", "Amazon")
    site = ["example.com", "*.example.com"]
    return TestPKI(
        directory=directory,
        bundle=write_bundle(directory / "bundle.pem", [amazon, origin_ca]),
        lb=leaf(amazon, site),
        origin=leaf(origin_ca, ["example.com", "www.example.com"]),
        expiring=leaf(amazon, site, valid_from=dt.timedelta(days=-80)),
        wrong_name=leaf(amazon, ["other.example.net"]),
        untrusted=leaf(rogue, site),
        expired=leaf(amazon, site, valid_from=dt.timedelta(days=-92)),
    )
