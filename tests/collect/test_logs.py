"""Incremental log collection against the emulator in process: what a second run reads,
the overlap at the boundary, the reports throttle, the audit log query, failed kinds."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mailwarden.collect.logs import (
    LogBatch,
    LogCheckpoint,
    LogKind,
    LogOptions,
    Pacer,
    collect_logs,
)
from mailwarden.emulator import EmulatorConfig, create_app, emulator_of
from mailwarden.m365.http import M365Http
from mailwarden.settings import RetryPolicy, Settings
from mailwarden.synth import SyntheticTenant, generate
from mailwarden.synth.logs import SyntheticLogs, synthetic_logs
from tests.support.emulator_tokens import EmulatorTokens

BASE = "https://emulator.test"
START = datetime(2026, 10, 1, tzinfo=UTC)
MIDDLE = datetime(2026, 10, 15, 12, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
FAST = LogOptions(reports_limit=0, poll_interval=0.0)


@functools.cache
def tenant() -> SyntheticTenant:
    return generate("small", seed=3)


@functools.cache
def logs() -> SyntheticLogs:
    model = tenant().model
    assert model is not None
    return synthetic_logs(model, size=tenant().size, seed=tenant().seed)


def app_with_logs(**config: Any) -> Starlette:
    app = create_app(tenant().recorded, config=EmulatorConfig(**config))
    state = emulator_of(app).state
    state.add_log_records("signIns", logs().signins)
    state.add_log_records("directoryAudits", logs().directory_audits)
    state.add_log_records("ual", logs().ual)
    return app


Session = Callable[[LogCheckpoint, datetime, LogOptions], Coroutine[Any, Any, LogBatch]]


def with_session(app: Starlette, body: Callable[[Session], Coroutine[Any, Any, None]]) -> None:
    tenant_id = str(tenant().recorded.data["tenant"]["tenantId"])
    settings = Settings(tenant=tenant_id, client_id="app", graph_url=BASE, login_url=BASE,
                        exo_url=BASE, retry=RetryPolicy(max_attempts=8, backoff_base=0.01,
                                                        backoff_max=0.05))

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            http = M365Http(client, EmulatorTokens(client, tenant_id), settings)

            async def session(checkpoint: LogCheckpoint, until: datetime,
                              options: LogOptions) -> LogBatch:
                return await collect_logs(http, settings, checkpoint=checkpoint, until=until,
                                          options=options)

            await body(session)

    asyncio.run(main())


def ids(batch: LogBatch, kind: LogKind) -> list[str]:
    return [str(r["id"]) for r in batch.records[kind]]


def recorded_ids(kind: LogKind, start: datetime, end: datetime) -> set[str]:
    rows = {"signIns": logs().signins, "directoryAudits": logs().directory_audits,
            "ual": logs().ual}[kind]
    field = {"signIns": "createdDateTime", "directoryAudits": "activityDateTime",
             "ual": "CreationTime"}[kind]
    found = set()
    for row in rows:
        moment = datetime.fromisoformat(row[field]).replace(tzinfo=UTC)
        if start <= moment < end:
            found.add(str(row.get("id") or row.get("Id")))
    return found


def test_second_run_reads_only_the_new_records() -> None:
    async def body(session: Session) -> None:
        first = await session(LogCheckpoint.starting(START), MIDDLE, FAST)
        second = await session(first.checkpoint, END, FAST)
        assert not first.errors and not second.errors
        for kind in ("signIns", "directoryAudits", "ual"):
            assert set(ids(first, kind)) == recorded_ids(kind, START, MIDDLE)
            assert set(ids(second, kind)) == recorded_ids(kind, MIDDLE, END)
            assert len(ids(first, kind)) == len(set(ids(first, kind)))
        # The overlap was read again, and skipped.
        assert second.duplicates["signIns"] > 0
        times = [r["createdDateTime"] for r in first.records["signIns"]]
        assert times == sorted(times)  # oldest first, whatever order Graph answered in

    with_session(app_with_logs(), body)


def test_boundary_duplicates_are_not_read_twice_and_late_records_are_not_lost() -> None:
    app = app_with_logs()

    async def body(session: Session) -> None:
        first = await session(LogCheckpoint.starting(START), MIDDLE, FAST)
        again = await session(first.checkpoint, MIDDLE, FAST)
        assert all(again.count(kind) == 0 for kind in ("signIns", "directoryAudits", "ual"))
        mark = first.checkpoint.marks["signIns"].last
        last_row = first.records["signIns"][-1]
        late = [dict(last_row, id="late-same-instant"),
                dict(last_row, id="late-just-before",
                     createdDateTime=(mark - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))]
        emulator_of(app).state.add_log_records("signIns", late)
        third = await session(again.checkpoint, MIDDLE, FAST)
        assert sorted(ids(third, "signIns")) == ["late-just-before", "late-same-instant"]
        fourth = await session(third.checkpoint, MIDDLE, FAST)
        assert fourth.count("signIns") == 0

    with_session(app, body)


def test_reports_are_paced_to_the_throttle_so_none_is_refused() -> None:
    app = app_with_logs(reports_limit=5, reports_window=0.4)
    options = LogOptions(kinds=("signIns", "directoryAudits"), page_size=200,
                         reports_limit=5, reports_window=0.4)

    async def body(session: Session) -> None:
        batch = await session(LogCheckpoint.starting(START), END, options)
        assert batch.count("signIns") == len(logs().signins)
        assert not batch.errors

    with_session(app, body)
    stats = emulator_of(app).stats.service("graph")
    assert stats.requests > 10  # 24 sign-in pages and one audit page, plus the token
    assert stats.throttled == 0


def test_a_throttled_client_that_does_not_pace_still_reads_everything() -> None:
    app = app_with_logs(reports_limit=5, reports_window=0.3)
    options = LogOptions(kinds=("signIns",), page_size=500, reports_limit=0)

    async def body(session: Session) -> None:
        batch = await session(LogCheckpoint.starting(START), END, options)
        assert batch.count("signIns") == len(logs().signins)

    with_session(app, body)
    assert emulator_of(app).stats.service("graph").throttled > 0


def test_a_failing_kind_is_recorded_and_keeps_its_mark() -> None:
    async def body(session: Session) -> None:
        batch = await session(LogCheckpoint.starting(START), END, FAST)
        assert "ual" not in batch.records
        assert "403" in batch.errors["ual"] and "AuditLogsQuery.Read.All" in batch.errors["ual"]
        assert "ual" not in batch.checkpoint.marks
        assert batch.count("signIns") == len(logs().signins)

    with_session(app_with_logs(failing_sources={"logs/ual": 403}), body)


def test_an_audit_query_that_never_finishes_times_out_with_advice() -> None:
    options = LogOptions(kinds=("ual",), poll_interval=0.001, query_timeout=0.05)

    async def body(session: Session) -> None:
        batch = await session(LogCheckpoint.starting(START), END, options)
        assert "did not finish" in batch.errors["ual"] and "run again later" in batch.errors["ual"]

    with_session(app_with_logs(audit_query_polls=10**6), body)


def test_audit_query_records_are_exchange_records_in_graph_shape() -> None:
    async def body(session: Session) -> None:
        batch = await session(LogCheckpoint.starting(START), END,
                              LogOptions(kinds=("ual",), poll_interval=0.0))
        records = batch.records["ual"]
        # All synthetic UAL records are Exchange's: every one inside the range is read
        # (the audit log's history reaches further back than START).
        assert {str(r["id"]) for r in records} == recorded_ids("ual", START, END)
        assert {r["auditLogRecordType"] for r in records} <= {
            "ExchangeAdmin", "ExchangeItem", "ExchangeItemAggregated"}

    with_session(app_with_logs(audit_query_polls=3), body)


def test_pacer_waits_for_the_window() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds
        await asyncio.sleep(0)

    async def main() -> None:
        pacer = Pacer(2, 10.0, sleep=sleep, clock=lambda: now[0])
        for _ in range(5):
            pacer.settle(await pacer.ready())
        assert waits == [10.0, 10.0]
        # A request still in flight holds its place until its answer comes, however long.
        held = Pacer(1, 10.0, sleep=sleep, clock=lambda: now[0])
        first = await held.ready()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(held.ready(), timeout=0.05)
        assert now[0] > 100.0
        held.settle(first)
        started = now[0]
        await held.ready()
        assert now[0] == pytest.approx(started + 10.0)

    asyncio.run(main())


def test_nothing_is_asked_when_the_window_is_empty() -> None:
    app = app_with_logs()

    async def body(session: Session) -> None:
        batch = await session(LogCheckpoint.starting(END), END, FAST)
        assert batch.records == {"signIns": (), "directoryAudits": (), "ual": ()}
        assert not batch.errors

    with_session(app, body)
    assert emulator_of(app).stats.service("graph").requests == 0
