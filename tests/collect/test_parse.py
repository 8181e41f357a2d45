"""The recorded tenant reader: lenient where PowerShell is, strict about missing sources."""

import json
import stat
from pathlib import Path

import pytest

from mailwarden.collect.parse import load_snapshot, skipped_counts, snapshot_from_recorded
from mailwarden.collect.recorded import (
    RecordedTenant,
    read_recorded_tenant,
    write_recorded_tenant,
)
from mailwarden.errors import InputError

USER_ID = "6f1c1d2e-0000-4000-8000-000000000001"


def _write(directory: Path, name: str, text: str) -> None:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """A tenant as an administrator would export it by hand with ConvertTo-Json."""
    _write(
        tmp_path,
        "tenant.json",
        json.dumps(
            {
                "TenantId": "t-1",
                "displayName": "Contoso",
                "defaultDomain": "contoso.onmicrosoft.com",
                "verifiedDomains": ["contoso.com", "Contoso.onmicrosoft.com"],
                "collectedAt": "2026-11-01T00:00:00Z",
            }
        ),
    )
    users = [
        {
            "id": USER_ID,
            "userPrincipalName": "HR@contoso.com",
            "accountEnabled": True,
            "assignedLicenses": [],
            "createdDateTime": "2024-01-01T00:00:00Z",
            "lastPasswordChangeDateTime": "2026-10-01T08:00:00Z",
            "signInActivity": {"lastSuccessfulSignInDateTime": "2026-10-30T10:00:00Z"},
        },
        {"id": "no-upn"},
    ]
    # JSON Lines with a byte-order mark, as some exports have.
    _write(tmp_path, "graph/users.json", "\ufeff" + "\n".join(json.dumps(u) for u in users))
    # A lone object where an array is expected, enum as an integer, /Date()/ dates.
    _write(
        tmp_path,
        "exo/Get-Mailbox.json",
        json.dumps(
            {
                "identity": "HR",
                "ExternalDirectoryObjectId": USER_ID,
                "RecipientTypeDetails": 4,
                "AuditEnabled": "False",
                "AuditOwner": "Update, MoveToDeletedItems",
                "WhenCreated": "/Date(1704067200000)/",
            }
        ),
    )
    _write(
        tmp_path,
        "exo/Get-MailboxPermission.json",
        json.dumps(
            [
                {
                    "Identity": "HR",
                    "User": "S-1-5-21-1-2-3-1001",
                    "AccessRights": [1],
                    "IsInherited": False,
                    "Deny": False,
                    "InheritanceType": 1,
                },
                {"Identity": "HR", "User": "leaver@contoso.com", "AccessRights": "FullAccess"},
            ]
        ),
    )
    _write(
        tmp_path,
        "exo/Get-InboxRule.json",
        json.dumps([{"Identity": "HR\\1234", "Name": "x", "DeleteMessage": True}]),
    )
    _write(
        tmp_path,
        "exo/Get-TransportConfig.json",
        json.dumps([{"SmtpClientAuthenticationDisabled": True}]),
    )
    _write(
        tmp_path,
        "errors.json",
        json.dumps({"graph/conditionalAccessPolicies": {"error": "403: Policy.Read.All missing"}}),
    )
    return tmp_path


def test_exported_tenant_reads_leniently(exported: Path) -> None:
    snapshot = load_snapshot(exported)
    assert snapshot.tenant.tenant_id == "t-1"
    assert snapshot.tenant.verified_domains == ("contoso.com", "contoso.onmicrosoft.com")
    (account,) = snapshot.accounts
    assert account.upn == "hr@contoso.com"
    assert account.licenses == ()
    assert account.last_password_change is not None
    (mailbox,) = snapshot.mailboxes
    assert mailbox.recipient_type_details == "SharedMailbox"
    assert mailbox.audit_enabled is False
    assert mailbox.audit_owner == ("Update", "MoveToDeletedItems")
    assert mailbox.when_created is not None and mailbox.when_created.year == 2024
    rights = {p.user: p.access_rights for p in snapshot.mailbox_permissions}
    assert rights == {"S-1-5-21-1-2-3-1001": ("FullAccess",), "leaver@contoso.com": ("FullAccess",)}
    assert snapshot.inbox_rules[0].mailbox == "HR"
    assert snapshot.transport_config is not None
    assert snapshot.transport_config.smtp_client_authentication_disabled is True


def test_missing_and_failed_sources_are_problems_not_empty_data(exported: Path) -> None:
    snapshot = load_snapshot(exported)
    assert "403" in (snapshot.problem("graph/conditionalAccessPolicies") or "")
    assert snapshot.problem("exo/Get-CASMailbox") == "exo/Get-CASMailbox.json was not collected"
    assert snapshot.organization_config is None
    assert snapshot.available("exo/Get-Mailbox")
    assert not snapshot.available("exo/Get-CASMailbox")


def test_unusable_records_are_counted_with_their_reason(exported: Path) -> None:
    snapshot = load_snapshot(exported)
    assert skipped_counts(snapshot.skipped) == {"graph/users": 1}
    (skipped,) = snapshot.skipped
    assert skipped.index == 1 and "userPrincipalName" in skipped.reason


def test_bad_json_names_the_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "graph/users.json", '{"id": "a"}\n{"id": broken}\n')
    with pytest.raises(InputError, match=r"users\.json: line 2"):
        read_recorded_tenant(tmp_path)


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no recorded tenant files"):
        read_recorded_tenant(tmp_path)


def test_writer_round_trips_and_creates_private_files(exported: Path, tmp_path: Path) -> None:
    original = read_recorded_tenant(exported)
    out = tmp_path / "copy"
    write_recorded_tenant(out, original)
    assert snapshot_from_recorded(read_recorded_tenant(out)) == snapshot_from_recorded(original)
    for path in out.rglob("*.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_record_order_does_not_change_the_snapshot() -> None:
    users = [
        {"id": str(i), "userPrincipalName": f"u{i}@contoso.com", "accountEnabled": i % 2 == 0}
        for i in range(5)
    ]
    forward = snapshot_from_recorded(RecordedTenant(data={"graph/users": users}))
    backward = snapshot_from_recorded(RecordedTenant(data={"graph/users": users[::-1]}))
    assert forward == backward
