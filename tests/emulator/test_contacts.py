"""Mail contacts and mail users: served like the other organisation-wide cmdlets, found by
any identity (LegacyExchangeDN included), collected, and what makes a mailbox's forwarding
to a contact by name fail once the tenant is assessed.

Get-MailContact and Get-MailUser take -Identity ("Name, Alias, Distinguished name (DN),
Canonical DN, Email address, GUID") and -ResultSize ("The default value is 1000")
(MicrosoftDocs/office-docs-powershell, exchange/exchange-ps/ExchangePowerShell/
Get-MailContact.md and Get-MailUser.md). Row shapes: see tests/assess/test_forwarding.py.
"""

from __future__ import annotations

from typing import Any

import httpx

from mailwarden.assess import assess
from mailwarden.model.findings import Status
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.assess.test_forwarding import CHRIS
from tests.emulator.emulator_helpers import (
    EXO_SCOPE,
    app_for,
    bearer,
    client_for,
    collect_from,
    run,
    small,
    tenant_id,
)

INVOKE = f"/adminapi/beta/{tenant_id()}/InvokeCommand"


def _body(cmdlet: str, **parameters: Any) -> dict[str, Any]:
    return {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}


def _pages(cmdlet: str, select: str, size: int) -> list[list[dict[str, Any]]]:
    async def main() -> list[list[dict[str, Any]]]:
        async with client_for(app_for()) as client:
            headers = {**await bearer(client, EXO_SCOPE),
                       "Prefer": f"odata.maxpagesize={size}"}
            pages: list[list[dict[str, Any]]] = []
            url: str | None = f"{INVOKE}?$select={select}"
            while url:
                answer = await client.post(url, json=_body(cmdlet, ResultSize="Unlimited"),
                                           headers=headers)
                assert answer.status_code == 200, answer.text
                pages.append(answer.json()["value"])
                url = answer.json().get("@odata.nextLink")
            return pages

    return run(main())


def _invoke(cmdlet: str, **parameters: Any) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for()) as client:
            headers = await bearer(client, EXO_SCOPE)
            return await client.post(INVOKE, json=_body(cmdlet, **parameters), headers=headers)

    return run(main())


def test_contacts_and_mail_users_are_paged_and_selected_like_other_lists() -> None:
    for cmdlet in ("Get-MailContact", "Get-MailUser"):
        source = small().recorded.data[f"exo/{cmdlet}"]
        pages = _pages(cmdlet, "Name,ExternalEmailAddress", 2)
        assert len(pages) == -(-len(source) // 2) and all(len(p) <= 2 for p in pages)
        rows = [row for page in pages for row in page]
        assert rows == [{"Name": r["Name"], "ExternalEmailAddress": r["ExternalEmailAddress"]}
                        for r in source]
        assert all(row["ExternalEmailAddress"].startswith("SMTP:") for row in rows)


def test_a_contact_is_found_by_name_or_legacy_dn_but_is_no_mailbox() -> None:
    contact = small().recorded.data["exo/Get-MailContact"][0]
    for identity in (contact["Name"], contact["LegacyExchangeDN"], contact["PrimarySmtpAddress"]):
        answer = _invoke("Get-MailContact", Identity=identity)
        assert answer.status_code == 200, answer.text
        assert [r["Guid"] for r in answer.json()["value"]] == [contact["Guid"]]
    refused = _invoke("Get-MailboxPermission", Identity=contact["Name"])
    assert refused.status_code == 404
    assert "ManagementObjectNotFoundException" in refused.text


def _collected(recorded: RecordedTenant, **config: Any) -> RecordedTenant:
    app = app_for(recorded, **config)
    tenant = str(recorded.data["tenant"]["tenantId"])
    return collect_from(app, tenant)


def _forwarding_to_chris() -> RecordedTenant:
    """The small synthetic tenant with one more contact, Microsoft's "Chris", and its first
    shared mailbox forwarding to it by name."""
    data = dict(small().recorded.data)
    boxes = [dict(m) for m in data["exo/Get-Mailbox"]]
    shared = next(m for m in boxes if m["RecipientTypeDetails"] == "SharedMailbox"
                  and not m["ForwardingAddress"] and not m["ForwardingSmtpAddress"])
    shared["ForwardingAddress"] = CHRIS["Name"]
    data["exo/Get-Mailbox"] = boxes
    data["exo/Get-MailContact"] = [*data["exo/Get-MailContact"], CHRIS]
    return RecordedTenant(data=data)


def _forwarding_of(recorded: RecordedTenant) -> Any:
    served = next(m for m in _forwarding_to_chris().data["exo/Get-Mailbox"]
                  if m["ForwardingAddress"] == CHRIS["Name"])
    result = assess(snapshot_from_recorded(recorded))
    return next(f for f in result.findings if f.check_id == "external-forwarding"
                and f.resource.upn == served["UserPrincipalName"].lower())


def test_forwarding_to_a_contact_by_name_fails_after_a_live_collection() -> None:
    recorded = _collected(_forwarding_to_chris())
    assert recorded.errors == {}
    assert CHRIS["Name"] in {r["Name"] for r in recorded.data["exo/Get-MailContact"]}
    got = _forwarding_of(recorded)
    assert got.status is Status.FAIL, got.message
    assert "chris@fabrikam.com" in got.message


def test_when_contacts_are_refused_forwarding_by_name_is_an_error() -> None:
    recorded = _collected(_forwarding_to_chris(),
                          failing_sources={"exo/Get-MailContact": 403})
    assert "exo/Get-MailContact" in recorded.errors
    assert "exo/Get-MailContact" not in recorded.data
    got = _forwarding_of(recorded)
    assert got.status is Status.ERROR, got.message
