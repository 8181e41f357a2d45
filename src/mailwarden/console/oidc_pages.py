"""The routes of team mode sign-in: `/auth/signin` leaves for Entra ID, `/auth/callback`
comes back, checks everything (`oidc`, `idtoken`) and starts a session.

The flow's key travels in its own cookie: HttpOnly, SameSite=Lax (the way back from Entra
ID is a cross-site top-level GET, which Lax lets through and Strict would not), ten minutes,
and useless without the flow this process keeps. The session cookie is SameSite=Strict,
and a browser does not send it on the rest of a navigation another site began, so the
callback answers with a page that moves on to the console itself (a meta refresh, which
needs no script under the console's CSP) rather than with a redirect.

Every refusal is recorded in the audit log and shown as one sentence; a person whose token
is good but who holds none of the console's app roles is told to ask an admin for one.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.idtoken import principal_of
from mailwarden.console.oidc import FLOW_LIFETIME, EntraSignIn
from mailwarden.console.pages import Page
from mailwarden.console.sessions import cookie_name
from mailwarden.console.signin import safe_next, set_session_cookie
from mailwarden.errors import AuthError, ConfigError, ServiceError

FLOW_COOKIE = "mailwarden_signin"
SECURE_FLOW_COOKIE = "__Host-mailwarden_signin"
REASON_LIMIT = 300
NO_ROLE = "You have no role in the mailwarden console; ask an admin to assign one."


def _flow_cookie(ctx: Ctx) -> str:
    return SECURE_FLOW_COOKIE if ctx.console.config.secure_cookies else FLOW_COOKIE


def _forget_flow(ctx: Ctx, response: Response) -> Response:
    secure = ctx.console.config.secure_cookies
    response.delete_cookie(_flow_cookie(ctx), path="/", secure=secure, httponly=True,
                           samesite="lax")
    return response


def _entra(ctx: Ctx) -> EntraSignIn | None:
    return ctx.console.entra


def _refused(ctx: Ctx, status: int, title: str, message: str, *, reason: str,
             who: str | None = None) -> Response:
    # The reason may quote Entra's answer, which the browser brought back: keep it short.
    ctx.record("signin.entra", outcome=Outcome.REFUSED, target=who,
               detail={"reason": reason[:REASON_LIMIT]})
    return _forget_flow(ctx, ctx.render("error.html", status=status, title=title,
                                        message=message))


async def begin(request: Request, ctx: Ctx) -> Response:
    entra = _entra(ctx)
    if entra is None:
        return ctx.render("error.html", status=404, title="No Entra ID sign-in",
                          message="This console signs people in with its local token.")
    target = safe_next(request.query_params.get("next"))
    try:
        key, url = await asyncio.to_thread(entra.begin, target)
    except (ServiceError, ConfigError) as exc:
        return ctx.render("error.html", status=502, title="Entra ID cannot be reached",
                          message=str(exc))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(_flow_cookie(ctx), key, max_age=int(FLOW_LIFETIME.total_seconds()),
                        path="/", secure=ctx.console.config.secure_cookies, httponly=True,
                        samesite="lax")
    return response


async def callback(request: Request, ctx: Ctx) -> Response:
    entra = _entra(ctx)
    if entra is None:
        return ctx.render("error.html", status=404, title="No Entra ID sign-in",
                          message="This console signs people in with its local token.")
    key = request.cookies.get(_flow_cookie(ctx))
    pending = entra.flows.take(key) if key else None
    if pending is None:
        return _refused(ctx, 400, "Sign-in expired",
                        "This sign-in has expired or was started in another browser; sign in "
                        "again.", reason="no sign-in under way for this browser")
    try:
        identity = await asyncio.to_thread(entra.complete, pending, dict(request.query_params))
    except AuthError as exc:
        return _refused(ctx, 403, "Sign-in refused", f"The sign-in was refused: {exc}.",
                        reason=str(exc))
    except (ServiceError, ConfigError) as exc:
        return _refused(ctx, 502, "Entra ID cannot be reached", str(exc), reason=str(exc))
    principal = principal_of(identity)
    if principal is None:
        return _refused(ctx, 403, "No role in the console", NO_ROLE,
                        reason="no console app role", who=identity.username)
    console = ctx.console
    earlier = request.cookies.get(cookie_name(console.config.secure_cookies))
    if earlier:  # whoever was signed in in this browser is signed out first
        console.sessions.end(earlier)
    value, session = console.sessions.start(principal, now=ctx.now,
                                            lifetime=console.config.session_lifetime,
                                            remote=ctx.remote)
    signed = Ctx(console=console, request=request, principal=principal, session=session)
    signed.record("signin.entra", target=identity.username,
                  detail={"roles": sorted(r.value for r in principal.roles)})
    response = signed.render("continue.html", title="Signed in", target=pending.target)
    set_session_cookie(ctx, response, value)
    return _forget_flow(ctx, response)


PAGES = (
    Page(path="/auth/signin", endpoint=begin, name="auth_signin", public=True, need=None,
         rate_limited=True),
    Page(path="/auth/callback", endpoint=callback, name="auth_callback", public=True,
         need=None, rate_limited=True),
)
