"""The recorded tenant reader: lenient where PowerShell is, strict about missing sources."""

from __future__ import annotations

import gc
import json
import random
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailwarden.errors import InputError
from mailwarden.model.inventory import Snapshot
from mailwarden.synth import generate
from mailwarden.tenant import exchange, graph, lenient, records
from mailwarden.tenant.recorded import (
    RecordedTenant,
    read_recorded_tenant,
    write_recorded_tenant,
)
from mailwarden.tenant.records import canonical_order
from mailwarden.tenant.snapshot import load_snapshot, skipped_counts, snapshot_from_recorded

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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    key: str | None
    rest: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class _NumberedRow:
    key: int
    rest: str = ""


def test_canonical_order_is_the_order_of_reprs() -> None:
    # Quotes, backslashes, prefixes of one another, non-ASCII, None, and ties.
    keys = ["a", "ab", "a'", 'a"', "a'\"", "a\\", "a\\'", "", None, "Z", "é", "a b", "a\n"]
    rng = random.Random(5)
    rows = [_Row(key=rng.choice(keys), rest=rng.randrange(4)) for _ in range(400)]
    assert canonical_order(rows) == tuple(sorted(rows, key=repr))
    numbered = [_NumberedRow(key=rng.randrange(200), rest=str(i)) for i in range(50)]
    assert canonical_order(numbered) == tuple(sorted(numbered, key=repr))
    mixed: list[object] = [_Row(key="b"), _NumberedRow(key=1), _Row(key="a"), "text"]
    assert canonical_order(mixed) == tuple(sorted(mixed, key=repr))


class _ReferenceRecord:
    """The case-insensitive record as first written (a lower-cased copy of every record)
    with its plain converters: the oracle the faster reader must agree with."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self._lower = {str(k).lower(): v for k, v in raw.items()}

    def get(self, *names: str) -> Any:
        for name in names:
            value = self._lower.get(name.lower())
            if value is not None:
                return value
        return None

    def text(self, *names: str) -> str | None:
        return _reference_text(self.get(*names))

    def flag(self, *names: str) -> bool | None:
        return _reference_bool(self.get(*names))

    def when(self, *names: str) -> datetime | None:
        value = self.get(*names)
        if isinstance(value, Mapping):
            value = _ReferenceRecord(value).get("value", "DateTime")
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        match = re.match(r"^/Date\((-?\d+)([+-]\d{4})?\)/$", text)
        if match:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
        if text.startswith("0001-01-01"):
            return None
        iso = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
        try:
            parsed = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", iso))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def texts(self, *names: str) -> tuple[str, ...] | None:
        return _reference_texts(self.get(*names))

    def child(self, *names: str) -> _ReferenceRecord:
        value = self.get(*names)
        return _ReferenceRecord(value if isinstance(value, Mapping) else {})


def _reference_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        inner = _ReferenceRecord(value).get("Name", "DisplayName", "Identity", "Value", "value")
        return _reference_text(inner) if inner is not None else None
    return str(value).strip() or None


def _reference_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    lowered = str(value).strip().lower()
    if lowered in {"true", "$true", "1", "yes", "on", "enabled"}:
        return True
    if lowered in {"false", "$false", "0", "no", "off", "disabled"}:
        return False
    return None


def _reference_texts(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        items = [_reference_text(v) for v in value]
        return tuple(i for i in items if i)
    if isinstance(value, Mapping):
        text = _reference_text(value)
        return (text,) if text else ()
    text = str(value).strip().strip("{}")
    return tuple(p.strip() for p in text.split(",") if p.strip()) if text else ()


def _reference_snapshot(recorded: RecordedTenant, monkeypatch: pytest.MonkeyPatch) -> Snapshot:
    with monkeypatch.context() as patch:
        for module in (graph, exchange, records):
            patch.setattr(module, "Record", _ReferenceRecord)
        patch.setattr(graph, "to_text", _reference_text)
        patch.setattr(lenient, "to_texts", _reference_texts)  # inside to_flags
        patch.setattr(records, "canonical_order", lambda items: tuple(sorted(items, key=repr)))
        return snapshot_from_recorded(recorded)


def _recase(key: str, rng: random.Random) -> str:
    return rng.choice([key, key.lower(), key.upper(), key.swapcase()])


def _perturbed(data: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The same tenant spelled every way SPEC section 4 allows, plus unusable records."""
    rng = random.Random(seed)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    codes = {name: number for number, name in exchange.RECIPIENT_TYPE_DETAILS.items()}
    result: dict[str, Any] = {}
    for source, rows in data.items():
        if not isinstance(rows, list):
            result[source] = rows
            continue
        changed: list[Any] = []
        for row in rows:
            row = {_recase(k, rng): v for k, v in row.items()}
            for key, value in list(row.items()):
                lowered = key.lower()
                if lowered == "recipienttypedetails" and value in codes and rng.random() < 0.5:
                    row[key] = codes[value] if rng.random() < 0.5 else str(codes[value])
                elif lowered.startswith("when") and isinstance(value, str) and rng.random() < 0.5:
                    millis = (datetime.fromisoformat(value) - epoch) // timedelta(milliseconds=1)
                    row[key] = f"/Date({millis})/"
                elif lowered.startswith("audit") and isinstance(value, list) and value:
                    row[key] = ", ".join(value) if rng.random() < 0.5 else value
                elif lowered == "accessrights" and value == ["FullAccess"]:
                    row[key] = rng.choice([[1], 1, "1", "FullAccess"])
            if rng.random() < 0.02:
                row[_recase("DisplayName", rng).swapcase()] = "a second spelling"
            changed.append(row)
        if rows and rng.random() < 0.5:
            changed.insert(rng.randrange(len(changed)), "not an object")
            changed.append({"Unrelated": True})
        result[source] = changed
    return result


def test_a_medium_tenant_reads_as_the_plain_reader_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = generate("medium", seed=3).recorded
    fast = snapshot_from_recorded(recorded)
    assert len(fast.accounts) == 5000 and fast.mailboxes and fast.mailbox_permissions
    assert fast == _reference_snapshot(recorded, monkeypatch)

    lenient_spelling = RecordedTenant(data=_perturbed(recorded.data, seed=11))
    fast_lenient = snapshot_from_recorded(lenient_spelling)
    assert fast_lenient == _reference_snapshot(lenient_spelling, monkeypatch)
    assert sum(skipped_counts(fast_lenient.skipped).values()) >= 5
    assert len(fast_lenient.accounts) == len(fast.accounts)


def test_loading_leaves_the_cyclic_collector_as_it_found_it(exported: Path) -> None:
    assert gc.isenabled()
    load_snapshot(exported)
    assert gc.isenabled()
    with pytest.raises(InputError):
        load_snapshot(exported / "graph")  # no tenant files there
    assert gc.isenabled()
    gc.disable()
    try:
        load_snapshot(exported)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_whitespace_around_the_json_is_ignored_and_lines_count_from_the_content(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "graph/groups.json", '\n\n  [{"id": "g"}]\n\u00a0\u2028')
    assert read_recorded_tenant(tmp_path).data["graph/groups"] == [{"id": "g"}]
    _write(tmp_path, "graph/users.json", '\n\n{"id": "a"}\n{"id": broken}\n')
    with pytest.raises(InputError, match=r"users\.json: line 2"):
        read_recorded_tenant(tmp_path)
    _write(tmp_path, "graph/users.json", " \n\t\n")
    with pytest.raises(InputError, match="the file is empty"):
        read_recorded_tenant(tmp_path)


def test_a_recorded_tenant_repr_is_a_summary_not_its_data() -> None:
    """asyncio and anyio put the repr of a task's awaited result into messages they build
    on every cancelled scope; a tenant's whole data there would cost every request."""
    recorded = generate(60, seed=5).recorded
    text = repr(recorded)
    assert text.startswith(f"RecordedTenant({len(recorded.data)} sources")
    assert len(text) < 200


def test_a_tenant_assessed_as_written_is_the_tenant_read_back(tmp_path: Path) -> None:
    """A watch cycle that has just collected assesses the tenant it wrote without reading
    it back (`scan_directory(..., written=)`): the snapshot must be the one the files give,
    failed sources, failed mailboxes and licence limitations included."""
    from dataclasses import replace

    from mailwarden.pipeline import scan_directory, write_tenant_directory

    recorded = generate(60, seed=8).recorded
    data = dict(recorded.data)
    data.pop("exo/Get-InboxRule")
    data.pop("graph/policies", None)
    recorded = replace(
        recorded, data=data,
        errors={"exo/Get-InboxRule": "HTTP 500 from Exchange"},
        limitations={"graph/policies": "needs Entra ID P1"},
        mailbox_errors={"exo/Get-MailboxPermission": {"room-1@contoso.example": "HTTP 500"}})
    write_tenant_directory(tmp_path, recorded)
    db = f"sqlite:///{tmp_path / 'history.db'}"
    as_written = scan_directory(tmp_path, db_url=db, written=recorded,
                                at=datetime(2026, 12, 6, tzinfo=UTC))
    read_back = scan_directory(tmp_path, db_url=db, at=datetime(2026, 12, 6, tzinfo=UTC))
    assert as_written.snapshot == read_back.snapshot
    assert as_written.snapshot == load_snapshot(tmp_path)
    assert as_written.result.findings == read_back.result.findings
