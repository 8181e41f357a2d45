"""The admin's pages: the audit log of every console action, and the live sessions (an
admin can end a person's sessions, which signs them out everywhere at once)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.roles import Role

PAGE_SIZE = 50


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1


async def audit(request: Request, ctx: Ctx) -> Response:
    """Newest first, PAGE_SIZE a page, filtered by action and actor."""
    log = ctx.console.audit
    action = request.query_params.get("action") or None
    actor = request.query_params.get("actor") or None
    total = log.count(action=action, actor=actor)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(_page_number(request.query_params.get("page")), pages)
    entries = log.entries(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, action=action,
                          actor=actor)
    return ctx.render("audit.html", title="Audit log", entries=entries, total=total,
                      number=number, pages=pages, action=action or "", actor=actor or "",
                      actions=log.actions())


async def sessions(request: Request, ctx: Ctx) -> Response:
    live = ctx.console.sessions.live(now=ctx.now)
    me = ctx.principal.subject if ctx.principal else ""
    return ctx.render("sessions.html", title="Sessions", sessions=live, me=me)


async def end_sessions(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    subject = form.get("subject")
    if not isinstance(subject, str) or not subject:
        return ctx.render("error.html", status=400, title="Whose sessions?",
                          message="Choose a person on the sessions page.")
    ended = ctx.console.sessions.end_all(subject)
    ctx.record("sessions.end", target=subject, detail={"ended": ended})
    return RedirectResponse("/sessions", status_code=303)


PAGES = (
    Page(path="/audit", endpoint=audit, name="audit", need=Role.ADMIN),
    Page(path="/sessions", endpoint=sessions, name="sessions", need=Role.ADMIN),
    Page(path="/sessions/end", endpoint=end_sessions, name="sessions-end", methods=("POST",),
         need=Role.ADMIN),
)
