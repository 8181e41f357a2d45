"""Every Microsoft Graph request mailwarden makes, and the emulator's answer to it.

The production code runs unchanged against the in-process emulator serving a synthetic
tenant and its logs: a collection in each mode (the fast one with `$select`, `$top` and
`$batch`; the sequential one without, so that the emulator serves whole objects), a log
collection (sign-ins, directory audits, the audit log query API), and a remediation
applied and rolled back. An httpx event hook keeps each Graph request and its answer;
`$batch` sub-requests are unpacked into calls of their own. Whatever Graph call the code
gains is exercised here as long as one of these runs makes it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from mailwarden.collect.live import collect_tenant
from mailwarden.collect.logs import LogCheckpoint, LogOptions, collect_logs
from mailwarden.emulator import create_app
from mailwarden.m365.http import M365Http
from mailwarden.pipeline import scan_snapshot
from mailwarden.remediate.apply import apply_plan
from mailwarden.remediate.journal import FileJournal
from mailwarden.remediate.plan import PlanOptions, build_plan
from mailwarden.remediate.rollback import rollback_run
from mailwarden.remediate.wire import Wire
from mailwarden.settings import CollectMode, RetryPolicy, Settings
from mailwarden.synth import COLLECTED_AT, SyntheticTenant, generate
from mailwarden.synth.logs import synthetic_logs
from mailwarden.tenant.snapshot import snapshot_from_recorded

BASE = "https://emulator.test"
VERSIONS = ("v1.0", "beta")


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One Graph request (relative to its version root) and the answer it got."""

    run: str  # which run made it, e.g. "collect fast"
    method: str
    version: str
    path: str  # without the query, e.g. "/groups/<id>/members"
    query: dict[str, str]
    body: Any  # the request's JSON body, or None
    status: int
    answer: Any  # the response's JSON body, or None

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} /{self.version}{self.path}{'?' + query if query else ''}"


def _split(url: str) -> tuple[str, str, dict[str, str]] | None:
    parts = urlsplit(url)
    path = unquote(parts.path)
    for version in VERSIONS:  # Graph's roots; Exchange's /adminapi/beta/ is not one
        if path.startswith(f"/{version}/"):
            rest = path.removeprefix(f"/{version}").rstrip("/")
            return version, rest, dict(parse_qsl(parts.query, keep_blank_values=True))
    return None


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.run = ""

    async def request(self, request: httpx.Request) -> None:
        await request.aread()

    async def response(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        where = _split(str(request.url))
        if where is None:
            return
        version, path, query = where
        body, answer = _json(request.content), _json(response.content)
        if path == "/$batch" and isinstance(body, dict):
            self._batch(version, body, answer)
            return
        self.calls.append(Call(run=self.run, method=request.method, version=version,
                               path=path, query=query, body=body,
                               status=response.status_code, answer=answer))

    def _batch(self, version: str, body: dict[str, Any], answer: Any) -> None:
        answers = {str(r.get("id")): r for r in (answer or {}).get("responses", [])}
        for item in body.get("requests", []):
            url = str(item.get("url", ""))
            where = _split(url if "://" in url else f"{BASE}/{version}/{url.lstrip('/')}")
            if where is None:
                continue
            sub = answers.get(str(item.get("id")), {})
            self.calls.append(Call(run=f"{self.run} ($batch)",
                                   method=str(item.get("method", "GET")), version=where[0],
                                   path=where[1], query=where[2], body=item.get("body"),
                                   status=int(sub.get("status", 0)), answer=sub.get("body")))


def _settings(tenant: SyntheticTenant, mode: CollectMode = CollectMode.FAST) -> Settings:
    return Settings(tenant=str(tenant.recorded.data["tenant"]["tenantId"]), client_id="app",
                    login_url=BASE, graph_url=BASE, exo_url=BASE, collect_mode=mode,
                    retry=RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02))


async def _record(tenant: SyntheticTenant, recorder: Recorder) -> None:
    # Imported here: tests.support pulls in the emulator's token helper only when needed.
    from tests.support.emulator_tokens import EmulatorTokens

    assert tenant.model is not None
    logs = synthetic_logs(tenant.model, size=tenant.size, seed=tenant.seed)
    app = create_app(tenant.recorded, logs=logs.by_kind())
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [recorder.request],
                                                  "response": [recorder.response]}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE,
                                 event_hooks=hooks) as client:
        for mode in CollectMode:
            recorder.run = f"collect {mode.value}"
            settings = _settings(tenant, mode)
            http = M365Http(client, EmulatorTokens(client, settings.require_tenant()), settings)
            recorded = await collect_tenant(http, settings)
            assert not recorded.errors, recorded.errors
        recorder.run = "logs"
        settings = _settings(tenant)
        http = M365Http(client, EmulatorTokens(client, settings.require_tenant()), settings)
        batch = await collect_logs(
            http, settings, checkpoint=LogCheckpoint.starting(datetime(2026, 9, 1, tzinfo=UTC)),
            until=datetime(2026, 12, 1, tzinfo=UTC),
            options=LogOptions(reports_limit=0, poll_interval=0.0))
        assert not batch.errors, batch.errors
        recorder.run = "remediate"
        scan = scan_snapshot(snapshot_from_recorded(tenant.recorded))
        plan = build_plan(scan.result, scan.snapshot, PlanOptions(),
                          now=COLLECTED_AT.replace(hour=COLLECTED_AT.hour + 1))
        wire = Wire(http, settings.require_tenant())
        with tempfile.TemporaryDirectory() as folder:
            journal = FileJournal(Path(folder))
            report = await apply_plan(plan, wire, journal, dry_run=False)
            assert report.run_id is not None
            await rollback_run(report.run_id, wire, journal)


@functools.cache
def recorded_calls() -> tuple[Call, ...]:
    """The Graph calls of every run above, over the small synthetic tenant (seed 0)."""
    recorder = Recorder()
    asyncio.run(_record(generate("small", seed=0), recorder))
    return tuple(recorder.calls)
