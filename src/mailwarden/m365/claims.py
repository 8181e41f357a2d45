"""What an access token says it grants, read from its payload without verifying it.

Entra's access tokens are JWTs. An app-only token (client credentials) lists the
application permissions admin-consented to the app in its `roles` claim; a delegated
token lists the delegated permissions in `scp`, space-separated (Microsoft identity
platform, "Access token claims reference":
https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
The resource checks the signature; the client only reads the claims to say what is
missing, so nothing here trusts them for anything else. Microsoft warns that a token's
format is the resource's business and may change: a token that cannot be read gives
`TokenGrants.unknown()`, never an error, and the probes decide.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class GrantKind(StrEnum):
    APPLICATION = "application"  # app-only: the `roles` claim
    DELEGATED = "delegated"  # a person signed in: the `scp` claim
    UNKNOWN = "unknown"  # the token could not be read


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenGrants:
    """The permissions a token carries, and whether they could be read at all."""

    kind: GrantKind
    permissions: frozenset[str] = frozenset()

    @classmethod
    def unknown(cls) -> TokenGrants:
        return cls(kind=GrantKind.UNKNOWN)

    @property
    def known(self) -> bool:
        return self.kind is not GrantKind.UNKNOWN

    def has_any(self, names: Iterable[str]) -> bool | None:
        """Whether one of `names` is granted (case-insensitively, as Entra compares
        permission values); None when the token could not be read."""
        if not self.known:
            return None
        granted = {p.lower() for p in self.permissions}
        return any(name.lower() in granted for name in names)


def token_payload(token: str) -> dict[str, Any] | None:
    """The claims of a JWT (its middle segment), or None when `token` is not one."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None  # an encrypted (JWE) or opaque token has another shape
    segment = parts[1]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(v) for v in value if isinstance(v, str) and v)
    return frozenset()


def grants_of(claims: Mapping[str, Any] | None) -> TokenGrants:
    """Application permissions from `roles`; else delegated ones from `scp`.

    A delegated token always carries `scp` (its `roles`, if any, are the person's app
    roles, not permissions of the app); an app-only token of an app that holds no
    application permission of the resource has no `roles` claim at all, so a token with
    neither is app-only and grants nothing."""
    if claims is None:
        return TokenGrants.unknown()
    if "scp" in claims:
        return TokenGrants(kind=GrantKind.DELEGATED, permissions=_names(claims["scp"]))
    return TokenGrants(kind=GrantKind.APPLICATION, permissions=_names(claims.get("roles")))


def token_grants(token: str) -> TokenGrants:
    """What `token` grants, as far as its payload says."""
    return grants_of(token_payload(token))
