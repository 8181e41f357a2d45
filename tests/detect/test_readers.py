"""Readers on hand-written files of every accepted format, including broken ones."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailwarden.detect.engine import Engine
from mailwarden.detect.sniff import sniff
from mailwarden.errors import InputError
from tests.detect.detect_factory import at, audit, iso, signin, ual, write_jsonl


@pytest.fixture
def engine() -> Any:
    with Engine(memory_limit="256MB") as value:
        yield value


def table(engine: Engine, name: str) -> list[dict[str, Any]]:
    return engine.query(f"SELECT * FROM {name} ORDER BY source_file, source_row")


def test_graph_sign_ins_as_a_saved_page(engine: Engine, tmp_path: Path) -> None:
    page = {"@odata.context": "https://graph/$metadata#auditLogs/signIns",
            "value": [signin(at(0), "ann", "[2001:db8::5]:443", 50126, client="IMAP4"),
                      signin(at(1), "ann", "::ffff:192.0.2.9", 0)]}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page, indent=2))
    report = engine.load_file(path)
    assert (report.table, report.rows, report.bad_rows) == ("signins", 2, 0)
    first, second = table(engine, "signins")
    assert first["ip"] == "2001:db8::5" and first["ip_prefix"] == "2001:db8:0:0::/64"
    assert first["protocol"] == "imap" and first["legacy_protocol"] is True
    assert first["result_code"] == 50126 and first["success"] is False
    assert first["failure_reason"] == "code 50126" and first["country"] == "NL"
    assert second["ip"] == "192.0.2.9" and second["ip_prefix"] == "192.0.2.0/24"
    assert second["time"] == datetime(2026, 3, 2, 9, 1) and second["upn"] == "ann@contoso.example"


def test_sign_in_json_array_and_non_interactive_log(engine: Engine, tmp_path: Path) -> None:
    records = [{"TimeGenerated": "2026-03-02T09:00:00.1234567Z", "Type":
                "AADNonInteractiveUserSignInLogs", "UserPrincipalName": "Bob@Contoso.Example",
                "ResultType": "50126", "IPAddress": "192.0.2.10:50123", "ClientAppUsed":
                "Authenticated SMTP", "Status": json.dumps({"errorCode": 50126}),
                "LocationDetails": json.dumps({"countryOrRegion": "DE"}),
                "UserAgent": "BAV2ROPC"}]
    path = tmp_path / "nonint.json"
    path.write_text(json.dumps(records))
    assert engine.load_file(path).rows == 1
    row = table(engine, "signins")[0]
    assert row["upn"] == "bob@contoso.example" and row["interactive"] is False
    assert row["ip"] == "192.0.2.10" and row["protocol"] == "smtp" and row["country"] == "DE"
    assert row["user_agent"] == "BAV2ROPC"


def test_admin_center_sign_in_csv(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "InteractiveSignIns.csv"
    path.write_text(
        "\ufeffDate (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,"
        "Application,Resource,IP address,Location,Status,Sign-in error code,Failure reason,"
        "Client app,Device ID,Conditional Access\r\n"
        "2026-03-02T09:00:00Z,r1,Mozilla,c1,u1,Ann,ann@contoso.example,Outlook,Exchange,"
        "192.0.2.1,\"Amsterdam, Noord-Holland, NL\",Success,,,Browser,dev-1,Not Applied\r\n"
        "2026-03-02T09:05:00Z,r2,python,c2,u1,Ann,ann@contoso.example,Outlook,Exchange,"
        "192.0.2.1,\"Amsterdam, Noord-Holland, NL\",Failure,50126,Invalid password,IMAP4,,\r\n",
        encoding="utf-8")
    report = engine.load_file(path)
    assert "admin center" in report.format and report.rows == 2
    ok, failed = table(engine, "signins")
    assert ok["result_code"] == 0 and ok["success"] and ok["device_id"] == "dev-1"
    assert ok["country"] == "NL" and ok["request_id"] == "r1"
    assert failed["result_code"] == 50126 and failed["failure_reason"] == "Invalid password"
    assert failed["protocol"] == "imap" and failed["user_agent"] == "python"


def test_admin_center_audit_csv(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "AuditLogs.csv"
    path.write_text(
        "Date (UTC),CorrelationId,Service,Category,Activity,Result,ResultReason,ActorType,"
        "ActorDisplayName,ActorObjectId,ActorUserPrincipalName,IPAddress,Target1Type,"
        "Target1DisplayName,Target1ObjectId,Target1UserPrincipalName,"
        "Target1ModifiedProperty1Name,Target1ModifiedProperty1OldValue,"
        "Target1ModifiedProperty1NewValue\n"
        "2026-03-02T10:00:00+00:00,c1,Core Directory,UserManagement,Update user,success,,User,"
        "Admin,a1,Admin@Contoso.Example,203.0.113.5,User,HR,h1,HR@contoso.example,"
        "AccountEnabled,[false],[true]\n", encoding="utf-8")
    report = engine.load_file(path)
    assert report.table == "directory_audits" and report.rows == 1
    row = table(engine, "directory_audits")[0]
    assert row["activity"] == "Update user" and row["initiator"] == "admin@contoso.example"
    assert row["initiator_ip"] == "203.0.113.5" and row["target_upns"] == ["hr@contoso.example"]
    assert row["target_ids"] == ["h1"]
    assert row["modified_properties"] == [
        {"name": "AccountEnabled", "old_value": "[false]", "new_value": "[true]"}]


def test_graph_directory_audits(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "audits.json"
    path.write_text(json.dumps([audit(at(0), "Reset user password", "hr@contoso.example")]))
    assert engine.load_file(path).rows == 1
    row = table(engine, "directory_audits")[0]
    assert row["activity"] == "Reset user password" and row["target_upns"] == [
        "hr@contoso.example"]
    assert row["initiator_ip"] == "203.0.113.50" and row["time"] == datetime(2026, 3, 2, 9)


def _audit_data(operation: str) -> dict[str, Any]:
    return ual(at(0), operation, "Eve@Contoso.Example", mailbox="HR@contoso.example",
               ip="[2001:db8::9]:1234", parameters=[("Identity", "hr")])


def test_purview_csv_export(engine: Engine, tmp_path: Path) -> None:
    data = json.dumps(_audit_data("MailItemsAccessed"), indent=2).replace('"', '""')
    sharepoint = json.dumps({"CreationTime": "2026-03-02T09:00:00", "Operation": "FileAccessed",
                             "Workload": "SharePoint", "RecordType": 6}).replace('"', '""')
    path = tmp_path / "audit_export.csv"
    path.write_text(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,"
        "AssociatedAdminUnitsNames\n"
        f'r1,2026-03-02T09:00:00.0000000Z,ExchangeItem,MailItemsAccessed,eve,"{data}",,\n'
        f'r2,2026-03-02T09:00:00.0000000Z,SharePointFileOperation,FileAccessed,eve,'
        f'"{sharepoint}",,\n', encoding="utf-8")
    report = engine.load_file(path)
    assert (report.rows, report.skipped_rows) == (1, 1)
    row = table(engine, "mailbox_audits")[0]
    assert row["operation"] == "MailItemsAccessed" and row["actor"] == "eve@contoso.example"
    assert row["mailbox_upn"] == "hr@contoso.example" and row["client_ip"] == "2001:db8::9"
    assert row["logon_type"] == "delegate" and row["record_type"] == "ExchangeItem"
    assert row["time"] == datetime(2026, 3, 2, 9)


def test_search_unified_audit_log_json(engine: Engine, tmp_path: Path) -> None:
    records = [{"RunspaceId": "x", "RecordType": "ExchangeAdmin",
                "CreationDate": "/Date(1772442000000)/", "UserIds": "admin@contoso.example",
                "Operations": "Set-Mailbox", "ResultIndex": 1, "ResultCount": 1,
                "AuditData": json.dumps({k: v for k, v in _audit_data("Set-Mailbox").items()
                                         if k != "CreationTime"})}]
    path = tmp_path / "sual.json"
    path.write_text(json.dumps(records, indent=4))
    assert engine.load_file(path).rows == 1
    row = table(engine, "mailbox_audits")[0]
    assert row["time"] == datetime(2026, 3, 2, 9, 0)  # /Date(ms)/ of the outer record
    assert row["operation"] == "Set-Mailbox" and row["target_mailbox"] == "hr@contoso.example"


def test_graph_audit_records_name_the_actor_by_upn_not_user_key(engine: Engine,
                                                                 tmp_path: Path) -> None:
    """The query API's top-level userId is the classic UserKey, userPrincipalName the
    classic UserId (live, 500 of 500 records: rknightion/graph2otel, internal/collectors/
    m365/unifiedaudit/unifiedaudit_test.go): the actor is the UPN, also where auditData
    does not repeat it."""
    records = [{"id": f"g{n}", "createdDateTime": iso(at(n)), "auditLogRecordType": "ExchangeItem",
                "operation": "Send", "service": "Exchange", "userType": "Regular",
                "userId": "10037FFE8E38C3F1", "userPrincipalName": "eve@contoso.example",
                "auditData": data} for n, data in enumerate((
                    {"MailboxOwnerUPN": "hr@contoso.example", "UserId": "eve@contoso.example"},
                    {"MailboxOwnerUPN": "hr@contoso.example"}))]
    path = tmp_path / "query.json"
    path.write_text(json.dumps({"value": records}))
    assert engine.load_file(path).rows == 2
    assert {row["actor"] for row in table(engine, "mailbox_audits")} == {"eve@contoso.example"}


def test_graph_audit_log_query_records(engine: Engine, tmp_path: Path) -> None:
    record = {"id": "g1", "createdDateTime": iso(at(5)), "auditLogRecordType": "exchangeItem",
              "operation": "Send", "service": "Exchange",
              "userPrincipalName": "eve@contoso.example",
              "clientIp": "192.0.2.44", "auditData": {"MailboxOwnerUPN": "hr@contoso.example",
                                                      "LogonType": 2, "Item": {"Subject": "hi"}}}
    path = tmp_path / "query.json"
    path.write_text(json.dumps({"value": [record]}))
    assert engine.load_file(path).rows == 1
    row = table(engine, "mailbox_audits")[0]
    assert row["operation"] == "Send" and row["actor"] == "eve@contoso.example"
    assert row["client_ip"] == "192.0.2.44" and row["item_subject"] == "hi"
    assert row["time"] == datetime(2026, 3, 2, 9, 5)


def test_bad_json_lines_are_counted_with_samples(engine: Engine, tmp_path: Path) -> None:
    good = json.dumps(signin(at(0), "ann", "192.0.2.1"))
    bad_time = json.dumps({**signin(at(1), "ann", "192.0.2.1"), "createdDateTime": "yesterday"})
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(f'{good}\r\n{{"broken": \r\n\r\n[1, 2]\r\n{bad_time}\r\n{good}\r\n'.encode())
    report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 3)
    reasons = {(bad.row, bad.reason) for bad in report.bad_samples}
    assert reasons == {(2, "not valid JSON"), (4, "not a JSON object"), (5, "unreadable time")}
    assert next(b.sample for b in report.bad_samples if b.row == 5) == "yesterday"


def test_bad_csv_rows_are_counted_with_samples(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "CreatedDateTime [UTC],UserPrincipalName,ResultType,IPAddress\n"
        '"4/28/2021, 2:08:45.221 PM",a@contoso.example,0,192.0.2.1\n'
        "4/28/2021,b@contoso.example\n"
        '"4/28/2021, 2:09:00.000 PM",c@contoso.example,50126,192.0.2.2,extra\n'
        '"not a date",d@contoso.example,0,192.0.2.3\n'
        '"4/28/2021, 3:00:00.000 PM",e@contoso.example,0,192.0.2.4\n', encoding="utf-8")
    report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 3)
    lines = sorted(bad.row for bad in report.bad_samples if bad.row and "column" in bad.reason)
    assert lines == [3, 4]
    assert any(b.reason == "unreadable time" and b.sample == "not a date"
               for b in report.bad_samples)
    assert [r["upn"] for r in table(engine, "signins")] == ["a@contoso.example",
                                                           "e@contoso.example"]


def test_malformed_json_array_is_recovered_element_by_element(engine: Engine,
                                                                tmp_path: Path) -> None:
    good = json.dumps(signin(at(0), "ann", "192.0.2.1"))
    path = tmp_path / "broken.json"
    path.write_text(f'[\n  {good},\n  {{"userPrincipalName": "x", ,}},\n  {good}\n]\n')
    report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 1)
    assert report.bad_samples[0].row == 2 and report.bad_samples[0].reason == "not valid JSON"
    assert report.notes and "malformed" in report.notes[0]


def test_gzip_is_recognised_by_content(engine: Engine, tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "x.jsonl", [ual(at(0), "Send", "eve@contoso.example")])
    packed = tmp_path / "logs.dat"  # no .gz suffix on purpose
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    report = engine.load_file(packed)
    assert report.rows == 1 and "gzip" in report.format
    assert table(engine, "mailbox_audits")[0]["operation"] == "Send"


def test_unrecognised_and_empty_files_are_reported_not_raised(engine: Engine,
                                                              tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("name,colour\napple,red\n")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    for path in (other, empty):
        report = engine.load_file(path)
        assert report.error and report.table is None and report.rows == 0
    with pytest.raises(InputError, match="not a recognised"):
        sniff(other)
