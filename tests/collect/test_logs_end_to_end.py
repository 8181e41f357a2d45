"""End to end: a synthetic tenant's logs served by the emulator, collected in two runs,
appended to a recorded tenant's logs/, then detected; the alerts are those that detection
finds over the synthetic logs directly."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from mailwarden.collect.logs import (
    LogCheckpoint,
    LogOptions,
    append_log_batch,
    collect_logs,
    save_checkpoint,
)
from mailwarden.detect import context_from_scan, detect_directory
from mailwarden.detect.results import DetectionResult
from mailwarden.emulator import create_app
from mailwarden.emulator.logs_store import read_log_directory
from mailwarden.m365.http import M365Http
from mailwarden.pipeline import scan_directory
from mailwarden.settings import RetryPolicy, Settings
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.recorded import write_recorded_tenant
from tests.support.emulator_tokens import EmulatorTokens

BASE = "https://emulator.test"


def _alerts(result: DetectionResult) -> set[tuple[Any, ...]]:
    return {(a.rule_id, a.category, a.target, a.event_count, a.first_seen, a.last_seen)
            for a in result.alerts}


def test_collected_logs_give_the_same_alerts(tmp_path: Path) -> None:
    tenant = generate("small", seed=5)
    original, collected = tmp_path / "synthetic", tmp_path / "collected"
    write_synthetic(tenant, original)
    write_recorded_tenant(collected, tenant.recorded)
    app = create_app(tenant.recorded, logs=read_log_directory(original))
    tenant_id = str(tenant.recorded.data["tenant"]["tenantId"])
    settings = Settings(tenant=tenant_id, client_id="app", graph_url=BASE, login_url=BASE,
                        exo_url=BASE, retry=RetryPolicy(backoff_base=0.01, backoff_max=0.05))
    options = LogOptions(reports_limit=0, poll_interval=0.0)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            http = M365Http(client, EmulatorTokens(client, tenant_id), settings)
            # From before the audit log's history (110 days before 2026-11-01) begins.
            checkpoint = LogCheckpoint.starting(datetime(2026, 7, 1, tzinfo=UTC))
            counts = []
            for until in (datetime(2026, 10, 17, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)):
                batch = await collect_logs(http, settings, checkpoint=checkpoint, until=until,
                                           options=options)
                assert not batch.errors
                append_log_batch(collected, batch)
                counts.append(sum(batch.count(kind) for kind in batch.records))
                checkpoint = batch.checkpoint
            save_checkpoint(collected / "logs" / ".checkpoint.json", checkpoint)
            return counts

    counts = asyncio.run(main())
    assert all(count > 0 for count in counts)
    for name in ("signIns.json", "directoryAudits.json", "ual.json"):
        assert (collected / "logs" / name).stat().st_mode & 0o777 == 0o600
    scan = scan_directory(original)
    context = context_from_scan(scan.snapshot, scan.result)
    direct = detect_directory(original, context)
    from_api = detect_directory(collected, context)
    assert all(report.bad_rows == 0 and report.error is None for report in from_api.readers)
    formats = {report.path.name: report.format for report in from_api.readers}
    assert formats["ual.json"].startswith("Graph audit log query records")
    assert formats["signIns.json"].startswith("Graph signIn objects")
    assert sum(r.rows for r in from_api.readers) == sum(r.rows for r in direct.readers)
    assert len(direct.alerts) > 5
    assert _alerts(from_api) == _alerts(direct)
    # dormant-delegate over the audit log as the API served it: what was planted.
    truth = json.loads((original / "planted.json").read_text(encoding="utf-8"))["dormant"]
    verdicts = {(f.resource.upn, f.status.value) for f in scan_directory(collected).result.findings
                if f.check_id == "dormant-delegate" and f.status.value != "pass"}
    assert verdicts == {(r["upn"], "fail") for r in truth["planted"]} | {
        (r["upn"], "error") for r in truth["unknown"]}
