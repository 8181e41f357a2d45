"""`create_app(config)`: the console as a Starlette application.

The page modules listed in `PAGE_MODULES` each export `PAGES`, a tuple of `pages.Page`;
every route is wrapped by `guard.guarded`, so no endpoint is reachable without the checks
its page declares.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mailwarden.console.audit import AuditLog
from mailwarden.console.config import AuthMode, ConsoleConfig
from mailwarden.console.context import Console
from mailwarden.console.guard import guarded
from mailwarden.console.limits import RateLimiter
from mailwarden.console.links import LinkStore, load_link_key
from mailwarden.console.oidc import entra_sign_in
from mailwarden.console.pages import Page
from mailwarden.console.sessions import SessionStore
from mailwarden.console.web import SecurityHeaders, Templates
from mailwarden.settings import Settings, load_settings
from mailwarden.store.history import History

#: Modules whose `PAGES` make up the console, in the order their routes are matched.
PAGE_MODULES = (
    "mailwarden.console.signin",
    "mailwarden.console.home",
    "mailwarden.console.invites",
    "mailwarden.console.admin",
    "mailwarden.console.incidents",
    "mailwarden.console.custodian",
    "mailwarden.console.mailboxes",
    "mailwarden.console.exceptions",
    "mailwarden.console.remediation",
    "mailwarden.console.reviews",
    "mailwarden.console.custodian_review",
    "mailwarden.console.oidc_pages",
)


def all_pages() -> tuple[Page, ...]:
    pages: list[Page] = []
    for name in PAGE_MODULES:
        pages += importlib.import_module(name).PAGES
    return tuple(pages)


def build_console(config: ConsoleConfig, *, clock: Callable[[], datetime] | None = None,
                  local_token: str | None = None, link_key: str | None = None,
                  settings: Settings | None = None,
                  env: Mapping[str, str] | None = None) -> Console:
    """The console's parts. In local mode a token is made unless one is given (tests);
    the link key is `links.load_link_key()` unless one is given. In team mode `settings`
    (default: the environment's) name the Entra ID app registration, its credential (from
    `env`, default the process environment) and the tenant."""
    now = clock or (lambda: datetime.now(UTC))
    entra = None
    if config.auth is AuthMode.ENTRA:
        entra = entra_sign_in(settings or load_settings(env=env), base_url=config.base_url,
                              clock=now, env=env)
    history = History.open(config.db_url)
    token = None
    if config.auth is AuthMode.LOCAL:
        token = local_token or secrets.token_urlsafe(32)
    return Console(config=config, history=history, sessions=SessionStore(history),
                   audit=AuditLog(history),
                   links=LinkStore(history, link_key or load_link_key()), templates=Templates(),
                   limiter=RateLimiter(limit=20, window=timedelta(minutes=1), clock=now),
                   clock=now, local_token=token, entra=entra)


def create_app(console: Console) -> Starlette:
    def route(page: Page) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(console, page, request)
        return Route(page.path, endpoint, methods=list(page.methods), name=page.name)

    static = StaticFiles(directory=str(files("mailwarden.console") / "static"))
    routes: list[Route | Mount] = [route(page) for page in all_pages()]
    routes.append(Mount("/static", app=static, name="static"))
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.console = console
    return app


__all__ = ["PAGE_MODULES", "all_pages", "build_console", "create_app"]
