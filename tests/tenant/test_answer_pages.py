"""Raw Exchange admin API answers saved as recorded-tenant files, and per-mailbox failures
in errors.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailwarden.errors import InputError
from mailwarden.tenant.recorded import (
    RecordedTenant,
    read_recorded_tenant,
    write_recorded_tenant,
)
from mailwarden.tenant.snapshot import snapshot_from_recorded

CONTEXT = ("https://outlook.office.com/adminapi/beta/contoso.onmicrosoft.com/$metadata"
           "#Collection(Exchange.GenericHashTable)")


def page(*rows: dict[str, Any], context: bool = True) -> dict[str, Any]:
    """An InvokeCommand answer as the service sends it: the rows in "value", beside
    "@adminapi.warnings" (always present, declared a collection of strings)."""
    body: dict[str, Any] = {"@odata.context": CONTEXT} if context else {}
    body |= {"adminapi.warnings@odata.type": "#Collection(String)",
             "@adminapi.warnings": [], "value": list(rows)}
    return body


ORGANIZATION = {
    "Name": "m7knio.onmicrosoft.com",
    "Identity": "m7knio.onmicrosoft.com",
    "OAuth2ClientProfileEnabled": True,
    "AuditDisabled@odata.type": "#Boolean",
    "AuditDisabled": True,
    "PublicFoldersEnabled": "Local",
    "DefaultAuthenticationPolicy": None,
}


def _tenant(directory: Path, files: dict[str, Any]) -> Path:
    (directory / "exo").mkdir(parents=True, exist_ok=True)
    (directory / "tenant.json").write_text(json.dumps({"tenantId": "t-1"}))
    for name, value in files.items():
        (directory / f"{name}.json").write_text(json.dumps(value))
    return directory


def test_a_single_object_saved_as_the_answer_page_is_unwrapped(tmp_path: Path) -> None:
    """The Exchange admin API answers even one object as a page: `"@odata.context":
    ".../$metadata#Collection(Exchange.GenericHashTable)", "adminapi.warnings@odata.type":
    "#Collection(String)", "@adminapi.warnings": [], "value": [{...}]` (a public Burp capture
    of Get-Mailbox -Identity, issue12-facts section 7.2); CIPP's New-ExoRequest returns
    `.value` and reads Get-OrganizationConfig from it (CIPP-API Invoke-ListMailboxes.ps1).
    The record's properties follow rknightion/graph2otel's live Get-OrganizationConfig
    fixture (AuditDisabled, OAuth2ClientProfileEnabled, PublicFoldersEnabled "Local")."""
    directory = _tenant(tmp_path, {
        "exo/Get-OrganizationConfig": page(ORGANIZATION),
        "exo/Get-TransportConfig": page({"Identity": "Transport Settings",
                                         "SmtpClientAuthenticationDisabled": True},
                                        context=False),
        "exo/Get-Mailbox": page({"Identity": "hr", "PrimarySmtpAddress": "hr@contoso.com"},
                                context=False),
    })
    recorded = read_recorded_tenant(directory)
    assert recorded.data["exo/Get-OrganizationConfig"]["Identity"] == "m7knio.onmicrosoft.com"
    # A list source saved as a page, annotations and all, is its rows.
    assert recorded.data["exo/Get-Mailbox"] == [
        {"Identity": "hr", "PrimarySmtpAddress": "hr@contoso.com"}]
    snapshot = snapshot_from_recorded(recorded)
    assert snapshot.organization_config is not None
    assert snapshot.organization_config.audit_disabled is True
    assert snapshot.organization_config.oauth2_client_profile_enabled is True
    assert snapshot.transport_config is not None
    assert snapshot.transport_config.smtp_client_authentication_disabled is True
    assert [m.identity for m in snapshot.mailboxes] == ["hr"]


def test_an_answer_page_without_the_object_is_a_failed_source(tmp_path: Path) -> None:
    """An empty `value` is a real answer (graph2otel's exoclient: an absent, null or empty
    "value" all "occur live"); for a single object it means the object is missing."""
    directory = _tenant(tmp_path, {"exo/Get-OrganizationConfig": page()})
    recorded = read_recorded_tenant(directory)
    assert "exo/Get-OrganizationConfig" not in recorded.data
    assert "no object" in (recorded.problem("exo/Get-OrganizationConfig") or "")
    crowded = _tenant(tmp_path / "two", {"exo/Get-TransportConfig": page({"a": 1}, {"b": 2})})
    with pytest.raises(InputError, match="2 objects where one object is expected"):
        read_recorded_tenant(crowded)


def test_per_mailbox_failures_round_trip_through_errors_json(tmp_path: Path) -> None:
    tenant = RecordedTenant(
        data={"tenant": {"tenantId": "t-1"}, "exo/Get-InboxRule": []},
        errors={"exo/Get-RecipientPermission": "HTTP 401: User is not allowed to call it"},
        mailbox_errors={"exo/Get-InboxRule": {"HR@contoso.com": "read scope"}},
    )
    write_recorded_tenant(tmp_path, tenant)
    written = json.loads((tmp_path / "errors.json").read_text())
    assert written == {
        "exo/Get-InboxRule": {"mailboxes": {"HR@contoso.com": "read scope"}},
        "exo/Get-RecipientPermission": {"error": "HTTP 401: User is not allowed to call it"},
    }
    again = read_recorded_tenant(tmp_path)
    assert again.mailbox_errors == {"exo/Get-InboxRule": {"HR@contoso.com": "read scope"}}
    assert again.errors == {"exo/Get-RecipientPermission":
                            "HTTP 401: User is not allowed to call it"}
    assert "exo/Get-InboxRule" in again.data  # collected, except for that one mailbox
    snapshot = snapshot_from_recorded(again)
    assert snapshot.available("exo/Get-InboxRule")
    assert snapshot.mailbox_problems == {"exo/Get-InboxRule": {"hr@contoso.com": "read scope"}}
