"""One session per command: its steps share one event loop, one token source (so a token
is acquired once) and one HTTP client, opened on the first step and closed with it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from mailwarden.errors import ConfigError
from mailwarden.m365.auth import CachedTokenSource
from mailwarden.m365.http import M365Http, Service
from mailwarden.m365.session import M365Session
from mailwarden.settings import SECRET_ENV
from tests.m365.m365_fakes import EXO, GRAPH, page, settings


class CountingAcquire:
    """MSAL's place: hands out a token per scope and counts the times it was asked."""

    def __init__(self) -> None:
        self.scopes: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, scope: str) -> dict[str, Any]:
        with self.lock:
            self.scopes.append(scope)
        return {"access_token": f"token-{len(self.scopes)}", "expires_in": 3600}


class Opened:
    """An `open_http` over a MockTransport that records the clients it opened."""

    def __init__(self, tokens: CachedTokenSource) -> None:
        self.tokens = tokens
        self.clients: list[httpx.AsyncClient] = []
        self.loops: list[asyncio.AbstractEventLoop] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.loops.append(asyncio.get_running_loop())
        return page([])

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[M365Http]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(self.handler)) as client:
            self.clients.append(client)
            yield M365Http(client, self.tokens, settings())


async def concurrently(http: M365Http, *services: Service) -> None:
    """Three requests at once to each service: the token source's lock is contended."""
    urls = {Service.GRAPH: f"{GRAPH}/v1.0/organization", Service.EXCHANGE: f"{EXO}/adminapi"}
    await asyncio.gather(*(http.send(service, "GET", urls[service])
                           for service in services for _ in range(3)))


def test_one_session_across_two_steps_acquires_each_token_once() -> None:
    acquire = CountingAcquire()
    tokens = CachedTokenSource(acquire, describe="counting")
    opened = Opened(tokens)
    with M365Session(settings(), tokens=tokens, open_http=opened) as session:
        assert session.tokens is tokens
        session.run(lambda http: concurrently(http, Service.GRAPH))
        # A second step needs the Exchange token as well, while the lock is contended: in
        # another event loop than the first step's this failed ("bound to a different
        # event loop").
        session.run(lambda http: concurrently(http, Service.GRAPH, Service.EXCHANGE))
    assert acquire.scopes == [settings().graph_scope, settings().exo_scope]
    assert len(opened.clients) == 1 and opened.clients[0].is_closed
    assert len(opened.loops) == 9 and len(set(map(id, opened.loops))) == 1


def test_a_step_returns_its_value_and_a_closed_session_runs_nothing() -> None:
    opened = Opened(CachedTokenSource(CountingAcquire(), describe="counting"))
    session = M365Session(settings(), open_http=opened)

    async def step(http: M365Http) -> str:
        return str(await http.send(Service.GRAPH, "GET", f"{GRAPH}/v1.0/organization"))

    assert session.run(step) == "{'value': []}"
    session.close()
    session.close()
    with pytest.raises(RuntimeError, match="closed"):
        session.run(step)


def test_nothing_is_built_before_the_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    # No client secret: the token source cannot be built, and the session says so at the
    # first step, not when it is made; it leaves nothing open.
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with M365Session(settings()) as session:
        with pytest.raises(ConfigError, match="client secret"):
            session.run(lambda http: concurrently(http, Service.GRAPH))
        with pytest.raises(ConfigError, match="client secret"):
            session.tokens  # noqa: B018 (the property builds the token source)
