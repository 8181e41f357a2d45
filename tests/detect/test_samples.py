"""Every published sample file, read end to end, with values checked against its README."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailwarden.detect.engine import Engine


@pytest.fixture(scope="module")
def loaded(samples: Path) -> Any:
    engine = Engine()
    reports = {path.name: engine.load_file(path)
               for path in sorted(samples.rglob("*")) if path.suffix in (".csv", ".json")}
    yield engine, reports
    engine.close()


def rows(engine: Engine, table: str, file_name: str) -> list[dict[str, Any]]:
    return engine.query(f"SELECT * FROM {table} WHERE source_file LIKE $f ORDER BY source_row",
                        {"f": f"%{file_name}"})


def test_every_sample_is_read_without_bad_rows(loaded: Any) -> None:
    _, reports = loaded
    assert len(reports) == 7
    for name, report in reports.items():
        assert report.error is None, name
        assert report.bad_rows == 0, (name, report.bad_samples)


def test_adele_sign_ins(loaded: Any) -> None:
    engine, reports = loaded
    report = reports["sign-in_adelete.csv"]
    assert (report.table, report.rows) == ("signins", 56)
    found = rows(engine, "signins", "sign-in_adelete.csv")
    assert {r["upn"] for r in found} == {"adelev@m365x816222.onmicrosoft.com"}
    assert {r["ip"] for r in found} == {"175.45.176.99"}
    assert {r["ip_prefix"] for r in found} == {"175.45.176.0/24"}
    assert Counter(r["result_code"] for r in found) == {0: 53, 16000: 2, 50058: 1}
    assert all(r["interactive"] and r["client_app"] == "Browser" for r in found)
    assert {r["country"] for r in found} == {"IL"}
    assert {r["ca_status"] for r in found} == {"notApplied"}
    assert len({r["app"] for r in found}) == 14
    assert len({r["resource"] for r in found}) == 17
    times = [r["time"] for r in found]
    assert min(times) >= datetime(2021, 4, 28, 14, 8) and max(times) < datetime(2021, 4, 28, 15, 20)
    first = found[0]
    assert first["time"] == datetime(2021, 4, 28, 14, 8, 45, 221000)
    assert first["app"] == "Azure Portal" and first["success"] is True


def test_disabled_account_times_come_from_authentication_details(loaded: Any) -> None:
    engine, reports = loaded
    assert reports["disable_accounts.csv"].rows == 4
    found = rows(engine, "signins", "disable_accounts.csv")
    assert {r["result_code"] for r in found} == {50057}
    assert {r["upn"] for r in found} == {"johns@m365x816222.onmicrosoft.com"}
    assert {r["country"] for r in found} == {"KP"}
    assert found[0]["time"] == datetime(2021, 4, 19, 12, 13, 19, 483475)
    assert all(datetime(2021, 4, 19, 12, 13) <= r["time"] < datetime(2021, 4, 19, 12, 17)
               for r in found)
    assert found[0]["failure_reason"].startswith("User account is disabled")


def test_office_activity_keeps_exchange_and_counts_the_rest(loaded: Any) -> None:
    engine, reports = loaded
    report = reports["office_activity.csv"]
    assert (report.rows, report.skipped_rows) == (13, 253)
    assert "SharePoint" in report.skipped_reason
    found = rows(engine, "mailbox_audits", "office_activity.csv")
    operations = Counter(r["operation"] for r in found)
    assert operations["MailItemsAccessed"] == 3 and operations["Send"] == 2
    assert operations["New-InboxRule"] == 1 and operations["New-Mailbox"] == 1
    rule = next(r for r in found if r["operation"] == "New-InboxRule")
    assert rule["client_ip"] == "175.45.176.99"  # "175.45.176.99:17362"
    params = {p["name"]: p["value"] for p in rule["parameters"]}
    assert params["name"] == "junk" and "legal" in params["subjectcontainswords"]
    new_mailbox = next(r for r in found if r["operation"] == "New-Mailbox")
    assert new_mailbox["client_ip"] == "2603:1036:4:3f::5"  # "[2603:1036:4:3f::5]:1672"
    assert new_mailbox["actor"] == "nt authority\\system (w3wp)"
    accessed = [r for r in found if r["operation"] == "MailItemsAccessed"]
    assert {r["record_type"] for r in accessed} == {"ExchangeItemAggregated"}  # RecordType 50
    assert "2603:10b6:5:345::11" in {r["client_ip"] for r in accessed}  # ClientIP empty
    assert {r["logon_type"] for r in accessed} == {"owner"}
    assert {r["actor"] for r in accessed} == {"adelev@m365x816222.onmicrosoft.com"}
    system = [r for r in found if r["actor"] == "s-1-5-18"]
    assert {r["client_ip"] for r in system} == {"::1"}
    assert {r["mailbox_upn"] for r in system} == {"teams-public@m365x816222.onmicrosoft.com"}


def test_inbox_rule_sample(loaded: Any) -> None:
    engine, reports = loaded
    assert reports["office_activity_inbox_rule.csv"].rows == 2
    found = rows(engine, "mailbox_audits", "office_activity_inbox_rule.csv")
    by_name = {next(p["value"] for p in r["parameters"] if p["name"] == "name"): r for r in found}
    assert set(by_name) == {"my_rule1", "rule2"}
    first = by_name["my_rule1"]
    params = {p["name"]: p["value"] for p in first["parameters"]}
    assert params["deletemessage"] == "True" and params["bodycontainswords"] == "covid-19"
    assert first["time"] == datetime(2021, 4, 26, 6, 37, 32)
    assert first["client_ip"] == "2a01:110:8068:7:9bf8:aa87:e00a:5f1f"
    assert first["actor"] == "adelev@contoso.onmicrosoft.com"
    second = {p["name"]: p["value"] for p in by_name["rule2"]["parameters"]}
    assert second["movetofolder"] == "Junk Email"
    # No -Mailbox/-Identity parameter: New-InboxRule acted on the caller's own mailbox,
    # which the record names in full through UserId (its ObjectId only says "AdeleV\\rule2").
    assert by_name["rule2"]["target_mailbox"] == "adelev@contoso.onmicrosoft.com"
    assert by_name["rule2"]["object_id"].endswith("/AdeleV\\rule2")


def test_hunting_audit_logs(loaded: Any) -> None:
    engine, reports = loaded
    report = reports["AuditLogs_Hunting.csv"]
    assert (report.table, report.rows, report.rows_without_time) == ("directory_audits", 5, 5)
    found = rows(engine, "directory_audits", "AuditLogs_Hunting.csv")
    assert {r["activity"] for r in found} == {
        "Update application \u2013 Certificates and secrets management"}
    assert {r["category"] for r in found} == {"ApplicationManagement"}
    assert found[0]["initiator"] == "victim@buildseccxpninja.onmicrosoft.com"
    assert found[0]["initiator_ip"] == "45.153.160.2"  # only inside InitiatedBy
    assert found[0]["target_names"] == ["purview-spn-user099"]
    assert {name for r in found for name in r["target_names"]} >= {"EntApp01", "EntApp04"}
    assert found[0]["modified_properties"][0]["name"] == "KeyDescription"
    assert "KeyType=Password" in found[0]["modified_properties"][0]["new_value"]


def test_golden_saml_json_lines(loaded: Any) -> None:
    engine, reports = loaded
    assert reports["AADAuditEvents.json"].rows == 4
    assert reports["OfficeActivityEvents.json"].rows == 1
    audits = rows(engine, "directory_audits", "AADAuditEvents.json")
    assert Counter(r["activity"] for r in audits) == {
        "Update application \u2013 Certificates and secrets management": 2,
        "Update application": 1, "Add delegated permission grant": 1}
    assert {r["initiator"] for r in audits} == {"pgustavo@simulandlabs.com"}
    assert datetime(2021, 8, 2, 13, 25) <= min(r["time"] for r in audits)
    assert "SimuLandApp" in audits[0]["target_names"]
    mail = rows(engine, "mailbox_audits", "OfficeActivityEvents.json")[0]
    assert mail["operation"] == "MailItemsAccessed"
    assert mail["time"] == datetime(2021, 8, 2, 13, 32, 7)
    assert mail["client_info"] == "Client=REST;;"
    assert mail["app_id"] == "00000003-0000-0000-c000-000000000000"
    assert mail["client_app_id"].startswith("5a95e683")
    assert mail["client_ip"] == "1.2.3.4" and mail["folder"] == "\\Inbox"
    assert mail["record_type"] == "ExchangeItemAggregated"
