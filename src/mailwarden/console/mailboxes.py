"""The mailbox pages: a tenant's ownerless mailboxes in the one risk order (`assess.risk.
ranked`, kept as each mailbox's rank when the run was stored) with filters, and one
mailbox with its attack paths, findings, access map, incidents and history.

Filters are a GET form (kind, risk band, failing check, text, custodian missing): they
work without JavaScript; htmx only swaps the table in place (`HX-Request`) and pushes the
URL, so the address always says what is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.assess.checks import list_checks
from mailwarden.console.chart import line_chart
from mailwarden.console.context import Ctx
from mailwarden.console.links_to import mailbox_url, mailboxes_url
from mailwarden.console.pages import Page
from mailwarden.console.roles import Role
from mailwarden.console.views import access_rows, evidence_summary
from mailwarden.model.findings import MailboxKind
from mailwarden.model.run import RunRef
from mailwarden.report.posture import RISK_BANDS
from mailwarden.store.incidents import IncidentStore
from mailwarden.store.mailbox_pages import (
    MailboxFilter,
    delegates_of,
    findings_of,
    latest_run,
    list_mailboxes,
    mailbox,
    mailbox_history,
)

PER_PAGE = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """The list's filters and page, as the query string carries them."""

    chosen: MailboxFilter
    page: int

    def url(self, base: str, *, page: int | None = None) -> str:
        values = {"kind": self.chosen.kind or "", "band": self.chosen.band or "",
                  "check": self.chosen.check or "", "q": self.chosen.text or "",
                  "custodian": "missing" if self.chosen.no_custodian else "",
                  "page": str(page or self.page) if (page or self.page) > 1 else ""}
        kept = {k: v for k, v in values.items() if v}
        return f"{base}?{urlencode(kept)}" if kept else base


def parse_query(params: Mapping[str, str]) -> Query:
    def text(name: str, limit: int = 200) -> str | None:
        value = (params.get(name) or "").strip()
        return value[:limit] or None

    band = text("band")
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    return Query(chosen=MailboxFilter(
        kind=text("kind"), band=band if band in {b[0] for b in RISK_BANDS} else None,
        check=text("check"), text=text("q"),
        no_custodian=params.get("custodian") == "missing"), page=page)


def _not_found(ctx: Ctx, what: str) -> Response:
    return ctx.render("error.html", status=404, title="Not found", message=what)


async def mailbox_list(request: Request, ctx: Ctx) -> Response:
    tenant_id = request.path_params["tenant"]
    history = ctx.console.history
    run = latest_run(history, tenant_id)
    if run is None:
        return _not_found(ctx, "No run of this tenant is stored.")
    query = parse_query(request.query_params)
    rows, total = list_mailboxes(history, run.id, query.chosen,
                                 offset=(query.page - 1) * PER_PAGE, limit=PER_PAGE)
    base = mailboxes_url(tenant_id)
    values: dict[str, Any] = {
        "run": run, "rows": rows, "total": total, "query": query, "base": base,
        "pages": max(1, ceil(total / PER_PAGE)), "tenant_id": tenant_id,
        "link": lambda upn: mailbox_url(tenant_id, upn)}
    partial = (request.headers.get("hx-request") == "true"
               and request.headers.get("hx-history-restore-request") != "true")
    if partial:
        return ctx.render("mailbox_table.html", **values)
    return ctx.render("mailboxes.html", title=f"Mailboxes · {run.tenant_name or tenant_id}",
                      kinds=[k.value for k in MailboxKind if k.ownerless],
                      bands=[b[0] for b in RISK_BANDS],
                      checks=sorted(c.id for c in list_checks()), **values)


async def mailbox_page(request: Request, ctx: Ctx) -> Response:
    tenant_id, upn = request.path_params["tenant"], request.path_params["upn"]
    history = ctx.console.history
    run: RunRef | None = latest_run(history, tenant_id)
    row = mailbox(history, run.id, upn) if run else None
    if row is None and run is not None and upn != upn.lower():
        row = mailbox(history, run.id, upn.lower())
    if run is None or row is None:
        return _not_found(ctx, "This tenant's latest run holds no such ownerless mailbox.")
    points = mailbox_history(history, tenant_id, row.upn)
    return ctx.render(
        "mailbox.html", title=row.upn, run=run, row=row, tenant_id=tenant_id,
        list_url=mailboxes_url(tenant_id),
        findings=[(f, evidence_summary(f.evidence)) for f in findings_of(history, run.id,
                                                                          row.upn)],
        access=access_rows(delegates_of(history, run.id, row.upn), row.detail.usage),
        incidents=IncidentStore(history).naming(tenant_id, row.upn),
        history=tuple(reversed(points)),
        chart=line_chart("Risk score", [(p.generated_at, p.risk_score) for p in points]))


async def tenants(request: Request, ctx: Ctx) -> Response:
    """The mailboxes of the one tenant stored; with several, which tenant."""
    latest = {ref.tenant_id: ref for ref in ctx.console.history.runs()}
    if len(latest) == 1:
        return RedirectResponse(mailboxes_url(next(iter(latest))), status_code=303)
    shown = sorted(latest.values(), key=lambda r: ((r.tenant_name or r.tenant_id).lower(),
                                                   r.tenant_id))
    return ctx.render("tenants.html", title="Mailboxes",
                      tenants=[(ref, mailboxes_url(ref.tenant_id)) for ref in shown])


PAGES = (
    Page(path="/mailboxes", endpoint=tenants, name="tenants", need=Role.VIEWER),
    Page(path="/tenants/{tenant}/mailboxes", endpoint=mailbox_list, name="mailboxes",
         need=Role.VIEWER),
    Page(path="/tenants/{tenant}/mailboxes/{upn:path}", endpoint=mailbox_page,
         name="mailbox", need=Role.VIEWER),
)
