"""The emulator's write calls, spoken to directly: state changes, and the errors the
services return for unknown identities, unknown parameters and missing permission."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mailwarden.emulator import Service, emulator_of
from tests.remediate.remediate_helpers import BASE, app_for, tenant_id
from tests.support.emulator_tokens import emulator_token

EXO = f"{BASE}/adminapi/beta/{{tenant}}/InvokeCommand"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
EXO_SCOPE = "https://outlook.office365.com/.default"


async def invoke(app: Starlette, cmdlet: str, **parameters: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        token = await emulator_token(client, EXO_SCOPE, tenant_id())
        return await client.post(
            EXO.format(tenant=tenant_id()),
            json={"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}},
            headers={"Authorization": f"Bearer {token}"},
        )


async def graph(app: Starlette, method: str, path: str, body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        token = await emulator_token(client, GRAPH_SCOPE, tenant_id())
        return await client.request(method, f"{BASE}/v1.0{path}", json=body,
                                    headers={"Authorization": f"Bearer {token}"})


def row(app: Starlette, cmdlet: str, **parameters: Any) -> dict[str, Any]:
    response = asyncio.run(invoke(app, cmdlet, **parameters))
    assert response.status_code == 200, response.text
    return dict(response.json()["value"][0])


def detail(response: httpx.Response) -> str:
    return str(response.json()["error"]["details"][0]["message"])


def test_set_cas_mailbox_changes_what_get_cas_mailbox_answers() -> None:
    app = app_for()
    done = asyncio.run(invoke(app, "Set-CASMailbox", Identity="scanner@adventure-works.com",
                              ImapEnabled=False, SmtpClientAuthenticationDisabled=True))
    assert done.status_code == 200 and done.json()["value"] == []
    after = row(app, "Get-CASMailbox", Identity="scanner")
    assert after["ImapEnabled"] is False and after["SmtpClientAuthenticationDisabled"] is True
    assert emulator_of(app).stats.service(Service.EXCHANGE).writes == 1


def test_audit_lists_take_add_and_remove_and_a_whole_list() -> None:
    app = app_for()
    upn = "builds@adventure-works.com"
    before = row(app, "Get-Mailbox", Identity=upn)["AuditOwner"]
    asyncio.run(invoke(app, "Set-Mailbox", Identity=upn, AuditOwner={"Add": ["Send", "Send"]}))
    assert row(app, "Get-Mailbox", Identity=upn)["AuditOwner"] == [*before, "Send"]
    asyncio.run(invoke(app, "Set-Mailbox", Identity=upn, AuditOwner={"Remove": ["send"]}))
    assert row(app, "Get-Mailbox", Identity=upn)["AuditOwner"] == before
    asyncio.run(invoke(app, "Set-Mailbox", Identity=upn, AuditOwner=["Create"]))
    assert row(app, "Get-Mailbox", Identity=upn)["AuditOwner"] == ["Create"]


def test_permissions_are_removed_and_added_back() -> None:
    app = app_for()
    upn, user = "room-tokyo-11-18@adventure-works.com", "maya.ivanova@adventure-works.com"

    def holders() -> set[str]:
        response = asyncio.run(invoke(app, "Get-MailboxPermission", Identity=upn))
        return {r["User"] for r in response.json()["value"] if not r["IsInherited"]}

    assert user in holders()
    removed = asyncio.run(invoke(app, "Remove-MailboxPermission", Identity=upn, User=user,
                                 AccessRights=["FullAccess"], InheritanceType="All"))
    assert removed.status_code == 200 and user not in holders()
    again = asyncio.run(invoke(app, "Remove-MailboxPermission", Identity=upn, User=user,
                               AccessRights=["FullAccess"]))
    assert again.status_code == 200 and again.json()["@adminapi.warnings"]
    asyncio.run(invoke(app, "Add-MailboxPermission", Identity=upn, User=user,
                       AccessRights=["FullAccess"], AutoMapping=False))
    assert user in holders()


@pytest.mark.parametrize(
    ("cmdlet", "parameters", "needle"),
    [
        ("Set-Mailbox", {"Identity": "nobody@adventure-works.com", "AuditEnabled": True},
         "'nobody@adventure-works.com' couldn't be found"),
        ("Add-MailboxPermission", {"Identity": "builds", "User": "ghost@example.com",
                                   "AccessRights": ["FullAccess"]},
         "'ghost@example.com' couldn't be found"),
        ("Disable-InboxRule", {"Identity": "builds\\1"}, "'builds\\1' couldn't be found"),
        ("Set-CASMailbox", {"Identity": "builds", "Teleport": True},
         "parameter name 'Teleport'"),
        ("Set-User", {"Identity": "builds", "RemotePowerShellEnabled": "maybe"},
         "Cannot convert value"),
    ],
)
def test_bad_calls_fail_as_exchange_fails_them(
    cmdlet: str, parameters: dict[str, Any], needle: str
) -> None:
    response = asyncio.run(invoke(app_for(), cmdlet, **parameters))
    assert response.status_code in {400, 404}
    assert needle in detail(response)


def test_graph_disables_an_account_and_revokes_sessions() -> None:
    app = app_for()
    user_id = "79cb26d2-4251-4db2-b76a-dad8744f957f"
    patched = asyncio.run(graph(app, "PATCH", f"/users/{user_id}", {"accountEnabled": False}))
    assert patched.status_code == 204
    read = asyncio.run(graph(app, "GET", f"/users/{user_id}?$select=accountEnabled"))
    assert read.json()["accountEnabled"] is False
    revoked = asyncio.run(graph(app, "POST", f"/users/{user_id}/revokeSignInSessions"))
    assert revoked.status_code == 200 and revoked.json()["value"] is True
    missing = asyncio.run(graph(app, "PATCH", "/users/nobody", {"accountEnabled": False}))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
    bad = asyncio.run(graph(app, "PATCH", f"/users/{user_id}", {"jobTitle": "x"}))
    assert bad.status_code == 400


def test_the_403_mode_refuses_writes_but_still_serves_reads() -> None:
    app = app_for(failing_sources={"graph/write": 403, "exo/write": 403})
    user_id = "79cb26d2-4251-4db2-b76a-dad8744f957f"
    patched = asyncio.run(graph(app, "PATCH", f"/users/{user_id}", {"accountEnabled": False}))
    assert patched.status_code == 403
    assert patched.json()["error"]["code"] == "Authorization_RequestDenied"
    refused = asyncio.run(invoke(app, "Set-User", Identity="builds",
                                 RemotePowerShellEnabled=False))
    assert refused.status_code == 403 and "Set-User" in detail(refused)
    assert row(app, "Get-User", Identity="builds")["RemotePowerShellEnabled"] is True
