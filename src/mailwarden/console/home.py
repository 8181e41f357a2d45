"""The landing page: the tenants in the history database and their latest run."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.roles import Role


async def home(request: Request, ctx: Ctx) -> Response:
    runs = ctx.console.history.runs()
    latest = {}
    for ref in runs:  # oldest first: the last one of a tenant wins
        latest[ref.tenant_id] = ref
    tenants = sorted(latest.values(), key=lambda r: (r.tenant_name or r.tenant_id).lower())
    return ctx.render("home.html", title="Tenants", tenants=tenants)


PAGES = (Page(path="/", endpoint=home, name="home", need=Role.VIEWER),)
