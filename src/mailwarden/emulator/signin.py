"""Entra ID's OpenID Connect sign-in for web apps: the authorize endpoint with a sign-in
page, and the authorization code's redemption at the token endpoint, with PKCE.

    GET  /{tenant}/oauth2/v2.0/authorize?client_id&response_type=code&redirect_uri&scope
         &state&nonce&code_challenge&code_challenge_method=S256[&response_mode][&login_hint]
    POST the same URL with `login` (the user's UPN): the code and state go to redirect_uri

As Entra does (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow and
reference-error-codes), a request whose client or redirect URI cannot be trusted is refused
on the sign-in service's own page, never redirected: unknown tenant (AADSTS90002), missing
parameter (AADSTS900144), unknown application (AADSTS700016), redirect URI not registered
(AADSTS50011, exact match). Other refusals go back to the redirect URI as `error`,
`error_description` and `state`. Redemption refuses an unknown code (AADSTS9002313), a code
used before (AADSTS54005), an expired one (AADSTS70008, after `auth_code_lifetime`), another
redirect URI than the code's (AADSTS500112) and a code verifier that does not hash to the
challenge (AADSTS501481).

Stricter than Entra on purpose: every authorization request must carry an S256 PKCE
challenge (Entra accepts web-app requests without one, or with `plain`); a missing or
malformed challenge is refused as AADSTS50147. A code can be presented once: a redemption
that fails after the client authenticated still uses it up.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mailwarden.emulator.answers import entra_error
from mailwarden.emulator.config import Service, WebApp
from mailwarden.emulator.runtime import AuthCode, Emulator, SignedInUser
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.emulator.tokens import TOKEN_LIFETIME, b64url

_OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
_RESPONSE_MODES = ("query", "fragment", "form_post")
#: The length of a base64url SHA-256 digest without padding: an S256 code challenge.
_S256_LENGTH = 43
#: Microsoft Graph: the access token of a sign-in that asked only for OpenID scopes.
_GRAPH = "https://graph.microsoft.com"
Authenticate = Callable[[Emulator, Request, Mapping[str, str]], JSONResponse | None]


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>", status)


def _error_page(code: int, message: str) -> HTMLResponse:
    """Entra's "Sorry, but we're having trouble signing you in" page."""
    text = html.escape(f"AADSTS{code}: {message}")
    return _page("Sign in", "<p>Sorry, but we're having trouble signing you in.</p>"
                 f"<p id='error' data-code='AADSTS{code}'>{text}</p>", 400)


def _app(emulator: Emulator, client_id: str) -> WebApp | None:
    return next((a for a in emulator.config.web_apps if a.client_id == client_id), None)


def _trusted(
    emulator: Emulator, params: Mapping[str, str], tenant: str
) -> tuple[WebApp | None, HTMLResponse | None]:
    """The app and redirect URI, when they can be trusted with an answer."""
    for name in ("client_id", "redirect_uri"):
        if not params.get(name):
            return None, _error_page(900144, "The request body must contain the following "
                                     f"parameter: '{name}'.")
    app = _app(emulator, params["client_id"])
    if app is None:
        return None, _error_page(
            700016, f"Application with identifier '{params['client_id']}' was not found in "
            f"the directory '{tenant}'. This can happen if the application has not been "
            "installed by the administrator of the tenant or consented to by any user in the "
            "tenant. You may have sent your authentication request to the wrong tenant.")
    if params["redirect_uri"] not in app.redirect_uris:
        return None, _error_page(
            50011, f"The redirect URI '{params['redirect_uri']}' specified in the request does "
            f"not match the redirect URIs configured for the application '{app.client_id}'. "
            "Make sure the redirect URI sent in the request matches one added to your "
            "application in the Azure portal.")
    return app, None


def _refusal(params: Mapping[str, str]) -> tuple[str, int, str] | None:
    """Why an authorization request from a trusted client is refused (error, code, text)."""
    if params.get("response_type") != "code":
        return ("unsupported_response_type", 70005,
                f"The app returned an unsupported response type '{params.get('response_type')}'"
                ". This sign-in accepts 'code'.")
    if params.get("response_mode", "query") not in _RESPONSE_MODES:
        return ("invalid_request", 70007, "The app returned an unsupported value of "
                f"response_mode '{params['response_mode']}'.")
    if not params.get("scope"):
        return "invalid_request", 900144, "The request must contain the parameter: 'scope'."
    challenge = params.get("code_challenge", "")
    if len(challenge) != _S256_LENGTH:
        return ("invalid_request", 50147, "The size of the code challenge parameter isn't "
                "valid: this application requires PKCE with an S256 code_challenge.")
    if params.get("code_challenge_method") != "S256":
        return ("invalid_request", 50147, "The code_challenge_method "
                f"'{params.get('code_challenge_method', '')}' is not accepted: use S256.")
    return None


def _respond(redirect_uri: str, mode: str, values: Mapping[str, str]) -> Response:
    """The authorization response, as `response_mode` asks."""
    present = {k: v for k, v in values.items() if v}
    if mode == "form_post":
        fields = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
                         for k, v in present.items())
        return _page("Working...", f"<form method='post' action='{html.escape(redirect_uri)}'>"
                     f"{fields}<noscript><button>Continue</button></noscript></form>"
                     "<script>document.forms[0].submit()</script>")
    separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(present)}", status_code=302)


def _redirect_error(params: Mapping[str, str], error: str, code: int, text: str) -> Response:
    return _respond(params["redirect_uri"], params.get("response_mode", "query"), {
        "error": error, "error_description": f"AADSTS{code}: {text}",
        "state": params.get("state", "")})


def _sign_in_form(action: str, hint: str, problem: str = "") -> HTMLResponse:
    note = f"<p id='error' role='alert'>{html.escape(problem)}</p>" if problem else ""
    return _page("Sign in", f"{note}<form method='post' action='{html.escape(action)}'>"
                 "<label>Email, phone, or Skype <input name='login' type='email' "
                 f"autocomplete='username' value='{html.escape(hint)}' required></label> "
                 "<button type='submit' id='idSIButton9'>Sign in</button></form>")


def _user(emulator: Emulator, login: str) -> tuple[SignedInUser | None, str]:
    """The tenant's user with this UPN, or a user the emulator was told about (a role
    assignment or an id token fault) that the tenant does not hold; else why not."""
    state = emulator.state
    row = state.user(login) if login else None
    if row is not None:
        upn = str(row.get("userPrincipalName") or login)
        if row.get("accountEnabled") is False:
            return None, (f"AADSTS50057: The user account is disabled. The user object in "
                          f"Active Directory backing this account ({upn}) has been disabled.")
        return SignedInUser(object_id=str(row.get("id") or uuid.uuid5(uuid.NAMESPACE_URL, upn)),
                            upn=upn, name=str(row.get("displayName") or upn)), ""
    told = {n.lower() for a in emulator.config.web_apps for n in a.assignments}
    told |= {n.lower() for n in emulator.config.id_token_faults}
    if login.lower() in told:
        object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{state.tenant_id}/{login.lower()}"))
        return SignedInUser(object_id=object_id, upn=login.lower(),
                            name=login.split("@", 1)[0]), ""
    return None, (f"AADSTS50034: The user account {login} does not exist in the "
                  f"{state.tenant_id} directory. To sign into this application, the account "
                  "must be added to the directory.")


async def authorize(request: Request) -> Response:
    tenant = str(request.path_params["tenant"])
    emulator = tenancy_of(request.app).for_login(tenant)

    async def handle() -> Response:
        if not emulator.state.knows_tenant(tenant):
            return _error_page(90002, f"Tenant '{tenant}' not found. Check to make sure you "
                               "have the correct tenant ID and are signing into the correct "
                               "cloud.")
        params = {k: str(v) for k, v in request.query_params.items()}
        app, untrusted = _trusted(emulator, params, tenant)
        if untrusted is not None or app is None:
            return untrusted or _error_page(900144, "The request is not valid.")
        refusal = _refusal(params)
        if refusal is not None:
            return _redirect_error(params, *refusal)
        action = f"{request.url.path}?{request.url.query}"
        if request.method == "GET":
            return _sign_in_form(action, params.get("login_hint", ""))
        login = str((await request.form()).get("login") or "").strip()
        user, problem = _user(emulator, login)
        if user is None:
            return _sign_in_form(action, login, problem)
        code = secrets.token_urlsafe(48)
        emulator.sessions.auth_codes[code] = AuthCode(
            client_id=app.client_id, redirect_uri=params["redirect_uri"],
            code_challenge=params["code_challenge"], nonce=params.get("nonce"),
            scope=params["scope"], user=user, issued_at=emulator.clock())
        return _respond(params["redirect_uri"], params.get("response_mode", "query"),
                        {"code": code, "state": params.get("state", "")})

    return await emulator.conditions.guard(Service.LOGIN, request.url.path, handle)


def _invalid_grant(code: int, text: str) -> JSONResponse:
    return entra_error(400, "invalid_grant", code, text)


def _s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def redeem_code(
    emulator: Emulator, request: Request, form: Mapping[str, str], authenticate: Authenticate
) -> Response:
    """The token endpoint's `grant_type=authorization_code`."""
    client_id = form.get("client_id", "")
    if not client_id:
        return entra_error(400, "invalid_request", 900144, "The request body must contain the "
                           "following parameter: 'client_id'.")
    app = _app(emulator, client_id)
    if app is None:
        return entra_error(400, "unauthorized_client", 700016, f"Application with identifier "
                           f"'{client_id}' was not found in the directory "
                           f"'{emulator.state.tenant_id}'.")
    refused = authenticate(emulator, request, form)
    if refused is not None:
        return refused
    pending = emulator.sessions.auth_codes.get(form.get("code", ""))
    if pending is None or pending.client_id != client_id:
        return _invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")
    if pending.redeemed:
        return _invalid_grant(54005, "OAuth2 Authorization code was already redeemed, please "
                              "retry with a new valid code or use an existing refresh token.")
    pending.redeemed = True
    if emulator.clock() >= pending.issued_at + emulator.config.auth_code_lifetime:
        return _invalid_grant(70008, "The provided authorization code or refresh token has "
                              "expired due to inactivity. Send a new interactive authorization "
                              "request for this user and resource.")
    if form.get("redirect_uri", "") != pending.redirect_uri:
        return entra_error(400, "invalid_client", 500112, f"The reply address "
                           f"'{form.get('redirect_uri', '')}' does not match the reply address "
                           f"'{pending.redirect_uri}' provided when requesting Authorization "
                           "code.")
    verifier = form.get("code_verifier", "")
    if not verifier or not secrets.compare_digest(_s256(verifier), pending.code_challenge):
        return _invalid_grant(501481, "The Code_Verifier does not match the code_challenge "
                              "supplied in the authorization request.")
    return _tokens(emulator, request, app, pending)


def _tokens(emulator: Emulator, request: Request, app: WebApp, code: AuthCode) -> Response:
    tenant_id, user = emulator.state.tenant_id, code.user
    scopes = code.scope.split()
    body: dict[str, object] = {
        "token_type": "Bearer",
        "scope": " ".join(s for s in scopes if s not in _OIDC_SCOPES) or "User.Read",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": emulator.tokens.issue(
            audience=_GRAPH, client_id=app.client_id,
            extra={"oid": user.object_id, "upn": user.upn, "scp": "email openid profile "
                   "User.Read"}),
        "client_info": b64url(json.dumps({"uid": user.object_id, "utid": tenant_id}).encode()),
    }
    if "offline_access" in scopes:
        refresh = secrets.token_urlsafe(48)
        emulator.sessions.refresh_tokens[refresh] = app.client_id
        body["refresh_token"] = refresh
    if "openid" in scopes:
        base = str(request.base_url).rstrip("/")
        claims: dict[str, object] = {
            "aud": app.client_id, "iss": f"{base}/{tenant_id}/v2.0", "tid": tenant_id,
            "oid": user.object_id, "preferred_username": user.upn, "name": user.name,
            # Entra's sub is pairwise: the same user has another sub in another app.
            "sub": b64url(hashlib.sha256(f"{user.object_id}/{app.client_id}".encode())
                          .digest())[:43],
        }
        if code.nonce is not None:
            claims["nonce"] = code.nonce
        roles = app.roles_of(user.upn)
        if roles:  # Entra leaves the claim out when the user holds no app role
            claims["roles"] = list(roles)
        fault = next((f for n, f in emulator.config.id_token_faults.items()
                      if n.lower() == user.upn.lower()), None)
        body["id_token"] = emulator.id_tokens.id_token(claims, fault=fault)
    return JSONResponse(body)
