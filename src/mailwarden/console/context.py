"""What a page's endpoint is given: the console (settings, stores, clock, templates) and
who is asking."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from mailwarden.console.audit import AuditLog, Outcome
from mailwarden.console.config import ConsoleConfig
from mailwarden.console.limits import RateLimiter
from mailwarden.console.links import LinkStore
from mailwarden.console.oidc import EntraSignIn
from mailwarden.console.roles import Principal
from mailwarden.console.sessions import Session, SessionStore
from mailwarden.console.web import Templates
from mailwarden.store.history import History


@dataclass(frozen=True, slots=True, kw_only=True)
class Console:
    """One console process: built once by `create_app`."""

    config: ConsoleConfig
    history: History
    sessions: SessionStore
    audit: AuditLog
    links: LinkStore
    templates: Templates
    limiter: RateLimiter
    clock: Callable[[], datetime]
    local_token: str | None  # local mode: the token printed at start; None in team mode
    entra: EntraSignIn | None = None  # team mode: the Entra ID sign-in (oidc.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ctx:
    console: Console
    request: Request
    principal: Principal | None
    session: Session | None

    @property
    def now(self) -> datetime:
        return self.console.clock()

    @property
    def remote(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return self.console.templates.response(
            template, status=status, principal=self.principal,
            csrf=self.session.csrf if self.session else "", request=self.request, **values)

    def record(self, action: str, *, outcome: Outcome = Outcome.DONE,
               tenant_id: str | None = None, target: str | None = None,
               detail: Mapping[str, Any] | None = None) -> None:
        self.console.audit.record(at=self.now, principal=self.principal, action=action,
                                  outcome=outcome, tenant_id=tenant_id, target=target,
                                  detail=detail, remote=self.remote)
