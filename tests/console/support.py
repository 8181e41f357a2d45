"""A synchronous client for the console app in-process (httpx over ASGI on one event loop,
keeping cookies), and ways to sign in as each kind of visitor.

Signing in as a role other than the local owner starts a session in the store directly:
fast, for the pages' own tests. The sign-in paths themselves (local token, invites, Entra
ID, custodian links) are tested through the routes and, once more, in a browser against
`mailwarden console` run as a process.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from mailwarden.console.app import build_console, create_app
from mailwarden.console.config import ConsoleConfig
from mailwarden.console.context import Console
from mailwarden.console.roles import LinkGrant, Principal, Role, Source
from mailwarden.console.sessions import COOKIE

BASE_URL = "http://127.0.0.1:8765"
TOKEN = "test-local-token-0123456789"
LINK_KEY = "test-link-key-0123456789-0123456789-0123456789"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, app: Starlette) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url=BASE_URL)
        self.csrf = ""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("follow_redirects", False)
        response = self.loop.run_until_complete(self.client.request(method, url, **kwargs))
        found = _CSRF.search(response.text) if "text/html" in response.headers.get(
            "content-type", "") else None
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> httpx.Response:
        form = dict(data or {})
        if csrf and "csrf" not in form:
            form["csrf"] = self.csrf
        return self.request("POST", url, data=form, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def console_for(db_url: str, **config: Any) -> Console:
    return build_console(ConsoleConfig(db_url=db_url, **config), local_token=TOKEN,
                         link_key=LINK_KEY)


def person(role: Role, name: str | None = None) -> Principal:
    who = name or f"{role.value} person"
    return Principal(subject=f"test:{who}", name=who, roles=frozenset({role}),
                     source=Source.INVITE)


def signed_in(console: Console, principal: Principal) -> ConsoleClient:
    """A client holding a session of `principal` (started in the store directly)."""
    value, session = console.sessions.start(principal, now=datetime.now(UTC),
                                            lifetime=timedelta(hours=1), remote="127.0.0.1")
    client = ConsoleClient(create_app(console))
    client.client.cookies.set(COOKIE, value)
    client.csrf = session.csrf
    return client


def link_principal(grant: LinkGrant) -> Principal:
    return Principal(subject=f"link:{grant.link_id}", name=grant.custodian,
                     roles=frozenset(), source=Source.LINK, link=grant)


