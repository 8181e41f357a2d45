"""The incident queue and an incident's page: its alerts with their evidence rows, what
people did about it (the console's audit log), and the responders' actions.

The queue is the watcher's incidents (`store.incidents`), filtered by tenant, status,
severity (at least), assignee and category, worst first and then most recently active
(`select_incidents`, as `mailwarden alerts` lists them). "Open" leaves out the snoozed
ones until their date. Actions use the lifecycle's own rules (`detect.lifecycle`:
acknowledge, resolve; `detect.triage`: assign, snooze): a resolved incident is closed for
good, so there is no reopening here (new activity starts a new incident that names it; a
custodian's denial reopens it, see `console.custodian`). Each action is written through
`IncidentStore.update` (one transaction on the newest row) and recorded in the audit log.

Forms post and redirect without JavaScript; with htmx the action panel is swapped in place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Endpoint, Page
from mailwarden.console.roles import Role
from mailwarden.detect.lifecycle import acknowledge, resolve
from mailwarden.detect.rules import CATEGORIES
from mailwarden.detect.triage import QueueStatus, assign, queue_status, snooze
from mailwarden.errors import InputError
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import TrackedIncident
from mailwarden.notify.notice import EVIDENCE_COLUMNS
from mailwarden.store.incidents import IncidentFilter, IncidentStore, select_incidents

SEVERITIES = tuple(s.value for s in Severity)
STATUSES = tuple(s.value for s in QueueStatus)
#: Evidence rows shown per alert on the incident page (the stored document has them all).
EVIDENCE_SHOWN = 50
NOTE_LIMIT = 2000

Change = Callable[[TrackedIncident], TrackedIncident]


def _store(ctx: Ctx) -> IncidentStore:
    return IncidentStore(ctx.console.history)


def _tenant_names(ctx: Ctx) -> dict[str, str]:
    return {ref.tenant_id: ref.tenant_name or ref.tenant_id
            for ref in ctx.console.history.runs()}


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


async def queue(request: Request, ctx: Ctx) -> Response:
    params = request.query_params
    known = list(_store(ctx).load(with_alerts=False).values())  # the queue shows no alert
    chosen: dict[str, str] = {
        "tenant": params.get("tenant") or "",
        "status": _choice(params.get("status") or "open", STATUSES),
        "severity": _choice(params.get("severity"), SEVERITIES),
        "assignee": (params.get("assignee") or "").strip(),
        "category": _choice(params.get("category"), CATEGORIES),
    }
    picked = select_incidents(known, IncidentFilter(
        category=chosen["category"] or None, severity=chosen["severity"] or None,
        include_closed=True))
    now = ctx.now

    def wanted(incident: TrackedIncident) -> bool:
        if chosen["tenant"] and incident.tenant_id != chosen["tenant"]:
            return False
        if chosen["status"] and queue_status(incident, now).value != chosen["status"]:
            return False
        who = chosen["assignee"].lower()
        return not who or (who == "-" and not incident.assignee) or (
            incident.assignee is not None and who in incident.assignee.lower())

    rows = [(i, queue_status(i, now).value) for i in picked if wanted(i)]
    names = _tenant_names(ctx)
    tenants = sorted({i.tenant_id for i in known}, key=lambda t: (names.get(t) or t).lower())
    return ctx.render("incidents.html", title="Incidents", rows=rows, chosen=chosen,
                      tenants=[(t, names.get(t, t)) for t in tenants], names=names,
                      statuses=STATUSES, severities=SEVERITIES, categories=CATEGORIES)


def _incident_or_404(ctx: Ctx, tenant_id: str, ident: str
                     ) -> tuple[TrackedIncident | None, Response | None]:
    incident = _store(ctx).find(tenant_id, ident)
    if incident is None:
        return None, ctx.render("error.html", status=404, title="No such incident",
                                message="This incident is not in the history database "
                                        "(resolved incidents are forgotten after 90 days).")
    return incident, None


def evidence_of(document: Mapping[str, Any]) -> tuple[tuple[str, ...], list[list[str]]]:
    """An alert document's evidence rows as a table: the columns worth a person's
    attention that any row has, in `EVIDENCE_COLUMNS` order, then the rows' values."""
    rows = [r for r in list(document.get("evidence") or ())[:EVIDENCE_SHOWN]
            if isinstance(r, Mapping)]
    columns = tuple(c for c in EVIDENCE_COLUMNS if any(r.get(c) not in (None, "", [])
                                                       for r in rows))
    return columns, [[_cell(r.get(c)) for c in columns] for r in rows]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _page_values(ctx: Ctx, incident: TrackedIncident) -> dict[str, Any]:
    store = _store(ctx)
    documents = store.alert_documents(incident.tenant_id, incident.alert_ids)
    alerts = [{"id": ident, **dict(seen), "evidence": evidence_of(documents.get(ident, {})),
               "stored": ident in documents}
              for ident, seen in incident.alerts.items()]
    history = ctx.console.audit.entries(tenant_id=incident.tenant_id, target=incident.id)
    return {"incident": incident, "alerts": alerts, "history": history,
            "tenant_name": _tenant_names(ctx).get(incident.tenant_id, incident.tenant_id),
            **_panel_values(ctx, incident)}


def _panel_values(ctx: Ctx, incident: TrackedIncident, error: str | None = None
                  ) -> dict[str, Any]:
    principal = ctx.principal
    return {"incident": incident, "state": queue_status(incident, ctx.now).value,
            "can_act": principal is not None and principal.has(Role.RESPONDER),
            "action_base": f"/incidents/{incident.tenant_id}/{incident.id}",
            "today": ctx.now.astimezone(UTC).date().isoformat(), "error": error}


async def incident_page(request: Request, ctx: Ctx) -> Response:
    incident, missing = _incident_or_404(ctx, request.path_params["tenant"],
                                         request.path_params["id"])
    if incident is None:
        assert missing is not None
        return missing
    return ctx.render("incident.html", title=f"Incident {incident.id}",
                      **_page_values(ctx, incident))


def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _until(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError("give the date to snooze until as YYYY-MM-DD") from None
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _change_for(action: str, ctx: Ctx, form: Mapping[str, Any]
                ) -> tuple[Change, dict[str, Any]]:
    """The change an action makes and what the audit log records of it; raises
    InputError for a form that cannot be acted on."""
    assert ctx.principal is not None
    who, now = ctx.principal.name, ctx.now
    note = _field(form, "note")[:NOTE_LIMIT] or None
    if action == "assign":
        to = ctx.principal.name if _field(form, "me") else _field(form, "assignee")[:512]
        return (lambda i: assign(i, to=to or None, now=now)), {"assignee": to or None}
    if action == "acknowledge":
        return (lambda i: acknowledge(i, now=now, by=who, note=note)), {"note": note}
    if action == "resolve":
        if note is None:
            raise InputError("say why it is resolved: a note is required")
        return (lambda i: resolve(i, now=now, by=who, note=note)), {"note": note}
    until = _until(_field(form, "until"))
    if until <= now:
        raise InputError("snooze until a date in the future")
    return (lambda i: snooze(i, until=until, now=now)), {"until": until.date().isoformat()}


def _act(action: str) -> Endpoint:
    async def endpoint(request: Request, ctx: Ctx) -> Response:
        tenant_id, ident = request.path_params["tenant"], request.path_params["id"]
        incident, missing = _incident_or_404(ctx, tenant_id, ident)
        if incident is None:
            assert missing is not None
            return missing
        htmx = request.headers.get("hx-request") == "true"
        form = await request.form()
        try:
            change, detail = _change_for(action, ctx, form)
        except InputError as exc:
            ctx.record(f"incident.{action}", outcome=Outcome.REFUSED, tenant_id=tenant_id,
                       target=ident, detail={"reason": str(exc)})
            if htmx:  # htmx swaps a 200 only: the panel says what to fix
                return ctx.render("incident_actions.html",
                                  **_panel_values(ctx, incident, str(exc)))
            return ctx.render("incident.html", status=400, title=f"Incident {ident}",
                              **{**_page_values(ctx, incident), "error": str(exc)})
        result = _store(ctx).update(tenant_id, ident, change)
        if result is None:
            return ctx.render("error.html", status=404, title="No such incident",
                              message="This incident is no longer stored.")
        before, after = result
        changed = after != before
        ctx.record(f"incident.{action}", outcome=Outcome.DONE if changed else Outcome.REFUSED,
                   tenant_id=tenant_id, target=ident,
                   detail={**detail, "status": queue_status(after, ctx.now).value,
                           **({} if changed else {"reason": "nothing to change"})})
        if htmx:
            return ctx.render("incident_actions.html", **_panel_values(ctx, after))
        return RedirectResponse(f"/incidents/{tenant_id}/{ident}", status_code=303)
    endpoint.__name__ = f"incident_{action}"
    return endpoint


ACTIONS = ("assign", "acknowledge", "resolve", "snooze")

PAGES = (
    Page(path="/incidents", endpoint=queue, name="incidents", need=Role.VIEWER),
    Page(path="/incidents/{tenant}/{id}", endpoint=incident_page, name="incident",
         need=Role.VIEWER),
    *(Page(path=f"/incidents/{{tenant}}/{{id}}/{action}", endpoint=_act(action),
           name=f"incident-{action}", methods=("POST",), need=Role.RESPONDER)
      for action in ACTIONS),
)
