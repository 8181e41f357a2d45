"""Cycles against the emulator in process, through Graph's log APIs: attack records are
added to the tenant between cycles, and only the alerts they raise are sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from mailwarden.collect.logs import LogOptions
from mailwarden.emulator import EmulatorConfig, create_app, emulator_of
from mailwarden.m365.http import M365Http
from mailwarden.m365.session import M365Session
from mailwarden.settings import RetryPolicy, Settings
from mailwarden.watch import WatchConfig, run_cycle
from mailwarden.watch.api import ApiSource
from mailwarden.watch.records import LOG_KINDS
from tests.support.emulator_tokens import EmulatorTokens
from tests.watch.watch_helpers import (
    FIRST_CUT,
    SPRAY_CUT,
    Recorder,
    routing,
    slice_ids,
    slice_of,
    tenant,
)

BASE = "https://emulator.test"


def test_only_attacks_added_between_cycles_alert(tmp_path: Path) -> None:
    app = create_app(tenant().recorded, config=EmulatorConfig())
    state = emulator_of(app).state
    for kind in LOG_KINDS:
        state.add_log_records(kind, slice_of(kind, None, FIRST_CUT))
    tenant_id = str(tenant().recorded.data["tenant"]["tenantId"])
    settings = Settings(tenant=tenant_id, client_id="app", graph_url=BASE, login_url=BASE,
                        exo_url=BASE, retry=RetryPolicy(max_attempts=4, backoff_base=0.01,
                                                        backoff_max=0.05))

    @asynccontextmanager
    async def open_http() -> AsyncIterator[M365Http]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield M365Http(client, EmulatorTokens(client, tenant_id), settings)

    now = [FIRST_CUT]
    with M365Session(settings, open_http=open_http) as session:
        source = ApiSource(session, tmp_path / "state",
                           options=LogOptions(reports_limit=0, poll_interval=0.0),
                           first_read=timedelta(days=3), clock=lambda: now[0])
        config = WatchConfig(state_dir=tmp_path / "state", routing=routing(tmp_path),
                             posture_every=timedelta(days=7))

        first = Recorder()
        report = run_cycle(config, source, first, clock=lambda: now[0])
        assert report.posture_refreshed and report.notes == ()
        assert report.records_new == len(slice_ids(FIRST_CUT - timedelta(days=3), FIRST_CUT))
        before = set(first.alert_ids())
        assert before
        before_keys = set(first.keys())

        # Two days pass: the background traffic and the fast spray of 5 October are logged.
        for kind in LOG_KINDS:
            state.add_log_records(kind, slice_of(kind, FIRST_CUT, SPRAY_CUT))
        now[0] = SPRAY_CUT
        second = Recorder()
        report = run_cycle(config, source, second, clock=lambda: now[0])
        assert not report.posture_refreshed
        assert report.records_new == report.records_written == len(slice_ids(FIRST_CUT, SPRAY_CUT))
        sent = set(second.alert_ids())
        # Only new incidents: what the first cycle told of is not told again.
        assert sent - before and not set(second.keys()) & before_keys
        assert "password-spray" in {d.notice.category for d in second.sent}
        assert all(d.notice.kind == "alert" for d in second.sent)
        assert all(str(d.notice.last_seen) >= FIRST_CUT.isoformat()[:10] for d in second.sent)

        now[0] = SPRAY_CUT + timedelta(minutes=15)
        third = Recorder()
        report = run_cycle(config, source, third, clock=lambda: now[0])
        assert (report.records_new, third.sent) == (0, [])
        assert datetime.fromisoformat(report.started_at) == now[0].astimezone(UTC)
