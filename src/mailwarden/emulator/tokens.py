"""Access tokens the emulator issues and checks: JWTs signed with a key of this process.

Clients treat them as opaque, as they must with Entra's; the services check the
signature, the expiry and the audience (Graph or Exchange), so a token for one service
is refused by the other, as Entra's are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from mailwarden.settings import CLOUDS

#: Seconds a token lives, as Entra's app-only tokens commonly do.
TOKEN_LIFETIME = 3599
GRAPH_AUDIENCES = frozenset(c.graph_resource for c in CLOUDS.values())
EXCHANGE_AUDIENCES = frozenset(c.exo_resource for c in CLOUDS.values())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt_part(text: str) -> dict[str, Any]:
    """One JWT segment as a JSON object; ValueError when it is not one."""
    try:
        value = json.loads(b64url_decode(text))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a base64url JSON segment ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("the segment is not a JSON object")
    return value


def resource_of(scope: str) -> str:
    """The resource a v2 scope names: "https://graph.microsoft.com/.default" -> its origin."""
    first = scope.split()[0] if scope.split() else ""
    if first.endswith("/.default"):
        return first[: -len("/.default")]
    if "://" in first:
        scheme, rest = first.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"
    return ""


class TokenIssuer:
    """Signs and verifies the emulator's tokens. Tenants served by one emulator share its
    `key`, as Entra signs every tenant's tokens with the same keys: a service then knows
    a token is genuine, and reads the tenant it was issued for from its `tid` claim."""

    def __init__(
        self, tenant_id: str, *, key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenant_id = tenant_id
        self._key = key if key is not None else secrets.token_bytes(32)
        self._clock = clock

    def _sign(self, signing_input: str) -> str:
        return b64url(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue(
        self, *, audience: str, client_id: str, extra: Mapping[str, Any] | None = None
    ) -> str:
        now = int(self._clock())
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "appid": client_id,
            "tid": self.tenant_id,
            "uti": uuid.uuid4().hex,
            "ver": "1.0",
            **(extra or {}),
        }
        header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}"

    def check(self, authorization: str | None, audiences: frozenset[str]) -> str | None:
        """None when the bearer token is good for one of `audiences`, else why not."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return "Access token is empty."
        token = authorization[7:].strip()
        parts = token.split(".")
        if len(parts) != 3:
            return "IDX14100: JWT is not well formed, there are no dots (.)."
        if not hmac.compare_digest(parts[2], self._sign(f"{parts[0]}.{parts[1]}")):
            return "Access token validation failure. Invalid signature."
        claims = decode_jwt_part(parts[1])
        if float(claims.get("exp", 0)) <= self._clock():
            return "Lifetime validation failed, the token is expired."
        if claims.get("aud") not in audiences:
            return "Invalid audience."
        return None

    def issued_for(self, authorization: str | None) -> str | None:
        """The tenant (`tid`) a genuine bearer token was issued for; None when the token
        is missing, malformed or not signed with this issuer's key."""
        token = (authorization or "")[7:].strip()
        parts = token.split(".")
        if len(parts) != 3 or not (authorization or "").lower().startswith("bearer "):
            return None
        if not hmac.compare_digest(parts[2], self._sign(f"{parts[0]}.{parts[1]}")):
            return None
        tid = self.claims(authorization).get("tid")
        return str(tid) if tid else None

    def claims(self, authorization: str | None) -> dict[str, Any]:
        """The claims of a bearer token `check` accepted (empty when there are none)."""
        parts = (authorization or "")[7:].strip().split(".")
        try:
            return decode_jwt_part(parts[1]) if len(parts) == 3 else {}
        except ValueError:
            return {}
