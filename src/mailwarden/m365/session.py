"""One command's connection to Microsoft 365: its event loop, its token source and its
one HTTP client, opened on first use and closed together.

Every step of a command that talks to Graph or Exchange Online (collect and then apply;
every cycle of a watcher) runs in the session's one event loop, through its one client.
State made in that loop (the token cache's lock, the client's connection pool) is never
used from another loop, and a person signing in with a device code is asked once per
command, not once per step.

    with M365Session(settings, on_device_code=show) as session:
        recorded = session.run(lambda http: collect_tenant(http, settings))
        report = session.run(lambda http: apply_plan(plan, Wire(http, tenant), ...))

Nothing is built before the first `run`: settings or credentials that cannot work fail
there (ConfigError, AuthError), as they would with no session. Closing closes the client,
then the event loop; a closed session runs nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import TypeVar

import httpx

from mailwarden.m365.auth import DeviceCodePrompt, TokenSource, token_source_from_settings
from mailwarden.m365.http import M365Http, Service, SharedSlots, build_async_client
from mailwarden.settings import CollectMode, Settings

T = TypeVar("T")

#: Opens the session's one client (tests pass one over the in-process emulator).
OpenHttp = Callable[[], AbstractAsyncContextManager[M365Http]]


def _m365_http(client: httpx.AsyncClient, settings: Settings, tokens: TokenSource,
               shared: SharedSlots | None) -> M365Http:
    sequential = settings.collect_mode is CollectMode.SEQUENTIAL
    return M365Http(
        client,
        tokens,
        settings,
        concurrency={Service.GRAPH: 1, Service.EXCHANGE: 1} if sequential else None,
        shared=shared,
    )


@asynccontextmanager
async def open_m365_http(settings: Settings, tokens: TokenSource, *,
                         shared: SharedSlots | None = None) -> AsyncIterator[M365Http]:
    """The one HTTP client of a run, wrapped with the retry policy; closed on exit.
    `shared`: slots of the tenant shared with other processes (a fleet's workers)."""
    async with build_async_client(settings) as client:
        yield _m365_http(client, settings, tokens, shared)


def _transport_key(settings: Settings) -> tuple[object, ...]:
    """What the client is built from: sessions whose settings agree on it can share one."""
    return (settings.ca_bundle, settings.connect_timeout, settings.read_timeout,
            settings.graph_concurrency, settings.exo_concurrency)


class Transport:
    """An event loop and an HTTP client that the sessions one thread opens one after
    another share: a fleet worker's jobs, each a tenant of its own.

    The services' hosts are the same for every tenant, so the next session reuses the
    connections the last one kept alive instead of opening (and handshaking) a dozen
    new ones. Nothing of a tenant stays in it: every request carries its own token, a
    session's tasks are cancelled when it closes, and the cookies the services set
    (Exchange routes a tenant's requests by them) are cleared. Used by one thread at a
    time; `close` when that thread is done."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._client: httpx.AsyncClient | None = None
        self._key: tuple[object, ...] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def runner(self) -> asyncio.Runner:
        if self._closed:
            raise RuntimeError("the transport is closed")
        return self._runner

    def client(self, settings: Settings) -> httpx.AsyncClient:
        """The client for `settings`, built anew when they ask for another."""
        runner = self.runner
        key = _transport_key(settings)
        if self._client is not None and self._key != key:
            runner.run(self._client.aclose())
            self._client = None
        if self._client is None:
            self._client = build_async_client(settings)
            self._key = key
        return self._client

    def settle(self) -> None:
        """End what a session left: its tasks cancelled, the services' cookies cleared."""
        self.runner.run(_cancel_others())
        if self._client is not None:
            self._client.cookies.clear()

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self._client is not None:
                self._runner.run(self._client.aclose())
        finally:
            self._closed = True
            self._client = None
            self._runner.close()


async def _cancel_others() -> None:
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


class M365Session:
    """The event loop, token source and HTTP client of one command; a context manager.

    `tokens` replaces the token source the settings ask for; `open_http` replaces the
    client (and with it the token source, which the client it opens carries); `shared`
    adds slots of the tenant shared with other processes (a fleet's workers);
    `transport`: the event loop and client to use (and leave open) instead of the
    session's own."""

    def __init__(
        self,
        settings: Settings,
        *,
        tokens: TokenSource | None = None,
        on_device_code: DeviceCodePrompt | None = None,
        open_http: OpenHttp | None = None,
        shared: SharedSlots | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self._shared = shared
        self._transport = transport
        self._tokens = tokens
        self._on_device_code = on_device_code
        self._open_http = open_http
        self._runner: asyncio.Runner | None = None
        self._client: AsyncExitStack | None = None
        self._http: M365Http | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._runner else "not opened"
        return f"<{type(self).__name__} {self.settings.tenant} {state}>"

    @property
    def tokens(self) -> TokenSource:
        """The session's token source, built from the settings on first use."""
        if self._tokens is None:
            self._tokens = token_source_from_settings(
                self.settings, on_device_code=self._on_device_code
            )
        return self._tokens

    def run(self, step: Callable[[M365Http], Awaitable[T]]) -> T:
        """Run one async step with the session's client, in its event loop; its result."""
        runner, http = self._open()

        async def main() -> T:
            return await step(http)

        return runner.run(main())

    def _open(self) -> tuple[asyncio.Runner, M365Http]:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed; open a new session")
        if self._runner is not None and self._http is not None:
            return self._runner, self._http
        if self._transport is not None and self._open_http is None:
            tokens = self.tokens
            runner = self._transport.runner
            http = _m365_http(self._transport.client(self.settings), self.settings, tokens,
                              self._shared)
            self._runner, self._http = runner, http
            return runner, http
        if self._open_http is not None:
            open_http = self._open_http
        else:
            tokens = self.tokens  # before the loop: a missing credential leaves nothing open
            open_http = lambda: open_m365_http(  # noqa: E731
                self.settings, tokens, shared=self._shared)
        runner = asyncio.Runner()
        client = AsyncExitStack()

        async def enter() -> M365Http:
            return await client.enter_async_context(open_http())

        try:
            http = runner.run(enter())
        except BaseException:
            runner.close()
            raise
        self._runner, self._client, self._http = runner, client, http
        return runner, http

    def close(self) -> None:
        """Close the client, then the event loop. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        runner, client = self._runner, self._client
        self._runner = self._client = self._http = None
        if runner is None:
            return
        if self._transport is not None and client is None:  # the transport's, left open
            self._transport.settle()
            return
        try:
            if client is not None:
                runner.run(client.aclose())
        finally:
            runner.close()

    def __enter__(self) -> M365Session:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
