"""The id token checks, one forgery at a time, and the app roles as console roles."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mailwarden.console.idtoken import (
    APP_ROLES,
    IdTokenRejected,
    UnknownSigningKey,
    console_roles,
    principal_of,
    verify_id_token,
)
from mailwarden.console.roles import Role, Source
from mailwarden.emulator.config import CONSOLE_APP_ROLES

ISSUER = "https://login.example/2f3e4d5c-0000-4000-8000-000000000001/v2.0"
CLIENT = "0c0501e0-0000-4000-8000-00000000c0de"
NOW = 1_900_000_000.0
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks(*keys: tuple[str, Any]) -> dict[str, Any]:
    found = []
    for kid, key in keys:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        found.append({**jwk, "kid": kid, "use": "sig"})
    return {"keys": found}


JWKS = _jwks(("k1", KEY))


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": CLIENT, "iat": int(NOW), "nbf": int(NOW), "exp": int(NOW) + 3600,
        "oid": "00000000-0000-0000-0000-0000000000aa", "tid": "2f3e4d5c", "nonce": "n-1",
        "preferred_username": "ada@contoso.test", "name": "Ada", "roles": ["Console.Admin"]}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], *, key: Any = KEY, kid: str = "k1",
           algorithm: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def _verify(token: str, *, now: float = NOW, jwks: dict[str, Any] = JWKS) -> Any:
    return verify_id_token(token, jwks=jwks, issuer=ISSUER, client_id=CLIENT, nonce="n-1",
                           now=now)


def test_a_good_token_gives_the_identity_and_its_app_roles() -> None:
    identity = _verify(_token(_claims(roles=["Console.Viewer", "Other.Role"])))
    assert identity.object_id == "00000000-0000-0000-0000-0000000000aa"
    assert identity.username == "ada@contoso.test" and identity.name == "Ada"
    principal = principal_of(identity)
    assert principal is not None and principal.roles == frozenset({Role.VIEWER})
    assert principal.source is Source.ENTRA and principal.subject == identity.object_id


@pytest.mark.parametrize(("token", "words"), [
    (_token(_claims(), key=OTHER), "signature does not verify"),
    (_token(_claims(aud="another-app")), "another application"),
    (_token(_claims(iss=ISSUER.replace("0001", "0002"))), "not issued by"),
    (_token(_claims(nonce="n-2")), "nonce"),
    (_token(_claims(nonce=None)), "nonce"),
    (_token(_claims(oid=None)), "oid"),
    (_token(_claims(exp=int(NOW) - 121)), "expired"),
    (_token(_claims(nbf=int(NOW) + 121)), "not valid yet"),
    (jwt.encode(_claims(), "a-shared-secret-of-enough-length-32b", algorithm="HS256",
                headers={"kid": "k1"}), "not RS256"),
    ("not.a.jwt", "not a JSON web token"),
], ids=["other-key", "audience", "issuer", "nonce", "no-nonce", "no-oid", "expired",
        "not-yet-valid", "hs256", "not-a-jwt"])  # the tokens differ per process (a new key)
def test_a_token_that_fails_a_check_is_refused_saying_which(token: str, words: str) -> None:
    with pytest.raises(IdTokenRejected, match=words):
        _verify(token)


def test_an_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(IdTokenRejected, match="not RS256"):
        _verify(unsigned)


def test_two_minutes_of_clock_difference_are_tolerated() -> None:
    assert _verify(_token(_claims(exp=int(NOW) - 100)))
    assert _verify(_token(_claims(nbf=int(NOW) + 100)))


def test_a_key_the_jwks_does_not_hold_is_told_apart() -> None:
    with pytest.raises(UnknownSigningKey):
        _verify(_token(_claims(), kid="k2"))
    assert _verify(_token(_claims(), key=OTHER, kid="k2"), jwks=_jwks(("k1", KEY), ("k2", OTHER)))


def test_no_console_role_means_no_principal() -> None:
    assert principal_of(_verify(_token(_claims(roles=None)))) is None
    assert principal_of(_verify(_token(_claims(roles=["Other.Role"])))) is None


def test_the_app_role_values_are_the_ones_the_emulated_registration_declares() -> None:
    assert tuple(APP_ROLES) == CONSOLE_APP_ROLES
    assert console_roles(CONSOLE_APP_ROLES) == frozenset(Role)
