"""How a confidential client proves itself at the token endpoint: the client secret, or a
certificate assertion (a JWT naming the certificate's thumbprint) as MSAL sends it.

Refusals are Entra's (invalid_client with its AADSTS code), for every grant that needs a
client credential: client credentials and the authorization code of a web app.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

from mailwarden.emulator.answers import entra_error
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.tokens import b64url_decode, decode_jwt_part

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def authenticate_client(
    emulator: Emulator, request: Request, form: Mapping[str, str]
) -> JSONResponse | None:
    """None when a confidential client proved itself (client secret or certificate
    assertion), else Entra's refusal."""
    client_id = form.get("client_id", "")
    if "client_secret" in form:
        if not hmac.compare_digest(form["client_secret"], emulator.config.client_secret):
            return entra_error(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client_id}'.",
            )
    elif form.get("client_assertion_type") == ASSERTION_TYPE and form.get("client_assertion"):
        refused = _check_assertion(emulator, form["client_assertion"], client_id,
                                   f"{str(request.url).split('?', 1)[0]}")
        if refused is not None:
            return refused
    else:
        return entra_error(
            401, "invalid_client", 7000218,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
        )
    return None


def _check_assertion(
    emulator: Emulator, assertion: str, client_id: str, token_url: str
) -> JSONResponse | None:
    """A client assertion must be a JWT naming its certificate (x5t or x5t#S256), issued
    by and about the client, for this token endpoint, and current. Its signature is not
    checked: the emulator holds no public keys of the apps."""
    malformed = entra_error(401, "invalid_client", 50027, "JWT token is invalid or is malformed.")
    parts = assertion.split(".")
    if len(parts) != 3:
        return malformed
    try:
        header, claims = decode_jwt_part(parts[0]), decode_jwt_part(parts[1])
    except ValueError:
        return malformed
    thumbprint = str(header.get("x5t") or header.get("x5t#S256") or "")
    if not thumbprint or claims.get("iss") != client_id or claims.get("sub") != client_id:
        return malformed
    if str(claims.get("aud", "")).rstrip("/") != token_url.rstrip("/"):
        return entra_error(401, "invalid_client", 700016,
                           "The client assertion's audience is not this token endpoint.")
    now = time.time()
    if not float(claims.get("nbf", 0)) - 300 <= now < float(claims.get("exp", 0)):
        return entra_error(401, "invalid_client", 700024,
                           "Client assertion is not within its valid time range.")
    allowed = {_thumb_hex(t) for t in emulator.config.certificate_thumbprints}
    if allowed and _thumb_hex(thumbprint) not in allowed:
        return entra_error(
            401, "invalid_client", 700027,
            f"The certificate with identifier used to sign the client assertion is not "
            f"registered on application. [Reason - The key was not found., Thumbprint of key "
            f"used by client: '{_thumb_hex(thumbprint).upper()}']",
        )
    return None


def _thumb_hex(value: str) -> str:
    """A thumbprint as hex, whether given as hex or as the base64url of x5t."""
    text = value.strip().replace(":", "")
    if len(text) == 40 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        return b64url_decode(text).hex()
    except ValueError:
        return text.lower()
