"""The emulated Graph: paging, $select, $top limits, $batch, and its errors."""

from __future__ import annotations

from typing import Any

import httpx

from mailwarden.m365.graph import GraphClient
from mailwarden.m365.http import M365Http
from mailwarden.tenant.recorded import RecordedTenant
from tests.emulator.emulator_helpers import (
    BASE,
    GRAPH_SCOPE,
    all_pages,
    app_for,
    bearer,
    client_for,
    run,
    settings_for,
    small,
    tenant_id,
)
from tests.support.emulator_tokens import EmulatorTokens


def _get(url: str, recorded: RecordedTenant | None = None, **config: Any) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for(recorded, **config)) as client:
            return await client.get(url, headers=await bearer(client, GRAPH_SCOPE))

    return run(main())


def test_users_page_by_top_and_every_user_arrives_once_with_only_the_selected_properties() -> None:
    async def main() -> tuple[list[dict[str, Any]], int]:
        async with client_for(app_for()) as client:
            return await all_pages(client, "/v1.0/users?$select=userPrincipalName,signInActivity"
                                          "&$top=30")

    users, pages = run(main())
    expected = small().recorded.data["graph/users"]
    assert pages == -(-len(expected) // 30)
    assert [u["id"] for u in users] == [u["id"] for u in expected]
    assert all(set(u) <= {"id", "userPrincipalName", "signInActivity"} for u in users)
    odd = _get("/v1.0/groups?$select=displayName,noSuchProperty&$top=1").json()["value"][0]
    assert set(odd) == {"id", "displayName"}  # unknown names are ignored
    assert any("signInActivity" in u for u in users)


def test_without_top_graph_pages_by_100_and_users_carry_the_default_properties() -> None:
    body = _get("/v1.0/users").json()
    assert len(body["value"]) == 100 and "@odata.nextLink" in body
    assert "signInActivity" not in body["value"][0] and "userPrincipalName" in body["value"][0]
    assert body["@odata.context"] == f"{BASE}/v1.0/$metadata#users"


def test_top_is_capped_as_graph_caps_it() -> None:
    """Above 999 Graph refuses the page size (400 Request_UnsupportedQuery "Invalid page size
    specified: '1000'. Must be between 1 and 999 inclusive.", quoted in
    turbot/steampipe-plugin-azuread azuread/table_azuread_user.go). With signInActivity
    selected it serves at most 120 users a page without an error: "Requests with `$top` set
    higher than 120 will return pages with up to 120 users" (microsoftgraph/
    microsoft-graph-docs-contrib api-reference/v1.0/resources/user.md, signInActivity;
    https://learn.microsoft.com/graph/api/resources/user)."""
    capped = _get("/v1.0/users?$select=id,signInActivity&$top=999")
    assert capped.status_code == 200
    assert len(capped.json()["value"]) == 120 and "@odata.nextLink" in capped.json()
    assert len(_get("/v1.0/users?$select=id,signInActivity&$top=50").json()["value"]) == 50
    assert len(_get("/v1.0/users?$select=id&$top=999").json()["value"]) == 200
    over = _get("/v1.0/users?$select=id,signInActivity&$top=1000")
    assert over.status_code == 400
    assert over.json()["error"]["code"] == "Request_UnsupportedQuery"
    assert "between 1 and 999" in over.json()["error"]["message"]
    assert _get("/v1.0/groups?$top=1000").status_code == 400


def test_the_client_reads_every_user_when_graph_caps_the_page_below_its_top() -> None:
    """The service answers `$top=999` with pages of 120 (see the test above); a client that
    trusts its own `$top` would stop after the first page."""
    async def main() -> list[dict[str, Any]]:
        async with client_for(app_for()) as client:
            settings = settings_for(BASE, tenant_id())
            http = M365Http(client, EmulatorTokens(client, tenant_id()), settings)
            return await GraphClient(http).collection(
                "/users", select=["id", "signInActivity"], top=999)

    users = run(main())
    expected = small().recorded.data["graph/users"]
    assert len(expected) > 120
    assert [u["id"] for u in users] == [u["id"] for u in expected]


def test_organization_lists_the_verified_domains_with_the_default_marked() -> None:
    org = _get("/v1.0/organization").json()["value"][0]
    tenant = small().recorded.data["tenant"]
    assert org["id"] == tenant["tenantId"]
    assert [d["name"] for d in org["verifiedDomains"]] == tenant["verifiedDomains"]
    defaults = [d["name"] for d in org["verifiedDomains"] if d["isDefault"]]
    assert defaults == [tenant["defaultDomain"]]


def test_unknown_ids_are_404_and_missing_sources_403() -> None:
    missing = _get("/v1.0/users/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
    user = small().recorded.data["graph/users"][0]
    by_upn = _get(f"/v1.0/users/{user['userPrincipalName']}?$select=accountEnabled").json()
    assert by_upn["id"] == user["id"] and "accountEnabled" in by_upn
    data = {k: v for k, v in small().recorded.data.items() if k != "graph/settings"}
    denied = _get("/beta/settings", RecordedTenant(data=data))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
    forced = _get("/v1.0/identity/conditionalAccess/policies",
                  failing_sources={"graph/conditionalAccessPolicies": 500})
    assert forced.status_code == 500


def test_without_a_graph_token_the_answer_is_401() -> None:
    async def main() -> httpx.Response:
        async with client_for(app_for()) as client:
            return await client.get("/v1.0/users")

    response = run(main())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def _batch(requests: list[dict[str, Any]]) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for()) as client:
            return await client.post("/v1.0/$batch", json={"requests": requests},
                                     headers=await bearer(client, GRAPH_SCOPE))

    return run(main())


def test_batch_answers_each_member_request_and_refuses_more_than_twenty() -> None:
    groups = small().recorded.data["graph/groups"]
    members = small().recorded.data["graph/groupMembers"]
    requests = [{"id": str(i), "method": "GET",
                 "url": f"/groups/{g['id']}/members?$select=id,displayName&$top=999"}
                for i, g in enumerate(groups[:20], start=1)]
    requests[-1]["url"] = "/groups/00000000-0000-0000-0000-000000000000/members"
    answers = {r["id"]: r for r in _batch(requests).json()["responses"]}
    first = answers["1"]
    assert first["status"] == 200
    assert [m["id"] for m in first["body"]["value"]] == [m["id"] for m in members[groups[0]["id"]]]
    assert all("@odata.type" in m for m in first["body"]["value"])
    assert answers["20"]["status"] == 404
    assert _batch([*requests, {"id": "21", "method": "GET", "url": "/users"}]).status_code == 400


def test_batch_pages_members_with_absolute_next_links() -> None:
    group = max(small().recorded.data["graph/groups"],
                key=lambda g: len(small().recorded.data["graph/groupMembers"][g["id"]]))
    url = f"/groups/{group['id']}/members?$top=2"
    response = _batch([{"id": "1", "method": "GET", "url": url}])
    link = response.json()["responses"][0]["body"]["@odata.nextLink"]
    assert link.startswith(f"{BASE}/v1.0/groups/{group['id']}/members?")
