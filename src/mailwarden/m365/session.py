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

from mailwarden.m365.auth import DeviceCodePrompt, TokenSource, token_source_from_settings
from mailwarden.m365.http import M365Http, Service, SharedSlots, build_async_client
from mailwarden.settings import CollectMode, Settings

T = TypeVar("T")

#: Opens the session's one client (tests pass one over the in-process emulator).
OpenHttp = Callable[[], AbstractAsyncContextManager[M365Http]]


@asynccontextmanager
async def open_m365_http(settings: Settings, tokens: TokenSource, *,
                         shared: SharedSlots | None = None) -> AsyncIterator[M365Http]:
    """The one HTTP client of a run, wrapped with the retry policy; closed on exit.
    `shared`: slots of the tenant shared with other processes (a fleet's workers)."""
    sequential = settings.collect_mode is CollectMode.SEQUENTIAL
    async with build_async_client(settings) as client:
        yield M365Http(
            client,
            tokens,
            settings,
            concurrency={Service.GRAPH: 1, Service.EXCHANGE: 1} if sequential else None,
            shared=shared,
        )


class M365Session:
    """The event loop, token source and HTTP client of one command; a context manager.

    `tokens` replaces the token source the settings ask for; `open_http` replaces the
    client (and with it the token source, which the client it opens carries); `shared`
    adds slots of the tenant shared with other processes (a fleet's workers)."""

    def __init__(
        self,
        settings: Settings,
        *,
        tokens: TokenSource | None = None,
        on_device_code: DeviceCodePrompt | None = None,
        open_http: OpenHttp | None = None,
        shared: SharedSlots | None = None,
    ) -> None:
        self.settings = settings
        self._shared = shared
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
