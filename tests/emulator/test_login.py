"""The emulated Entra ID endpoints: discovery, the token endpoint's grants and its errors."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from mailwarden.emulator.tokens import b64url
from tests.emulator.emulator_helpers import (
    BASE,
    EXO_SCOPE,
    GRAPH_SCOPE,
    app_for,
    bearer,
    client_for,
    run,
    small,
    tenant_id,
)


async def _post_token(data: dict[str, str], **config: Any) -> httpx.Response:
    async with client_for(app_for(**config)) as client:
        return await client.post(f"/{tenant_id()}/oauth2/v2.0/token", data=data)


def _secret_form(secret: str, scope: str = GRAPH_SCOPE) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": "app", "client_secret": secret,
            "scope": scope}


def test_discovery_names_this_base_url_for_the_tenant_id_and_any_verified_domain() -> None:
    async def main() -> list[httpx.Response]:
        async with client_for(app_for()) as client:
            domain = small().recorded.data["tenant"]["defaultDomain"]
            names = [tenant_id(), domain, "organizations", "nope.example"]
            return [await client.get(f"/{n}/v2.0/.well-known/openid-configuration") for n in names]

    by_id, by_domain, organizations, unknown = run(main())
    config = by_id.json()
    assert config["token_endpoint"] == f"{BASE}/{tenant_id()}/oauth2/v2.0/token"
    assert config["device_authorization_endpoint"].startswith(BASE)
    assert config["issuer"] == f"{BASE}/{tenant_id()}/v2.0"
    assert by_domain.json()["token_endpoint"] == config["token_endpoint"]
    assert organizations.status_code == 200
    assert unknown.status_code == 400
    assert unknown.json()["error_codes"] == [90002]


def test_the_secret_is_accepted_and_a_wrong_one_refused_in_entras_shape() -> None:
    good = run(_post_token(_secret_form("emulator-secret")))
    assert good.status_code == 200
    body = good.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    bad = run(_post_token(_secret_form("wrong")))
    assert bad.status_code == 401
    error = bad.json()
    assert error["error"] == "invalid_client"
    assert error["error_codes"] == [7000215]
    assert error["error_description"].startswith("AADSTS7000215: Invalid client secret")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(error)


def test_a_configured_secret_replaces_the_default() -> None:
    assert run(_post_token(_secret_form("s3"), client_secret="s3")).status_code == 200
    assert run(_post_token(_secret_form("emulator-secret"), client_secret="s3")).status_code == 401


def test_scope_errors_name_the_problem() -> None:
    not_default = run(_post_token(_secret_form("emulator-secret", "https://graph.microsoft.com/User.Read")))
    assert not_default.json()["error_codes"] == [1002012]
    unknown = run(_post_token(_secret_form("emulator-secret", "https://vault.azure.net/.default")))
    assert unknown.json()["error_codes"] == [500011]
    missing = run(_post_token({"grant_type": "client_credentials", "client_id": "app",
                               "scope": GRAPH_SCOPE}))
    assert missing.status_code == 401 and missing.json()["error"] == "invalid_client"


def _assertion(header: dict[str, Any], claims: dict[str, Any]) -> str:
    part = lambda value: b64url(json.dumps(value).encode())  # noqa: E731
    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


def _assertion_form(assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": "app", "scope": EXO_SCOPE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}


def test_a_well_formed_client_assertion_is_accepted_and_a_malformed_one_refused() -> None:
    now = int(time.time())
    claims = {"iss": "app", "sub": "app", "aud": f"{BASE}/{tenant_id()}/oauth2/v2.0/token",
              "nbf": now, "exp": now + 600, "jti": "1"}
    thumb = b64url(bytes(range(20)))
    signed = _assertion({"alg": "RS256", "x5t": thumb}, claims)
    good = run(_post_token(_assertion_form(signed)))
    assert good.status_code == 200, good.text
    no_thumbprint = run(_post_token(_assertion_form(_assertion({"alg": "RS256"}, claims))))
    assert no_thumbprint.json()["error_codes"] == [50027]
    garbage = run(_post_token(_assertion_form("not-a-jwt")))
    assert garbage.json()["error_codes"] == [50027]
    expired = dict(claims, exp=now - 10)
    late = run(_post_token(_assertion_form(_assertion({"alg": "RS256", "x5t": thumb}, expired))))
    assert late.json()["error_codes"] == [700024]
    other = run(_post_token(_assertion_form(signed), certificate_thumbprints=("AB" * 20,)))
    assert other.json()["error_codes"] == [700027]
    registered = run(_post_token(_assertion_form(signed),
                                 certificate_thumbprints=(bytes(range(20)).hex().upper(),)))
    assert registered.status_code == 200


def test_device_code_is_pending_once_then_approved_and_refreshable() -> None:
    async def main() -> list[httpx.Response]:
        async with client_for(app_for()) as client:
            root = f"/{tenant_id()}/oauth2/v2.0"
            flow = (await client.post(f"{root}/devicecode",
                                      data={"client_id": "cli", "scope": GRAPH_SCOPE})).json()
            poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "client_id": "cli", "device_code": flow["device_code"]}
            first = await client.post(f"{root}/token", data=poll)
            second = await client.post(f"{root}/token", data=poll)
            refresh = await client.post(f"{root}/token", data={
                "grant_type": "refresh_token", "client_id": "cli", "scope": EXO_SCOPE,
                "refresh_token": second.json()["refresh_token"]})
            return [first, second, refresh]

    first, second, refresh = run(main())
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
    assert second.status_code == 200
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= set(second.json())
    assert refresh.status_code == 200


def test_tokens_are_good_only_for_their_own_service() -> None:
    async def main() -> tuple[int, int, int]:
        async with client_for(app_for()) as client:
            graph = await bearer(client, GRAPH_SCOPE)
            ok = (await client.get("/v1.0/organization", headers=graph)).status_code
            crossed = (await client.post(f"/adminapi/beta/{tenant_id()}/InvokeCommand",
                                         headers=graph, json={})).status_code
            forged = (await client.get("/v1.0/organization",
                                       headers={"Authorization": "Bearer a.b.c"})).status_code
            return ok, crossed, forged

    assert run(main()) == (200, 401, 401)
