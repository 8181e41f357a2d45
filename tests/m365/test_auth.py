"""Token caching, error mapping and secret hygiene (MSAL itself runs in test_auth_emulator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mailwarden.errors import AuthError, ConfigError
from mailwarden.m365.aadsts import describe_token_failure
from mailwarden.m365.auth import CachedTokenSource, secret_token_source, token_source_from_settings
from mailwarden.m365.certificate import load_certificate
from mailwarden.settings import Settings
from tests.m365.m365_fakes import run

SECRET = "s3cr3t~Value.With-Symbols"


def write_certificate(
    path: Path,
    *,
    password: bytes | None = None,
    days: int = 30,
    other_key: bool = False,
) -> x509.Certificate:
    """A throwaway self-signed certificate with its private key in one PEM file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailwarden-test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    if other_key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return certificate


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_cached_until_near_expiry() -> None:
    calls: list[str] = []
    clock = Clock()

    def acquire(scope: str) -> dict[str, Any]:
        calls.append(scope)
        return {"access_token": f"tok{len(calls)}", "expires_in": 3600}

    source = CachedTokenSource(acquire, describe="test", clock=clock)
    graph = "https://graph.microsoft.com/.default"
    assert run(source.token(graph)) == "tok1"
    assert run(source.token(graph)) == "tok1"
    clock.now += 3600 - 400  # still outside the refresh margin
    assert run(source.token(graph)) == "tok1"
    clock.now += 200  # inside the last five minutes
    assert run(source.token(graph)) == "tok2"
    assert run(source.token("https://outlook.office365.com/.default")) == "tok3"
    assert len(calls) == 3
    assert "tok" not in repr(source)


def test_failed_token_names_the_fix_and_hides_the_secret() -> None:
    def acquire(scope: str) -> dict[str, Any]:
        return {
            "error": "invalid_client",
            "error_description": f"AADSTS7000215: Invalid client secret provided ({SECRET}). "
            "Trace ID: abc Correlation ID: def Timestamp: 2024",
            "error_codes": [7000215],
        }

    source = CachedTokenSource(acquire, describe="test", secrets=(SECRET,))
    with pytest.raises(AuthError) as caught:
        run(source.token("https://graph.microsoft.com/.default"))
    message = str(caught.value)
    assert "MAILWARDEN_CLIENT_SECRET" in message and "AADSTS7000215" in message
    assert SECRET not in message
    assert "Trace ID" not in message


def test_a_secret_that_is_a_word_of_the_advice_is_redacted_only_where_it_was_quoted() -> None:
    def acquire(scope: str) -> dict[str, Any]:
        return {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided (wrong).",
            "error_codes": [7000215],
        }

    source = CachedTokenSource(acquire, describe="test", secrets=("wrong",))
    with pytest.raises(AuthError) as caught:
        run(source.token("https://graph.microsoft.com/.default"))
    message = str(caught.value)
    assert "Invalid client secret provided ([redacted])" in message
    assert "Fix: the client secret is wrong: copy the secret's value (not its id)" in message


def test_a_secret_is_redacted_from_a_library_error_but_not_from_the_advice() -> None:
    import requests

    def acquire(scope: str) -> dict[str, Any]:
        raise requests.ConnectionError("network down")

    source = CachedTokenSource(acquire, describe="test", secrets=("network",))
    with pytest.raises(AuthError) as caught:
        run(source.token("https://graph.microsoft.com/.default"))
    assert "(ConnectionError: [redacted] down)" in str(caught.value)
    assert "check the network, the cloud" in str(caught.value)


def test_network_failure_during_sign_in_is_an_auth_error() -> None:
    import requests

    def acquire(scope: str) -> dict[str, Any]:
        raise requests.ConnectionError(f"cannot connect with {SECRET}")

    source = CachedTokenSource(acquire, describe="test", secrets=(SECRET,))
    with pytest.raises(AuthError) as caught:
        run(source.token("https://graph.microsoft.com/.default"))
    assert "could not reach the sign-in service" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None  # the original exception text is not chained in


def test_an_msal_error_before_the_token_request_is_an_auth_error() -> None:
    import msal

    def acquire(scope: str) -> dict[str, Any]:
        # What MSAL raises when the tenant's OpenID discovery answers 500.
        raise msal.exceptions.MsalServiceError(f"HTTP Error: 500 {SECRET}", error="",
                                               error_description="")

    source = CachedTokenSource(acquire, describe="test", secrets=(SECRET,))
    with pytest.raises(AuthError) as caught:
        run(source.token("https://graph.microsoft.com/.default"))
    assert "the sign-in service could not be used" in str(caught.value)
    assert "MsalServiceError" in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (700016, "check --client-id"),
        (90002, "check --tenant"),
        (700027, "upload its public part"),
        (65001, "admin consent"),
    ],
)
def test_aadsts_codes_are_explained(code: int, fragment: str) -> None:
    result = {"error": "x", "error_description": f"AADSTS{code}: something.", "error_codes": [code]}
    assert fragment in describe_token_failure(result, scope="s")


def test_secret_comes_only_from_the_environment() -> None:
    settings = Settings(tenant="t", client_id="app")
    with pytest.raises(ConfigError, match="MAILWARDEN_CLIENT_SECRET"):
        secret_token_source(settings, env={})
    source = token_source_from_settings(settings, env={"MAILWARDEN_CLIENT_SECRET": SECRET})
    assert SECRET not in repr(source)
    assert "MAILWARDEN_CLIENT_SECRET" in repr(source)


def test_certificate_thumbprint_and_checks(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    certificate = write_certificate(pem)
    credential = load_certificate(pem)
    assert credential.thumbprint == certificate.fingerprint(hashes.SHA1()).hex().upper()
    assert "PRIVATE KEY" not in repr(credential)
    assert credential.msal_credential()["thumbprint"] == credential.thumbprint


def test_encrypted_certificate_key_needs_the_password(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    write_certificate(pem, password=b"pw")
    with pytest.raises(ConfigError, match="MAILWARDEN_CERTIFICATE_PASSWORD"):
        load_certificate(pem)
    with pytest.raises(ConfigError, match="wrong password"):
        load_certificate(pem, password="nope")
    assert load_certificate(pem, password="pw").thumbprint


def test_certificate_problems_are_config_errors(tmp_path: Path) -> None:
    mismatched = tmp_path / "mismatch.pem"
    write_certificate(mismatched, other_key=True)
    with pytest.raises(ConfigError, match="does not belong"):
        load_certificate(mismatched)
    expired = tmp_path / "expired.pem"
    write_certificate(expired, days=1)
    with pytest.raises(ConfigError, match="expired"):
        load_certificate(expired, now=datetime.now(UTC) + timedelta(days=3))
    only_cert = tmp_path / "cert-only.pem"
    only_cert.write_bytes(expired.read_bytes().split(b"-----BEGIN PRIVATE KEY")[0])
    with pytest.raises(ConfigError, match="no private key"):
        load_certificate(only_cert)
    with pytest.raises(ConfigError, match="cannot read"):
        load_certificate(tmp_path / "absent.pem")


def test_a_description_that_ends_a_sentence_is_not_given_a_second_full_stop() -> None:
    result = {"error": "invalid_client", "error_codes": [7000215],
              "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}
    message = describe_token_failure(result, scope="s")
    assert "Invalid client secret provided. Fix: the client secret is wrong" in message
    assert ".." not in message
