"""The small synthetic tenant (seed 0), its scan and plan, and a wire to an in-process
emulator with tokens from the emulator's own token endpoint."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from mailwarden.collect.live import collect_tenant
from mailwarden.emulator import EmulatorConfig, create_app
from mailwarden.m365.http import M365Http
from mailwarden.model.inventory import Snapshot
from mailwarden.pipeline import Scan, scan_snapshot
from mailwarden.remediate.model import Plan
from mailwarden.remediate.plan import PlanOptions, build_plan
from mailwarden.remediate.wire import Wire
from mailwarden.settings import RetryPolicy, Settings
from mailwarden.synth import COLLECTED_AT, SyntheticTenant, generate
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.support.emulator_tokens import EmulatorTokens

BASE = "https://emulator.test"
#: A moment one hour after the synthetic tenant was "collected": fresh enough to act on.
SOON_AFTER = COLLECTED_AT + timedelta(hours=1)


@functools.cache
def small() -> SyntheticTenant:
    return generate("small", seed=0)


@functools.cache
def small_scan() -> Scan:
    return scan_snapshot(snapshot_from_recorded(small().recorded))


def tenant_id() -> str:
    return str(small().recorded.data["tenant"]["tenantId"])


def plan_for(scan: Scan | None = None, *, now: datetime = SOON_AFTER, **options: Any) -> Plan:
    scan = scan or small_scan()
    return build_plan(scan.result, scan.snapshot, PlanOptions(**options), now=now)


def app_for(recorded: RecordedTenant | None = None, **config: Any) -> Starlette:
    return create_app(recorded or small().recorded, config=EmulatorConfig(**config))


def settings() -> Settings:
    return Settings(
        tenant=tenant_id(), client_id="app", login_url=BASE, graph_url=BASE, exo_url=BASE,
        retry=RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02),
    )


@asynccontextmanager
async def wire_to(app: Starlette) -> AsyncIterator[Wire]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        http = M365Http(client, EmulatorTokens(client, tenant_id()), settings())
        yield Wire(http, tenant_id())


async def rescan(wire: Wire) -> Scan:
    recorded = await collect_tenant(wire.http, settings())
    assert not recorded.errors, recorded.errors
    return scan_snapshot(snapshot_from_recorded(recorded))


def without_collection_time(snapshot: Snapshot) -> Snapshot:
    return dataclasses.replace(
        snapshot, tenant=dataclasses.replace(snapshot.tenant, collected_at=None)
    )


def now() -> datetime:
    return datetime.now(UTC)
