"""Certificate credentials: a PEM holding the certificate and its private key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mailwarden.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateCredential:
    thumbprint: str  # SHA-1, upper-case hex, as the Entra admin center shows it
    subject: str
    not_after: datetime
    private_key_pem: str = field(repr=False)
    certificate_pem: str

    def msal_credential(self) -> dict[str, Any]:
        return {"private_key": self.private_key_pem, "thumbprint": self.thumbprint}


def load_certificate(
    path: Path, *, password: str | None = None, now: datetime | None = None
) -> CertificateCredential:
    """Read and check a PEM certificate with its private key; never echoes key material."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the certificate ({exc.strerror})") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(
            f"{path}: no PEM certificate found; give a PEM file holding both the certificate "
            "(BEGIN CERTIFICATE) and its private key (BEGIN PRIVATE KEY)"
        ) from None
    certificate = certificates[0]
    key_start = data.find(b"-----BEGIN")
    while key_start != -1 and data.startswith(b"-----BEGIN CERTIFICATE-----", key_start):
        key_start = data.find(b"-----BEGIN", key_start + 1)
    if key_start == -1:
        raise ConfigError(
            f"{path}: the file holds a certificate but no private key; append the key "
            "(BEGIN PRIVATE KEY) to the same PEM file"
        )
    passphrase = password.encode() if password else None
    try:
        key = serialization.load_pem_private_key(data[key_start:], password=passphrase)
    except TypeError:
        raise ConfigError(
            f"{path}: the private key is encrypted; set MAILWARDEN_CERTIFICATE_PASSWORD"
        ) from None
    except ValueError:
        raise ConfigError(
            f"{path}: the private key cannot be read (wrong password, or not a PEM key)"
        ) from None
    public_of_key = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_of_cert = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public_of_key != public_of_cert:
        raise ConfigError(f"{path}: the private key does not belong to the certificate")
    not_after = certificate.not_valid_after_utc
    if not_after <= (now or datetime.now(UTC)):
        raise ConfigError(
            f"{path}: the certificate expired on {not_after:%Y-%m-%d}; create a new one and "
            "upload it to the app registration"
        )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return CertificateCredential(
        # The x5t header Entra matches against is a SHA-1 thumbprint by definition.
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex().upper(),
        subject=certificate.subject.rfc4514_string(),
        not_after=not_after,
        private_key_pem=key_pem,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )
