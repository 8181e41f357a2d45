"""Shared pieces of the emulator tests: one small synthetic tenant, an in-process client,
tokens from the emulator's own token endpoint, and settings that point at it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette

from mailwarden.emulator import EmulatorConfig, create_app
from mailwarden.settings import RetryPolicy, Settings
from mailwarden.synth import SyntheticTenant, generate
from mailwarden.tenant.recorded import RecordedTenant
from tests.support.emulator_tokens import emulator_token

T = TypeVar("T")
BASE = "https://emulator.test"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
EXO_SCOPE = "https://outlook.office365.com/.default"


@functools.cache
def small() -> SyntheticTenant:
    return generate("small", seed=3)


def tenant_id(recorded: RecordedTenant | None = None) -> str:
    return str((recorded or small().recorded).data["tenant"]["tenantId"])


def app_for(recorded: RecordedTenant | None = None, **config: Any) -> Starlette:
    return create_app(recorded or small().recorded, config=EmulatorConfig(**config))


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


async def token(client: httpx.AsyncClient, scope: str, tenant: str | None = None) -> str:
    return await emulator_token(client, scope, tenant or tenant_id())


async def bearer(client: httpx.AsyncClient, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token(client, scope)}"}


async def all_pages(client: httpx.AsyncClient, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a Graph collection, following next links (which must stay on this
    host), and the number of pages it took."""
    headers = await bearer(client, GRAPH_SCOPE)
    items: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["value"]
        pages += 1
        next_url = body.get("@odata.nextLink")
        if next_url:
            assert urlsplit(next_url).netloc == urlsplit(BASE).netloc
    return items, pages


def settings_for(base: str, tenant: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "tenant": tenant,
        "client_id": "app",
        "login_url": base,
        "graph_url": base,
        "exo_url": base,
        "retry": RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_max=0.05),
    }
    values.update(overrides)
    return Settings(**values)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def collect_from(app: Starlette, tenant: str) -> RecordedTenant:
    """Collect the tenant `app` serves, in process, through the production collector (one
    HTTP client, the emulator's tokens)."""
    from mailwarden.collect.live import collect_tenant
    from mailwarden.m365.http import M365Http
    from tests.support.emulator_tokens import EmulatorTokens

    settings = settings_for(BASE, tenant)

    async def main() -> RecordedTenant:
        async with client_for(app) as client:
            http = M365Http(client, EmulatorTokens(client, tenant), settings)
            return await collect_tenant(http, settings)

    return run(main())
