"""Signing in and out.

Local mode (Jupyter's pattern): the console prints a URL holding a random token; opening it
exchanges the token for a session cookie and redirects to a URL without it, so the token is
not left in the address bar or the history. The token is compared in constant time, the
endpoint is rate limited, and the token is never logged or recorded.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.roles import Principal, Role, Source
from mailwarden.console.sessions import Session, cookie_name


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in; anything else is "/": another site, a scheme
    relative URL, or a path with control characters, which browsers drop from URLs (a
    `next` of "/%09/evil" arrives as "/", a tab, "/evil", and would lead to "//evil")."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)):
        return "/"
    return value


def signed_in(ctx: Ctx, principal: Principal, target: str) -> tuple[Response, Session]:
    """Start a session for `principal` and send them to `target` with its cookie set."""
    console = ctx.console
    value, session = console.sessions.start(principal, now=ctx.now,
                                            lifetime=console.config.session_lifetime,
                                            remote=ctx.remote)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(ctx, response, value)
    return response, session


def set_session_cookie(ctx: Ctx, response: Response, value: str) -> None:
    config = ctx.console.config
    response.set_cookie(cookie_name(config.secure_cookies), value,
                        max_age=int(config.session_lifetime.total_seconds()), path="/",
                        secure=config.secure_cookies, httponly=True, samesite="strict")


async def login(request: Request, ctx: Ctx) -> Response:
    token = request.query_params.get("token")
    expected = ctx.console.local_token
    target = safe_next(request.query_params.get("next"))
    if token is None:
        return ctx.render("login.html", mode=ctx.console.config.auth.value, next=target,
                          failed=False)
    if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
        ctx.record("signin.local", outcome=Outcome.REFUSED)
        return ctx.render("login.html", status=403, mode=ctx.console.config.auth.value,
                          next=target, failed=True)
    owner = ctx.console.config.owner_name
    principal = Principal(subject=f"local:{owner}", name=owner, roles=frozenset({Role.ADMIN}),
                          source=Source.LOCAL)
    response, _ = signed_in(ctx, principal, target)
    ctx.record("signin.local")
    return response


async def logout(request: Request, ctx: Ctx) -> Response:
    value = request.cookies.get(cookie_name(ctx.console.config.secure_cookies))
    if value:
        ctx.console.sessions.end(value)
    ctx.record("signout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(ctx.console.config.secure_cookies), path="/",
                           secure=ctx.console.config.secure_cookies, httponly=True,
                           samesite="strict")
    return response


#: Where a custodian link leads, by purpose: the one page (per target) it reaches.
LINK_PAGES = {"review": "/custodian/review/{target}", "incident": "/custodian/incident/{target}"}


async def open_link(request: Request, ctx: Ctx) -> Response:
    """A custodian's link: the token becomes a session bound to the link's one target.

    The page answers 200 and moves on with a meta refresh: the person arrives from a mail
    client or another site, and a SameSite=Strict cookie set during a cross-site navigation
    is not sent on a redirect in the same navigation, but it is on the next one the page
    starts itself."""
    grant = ctx.console.links.open(request.path_params["token"], now=ctx.now)
    if grant is None:
        ctx.record("link.open", outcome=Outcome.REFUSED)
        return ctx.render("error.html", status=404, title="This link does not work",
                          message="It has expired, was withdrawn, or was copied wrongly. "
                                  "Ask your security team for a new one.")
    principal = Principal(subject=f"link:{grant.link_id}", name=grant.custodian,
                          roles=frozenset(), source=Source.LINK, link=grant)
    target = LINK_PAGES[grant.purpose].format(target=grant.target)
    value, session = ctx.console.sessions.start(
        principal, now=ctx.now, lifetime=min(ctx.console.config.session_lifetime,
                                             timedelta(hours=2)), remote=ctx.remote)
    ctx.console.links.mark_used(grant.link_id, now=ctx.now)
    linked = Ctx(console=ctx.console, request=request, principal=principal, session=session)
    linked.record("link.open", tenant_id=grant.tenant_id, target=grant.target,
                  detail={"purpose": grant.purpose})
    response = linked.render("continue.html", title="Opening", target=target)
    set_session_cookie(ctx, response, value)
    return response


PAGES = (
    Page(path="/login", endpoint=login, name="login", public=True, need=None,
         rate_limited=True),
    Page(path="/r/{token}", endpoint=open_link, name="link", public=True, need=None,
         rate_limited=True),
    Page(path="/logout", endpoint=logout, name="logout", methods=("POST",),
         need=Role.VIEWER),
)
