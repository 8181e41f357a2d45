"""Graph application permissions: the token carries them in `roles`, and Graph refuses
what they do not grant, with the bodies the real service sends.

- No permission for the resource: 403 {"error": {"code": "Authorization_RequestDenied",
  "message": "Insufficient privileges to complete the operation.", "innerError": {"date",
  "request-id", "client-request-id"}}} -- an app-only GET of a user without User.Read.All,
  https://github.com/BakkerJan/M365Portal/issues/1 (2022-04-24).
- `$select=signInActivity` without AuditLog.Read.All: 403 {"error": {"code":
  "Authentication_MSGraphPermissionMissing", "message": "Calling principal does not have
  required MSGraph permissions AuditLog.Read.All", "innerError": {...}}} --
  GET /v1.0/users?$select=displayName,signInActivity in
  https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/2731 (2023-08-08); the
  same code and message from a reports endpoint in
  https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/8997.
- employeeLeaveDateTime without User-LifeCycleInfo.Read.All reads as null, not refused
  (HTTP 200, "employeeLeaveDateTime": null: https://github.com/Azure/LogicAppsUX/issues/4925).
- Client credentials put application permissions in the `roles` claim
  (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from mailwarden.cli.emulator import _permissions
from mailwarden.emulator.permissions import ALL_GRAPH_PERMISSIONS, DEFAULT_GRAPH_PERMISSIONS
from mailwarden.emulator.tokens import decode_jwt_part
from tests.emulator.emulator_helpers import (
    EXO_SCOPE,
    GRAPH_SCOPE,
    app_for,
    client_for,
    run,
    small,
    tenant_id,
    token,
)

USERS = "/v1.0/users?$select=id,userPrincipalName,employeeLeaveDateTime&$top=999"


def _claims(scope: str, **config: Any) -> dict[str, Any]:
    async def main() -> str:
        async with client_for(app_for(**config)) as client:
            return await token(client, scope)

    return decode_jwt_part(run(main()).split(".")[1])


def _get(url: str, granted: frozenset[str] | None) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for(graph_permissions=granted)) as client:
            headers = {"Authorization": f"Bearer {await token(client, GRAPH_SCOPE)}"}
            return await client.get(url, headers=headers)

    return run(main())


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "innerError"}
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    return error


def test_an_app_only_token_carries_the_granted_permissions_in_its_roles() -> None:
    assert set(_claims(GRAPH_SCOPE)["roles"]) == DEFAULT_GRAPH_PERMISSIONS
    granted = frozenset({"User.Read.All", "Policy.Read.All"})
    assert set(_claims(GRAPH_SCOPE, graph_permissions=granted)["roles"]) == granted
    assert _claims(GRAPH_SCOPE, graph_permissions=frozenset())["roles"] == []
    assert _claims(EXO_SCOPE, graph_permissions=granted)["roles"] == ["Exchange.ManageAsApp"]


def test_a_delegated_token_carries_the_consented_permissions_in_its_scopes() -> None:
    granted = frozenset({"User.Read.All", "Policy.Read.All"})

    async def main() -> tuple[str, int]:
        async with client_for(app_for(graph_permissions=granted)) as client:
            root = f"/{tenant_id()}/oauth2/v2.0"
            flow = (await client.post(f"{root}/devicecode",
                                      data={"client_id": "cli", "scope": GRAPH_SCOPE})).json()
            poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "client_id": "cli", "device_code": flow["device_code"]}
            await client.post(f"{root}/token", data=poll)  # pending once
            access = (await client.post(f"{root}/token", data=poll)).json()["access_token"]
            groups = await client.get("/v1.0/groups?$top=1",
                                      headers={"Authorization": f"Bearer {access}"})
            return access, groups.status_code

    access, groups = run(main())
    claims = decode_jwt_part(access.split(".")[1])
    assert set(claims["scp"].split()) == granted and "roles" not in claims
    assert groups == 403


def test_by_default_the_app_holds_every_permission_mailwarden_reads_with() -> None:
    assert {"User.Read.All", "GroupMember.Read.All", "RoleManagement.Read.Directory",
            "Policy.Read.All", "Directory.Read.All", "AuditLog.Read.All",
            "User-LifeCycleInfo.Read.All"} <= ALL_GRAPH_PERMISSIONS
    assert _get(USERS, None).status_code == 200


def test_a_read_without_its_permission_is_refused_as_graph_refuses_it() -> None:
    error = _error(_get("/v1.0/users?$top=1", frozenset({"GroupMember.Read.All"})))
    assert error == {**error, "code": "Authorization_RequestDenied",
                     "message": "Insufficient privileges to complete the operation."}
    user_id = small().recorded.data["graph/users"][0]["id"]
    assert _get(f"/v1.0/users/{user_id}", frozenset()).status_code == 403
    assert _get("/v1.0/groups?$top=1", frozenset({"User.Read.All"})).status_code == 403
    assert _get("/v1.0/identity/conditionalAccess/policies",
                frozenset({"User.Read.All"})).status_code == 403


def test_a_higher_privileged_permission_grants_the_read_too() -> None:
    directory = frozenset({"Directory.Read.All"})
    for url in ("/v1.0/users?$top=1", "/v1.0/groups?$top=1", "/v1.0/organization",
                "/v1.0/roleManagement/directory/roleAssignments", "/beta/settings"):
        assert _get(url, directory).status_code == 200, url


def test_sign_in_activity_needs_audit_log_read_all_and_says_so() -> None:
    url = "/v1.0/users?$select=displayName,signInActivity&$top=5"
    error = _error(_get(url, frozenset({"User.Read.All"})))
    assert error["code"] == "Authentication_MSGraphPermissionMissing"
    assert error["message"] == ("Calling principal does not have required MSGraph "
                                "permissions AuditLog.Read.All")
    assert _get(url, frozenset({"User.Read.All", "AuditLog.Read.All"})).status_code == 200
    reports = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
    assert _error(_get(reports, frozenset({"User.Read.All"})))["code"] == (
        "Authentication_MSGraphPermissionMissing")


def test_leave_dates_read_as_null_without_the_lifecycle_permission() -> None:
    def leave_dates(granted: frozenset[str]) -> list[Any]:
        response = _get(USERS, granted)
        assert response.status_code == 200
        return [u.get("employeeLeaveDateTime") for u in response.json()["value"]]

    with_it = leave_dates(frozenset({"User.Read.All", "User-LifeCycleInfo.Read.All"}))
    without = leave_dates(frozenset({"User.Read.All"}))
    assert sum(v is not None for v in with_it) > 0
    assert all(v is None for v in without) and len(without) == len(with_it)


def test_batch_sub_requests_are_refused_one_by_one() -> None:
    async def main() -> list[dict[str, Any]]:
        app = app_for(graph_permissions=frozenset({"GroupMember.Read.All"}))
        async with client_for(app) as client:
            headers = {"Authorization": f"Bearer {await token(client, GRAPH_SCOPE)}"}
            body = {"requests": [{"id": "1", "method": "GET", "url": "/groups?$top=1"},
                                 {"id": "2", "method": "GET", "url": "/users?$top=1"}]}
            answer = await client.post("/v1.0/$batch", content=json.dumps(body),
                                       headers={**headers, "Content-Type": "application/json"})
            return list(answer.json()["responses"])

    statuses = {r["id"]: r["status"] for r in run(main())}
    assert statuses == {"1": 200, "2": 403}


def test_the_command_line_takes_the_permissions_comma_separated() -> None:
    assert _permissions(None) is None
    assert _permissions("User.Read.All, GroupMember.Read.All,") == {
        "User.Read.All", "GroupMember.Read.All"}
    assert _permissions("") == frozenset()
