"""A thread's sessions one after another (a fleet worker's jobs) share one `Transport`:
the connections the last session kept alive serve the next, over the emulator's real
sockets, and nothing of a session stays behind (its tasks, the services' cookies)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from mailwarden.emulator import DEFAULT_CLIENT_SECRET, Served, create_app, serve_in_thread
from mailwarden.m365.auth import CachedTokenSource, secret_token_source
from mailwarden.m365.http import M365Http, Service
from mailwarden.m365.session import M365Session, Transport
from mailwarden.settings import SECRET_ENV, Settings
from tests.emulator.emulator_helpers import settings_for, small, tenant_id


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve_in_thread(create_app(small().recorded)) as running:
        yield running


def _settings(served: Served) -> Settings:
    return settings_for(served.base_url, tenant_id(), ca_bundle=served.ca_file)


@pytest.fixture(scope="module")
def tokens(served: Served) -> CachedTokenSource:
    """One token source, signed in before any test counts connections: what is counted is
    the HTTP client's (the sign-in's own connection is MSAL's)."""
    source = secret_token_source(_settings(served), env={SECRET_ENV: DEFAULT_CLIENT_SECRET})
    with M365Session(_settings(served), tokens=source) as session:
        session.run(lambda http: http.token(Service.GRAPH))
    return source


def _session(settings: Settings, tokens: CachedTokenSource,
             transport: Transport | None) -> M365Session:
    return M365Session(settings, tokens=tokens, transport=transport)


async def _read(http: M365Http) -> None:
    """A few reads at once from each service, so that each opens several connections."""
    base = http.settings.endpoints.graph_url
    await asyncio.gather(*(http.send(Service.GRAPH, "GET", f"{base}/v1.0/organization")
                           for _ in range(4)))


def _accepted(served: Served) -> int:
    return len(served._server.server_state.connections)


def test_the_next_session_reuses_the_connections_the_last_one_kept_alive(
        served: Served, tokens: CachedTokenSource) -> None:
    settings = _settings(served)
    transport = Transport()
    before = _accepted(served)
    try:
        with _session(settings, tokens, transport) as first:
            first.run(_read)
        open_after_first = _accepted(served)
        assert open_after_first >= before + 2  # kept alive for the next session
        for _ in range(3):
            with _session(settings, tokens, transport) as session:
                session.run(_read)
        assert _accepted(served) == open_after_first  # no new connection
    finally:
        transport.close()
    assert transport.closed


def test_without_a_transport_a_session_closes_its_own_connections(
        served: Served, tokens: CachedTokenSource) -> None:
    settings = _settings(served)
    before = _accepted(served)
    with _session(settings, tokens, None) as session:
        session.run(_read)
    for _ in range(500):  # the server sees the client's close soon after
        if _accepted(served) <= before:
            break
        time.sleep(0.01)
    assert _accepted(served) <= before


def test_a_closed_session_leaves_no_task_and_no_cookie_in_the_transport(
        served: Served, tokens: CachedTokenSource) -> None:
    settings = _settings(served)
    transport = Transport()
    left: list[asyncio.Task[None]] = []

    async def leave_things(http: M365Http) -> None:
        left.append(asyncio.create_task(asyncio.sleep(3600)))
        http.client.cookies.set("X-BackEndCookie", "tenant-a-backend")

    try:
        with _session(settings, tokens, transport) as session:
            session.run(leave_things)
        assert left[0].cancelled()
        assert not transport.client(settings).cookies
    finally:
        transport.close()


def test_other_transport_settings_get_a_client_of_their_own(served: Served) -> None:
    settings = _settings(served)
    transport = Transport()
    try:
        first = transport.client(settings)
        assert transport.client(replace(settings, tenant="another")) is first  # per tenant
        slower = transport.client(replace(settings, read_timeout=settings.read_timeout + 1))
        assert slower is not first and first.is_closed
    finally:
        transport.close()
    with pytest.raises(RuntimeError, match="closed"):
        transport.client(settings)
