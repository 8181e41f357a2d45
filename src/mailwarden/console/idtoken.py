"""The id token of an Entra ID sign-in: its signature and claims checked here, never
trusted as received, and its app roles turned into console roles.

Checks (OpenID Connect Core 3.1.3.7; Entra's own list in learn.microsoft.com/entra/
identity-platform/id-token-claims-reference and claims-validation): RS256 only, signed by
a key of the tenant's JWKS named by the header's `kid`; `iss` is the issuer of the
tenant's OpenID configuration; `aud` is the console's client id; `nbf`/`exp` hold now
(two minutes' leeway, as MSAL allows); `nonce` is the one the authorization request
carried; `oid` and `tid` are present. MSAL (1.38 and later) decodes id tokens without
checking them, so nothing else does this.

App roles reach the token as the `roles` claim (learn.microsoft.com/entra/identity-platform/
howto-add-app-roles-in-apps), which Entra leaves out for a user assigned none.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from mailwarden.console.roles import Principal, Role, Source
from mailwarden.errors import AuthError

#: The app role values of the console's app registration, and the console role of each.
APP_ROLES: Mapping[str, Role] = {
    "Console.Viewer": Role.VIEWER,
    "Console.Responder": Role.RESPONDER,
    "Console.Approver": Role.APPROVER,
    "Console.Admin": Role.ADMIN,
}
#: Seconds of clock difference tolerated on nbf and exp.
LEEWAY = 120


class IdTokenRejected(AuthError):
    """The id token failed a check; the message says which (and never holds the token)."""


class UnknownSigningKey(IdTokenRejected):
    """No key of the JWKS has the token's kid: the keys may have rolled over."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who Entra ID says signed in, from a checked id token."""

    object_id: str
    tenant_id: str
    username: str
    name: str
    app_roles: tuple[str, ...]


def _key(jwks: Mapping[str, Any], kid: str) -> Any:
    for candidate in jwks.get("keys") or ():
        if isinstance(candidate, Mapping) and candidate.get("kid") == kid:
            try:
                return jwt.PyJWK(dict(candidate), algorithm="RS256").key
            except jwt.PyJWTError as exc:
                raise IdTokenRejected(f"the signing key {kid} is not usable ({exc})") from None
    raise UnknownSigningKey(f"no signing key of the tenant is named {kid!r}")


def verify_id_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    now: float,
) -> Identity:
    """The identity in `token` when every check holds; IdTokenRejected saying which failed."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdTokenRejected("the id token is not a JSON web token") from None
    if header.get("alg") != "RS256":
        raise IdTokenRejected(f"the id token is signed with {header.get('alg')!r}, not RS256")
    key = _key(jwks, str(header.get("kid") or ""))
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=["RS256"], audience=client_id, issuer=issuer,
            # Time is checked below, against the injected clock.
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                     "require": ["iss", "aud", "exp", "oid", "tid", "nonce"]},
        )
    except jwt.InvalidSignatureError:
        raise IdTokenRejected("the id token's signature does not verify") from None
    except jwt.InvalidAudienceError:
        raise IdTokenRejected(f"the id token was issued to another application, not "
                              f"{client_id}") from None
    except jwt.InvalidIssuerError:
        raise IdTokenRejected(f"the id token was not issued by {issuer}") from None
    except jwt.PyJWTError as exc:
        raise IdTokenRejected(f"the id token is not valid ({exc})") from None
    if not float(claims.get("nbf", claims.get("iat", 0))) - LEEWAY <= now:
        raise IdTokenRejected("the id token is not valid yet (check this machine's clock)")
    if now >= float(claims["exp"]) + LEEWAY:
        raise IdTokenRejected("the id token has expired")
    if not hmac.compare_digest(str(claims["nonce"]).encode(), nonce.encode()):
        raise IdTokenRejected("the id token's nonce is not the one of this sign-in")
    roles = claims.get("roles") or []
    username = str(claims.get("preferred_username") or claims.get("upn") or claims["oid"])
    return Identity(object_id=str(claims["oid"]), tenant_id=str(claims["tid"]),
                    username=username, name=str(claims.get("name") or username),
                    app_roles=tuple(str(r) for r in roles) if isinstance(roles, list) else ())


def console_roles(app_roles: tuple[str, ...]) -> frozenset[Role]:
    """The console roles of these app role values (values of other apps are ignored)."""
    return frozenset(APP_ROLES[value] for value in app_roles if value in APP_ROLES)


def principal_of(identity: Identity) -> Principal | None:
    """The signed-in principal, or None for someone who holds no console role."""
    roles = console_roles(identity.app_roles)
    if not roles:
        return None
    return Principal(subject=identity.object_id, name=identity.name, roles=roles,
                     source=Source.ENTRA)
