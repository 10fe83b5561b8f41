"""Certificate authorities and leaf certificates for the sandbox.

Two CAs exist in a sandbox: the "Sandbox Origin CA" that signed the certificate nginx serves on
the instance, and a stand-in for Amazon's issuing CA that signs whatever ACM issues. Both go into
one PEM bundle that clients trust through ``MIGRATOR_CA_BUNDLE``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORIGIN_CA_NAME = "Sandbox Origin CA"
AMAZON_CA_NAME = "Amazon RSA 2048 M03 (sandbox)"
AMAZON_ORGANIZATION = "Amazon"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def new_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key (what ACM and most nginx setups use)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _san_entry(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key and the chain above it (without the root)."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def names(self) -> list[str]:
        """The DNS names and IP addresses in the subjectAltName extension."""
        try:
            ext = self.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return [str(v) for v in ext.value.get_values_for_type(x509.DNSName)] + [
            str(v) for v in ext.value.get_values_for_type(x509.IPAddress)
        ]


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA that issues server certificates directly (no intermediate)."""

    issued: Issued

    @property
    def cert(self) -> x509.Certificate:
        return self.issued.cert

    @property
    def name(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else ""

    @classmethod
    def create(
        cls, common_name: str, organization: str, *, days: int = 3650
    ) -> CertificateAuthority:
        key = new_key()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        now = _now()
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(Issued(cert, key))

    def issue(
        self,
        names: Sequence[str],
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key: CertificateIssuerPrivateKeyTypes | None = None,
        serial: int | None = None,
        common_name: str | None = None,
    ) -> Issued:
        """Issue a TLS server certificate for ``names`` (DNS names or IP addresses).

        ``key``/``serial``/validity let the caller mirror a certificate that exists elsewhere
        (the data plane re-issues moto's ACM certificates under the sandbox Amazon CA this way).
        """
        if not names:
            raise ValueError("a server certificate needs at least one name")
        key = key or new_key()
        now = _now()
        not_before = not_before or now - dt.timedelta(hours=1)
        not_after = not_after or now + dt.timedelta(days=90)
        cn = common_name if common_name is not None else names[0]
        public = key.public_key()
        ca_public = self.issued.key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(public)
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName([_san_entry(n) for n in dict.fromkeys(names)]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public),
                critical=False,
            )
        )
        return Issued(builder.sign(self.issued.key, hashes.SHA256()), key)


def origin_ca() -> CertificateAuthority:
    """The CA behind the certificate the instance's nginx serves today."""
    return CertificateAuthority.create(ORIGIN_CA_NAME, "Sandbox")


def amazon_ca() -> CertificateAuthority:
    """The sandbox's stand-in for Amazon's issuing CA (subject organization ``Amazon``)."""
    return CertificateAuthority.create(AMAZON_CA_NAME, AMAZON_ORGANIZATION)


def write_bundle(path: Path, cas: Iterable[CertificateAuthority]) -> Path:
    """Write the CA certificates into one PEM file (the ``MIGRATOR_CA_BUNDLE``)."""
    path.write_bytes(b"".join(ca.issued.cert_pem() for ca in cas))
    return path


def server_context(
    leaf: Issued,
    chain: Sequence[x509.Certificate] = (),
    *,
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
) -> ssl.SSLContext:
    """A server-side SSLContext that presents ``leaf`` (plus ``chain``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = minimum_version
    ctx.set_alpn_protocols(["http/1.1"])
    pem = leaf.cert_pem() + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    # load_cert_chain only reads files; keep them only as long as the call needs them.
    with tempfile.TemporaryDirectory(prefix="migrator-sandbox-tls-") as tmp:
        cert_file = Path(tmp, "cert.pem")
        key_file = Path(tmp, "key.pem")
        cert_file.write_bytes(pem)
        key_file.write_bytes(leaf.key_pem())
        ctx.load_cert_chain(cert_file, key_file)
    return ctx
