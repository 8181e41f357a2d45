"""The emulator's id token signing key, its JWKS, and id tokens signed with it (RS256).

Entra ID signs id tokens with RS256 and names the key by `kid`, which for Entra's keys
is the base64url SHA-1 thumbprint of the key's certificate (the same value as `x5t`);
the keys are published at `{authority}/discovery/v2.0/keys` as
`{"keys": [{"kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"}]}`
(learn.microsoft.com/entra/identity-platform/id-token-claims-reference; the keys as
login.microsoftonline.com/common/discovery/v2.0/keys serves them).

The key pair and its self-signed certificate are made once per emulator, when the first
id token or the JWKS is asked for (an RSA key takes a few tens of milliseconds, and most
emulators never sign anyone in). `IdTokenFault` forges tokens the way an attacker or a
broken provider would, so that a client's checks can be seen to refuse them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from mailwarden.emulator.tokens import b64url

#: Seconds an id token lives (Entra: one hour).
ID_TOKEN_LIFETIME = 3600


class IdTokenFault(StrEnum):
    """A forged id token, per signed-in user (`EmulatorConfig.id_token_faults`)."""

    BAD_SIGNATURE = "bad-signature"  # signed by another key under the published kid
    WRONG_AUDIENCE = "wrong-audience"  # issued to another application
    WRONG_NONCE = "wrong-nonce"  # not the nonce of this sign-in (a replayed token)
    WRONG_ISSUER = "wrong-issuer"  # issued by another tenant
    EXPIRED = "expired"  # its exp has passed


def _int_b64(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class _KeyPair:
    def __init__(self, subject: str) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(self.private, hashes.SHA256())
        )
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.kid = b64url(hashlib.sha1(der).digest())  # Entra's x5t is SHA-1
        self.x5c = base64.b64encode(der).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


class IdTokenSigner:
    """Signs the emulator's id tokens and publishes the public key."""

    def __init__(self, tenant_id: str, *, clock: Callable[[], float]) -> None:
        self.tenant_id = tenant_id
        self._clock = clock
        self._lock = threading.Lock()
        self._key: _KeyPair | None = None

    def _pair(self) -> _KeyPair:
        with self._lock:
            if self._key is None:
                self._key = _KeyPair("mailwarden emulator id token signing")
            return self._key

    def jwks(self, issuer: str) -> dict[str, Any]:
        pair = self._pair()
        numbers = pair.private.public_key().public_numbers()
        return {"keys": [{
            "kty": "RSA", "use": "sig", "kid": pair.kid, "x5t": pair.kid,
            "n": _int_b64(numbers.n), "e": _int_b64(numbers.e), "x5c": [pair.x5c],
            "issuer": issuer,
        }]}

    def id_token(self, claims: Mapping[str, Any], *, fault: IdTokenFault | None = None) -> str:
        """`claims` (iss, aud, nonce, the user's claims) signed, with iat, nbf and exp of
        now; `fault` forges the token as its kind says."""
        now = int(self._clock())
        body: dict[str, Any] = {**claims, "iat": now, "nbf": now, "exp": now + ID_TOKEN_LIFETIME,
                                "uti": b64url(uuid.uuid4().bytes), "ver": "2.0"}
        if fault is IdTokenFault.WRONG_AUDIENCE:
            body["aud"] = str(uuid.uuid4())
        elif fault is IdTokenFault.WRONG_NONCE:
            body["nonce"] = secrets.token_urlsafe(16)
        elif fault is IdTokenFault.WRONG_ISSUER:
            body["iss"] = str(body["iss"]).replace(self.tenant_id, str(uuid.uuid4()))
        elif fault is IdTokenFault.EXPIRED:
            body.update(iat=now - 2 * ID_TOKEN_LIFETIME, nbf=now - 2 * ID_TOKEN_LIFETIME,
                        exp=now - ID_TOKEN_LIFETIME)
        pair = self._pair()
        header = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": pair.kid}).encode())
        payload = b64url(json.dumps(body, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode("ascii")
        signer = _KeyPair("forger") if fault is IdTokenFault.BAD_SIGNATURE else pair
        return f"{header}.{payload}.{b64url(signer.sign(signing_input))}"
