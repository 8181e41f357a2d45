"""Entra ID's v2.0 endpoints as MSAL uses them: OpenID discovery, the signing keys, the
token endpoint (client secret, client assertion, device code, refresh token, and the
authorization code of `signin`) and device authorization.

Errors come in Entra's shape (error, AADSTS code in the description, error_codes, trace
and correlation ids), so a client's handling of real sign-in failures can be exercised.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import entra_error
from mailwarden.emulator.client_auth import authenticate_client
from mailwarden.emulator.config import Service
from mailwarden.emulator.permissions import DEFAULT_GRAPH_PERMISSIONS
from mailwarden.emulator.runtime import DeviceCode, Emulator
from mailwarden.emulator.signin import redeem_code
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.emulator.tokens import (
    EXCHANGE_AUDIENCES,
    GRAPH_AUDIENCES,
    TOKEN_LIFETIME,
    b64url,
    resource_of,
)

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_AUTHORIZATION_CODE = "authorization_code"
_RESOURCES = GRAPH_AUDIENCES | EXCHANGE_AUDIENCES
_DELEGATED_EXTRAS = {"openid", "profile", "offline_access"}
#: The Office 365 Exchange Online application permission of app-only Exchange calls.
EXCHANGE_MANAGE_AS_APP = "Exchange.ManageAsApp"


def _unknown_tenant(tenant: str) -> JSONResponse:
    return entra_error(
        400, "invalid_tenant", 90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud.",
    )


def _endpoints(base: str, tenant: str) -> dict[str, str]:
    root = f"{base}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "issuer": f"{base}/{tenant}/v2.0",
    }


def _login_route(request: Request) -> tuple[Emulator, str, str]:
    tenant = str(request.path_params["tenant"])
    emulator = tenancy_of(request.app).for_login(tenant)
    return emulator, tenant, str(request.base_url).rstrip("/")


async def openid_configuration(request: Request) -> Response:
    emulator, tenant, base = _login_route(request)

    async def handle() -> Response:
        if not emulator.state.knows_tenant(tenant):
            return _unknown_tenant(tenant)
        # Entra names the tenant by its id in the endpoints, whatever the authority said.
        multi = tenant.lower() in {"organizations", "common"}
        named = tenant if multi else emulator.state.tenant_id
        return JSONResponse({
            **_endpoints(base, named),
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "emulator",
        })

    return await emulator.conditions.guard(Service.LOGIN, request.url.path, handle)


async def keys(request: Request) -> Response:
    """The key id tokens are signed with (access tokens stay opaque to clients)."""
    emulator, tenant, base = _login_route(request)
    if not emulator.state.knows_tenant(tenant):
        return _unknown_tenant(tenant)
    return JSONResponse(emulator.id_tokens.jwks(f"{base}/{emulator.state.tenant_id}/v2.0"))


async def device_code(request: Request) -> Response:
    emulator, tenant, base = _login_route(request)

    async def handle() -> Response:
        if not emulator.state.knows_tenant(tenant):
            return _unknown_tenant(tenant)
        form = await request.form()
        client_id = str(form.get("client_id") or "")
        if not client_id:
            return _missing("client_id")
        code = secrets.token_urlsafe(32)
        user_code = secrets.token_hex(4).upper()
        emulator.sessions.device_codes[code] = DeviceCode(
            client_id=client_id, scope=str(form.get("scope") or "")
        )
        verification = f"{base}/devicelogin"
        return JSONResponse({
            "user_code": user_code,
            "device_code": code,
            "verification_uri": verification,
            "expires_in": 900,
            "interval": emulator.config.device_code_interval,
            "message": f"To sign in, use a web browser to open the page {verification} and "
            f"enter the code {user_code} to authenticate. (The emulator approves it by itself.)",
        })

    return await emulator.conditions.guard(Service.LOGIN, request.url.path, handle)


def _missing(parameter: str) -> JSONResponse:
    return entra_error(400, "invalid_request", 900144,
                       f"The request body must contain the following parameter: '{parameter}'.")


async def token(request: Request) -> Response:
    emulator, tenant, _ = _login_route(request)

    async def handle() -> Response:
        if not emulator.state.knows_tenant(tenant):
            return _unknown_tenant(tenant)
        form = {k: str(v) for k, v in (await request.form()).items()}
        grant = form.get("grant_type", "")
        if grant == GRANT_CLIENT_CREDENTIALS:
            return _client_credentials(emulator, request, form)
        if grant == GRANT_DEVICE_CODE:
            return _device_code_grant(emulator, form)
        if grant == GRANT_REFRESH_TOKEN:
            return _refresh_grant(emulator, form)
        if grant == GRANT_AUTHORIZATION_CODE:
            return redeem_code(emulator, request, form, authenticate_client)
        if not grant:
            return _missing("grant_type")
        return entra_error(400, "unsupported_grant_type", 70003,
                           f"The app requested an unsupported grant type '{grant}'.")

    return await emulator.conditions.guard(Service.LOGIN, request.url.path, handle)


def _app_resource(form: Mapping[str, str]) -> tuple[str | None, JSONResponse | None]:
    scope = form.get("scope", "")
    if not scope:
        return None, _missing("scope")
    first = scope.split()[0]
    if not first.endswith("/.default"):
        return None, entra_error(
            400, "invalid_scope", 1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    resource = resource_of(first)
    if resource not in _RESOURCES:
        return None, entra_error(
            400, "invalid_resource", 500011,
            f"The resource principal named {resource} was not found in the tenant.",
        )
    return resource, None


def _client_credentials(emulator: Emulator, request: Request, form: Mapping[str, str]) -> Response:
    client_id = form.get("client_id", "")
    if not client_id:
        return _missing("client_id")
    resource, problem = _app_resource(form)
    if problem is not None or resource is None:
        return problem or _missing("scope")
    refused = authenticate_client(emulator, request, form)
    if refused is not None:
        return refused
    return JSONResponse({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": emulator.tokens.issue(
            audience=resource, client_id=client_id,
            extra={"idtyp": "app", "roles": sorted(_app_roles(emulator, resource))},
        ),
    })


def _app_roles(emulator: Emulator, resource: str) -> frozenset[str]:
    """The application permissions of the resource consented to the app: what Entra
    writes into the `roles` claim of an app-only token."""
    if resource in GRAPH_AUDIENCES:
        granted = emulator.config.graph_permissions
        return DEFAULT_GRAPH_PERMISSIONS if granted is None else granted
    return frozenset({EXCHANGE_MANAGE_AS_APP})


def _delegated_scopes(emulator: Emulator, resource: str) -> str:
    """The `scp` claim of a delegated token: Graph's consented permissions, by name."""
    if resource in GRAPH_AUDIENCES:
        return " ".join(sorted(_app_roles(emulator, resource)))
    return "user_impersonation"


def _device_code_grant(emulator: Emulator, form: Mapping[str, str]) -> Response:
    pending = emulator.sessions.device_codes.get(form.get("device_code", ""))
    if pending is None:
        return entra_error(400, "expired_token", 70020,
                           "The provided device code has expired or is unknown.")
    pending.polls += 1
    if pending.polls == 1:
        return entra_error(400, "authorization_pending", 70016,
                           "OAuth 2.0 device flow error. Authorization is pending. "
                           "Continue polling.")
    del emulator.sessions.device_codes[form["device_code"]]
    return _delegated(emulator, pending.client_id, pending.scope)


def _refresh_grant(emulator: Emulator, form: Mapping[str, str]) -> Response:
    client_id = emulator.sessions.refresh_tokens.get(form.get("refresh_token", ""))
    if client_id is None or client_id != form.get("client_id"):
        return entra_error(400, "invalid_grant", 9002313,
                           "Invalid request. Request is malformed or invalid.")
    return _delegated(emulator, client_id, form.get("scope", ""))


def _delegated(emulator: Emulator, client_id: str, scope: str) -> Response:
    """Tokens for the emulated administrator who signed in."""
    wanted = [s for s in scope.split() if s not in _DELEGATED_EXTRAS]
    resource = resource_of(wanted[0]) if wanted else ""
    if resource not in _RESOURCES:
        return entra_error(400, "invalid_resource", 500011,
                           f"The resource principal named {resource} was not found in the tenant.")
    state = emulator.state
    tenant_id = state.tenant_id
    object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/admin"))
    domain = state.domains[0] if state.domains else "emulator.test"
    username = f"admin@{domain}"
    refresh = secrets.token_urlsafe(48)
    emulator.sessions.refresh_tokens[refresh] = client_id
    now = int(time.time())
    id_claims = {"iss": f"https://login.emulator/{tenant_id}/v2.0", "sub": object_id,
                 "aud": client_id, "exp": now + TOKEN_LIFETIME, "iat": now, "nbf": now,
                 "oid": object_id, "tid": tenant_id, "preferred_username": username,
                 "name": "Emulated Administrator", "ver": "2.0"}
    id_token = ".".join([b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
                         b64url(json.dumps(id_claims).encode()), ""])
    return JSONResponse({
        "token_type": "Bearer",
        "scope": " ".join(wanted),
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": emulator.tokens.issue(
            audience=resource, client_id=client_id,
            extra={"oid": object_id, "upn": username,
                   "scp": _delegated_scopes(emulator, resource)},
        ),
        "refresh_token": refresh,
        "id_token": id_token,
        "client_info": b64url(json.dumps({"uid": object_id, "utid": tenant_id}).encode()),
    })
