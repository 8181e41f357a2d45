"""Remediation in the console: the plan of the tenant as it is now, change requests, their
two-person approval, the journalled apply and its rollback.

Who does what (roles include the ones below them):
- viewer: reads the plan, the requests and each action's outcome;
- responder: selects actions (or whole kinds) and submits them with a reason; withdraws
  their own pending request;
- approver: approves or rejects a pending request with a note, never one they requested
  (refused with 403 and recorded in the audit log; the request is unchanged); a replayed
  decision finds the request no longer pending and changes nothing (409);
- admin: applies an approved request, once, and rolls it back from its journalled run.
  Applying is the admin's because it changes the tenant with the console's own
  credential; the approval already took a second person.

The plan is always read afresh (a live read of the tenant through the console's
`--config` settings), and a submission reads it again and keeps only actions the fresh plan
still holds, built by the server: a form names action ids, never calls. Apply and rollback
run in a worker thread after the response is sent; the request shows "applying" (the page
refreshes itself) until it ends applied, failed or rolled back.
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.remediation_work import (
    Finished,
    apply_request,
    connection_settings,
    fresh_plan,
    is_connected_tenant,
    rollback_request,
    selected,
    totals,
)
from mailwarden.console.roles import Role
from mailwarden.errors import ConfigError, InputError, MailwardenError
from mailwarden.remediate.kinds import describe
from mailwarden.remediate.model import Action, ActionKind
from mailwarden.settings import Settings
from mailwarden.store.changes import (
    ChangeRequest,
    ChangeState,
    ChangeStore,
    SamePersonError,
)

#: States in which work is under way: the request page refreshes itself.
BUSY = frozenset({ChangeState.APPLYING, ChangeState.ROLLING_BACK})


def _settings(ctx: Ctx) -> tuple[Settings | None, str | None]:
    try:
        return connection_settings(ctx.console.config), None
    except ConfigError as exc:
        return None, str(exc)


def _changes(ctx: Ctx) -> ChangeStore:
    return ChangeStore(ctx.console.history)


async def overview(request: Request, ctx: Ctx) -> Response:
    settings, problem = _settings(ctx)
    requests = _changes(ctx).for_tenant()
    tenants = sorted({r.tenant_id for r in requests})
    return ctx.render("remediation.html", title="Remediation", settings=settings,
                      problem=problem, tenants=tenants, requests=requests)


def _not_connected(ctx: Ctx, tenant: str, problem: str | None) -> Response:
    return ctx.render("error.html", status=404, title="Not this console's tenant",
                      message=problem or f"This console does not connect to tenant {tenant}: "
                      "start it with --config naming that tenant to plan its remediation.")


async def _plan_page(ctx: Ctx, tenant: str, settings: Settings, *, status: int = 200,
                     error: str | None = None, reason: str = "") -> Response:
    try:
        found = await run_in_threadpool(fresh_plan, settings, db_url=ctx.console.config.db_url,
                                        now=ctx.now)
    except MailwardenError as exc:
        return ctx.render("error.html", status=502, title="The tenant could not be read",
                          message=str(exc))
    plan = found.plan
    no_break_glass = any(a.kind is ActionKind.CA_CREATE_LEGACY_BLOCK
                         and not a.detail.get("break_glass") for a in plan.actions)
    return ctx.render("remediation_plan.html", status=status, title="Remediation plan",
                      tenant=tenant, found=found, plan=plan, totals=totals(plan.actions),
                      describe=describe, no_break_glass=no_break_glass, error=error,
                      reason=reason, can_submit=bool(ctx.principal and
                                                     ctx.principal.has(Role.RESPONDER)))


async def plan_page(request: Request, ctx: Ctx) -> Response:
    tenant = request.path_params["tenant_id"]
    settings, problem = _settings(ctx)
    if settings is None or not is_connected_tenant(settings, tenant):
        return _not_connected(ctx, tenant, problem)
    return await _plan_page(ctx, tenant, settings)


async def submit(request: Request, ctx: Ctx) -> Response:
    tenant = request.path_params["tenant_id"]
    settings, problem = _settings(ctx)
    if settings is None or not is_connected_tenant(settings, tenant):
        return _not_connected(ctx, tenant, problem)
    form = await request.form()
    ids = {str(v) for v in form.getlist("action")}
    kinds = {str(v) for v in form.getlist("kind")}
    reason = str(form.get("reason") or "")
    try:
        found = await run_in_threadpool(fresh_plan, settings, db_url=ctx.console.config.db_url,
                                        now=ctx.now)
        actions = selected(found.plan, ids, kinds)
        assert ctx.principal is not None  # the guard let only a responder in
        change = _changes(ctx).submit(
            tenant_id=found.plan.tenant_id, actions=[a.as_dict() for a in actions],
            origin="console", origin_id=None, reason=reason,
            requested_by=ctx.principal.subject, requested_by_name=ctx.principal.name,
            at=ctx.now)
    except InputError as exc:  # nothing selected, no reason, or the tenant changed
        return await _plan_page(ctx, tenant, settings, status=400, error=str(exc),
                                reason=reason)
    except MailwardenError as exc:
        return ctx.render("error.html", status=502, title="The tenant could not be read",
                          message=str(exc))
    ctx.record("change.submit", tenant_id=change.tenant_id, target=change.id,
               detail={"actions": len(change.actions)})
    return RedirectResponse(f"/remediation/requests/{change.id}", status_code=303)


def _find(ctx: Ctx, request_id: str) -> ChangeRequest | None:
    try:
        return _changes(ctx).get(request_id)
    except InputError:
        return None


def _missing(ctx: Ctx) -> Response:
    return ctx.render("error.html", status=404, title="No such change request",
                      message="It does not exist; the remediation page lists the requests.")


async def request_page(request: Request, ctx: Ctx) -> Response:
    change = _find(ctx, request.path_params["request_id"])
    if change is None:
        return _missing(ctx)
    actions = tuple(Action.from_dict(a) for a in change.actions)
    outcome = dict(change.outcome or {})
    principal = ctx.principal
    assert principal is not None  # the guard let only a viewer in
    return ctx.render(
        "change_request.html", title=f"Change request {change.id}", change=change,
        actions=actions, describe=describe, totals=totals(actions), busy=change.state in BUSY,
        applied=outcome.get("actions") or {}, apply_error=outcome.get("error"),
        rollback=(outcome.get("rollback") or {}),
        mine=change.requested_by == principal.subject,
        can_decide=principal.has(Role.APPROVER), can_apply=principal.has(Role.ADMIN))


def _refused(ctx: Ctx, change: ChangeRequest, step: str, exc: InputError) -> Response:
    """A step the rules refuse: recorded, and nothing changes."""
    same_person = isinstance(exc, SamePersonError)
    ctx.record(f"change.{step}", outcome=Outcome.REFUSED, tenant_id=change.tenant_id,
               target=change.id, detail={"state": change.state.value,
                                         "why": "two-person rule" if same_person
                                         else "state"})
    return ctx.render("error.html", status=403 if same_person else 409,
                      title="Not done", message=str(exc))


async def _decide(request: Request, ctx: Ctx, *, approve: bool) -> Response:
    change = _find(ctx, request.path_params["request_id"])
    if change is None:
        return _missing(ctx)
    note = str((await request.form()).get("note") or "")
    principal = ctx.principal
    assert principal is not None
    step = "approve" if approve else "reject"
    try:
        decided = _changes(ctx).decide(change.id, approve=approve, by=principal.subject,
                                       by_name=principal.name, at=ctx.now, note=note)
    except InputError as exc:
        return _refused(ctx, change, step, exc)
    ctx.record(f"change.{step}", tenant_id=decided.tenant_id, target=decided.id,
               detail={"state": decided.state.value})
    return RedirectResponse(f"/remediation/requests/{decided.id}", status_code=303)


async def approve(request: Request, ctx: Ctx) -> Response:
    return await _decide(request, ctx, approve=True)


async def reject(request: Request, ctx: Ctx) -> Response:
    return await _decide(request, ctx, approve=False)


async def cancel(request: Request, ctx: Ctx) -> Response:
    change = _find(ctx, request.path_params["request_id"])
    if change is None:
        return _missing(ctx)
    assert ctx.principal is not None
    try:
        done = _changes(ctx).cancel(change.id, by=ctx.principal.subject, at=ctx.now)
    except InputError as exc:
        return _refused(ctx, change, "cancel", exc)
    ctx.record("change.cancel", tenant_id=done.tenant_id, target=done.id)
    return RedirectResponse(f"/remediation/requests/{done.id}", status_code=303)


def _finished(ctx: Ctx, step: str) -> Finished:
    def record(change: ChangeRequest) -> None:
        good = change.state in (ChangeState.APPLIED, ChangeState.ROLLED_BACK)
        ctx.record(f"change.{step}.end", outcome=Outcome.DONE if good else Outcome.FAILED,
                   tenant_id=change.tenant_id, target=change.id,
                   detail={"state": change.state.value, "run_id": change.remediation_run_id})
    return record


async def _work(request: Request, ctx: Ctx, *, rollback: bool) -> Response:
    change = _find(ctx, request.path_params["request_id"])
    if change is None:
        return _missing(ctx)
    step = "rollback" if rollback else "apply"
    settings, problem = _settings(ctx)
    if settings is None:
        exc = InputError(problem or "this console was started without --config, so it cannot "
                         "reach the tenant: start it with the tenant's settings file")
        return _refused(ctx, change, step, exc)
    changes = _changes(ctx)
    try:
        started = changes.begin_rollback(change.id) if rollback else changes.begin_apply(
            change.id)
    except InputError as exc:
        return _refused(ctx, change, step, exc)
    assert ctx.principal is not None
    ctx.record(f"change.{step}", tenant_id=started.tenant_id, target=started.id,
               detail={"actions": len(started.actions)})
    work = rollback_request if rollback else apply_request
    task = BackgroundTask(work, changes, started, settings=settings,
                          db_url=ctx.console.config.db_url, by=ctx.principal.name,
                          clock=ctx.console.clock, finished=_finished(ctx, step))
    return RedirectResponse(f"/remediation/requests/{started.id}", status_code=303,
                            background=task)


async def apply(request: Request, ctx: Ctx) -> Response:
    return await _work(request, ctx, rollback=False)


async def rollback(request: Request, ctx: Ctx) -> Response:
    return await _work(request, ctx, rollback=True)


_REQUEST = "/remediation/requests/{request_id}"

PAGES = (
    Page(path="/remediation", endpoint=overview, name="remediation"),
    Page(path="/remediation/plan/{tenant_id}", endpoint=plan_page, name="remediation-plan"),
    Page(path="/remediation/plan/{tenant_id}", endpoint=submit, name="remediation-submit",
         methods=("POST",), need=Role.RESPONDER),
    Page(path=_REQUEST, endpoint=request_page, name="change-request"),
    Page(path=f"{_REQUEST}/approve", endpoint=approve, name="change-approve",
         methods=("POST",), need=Role.APPROVER),
    Page(path=f"{_REQUEST}/reject", endpoint=reject, name="change-reject", methods=("POST",),
         need=Role.APPROVER),
    Page(path=f"{_REQUEST}/cancel", endpoint=cancel, name="change-cancel", methods=("POST",),
         need=Role.RESPONDER),
    Page(path=f"{_REQUEST}/apply", endpoint=apply, name="change-apply", methods=("POST",),
         need=Role.ADMIN),
    Page(path=f"{_REQUEST}/rollback", endpoint=rollback, name="change-rollback",
         methods=("POST",), need=Role.ADMIN),
)
