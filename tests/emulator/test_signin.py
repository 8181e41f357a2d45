"""The emulated OpenID Connect sign-in of a web app: the authorize endpoint and its page,
the code's redemption with PKCE, the signed id token, and Entra's refusals."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from mailwarden.emulator import EmulatorConfig, create_app
from mailwarden.emulator.config import CONSOLE_APP_ROLES, WebApp
from mailwarden.emulator.signing import IdTokenFault
from tests.emulator.emulator_helpers import BASE, client_for, run, small, tenant_id

CLIENT = "11111111-2222-3333-4444-555555555555"
REDIRECT = "https://console.test/auth/callback"
ADMIN = "ada@console.test"


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def _app(clock: Clock | None = None, **config: Any) -> Any:
    web = WebApp(client_id=CLIENT, redirect_uris=(REDIRECT,),
                 assignments={ADMIN: ("Console.Admin",), "bo@console.test": ("Console.Viewer",)})
    settings = EmulatorConfig(web_apps=(web,), **config)
    return create_app(small().recorded, config=settings, clock=clock or Clock())


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _params(challenge: str, **overrides: str) -> dict[str, str]:
    params = {"client_id": CLIENT, "response_type": "code", "redirect_uri": REDIRECT,
              "scope": "openid profile offline_access", "state": "st-1", "nonce": "n-1",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v != "-"}


def _authorize_url(params: dict[str, str], tenant: str | None = None) -> str:
    return f"/{tenant or tenant_id()}/oauth2/v2.0/authorize?{urlencode(params)}"


async def _code(client: httpx.AsyncClient, challenge: str, login: str = ADMIN) -> str:
    response = await client.post(_authorize_url(_params(challenge)), data={"login": login})
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _redeem_form(issued: str, verifier: str, **overrides: str) -> dict[str, str]:
    form = {"grant_type": "authorization_code", "client_id": CLIENT, "code": issued,
            "redirect_uri": REDIRECT, "code_verifier": verifier,
            "client_secret": "emulator-secret", "scope": "openid profile offline_access"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v != "-"}


async def _redeem(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await client.post(f"/{tenant_id()}/oauth2/v2.0/token", data=form)


def _verify(token: str, keys: dict[str, Any], *, nonce: str = "n-1") -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    key = next(k for k in keys["keys"] if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=CLIENT,
        issuer=f"{BASE}/{tenant_id()}/v2.0")
    if claims.get("nonce") != nonce:
        raise NonceMismatch(claims.get("nonce"))
    return claims


class NonceMismatch(jwt.InvalidTokenError):
    pass


def _aadsts(response: httpx.Response) -> int:
    return int(response.json()["error_codes"][0])


def test_a_user_signs_in_and_the_code_buys_an_id_token_signed_by_the_published_key() -> None:
    async def main() -> tuple[httpx.Response, httpx.Response, dict[str, Any], dict[str, Any]]:
        verifier, challenge = _pkce()
        async with client_for(_app()) as client:
            page = await client.get(_authorize_url(_params(challenge, login_hint=ADMIN)))
            code = await _code(client, challenge)
            tokens = await _redeem(client, _redeem_form(code, verifier))
            keys = (await client.get(f"/{tenant_id()}/discovery/v2.0/keys")).json()
            config = (await client.get(
                f"/{tenant_id()}/v2.0/.well-known/openid-configuration")).json()
            return page, tokens, keys, config

    page, tokens, keys, config = run(main())
    assert page.status_code == 200 and "name='login'" in page.text and ADMIN in page.text
    assert config["jwks_uri"] == f"{BASE}/{tenant_id()}/discovery/v2.0/keys"
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["refresh_token"] and body["access_token"] and body["client_info"]
    assert jwt.get_unverified_header(body["id_token"])["alg"] == "RS256"
    claims = _verify(body["id_token"], keys)
    assert claims["roles"] == ["Console.Admin"]
    assert claims["preferred_username"] == ADMIN and claims["tid"] == tenant_id()
    assert claims["oid"] and claims["sub"] and claims["name"] == "ada"
    assert claims["iat"] == claims["nbf"] and claims["exp"] == claims["iat"] + 3600
    assert keys["keys"][0]["x5t"] == keys["keys"][0]["kid"]


def test_a_tenant_user_without_an_assignment_gets_no_roles_claim_and_unknown_ones_none() -> None:
    users = small().recorded.data["graph/users"]
    enabled = next(u for u in users if u.get("accountEnabled") is not False)
    disabled = next(u for u in users if u.get("accountEnabled") is False)

    async def main() -> tuple[dict[str, Any], httpx.Response, httpx.Response]:
        verifier, challenge = _pkce()
        async with client_for(_app()) as client:
            code = await _code(client, challenge, enabled["userPrincipalName"])
            tokens = (await _redeem(client, _redeem_form(code, verifier))).json()
            keys = (await client.get(f"/{tenant_id()}/discovery/v2.0/keys")).json()
            url = _authorize_url(_params(challenge))
            unknown = await client.post(url, data={"login": "nobody@console.test"})
            off = await client.post(url, data={"login": disabled["userPrincipalName"]})
            return _verify(tokens["id_token"], keys), unknown, off

    claims, unknown, off = run(main())
    assert "roles" not in claims
    assert claims["oid"] == enabled["id"]
    assert unknown.status_code == 200 and "AADSTS50034" in unknown.text
    assert off.status_code == 200 and "AADSTS50057" in off.text


@pytest.mark.parametrize(("change", "code"), [
    ({"client_id": "-"}, 900144),
    ({"client_id": "99999999-0000-0000-0000-000000000000"}, 700016),
    ({"redirect_uri": "https://evil.test/auth/callback"}, 50011),
    ({"redirect_uri": REDIRECT + "/"}, 50011),
])
def test_an_untrusted_client_or_redirect_uri_is_refused_on_the_page_never_redirected(
    change: dict[str, str], code: int
) -> None:
    async def main() -> httpx.Response:
        async with client_for(_app()) as client:
            return await client.get(_authorize_url(_params(_pkce()[1], **change)))

    response = run(main())
    assert response.status_code == 400 and "location" not in response.headers
    assert f"AADSTS{code}" in response.text


def test_an_unknown_tenant_is_refused_on_the_page() -> None:
    async def main() -> httpx.Response:
        async with client_for(_app()) as client:
            return await client.get(_authorize_url(_params(_pkce()[1]), tenant="nope.example"))

    assert "AADSTS90002" in run(main()).text


@pytest.mark.parametrize(("change", "error", "code"), [
    ({"response_type": "token"}, "unsupported_response_type", 70005),
    ({"code_challenge": "-"}, "invalid_request", 50147),
    ({"code_challenge": "short"}, "invalid_request", 50147),
    ({"code_challenge_method": "plain"}, "invalid_request", 50147),
    ({"code_challenge_method": "-"}, "invalid_request", 50147),
    ({"response_mode": "carrier-pigeon"}, "invalid_request", 70007),
])
def test_a_bad_request_from_a_trusted_client_goes_back_to_its_redirect_uri_with_the_state(
    change: dict[str, str], error: str, code: int
) -> None:
    async def main() -> httpx.Response:
        async with client_for(_app()) as client:
            return await client.get(_authorize_url(_params(_pkce()[1], **change)))

    response = run(main())
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == [error] and query["state"] == ["st-1"]
    assert query["error_description"][0].startswith(f"AADSTS{code}:")


def test_form_post_and_fragment_modes_answer_as_asked() -> None:
    async def main() -> tuple[httpx.Response, httpx.Response]:
        challenge = _pkce()[1]
        async with client_for(_app()) as client:
            posted = await client.post(
                _authorize_url(_params(challenge, response_mode="form_post")),
                data={"login": ADMIN})
            fragment = await client.post(
                _authorize_url(_params(challenge, response_mode="fragment")),
                data={"login": ADMIN})
            return posted, fragment

    posted, fragment = run(main())
    assert posted.status_code == 200
    assert f"action='{REDIRECT}'" in posted.text and "name='code'" in posted.text
    assert fragment.headers["location"].startswith(REDIRECT + "#code=")


@pytest.mark.parametrize(("change", "status", "error", "code"), [
    ({"code_verifier": "x" * 43}, 400, "invalid_grant", 501481),
    ({"code_verifier": "-"}, 400, "invalid_grant", 501481),
    ({"code": "made-up"}, 400, "invalid_grant", 9002313),
    ({"redirect_uri": "https://console.test/other"}, 400, "invalid_client", 500112),
    ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
    ({"client_secret": "-"}, 401, "invalid_client", 7000218),
    ({"client_id": "99999999-0000-0000-0000-000000000000"}, 400, "unauthorized_client", 700016),
])
def test_a_redemption_that_does_not_match_the_code_is_refused(
    change: dict[str, str], status: int, error: str, code: int
) -> None:
    async def main() -> httpx.Response:
        verifier, challenge = _pkce()
        async with client_for(_app()) as client:
            issued = await _code(client, challenge)
            return await _redeem(client, _redeem_form(issued, verifier, **change))

    response = run(main())
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and _aadsts(response) == code


def test_a_code_is_good_once_even_after_a_wrong_verifier() -> None:
    async def main() -> list[httpx.Response]:
        verifier, challenge = _pkce()
        async with client_for(_app()) as client:
            first = await _code(client, challenge)
            good = await _redeem(client, _redeem_form(first, verifier))
            again = await _redeem(client, _redeem_form(first, verifier))
            second = await _code(client, challenge)
            wrong = await _redeem(client, _redeem_form(second, "y" * 43))
            after = await _redeem(client, _redeem_form(second, verifier))
            return [good, again, wrong, after]

    good, again, wrong, after = run(main())
    assert good.status_code == 200
    assert _aadsts(again) == 54005 and again.json()["error"] == "invalid_grant"
    assert _aadsts(wrong) == 501481 and _aadsts(after) == 54005


def test_a_code_expires_after_its_lifetime() -> None:
    clock = Clock()

    async def main() -> tuple[httpx.Response, httpx.Response]:
        verifier, challenge = _pkce()
        async with client_for(_app(clock, auth_code_lifetime=600.0)) as client:
            fresh = await _code(client, challenge)
            clock.now += 599
            in_time = await _redeem(client, _redeem_form(fresh, verifier))
            stale = await _code(client, challenge)
            clock.now += 600
            return in_time, await _redeem(client, _redeem_form(stale, verifier))

    in_time, late = run(main())
    assert in_time.status_code == 200
    assert late.json()["error"] == "invalid_grant" and _aadsts(late) == 70008


@pytest.mark.parametrize(("fault", "refusal"), [
    (IdTokenFault.BAD_SIGNATURE, jwt.InvalidSignatureError),
    (IdTokenFault.WRONG_AUDIENCE, jwt.InvalidAudienceError),
    (IdTokenFault.WRONG_ISSUER, jwt.InvalidIssuerError),
    (IdTokenFault.EXPIRED, jwt.ExpiredSignatureError),
    (IdTokenFault.WRONG_NONCE, NonceMismatch),
])
def test_a_forged_id_token_fails_the_check_its_fault_names(
    fault: IdTokenFault, refusal: type[Exception]
) -> None:
    async def main() -> tuple[str, dict[str, Any]]:
        verifier, challenge = _pkce()
        app = _app(id_token_faults={"MALLORY@console.test": fault})
        async with client_for(app) as client:
            code = await _code(client, challenge, "mallory@console.test")
            tokens = (await _redeem(client, _redeem_form(code, verifier))).json()
            keys = (await client.get(f"/{tenant_id()}/discovery/v2.0/keys")).json()
            return tokens["id_token"], keys

    token, keys = run(main())
    with pytest.raises(refusal):
        _verify(token, keys)


def test_the_console_app_declares_the_four_console_roles() -> None:
    assert WebApp(client_id=CLIENT, redirect_uris=()).app_roles == CONSOLE_APP_ROLES
    assert WebApp(client_id=CLIENT, redirect_uris=(),
                  assignments={"A@x.test": ("Console.Admin",)}).roles_of("a@X.test") == (
        "Console.Admin",)
