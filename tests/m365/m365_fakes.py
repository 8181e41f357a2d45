"""Small fakes for the wire tests: a token source, a virtual clock, a recording transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mailwarden.m365.http import M365Http
from mailwarden.settings import RetryPolicy, Settings

GRAPH = "https://graph.example.test"
EXO = "https://exo.example.test"
TENANT = "11111111-2222-3333-4444-555555555555"


class StaticTokens:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    async def token(self, scope: str) -> str:
        self.scopes.append(scope)
        return "token-for-" + scope.split("//", 1)[-1].split("/", 1)[0]


@dataclass
class VirtualTime:
    """A clock that only moves when someone sleeps, so retry tests take no real time."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "tenant": TENANT,
        "client_id": "app",
        "graph_url": GRAPH,
        "exo_url": EXO,
        "login_url": "https://login.example.test",
        "retry": RetryPolicy(max_attempts=4, backoff_base=0.1, backoff_max=1.0),
    }
    values.update(overrides)
    return Settings(**values)


def make_http(
    handler: Handler, *, time: VirtualTime | None = None, **setting_overrides: Any
) -> tuple[M365Http, StaticTokens, VirtualTime]:
    clock = time or VirtualTime()
    tokens = StaticTokens()
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    http = M365Http(
        client,
        tokens,
        settings(**setting_overrides),
        sleep=clock.sleep,
        jitter=lambda: 0.5,
        clock=clock.clock,
    )
    return http, tokens, clock


def page(values: list[Any], next_link: str | None = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"value": values, **extra}
    if next_link:
        body["@odata.nextLink"] = next_link
    return httpx.Response(200, json=body)


def error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message}}, headers=headers
    )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def run(coroutine: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coroutine

    return asyncio.run(main())
