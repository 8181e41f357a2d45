""""Was this you?": the page a custodian's incident link opens.

The link (`links.py`, purpose "incident") is bound to one tenant and one incident; the
guard lets its session reach only `/custodian/incident/{target}` with that incident's id,
and this page reads the incident of the link's own tenant, so nothing else of the tenant
shows. The page says what happened (when, from which addresses and places, over which
protocol, to which mailbox) and asks whether it was them.

The answer is recorded on the incident (`detect.triage.answer`: the first answer stands; a
denial raises the severity one step and reopens a resolved incident; a confirmation is a
note for the responders) and in the audit log, by the link's session. The link stays
usable for looking at the page after answering; a second answer is refused and the page
says which answer stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.detect.triage import ANSWERS, answer
from mailwarden.model.incidents import TrackedIncident
from mailwarden.store.incidents import IncidentStore

#: What a custodian is shown of each evidence row: when, from where, how.
CUSTODIAN_COLUMNS = ("time", "operation", "activity", "ip", "country", "city", "client_app",
                     "protocol", "user_agent", "result_code")
ROWS_SHOWN = 20


def _sign_ins(store: IncidentStore, incident: TrackedIncident
              ) -> tuple[tuple[str, ...], list[list[str]]]:
    documents = store.alert_documents(incident.tenant_id, incident.alert_ids)
    rows: list[Mapping[str, Any]] = [
        r for document in documents.values() for r in list(document.get("evidence") or ())
        if isinstance(r, Mapping)]
    rows.sort(key=lambda r: str(r.get("time") or ""))
    rows = rows[:ROWS_SHOWN]
    columns = tuple(c for c in CUSTODIAN_COLUMNS if any(r.get(c) not in (None, "", [])
                                                        for r in rows))
    return columns, [["" if r.get(c) is None else str(r.get(c)) for c in columns]
                     for r in rows]


def _incident(ctx: Ctx) -> TrackedIncident | None:
    grant = ctx.principal.link if ctx.principal else None
    if grant is None:  # the guard lets only this incident's link through
        return None
    return IncidentStore(ctx.console.history).find(grant.tenant_id, grant.target)


def _render(ctx: Ctx, incident: TrackedIncident, *, status: int = 200,
            refused: str | None = None) -> Response:
    columns, rows = _sign_ins(IncidentStore(ctx.console.history), incident)
    return ctx.render("custodian_incident.html", status=status, title="Was this you?",
                      incident=incident, columns=columns, rows=rows, refused=refused,
                      action=f"/custodian/incident/{incident.id}")


def _gone(ctx: Ctx) -> Response:
    return ctx.render("error.html", status=404, title="Nothing to answer",
                      message="This incident is no longer kept. Ask your security team if "
                              "you are unsure about your mailbox.")


async def custodian_incident(request: Request, ctx: Ctx) -> Response:
    incident = _incident(ctx)
    if incident is None:
        return _gone(ctx)
    return _render(ctx, incident)


async def custodian_answer(request: Request, ctx: Ctx) -> Response:
    incident = _incident(ctx)
    if incident is None:
        return _gone(ctx)
    grant = ctx.principal.link if ctx.principal else None
    assert grant is not None
    form = await request.form()
    given = form.get("answer")
    if not isinstance(given, str) or given not in ANSWERS:
        return _render(ctx, incident, status=400, refused="Choose one of the two answers.")
    result = IncidentStore(ctx.console.history).update(
        grant.tenant_id, grant.target, lambda i: answer(i, given=given, now=ctx.now))
    if result is None:
        return _gone(ctx)
    before, after = result
    if before.answer is not None:
        ctx.record("incident.answer", outcome=Outcome.REFUSED, tenant_id=grant.tenant_id,
                   target=grant.target, detail={"answer": given, "custodian": grant.custodian,
                                                "reason": "already answered"})
        return _render(ctx, after, status=409,
                       refused="This incident was already answered; the first answer "
                               "stands.")
    ctx.record("incident.answer", tenant_id=grant.tenant_id, target=grant.target,
               detail={"answer": given, "custodian": grant.custodian,
                       "severity": after.severity, "status": after.status.value,
                       **({"raised_from": before.severity}
                          if after.severity != before.severity else {}),
                       **({"reopened": True} if after.reopened
                          and after.status is not before.status else {})})
    return RedirectResponse(f"/custodian/incident/{grant.target}", status_code=303)


PAGES = (
    Page(path="/custodian/incident/{target}", endpoint=custodian_incident,
         name="custodian-incident", need=None, link="incident"),
    Page(path="/custodian/incident/{target}", endpoint=custodian_answer,
         name="custodian-incident-answer", methods=("POST",), need=None, link="incident",
         rate_limited=True),
)
