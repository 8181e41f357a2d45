"""Hostile tenant strings in an incident (its summary, its alerts' evidence rows, notes
people type) render inert on the queue, the incident page and the custodian's page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from mailwarden.assess import assess
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.detect.incidents import group_incidents
from mailwarden.detect.lifecycle import observe
from mailwarden.detect.results import Alert, DetectionResult
from mailwarden.model.findings import Severity
from mailwarden.report import make_run
from mailwarden.store import store_run
from mailwarden.store.incidents import IncidentStore
from tests.console.support import ConsoleClient, person
from tests.report.report_factory import GENERATED, snapshot

ClientOf = Callable[[Principal | None], ConsoleClient]
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
FORMULA = '=HYPERLINK("http://evil.example","x")'
ESCAPE = "\x1b[31mred"


def hostile_incident(console: Console) -> tuple[str, str]:
    """A run with a hostile alert stored, and its incident kept, as the watcher does."""
    snap = snapshot()
    result = assess(snap)
    alert = Alert(
        id="hostile0123456789abcd", category="ownerless-sign-in",
        rule_id="ownerless-legacy-sign-in", severity=Severity.HIGH, target="hr@contoso.com",
        targets=("hr@contoso.com",), source_ips=("203.0.113.9",),
        first_seen=GENERATED - timedelta(hours=2), last_seen=GENERATED - timedelta(hours=1),
        event_count=1, summary=f"signed in {SCRIPT} {IMG}",
        evidence=({"time": "2026-11-02T06:30:00+00:00", "ip": "203.0.113.9",
                   "client_app": FORMULA, "user_agent": f"{SCRIPT}{ESCAPE}",
                   "country": IMG},))
    detection = DetectionResult(alerts=(alert,), readers=(), rule_runs=(),
                                incidents=group_incidents([alert]))
    store_run(make_run(result, generated_at=GENERATED, snapshot=snap, detection=detection),
              str(console.history.url))
    tenant = result.tenant.tenant_id
    observed = observe({}, [alert], tenant_id=tenant, now=GENERATED, as_of=GENERATED)
    IncidentStore(console.history).save(tenant, observed.incidents.values())
    (ident,) = observed.incidents
    return tenant, ident


def inert(page: str) -> None:
    assert SCRIPT not in page and "<img src=x" not in page and "\x1b" not in page
    assert "&lt;script&gt;" in page


def test_hostile_strings_render_inert(client_of: ClientOf, console: Console) -> None:
    tenant, ident = hostile_incident(console)
    client = client_of(person(Role.RESPONDER, f"Eve {SCRIPT}"))
    inert(client.get("/incidents?status=all").text)
    page = client.get(f"/incidents/{tenant}/{ident}")
    inert(page.text)
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page.text
    client.post(f"/incidents/{tenant}/{ident}/assign", {"assignee": IMG})
    client.post(f"/incidents/{tenant}/{ident}/resolve", {"note": SCRIPT})
    page = client.get(f"/incidents/{tenant}/{ident}")
    inert(page.text)
    issued = console.links.issue(purpose="incident", tenant_id=tenant, target=ident,
                                 custodian="owner@contoso.com", now=datetime.now(UTC))
    custodian = client_of(None)
    custodian.get(urlsplit(issued.url("http://127.0.0.1:8765")).path)
    inert(custodian.get(f"/custodian/incident/{ident}").text)
    stored = IncidentStore(console.history).find(tenant, ident)
    assert stored is not None and replace(stored).assignee == IMG
