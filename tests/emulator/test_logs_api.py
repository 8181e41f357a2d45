"""The emulator's log endpoints: filters, order and paging of sign-ins and directory
audits, the reports throttle, and the audit log query lifecycle."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from starlette.applications import Starlette

from mailwarden.emulator import EmulatorConfig, create_app, emulator_of
from mailwarden.emulator.logs_odata import QueryError, ReportsLimiter, parse_time_filter
from mailwarden.emulator.logs_query import audit_log_record
from mailwarden.emulator.logs_store import parse_time, read_log_directory
from mailwarden.synth.logs import SyntheticLogs, synthetic_logs
from tests.emulator.emulator_helpers import GRAPH_SCOPE, all_pages, bearer, client_for, run, small

FILTER = "createdDateTime ge 2026-10-05T00:00:00Z and createdDateTime lt 2026-10-12T00:00:00Z"


@functools.cache
def logs() -> SyntheticLogs:
    tenant = small()
    assert tenant.model is not None
    return synthetic_logs(tenant.model, size=tenant.size, seed=tenant.seed)


def app_with_logs(**config: Any) -> Starlette:
    return create_app(small().recorded, config=EmulatorConfig(**config), logs=logs().by_kind())



def _in_window(row: dict[str, Any]) -> bool:
    moment = parse_time(row["createdDateTime"])
    assert moment is not None
    return "2026-10-05" <= moment.strftime("%Y-%m-%d") < "2026-10-12"


def test_sign_ins_filtered_paged_newest_first() -> None:
    async def main() -> None:
        async with client_for(app_with_logs()) as client:
            rows, pages = await all_pages(
                client, f"/v1.0/auditLogs/signIns?$filter={FILTER}&$top=50")
            expected = [r for r in logs().signins if _in_window(r)]
            assert {r["id"] for r in rows} == {r["id"] for r in expected}
            assert len(rows) == len(expected) > 100
            assert pages == -(-len(expected) // 50)
            times = [r["createdDateTime"] for r in rows]
            assert times == sorted(times, reverse=True)
            ascending, _ = await all_pages(
                client, f"/beta/auditLogs/signIns?$filter={FILTER}&$orderby=createdDateTime asc"
                        "&$top=1000")
            assert [r["id"] for r in ascending] == [r["id"] for r in reversed(rows)]

    run(main())


def test_directory_audits_filter_on_activity_time_and_default_page() -> None:
    async def main() -> None:
        async with client_for(app_with_logs()) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            everything = await client.get("/v1.0/auditLogs/directoryAudits", headers=headers)
            assert len(everything.json()["value"]) == len(logs().directory_audits)
            middle = logs().directory_audits[len(logs().directory_audits) // 2]
            stamp = middle["activityDateTime"]
            response = await client.get(
                f"/v1.0/auditLogs/directoryAudits?$filter=activityDateTime gt {stamp}",
                headers=headers)
            later = [r for r in logs().directory_audits if r["activityDateTime"] > stamp]
            assert {r["id"] for r in response.json()["value"]} == {r["id"] for r in later}

    run(main())


def test_paging_neither_repeats_nor_skips_when_records_arrive_meanwhile() -> None:
    async def main() -> None:
        app = app_with_logs()
        async with client_for(app) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            first = (await client.get(f"/v1.0/auditLogs/signIns?$filter={FILTER}&$top=100",
                                      headers=headers)).json()
            newest = dict(first["value"][0], id="arrived-later")
            emulator_of(app).state.add_log_records("signIns", [newest])
            rest, _ = await all_pages(client, first["@odata.nextLink"])
            ids = [r["id"] for r in first["value"] + rest]
            assert len(ids) == len(set(ids))
            assert len(ids) == len([r for r in logs().signins if _in_window(r)])

    run(main())


@pytest.mark.parametrize("query, message", [
    ("$top=1001", "Invalid page size"),
    ("$filter=userPrincipalName eq 'a@b.c'", "not supported"),
    ("$filter=createdDateTime ge yesterday", "Invalid DateTimeOffset"),
    ("$orderby=userPrincipalName", "not supported"),
    ("$skiptoken=garbage", "skiptoken"),
])
def test_bad_query_options_are_refused_like_graph(query: str, message: str) -> None:
    async def main() -> None:
        async with client_for(app_with_logs()) as client:
            response = await client.get(f"/v1.0/auditLogs/signIns?{query}",
                                        headers=await bearer(client, GRAPH_SCOPE))
            assert response.status_code == 400
            assert message in response.json()["error"]["message"]

    run(main())


def test_time_filter_takes_the_tightest_bounds() -> None:
    window = parse_time_filter("createdDateTime ge 2026-01-01T00:00:00Z and createdDateTime gt "
                               "2026-01-02T00:00:00Z and createdDateTime le 2026-01-05T00:00:00Z",
                               "createdDateTime")
    assert window.start == parse_time("2026-01-02T00:00:00Z") and not window.start_inclusive
    assert window.end == parse_time("2026-01-05T00:00:00Z") and window.end_inclusive
    with pytest.raises(QueryError):
        parse_time_filter("createdDateTime ge 2026-01-01 or createdDateTime lt 2026-01-02",
                          "createdDateTime")


def test_reports_throttle_answers_429_with_retry_after() -> None:
    async def main() -> None:
        async with client_for(app_with_logs(reports_limit=5, reports_window=10.0)) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            statuses = []
            for _ in range(6):
                response = await client.get("/v1.0/auditLogs/directoryAudits?$top=1",
                                            headers=headers)
                statuses.append(response.status_code)
            assert statuses == [200] * 5 + [429]
            assert 0 < float(response.headers["Retry-After"]) <= 10
            # The throttle is per tenant for the reports, not per endpoint.
            other = await client.get("/v1.0/auditLogs/signIns?$top=1", headers=headers)
            assert other.status_code == 429

    run(main())


def test_reports_limiter_frees_a_slot_when_the_window_passes() -> None:
    now = [0.0]
    limiter = ReportsLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.wait() == 0 and limiter.wait() == 0
    assert limiter.wait() == pytest.approx(10.0)
    now[0] = 10.0
    assert limiter.wait() == 0


def test_audit_query_lifecycle_and_records() -> None:
    async def main() -> None:
        async with client_for(app_with_logs(audit_query_polls=2)) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            created = await client.post("/v1.0/security/auditLog/queries", headers=headers, json={
                "@odata.type": "#microsoft.graph.security.auditLogQuery",
                "displayName": "mailbox audit", "filterStartDateTime": "2026-10-01T00:00:00Z",
                "filterEndDateTime": "2026-11-01T00:00:00Z",
                "recordTypeFilters": ["exchangeAdmin", "exchangeItem"]})
            assert created.status_code == 201, created.text
            query = created.json()
            assert query["status"] == "notStarted"
            url = f"/v1.0/security/auditLog/queries/{query['id']}"
            early = await client.get(url + "/records", headers=headers)
            assert early.status_code == 400 and "notStarted" in early.text
            statuses = [(await client.get(url, headers=headers)).json()["status"]
                        for _ in range(3)]
            assert statuses == ["running", "running", "succeeded"]
            records, pages = await all_pages(client, url + "/records?$top=500")
            # The synthetic audit log reaches back further than the query's range.
            wanted = [r for r in logs().ual if r["RecordType"] in (1, 2)
                      and "2026-10-01" <= r["CreationTime"] < "2026-11-01"]
            assert {r["id"] for r in records} == {r["Id"] for r in wanted}
            assert pages == -(-len(wanted) // 500)
            sample = records[0]
            assert sample["auditLogRecordType"] in {"ExchangeAdmin", "ExchangeItem"}
            assert sample["auditData"]["Id"] == sample["id"]
            assert sample["createdDateTime"].endswith("Z")

    run(main())


def test_audit_query_errors() -> None:
    async def main() -> None:
        async with client_for(app_with_logs(failing_sources={"logs/ual": 403})) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            missing = await client.get("/v1.0/security/auditLog/queries/nope", headers=headers)
            assert missing.status_code == 404
            body = {"filterStartDateTime": "2026-10-01T00:00:00Z",
                    "filterEndDateTime": "2026-11-01T00:00:00Z"}
            denied = await client.post("/v1.0/security/auditLog/queries", headers=headers,
                                       json=body)
            assert denied.status_code == 403
        async with client_for(app_with_logs()) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            backwards = await client.post("/beta/security/auditLog/queries", headers=headers,
                                          json={"filterStartDateTime": "2026-11-01T00:00:00Z",
                                                "filterEndDateTime": "2026-10-01T00:00:00Z"})
            assert backwards.status_code == 400
            unsigned = await client.get("/v1.0/auditLogs/signIns")
            assert unsigned.status_code == 401

    run(main())


def test_audit_log_record_shape() -> None:
    admin = next(r for r in logs().ual if r["RecordType"] == 1)
    record = audit_log_record(admin)
    assert record["auditLogRecordType"] == "ExchangeAdmin"
    assert record["userType"] == "Admin"
    assert record["service"] == "Exchange"
    assert record["userPrincipalName"] == admin["UserId"]
    assert record["auditData"]["@odata.type"].endswith("exchangeAdminAuditRecord")
    assert record["auditData"]["Parameters"] == admin["Parameters"]


def test_audit_log_record_user_fields_are_crossed_as_live_records_have_them() -> None:
    """The query API's top-level userId holds the classic UserKey and userPrincipalName
    the classic UserId, measured on 500 of 500 live records (rknightion/graph2otel,
    internal/collectors/m365/unifiedaudit/unifiedaudit_test.go,
    TestTopLevelUserIDIsTheClassicUserKey); the enum values are the v1.0 schema's
    (auditLogRecordType ExchangeItem, auditLogUserType Regular)."""
    item = {**next(r for r in logs().ual if r["RecordType"] == 2),
            "UserKey": "10037FFE8E38C3F1", "UserId": "rob@m7kni.io"}
    record = audit_log_record(item)
    assert record["userId"] == "10037FFE8E38C3F1"
    assert record["userPrincipalName"] == "rob@m7kni.io"
    assert record["auditLogRecordType"] == "ExchangeItem" and record["userType"] == "Regular"


def test_log_directory_is_read_for_serving(tmp_path: Any) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "signIns.json").write_text(
        '{"id": "a", "createdDateTime": "2026-01-01T00:00:00Z"}\n'
        '{"id": "b", "createdDateTime": "2026-01-02T00:00:00Z"}\n')
    (folder / "directoryAudits.json").write_text("[]")
    found = read_log_directory(tmp_path)
    assert [r["id"] for r in found["signIns"]] == ["a", "b"]
    assert found["directoryAudits"] == [] and "ual" not in found


def test_a_record_without_a_time_is_refused() -> None:
    app = create_app(small().recorded)
    with pytest.raises(ValueError, match="createdDateTime"):
        emulator_of(app).state.add_log_records("signIns", [{"id": "x"}])
