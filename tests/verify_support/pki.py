"""A throw-away PKI made with ``cryptography``: CAs and leaf certificates on disk."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_NOW = dt.datetime.now(dt.UTC)


def _name(cn: str, org: str | None) -> x509.Name:
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Leaf:
    """A leaf's files: ``chain`` (leaf then intermediates) and ``key``."""

    chain: Path
    key: Path
    cert: x509.Certificate


@dataclass
class CA:
    cn: str
    org: str | None
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    chain_above: tuple[x509.Certificate, ...] = ()  # intermediates up to (not incl.) root

    @classmethod
    def root(cls, cn: str, org: str | None) -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(cn, org)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOW - dt.timedelta(days=1))
            .not_valid_after(_NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(cn, org, key, cert)

    def intermediate(self, cn: str, org: str | None) -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, org))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOW - dt.timedelta(days=1))
            .not_valid_after(_NOW + dt.timedelta(days=1825))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return CA(cn, org, key, cert, (cert, *self.chain_above))

    def leaf(
        self,
        directory: Path,
        label: str,
        names: list[str],
        *,
        valid_from: dt.timedelta = dt.timedelta(days=-1),
        valid_for: dt.timedelta = dt.timedelta(days=90),
    ) -> Leaf:
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        start = _NOW + valid_from
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0], None))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + valid_for)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        chain = directory / f"{label}.chain.pem"
        chain.write_bytes(b"".join(_pem(c) for c in (cert, *self.chain_above)))
        key_path = directory / f"{label}.key.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return Leaf(chain, key_path, cert)


@dataclass
class TestPKI:
    """Everything the tests need. ``bundle`` trusts the Amazon-like and origin roots."""

    __test__ = False  # not a pytest test class

    directory: Path
    bundle: Path
    lb: Leaf  # Amazon issuer, example.com + *.example.com, 90 days
    origin: Leaf  # non-Amazon issuer, example.com + www.example.com, 90 days
    expiring: Leaf  # Amazon issuer, expires in 10 days
    wrong_name: Leaf  # Amazon issuer, only other.example.net
    untrusted: Leaf  # issuer not in the bundle
    expired: Leaf  # Amazon issuer, expired 2 days ago


def make_pki(directory: Path) -> TestPKI:
    amazon_root = CA.root("Amazon Root CA 1", "Amazon")
    amazon = amazon_root.intermediate("Amazon RSA 2048 M01", "Amazon")
    origin_ca = CA.root("Origin Test CA", "Example Origin Trust")
    rogue = CA.root("Rogue CA", "Amazon")
    bundle = directory / "bundle.pem"
    bundle.write_bytes(_pem(amazon_root.cert) + _pem(origin_ca.cert))
    site = ["example.com", "*.example.com"]
    return TestPKI(
        directory=directory,
        bundle=bundle,
        lb=amazon.leaf(directory, "lb", site),
        origin=origin_ca.leaf(directory, "origin", ["example.com", "www.example.com"]),
        expiring=amazon.leaf(
            directory,
            "expiring",
            site,
            valid_from=dt.timedelta(days=-80),
            valid_for=dt.timedelta(days=90),
        ),
        wrong_name=amazon.leaf(directory, "wrong-name", ["other.example.net"]),
        untrusted=rogue.leaf(directory, "untrusted", site),
        expired=amazon.leaf(
            directory,
            "expired",
            site,
            valid_from=dt.timedelta(days=-92),
            valid_for=dt.timedelta(days=90),
        ),
    )
