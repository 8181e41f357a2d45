"""`POST /_emulator/logs/{kind}`: records added to a running emulator are served by Graph's
log endpoints like the recorded ones, stamped with the current time and a new id when they
come without, and a bad body is refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailwarden.emulator import create_app
from mailwarden.emulator.app import emulator_of
from mailwarden.times import iso, parse_time
from tests.emulator.emulator_helpers import all_pages, client_for, run, small


def test_added_records_are_served_with_their_time_and_id() -> None:
    app = create_app(small().recorded)
    before = datetime.now(UTC) - timedelta(seconds=1)

    async def main() -> None:
        async with client_for(app) as client:
            answer = await client.post("/_emulator/logs/signIns", json={"value": [
                {"userPrincipalName": "hr@contoso.example", "status": {"errorCode": 0}},
                {"id": "kept-id", "createdDateTime": "2026-12-01T10:00:00Z",
                 "userPrincipalName": "it@contoso.example", "status": {"errorCode": 50126}},
            ]})
            assert answer.status_code == 200 and answer.json() == {"added": 2}
            ual = await client.post("/_emulator/logs/ual", json=[{"Operation": "New-InboxRule"}])
            assert ual.json() == {"added": 1}
            since = iso(before)
            rows, _ = await all_pages(
                client, f"/v1.0/auditLogs/signIns?$filter=createdDateTime ge {since}")
            assert [r["userPrincipalName"] for r in rows] == ["hr@contoso.example"]
            stamped = parse_time(rows[0]["createdDateTime"])
            assert stamped is not None and before <= stamped <= datetime.now(UTC)
            assert len(rows[0]["id"]) == 36  # a GUID, as Graph gives every sign-in
            older, _ = await all_pages(
                client, "/v1.0/auditLogs/signIns?$filter=createdDateTime eq "
                        "2026-12-01T10:00:00Z")
            assert [r["id"] for r in older] == ["kept-id"]

    run(main())
    assert emulator_of(app).state.logs.count("ual") == 1


def test_a_bad_body_or_kind_is_refused_with_a_reason() -> None:
    app = create_app(small().recorded)

    async def main() -> None:
        async with client_for(app) as client:
            not_json = await client.post("/_emulator/logs/signIns", content=b"{")
            assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
            not_records = await client.post("/_emulator/logs/signIns", json={"value": [1]})
            assert not_records.status_code == 400 and "array" in not_records.json()["error"]
            no_time = await client.post("/_emulator/logs/signIns",
                                        json=[{"createdDateTime": "yesterday"}])
            assert no_time.status_code == 400 and "createdDateTime" in no_time.json()["error"]
            unknown = await client.post("/_emulator/logs/mailItems", json=[])
            assert unknown.status_code == 404 and "unknown log kind" in unknown.json()["error"]

    run(main())
    assert emulator_of(app).state.logs.count("signIns") == 0
