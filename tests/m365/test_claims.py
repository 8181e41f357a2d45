"""Reading what an access token grants from its payload, without verifying it.

App-only (client-credentials) tokens carry the application permissions in `roles`;
delegated tokens carry the delegated permissions in `scp`, space-separated: Microsoft
identity platform, "Access token claims reference"
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference), and
Microsoft Q&A 141122 ("when you request token under application context using
client_credentials flow, the permissions are included in Role claim").
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from mailwarden.m365.claims import GrantKind, grants_of, token_grants, token_payload


def _segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(claims: Any) -> str:
    return f"{_segment({'typ': 'JWT', 'alg': 'RS256'})}.{_segment(claims)}.c2lnbmF0dXJl"


def test_an_app_only_token_grants_its_roles() -> None:
    grants = token_grants(jwt({"aud": "https://graph.microsoft.com", "idtyp": "app",
                               "roles": ["User.Read.All", "AuditLog.Read.All"]}))
    assert grants.kind is GrantKind.APPLICATION
    assert grants.permissions == {"User.Read.All", "AuditLog.Read.All"}
    assert grants.has_any(["user.read.all"]) is True  # Entra compares values case-blind
    assert grants.has_any(["Directory.Read.All"]) is False


def test_a_delegated_token_grants_its_scopes_not_the_persons_app_roles() -> None:
    grants = token_grants(jwt({"scp": "User.Read.All Policy.Read.All", "roles": ["Admin"],
                               "upn": "admin@contoso.com", "oid": "x"}))
    assert grants.kind is GrantKind.DELEGATED
    assert grants.permissions == {"User.Read.All", "Policy.Read.All"}


def test_an_app_only_token_without_roles_grants_nothing() -> None:
    # An app holding no application permission of the resource gets no roles claim.
    grants = token_grants(jwt({"aud": "https://outlook.office365.com", "oid": "sp"}))
    assert grants.kind is GrantKind.APPLICATION
    assert grants.permissions == frozenset()
    assert grants.has_any(["Exchange.ManageAsApp"]) is False


@pytest.mark.parametrize(
    "token",
    [
        "opaque-token",
        "a.b.c.d.e",  # an encrypted (JWE) token has five parts
        f"{_segment({'alg': 'none'})}.{_segment(b'not json')}.x",
        f"{_segment({'alg': 'none'})}.{_segment(['a', 'list'])}.x",
        f"{_segment({'alg': 'none'})}.!!!.x",
        "",
    ],
)
def test_a_token_that_cannot_be_read_grants_unknown_not_nothing(token: str) -> None:
    grants = token_grants(token)
    assert grants.kind is GrantKind.UNKNOWN
    assert grants.has_any(["User.Read.All"]) is None


def test_the_payload_is_read_without_the_signature() -> None:
    assert token_payload(jwt({"roles": ["A"]})) == {"roles": ["A"]}
    assert grants_of(None).kind is GrantKind.UNKNOWN
