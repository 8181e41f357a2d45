"""The one place a request is authenticated, authorized and CSRF-checked (see pages.py for
the rules). Endpoints are only ever called through `guarded`."""

from __future__ import annotations

import hmac
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Console, Ctx
from mailwarden.console.pages import Page
from mailwarden.console.roles import Principal
from mailwarden.console.sessions import Session, cookie_name

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def session_of(console: Console, request: Request) -> tuple[str | None, Session | None]:
    value = request.cookies.get(cookie_name(console.config.secure_cookies))
    if not value:
        return None, None
    return value, console.sessions.find(value, now=console.clock())


def reaches(page: Page, principal: Principal | None, request: Request) -> bool:
    """Whether `principal` may reach `page` (the path parameters decide a link's target)."""
    if page.public:
        return True
    if principal is None:
        return False
    if principal.link is not None:
        grant = principal.link
        return (page.link == grant.purpose
                and request.path_params.get(page.link_param) == grant.target)
    return page.need is not None and principal.has(page.need)


async def _csrf_ok(console: Console, request: Request, session: Session) -> bool:
    origin = request.headers.get("origin")
    if origin is not None and not _same_origin(origin, console, request):
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    return sent is not None and hmac.compare_digest(sent, session.csrf)


def _same_origin(origin: str, console: Console, request: Request) -> bool:
    allowed = {console.config.base_url.lower(), f"{request.url.scheme}://{request.url.netloc}"}
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}".lower() in {a.lower() for a in allowed}


async def guarded(console: Console, page: Page, request: Request) -> Response:
    remote = request.client.host if request.client else "unknown"
    if page.rate_limited and not console.limiter.allow(remote):
        return PlainTextResponse(
            "too many attempts from this address; wait and try again", status_code=429,
            headers={"retry-after": str(console.limiter.retry_after(remote))})
    _, session = session_of(console, request)
    principal = session.principal if session else None
    ctx = Ctx(console=console, request=request, principal=principal, session=session)
    if not reaches(page, principal, request):
        if principal is None:
            if request.method == "GET" and page.link is None:
                target = quote(request.url.path + (f"?{request.url.query}"
                                                   if request.url.query else ""), safe="/")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            return ctx.render("error.html", status=401, title="Sign in first",
                              message="This page needs you to sign in.")
        if request.method != "GET":
            ctx.record(f"refused:{page.name}", outcome=Outcome.REFUSED,
                       target=request.url.path)
        return ctx.render("error.html", status=403, title="Not allowed",
                          message="Your role does not reach this page.")
    if request.method not in ("GET", "HEAD") and session is not None \
            and not await _csrf_ok(console, request, session):
        ctx.record(f"csrf:{page.name}", outcome=Outcome.REFUSED, target=request.url.path)
        return ctx.render("error.html", status=403, title="Form expired",
                          message="This form is no longer valid; reload the page and try "
                                  "again.")
    return await page.endpoint(request, ctx)
