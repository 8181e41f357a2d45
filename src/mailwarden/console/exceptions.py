"""Exceptions in the console: every tenant's requested, approved and rejected exceptions
with their expiry; a responder requests one, an approver other than the requester approves
or rejects it with a note.

A requested exception applies to no run: `ExceptionStore.load`, which every run reads,
returns approved ones only. The requester cannot decide their own request (403, recorded
in the audit log, nothing changes); a decision on one no longer requested changes nothing
(409).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.assess.accept import state_of
from mailwarden.assess.checks import CATALOGUE
from mailwarden.assess.exceptions_file import exception_from_values
from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.roles import Role
from mailwarden.errors import InputError
from mailwarden.model.exceptions import EXPIRING_DAYS, ExceptionState
from mailwarden.store.changes import SamePersonError
from mailwarden.store.exceptions import Approval, ExceptionRecord, ExceptionStore

_FIELDS = ("tenant", "check", "mailbox", "reason", "owner", "expires", "ticket")
#: Requested first (they wait for someone), then approved, then rejected.
_ORDER = {Approval.REQUESTED: 0, Approval.APPROVED: 1, Approval.REJECTED: 2}


def _store(ctx: Ctx) -> ExceptionStore:
    return ExceptionStore(ctx.console.history)


def _tenants(ctx: Ctx, records: tuple[ExceptionRecord, ...]) -> list[str]:
    """Tenants with a stored run or a stored exception, by id (lower case, as stored)."""
    known = {ref.tenant_id.lower() for ref in ctx.console.history.runs()}
    known |= {r.exception.tenant_id for r in records if r.exception.tenant_id}
    return sorted(known)


def _row(record: ExceptionRecord, now: datetime) -> dict[str, Any]:
    exception = record.exception
    state = state_of(exception, now)
    return {"record": record, "exception": exception, "approval": record.approval.value,
            "expired": state is ExceptionState.EXPIRED,
            "expiring": state is ExceptionState.EXPIRING, "days_left": exception.days_left(now)}


def _page(ctx: Ctx, *, status: int = 200, error: str | None = None,
          values: Mapping[str, str] | None = None) -> Response:
    records = _store(ctx).records()
    tenants = _tenants(ctx, records)
    wanted = ctx.request.query_params.get("tenant")
    shown = [t for t in tenants if not wanted or t == wanted.lower()]
    rows = {tenant: [_row(r, ctx.now) for r in sorted(
        (r for r in records if r.exception.tenant_id == tenant),
        key=lambda r: (_ORDER[r.approval], r.exception.expires))] for tenant in shown}
    principal = ctx.principal
    assert principal is not None  # the guard let only a viewer in
    return ctx.render(
        "exceptions.html", status=status, title="Exceptions", tenants=tenants, rows=rows,
        checks=sorted(c.info.id for c in CATALOGUE), warn_days=EXPIRING_DAYS, error=error,
        values=dict(values or {}), can_request=principal.has(Role.RESPONDER),
        can_decide=principal.has(Role.APPROVER), me=principal.subject)


async def exceptions_page(request: Request, ctx: Ctx) -> Response:
    return _page(ctx)


async def request_exception(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in _FIELDS}
    principal = ctx.principal
    assert principal is not None
    try:
        tenant = values["tenant"].lower()
        if not tenant:
            raise InputError("choose the tenant the exception is for")
        exception = exception_from_values(
            {key: values[key] or None for key in _FIELDS if key != "tenant"},
            "the exception requested", [c.info for c in CATALOGUE])
        stored = _store(ctx).request(
            tenant, replace(exception, created_by=principal.name, origin=""),
            by=principal.subject, at=ctx.now)
    except InputError as exc:
        return _page(ctx, status=400, error=str(exc), values=values)
    ctx.record("exception.request", tenant_id=tenant, target=str(stored.exception.id),
               detail={"check": stored.exception.check, "mailbox": stored.exception.mailbox,
                       "expires": stored.exception.expires.isoformat()})
    return RedirectResponse(f"/exceptions?tenant={quote(tenant or '', safe='')}",
                            status_code=303)


async def _decide(request: Request, ctx: Ctx, *, approve: bool) -> Response:
    raw = request.path_params["exception_id"]
    if not raw.isdigit():
        return ctx.render("error.html", status=404, title="No such exception",
                          message="The exceptions page lists them.")
    note = str((await request.form()).get("note") or "")
    principal = ctx.principal
    assert principal is not None
    step = "approve" if approve else "reject"
    store = _store(ctx)
    try:
        current = store.record(int(raw))
    except InputError as exc:
        return ctx.render("error.html", status=404, title="No such exception", message=str(exc))
    tenant = current.exception.tenant_id
    try:
        decided = store.decide(int(raw), approve=approve, by=principal.subject,
                               by_name=principal.name, at=ctx.now, note=note)
    except InputError as exc:
        same_person = isinstance(exc, SamePersonError)
        ctx.record(f"exception.{step}", outcome=Outcome.REFUSED, tenant_id=tenant, target=raw,
                   detail={"approval": current.approval.value,
                           "why": "two-person rule" if same_person else "state"})
        return ctx.render("error.html", status=403 if same_person else 409, title="Not done",
                          message=str(exc))
    ctx.record(f"exception.{step}", tenant_id=tenant, target=raw,
               detail={"approval": decided.approval.value})
    return RedirectResponse(f"/exceptions?tenant={quote(tenant or '', safe='')}",
                            status_code=303)


async def approve(request: Request, ctx: Ctx) -> Response:
    return await _decide(request, ctx, approve=True)


async def reject(request: Request, ctx: Ctx) -> Response:
    return await _decide(request, ctx, approve=False)


PAGES = (
    Page(path="/exceptions", endpoint=exceptions_page, name="exceptions"),
    Page(path="/exceptions", endpoint=request_exception, name="exception-request",
         methods=("POST",), need=Role.RESPONDER),
    Page(path="/exceptions/{exception_id}/approve", endpoint=approve,
         name="exception-approve", methods=("POST",), need=Role.APPROVER),
    Page(path="/exceptions/{exception_id}/reject", endpoint=reject, name="exception-reject",
         methods=("POST",), need=Role.APPROVER),
)
