"""The incident queue and an incident's page through the routes: filters and order,
evidence rows, the responders' actions (with and without htmx), who may act."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import IncidentStatus
from mailwarden.store.incidents import IncidentStore
from tests.console.incidents.seed import Seeded
from tests.console.support import ConsoleClient, person

ClientOf = Callable[[Principal | None], ConsoleClient]
Seed = tuple[Path, Seeded]


def listed(page: str) -> list[str]:
    """The incidents a queue page links to, in order."""
    return re.findall(r'href="/incidents/[^/"]+/(inc-[0-9a-f-]+)"', page)


def by_category(seeded: Seed, category: str) -> str:
    (ident,) = [i.id for i in seeded[1].incidents.values() if category in i.categories
                and len(i.targets) == 1]
    return ident


def test_the_queue_lists_open_incidents_worst_first_and_filters(
        client_of: ClientOf, seeded: Seed) -> None:
    client = client_of(person(Role.VIEWER))
    known = seeded[1].incidents
    page = client.get("/incidents")
    assert page.status_code == 200
    worst_first = sorted(known.values(), key=lambda i: (
        -Severity.rank_of(i.severity), -(i.last_seen or datetime.min.replace(tzinfo=UTC))
        .timestamp()))
    assert listed(page.text) == [i.id for i in worst_first]
    assert 'href="/incidents"' in page.text  # the nav link
    forwarding = by_category(seeded, "external-forwarding-set")
    assert listed(client.get("/incidents?category=external-forwarding-set").text) == [
        forwarding]
    assert listed(client.get("/incidents?status=resolved").text) == []
    assert listed(client.get("/incidents?tenant=another").text) == []
    tenant = seeded[1].tenant_id
    assert len(listed(client.get(f"/incidents?tenant={tenant}&severity=critical").text)) == 4
    assert listed(client.get("/incidents?assignee=nobody-yet").text) == []
    assert len(listed(client.get("/incidents?assignee=-").text)) == 4


def test_an_incident_shows_its_alerts_and_their_evidence_rows(
        client_of: ClientOf, seeded: Seed) -> None:
    client = client_of(person(Role.VIEWER))
    incident = seeded[1].incidents[by_category(seeded, "external-forwarding-set")]
    page = client.get(f"/incidents/{incident.tenant_id}/{incident.id}")
    assert page.status_code == 200
    assert '<table class="evidence">' in page.text
    assert "<th>forward_to</th>" in page.text or "<th>operation</th>" in page.text
    assert incident.targets[0] in page.text
    # A viewer sees no action forms.
    assert "/acknowledge" not in page.text
    assert client.get(f"/incidents/{incident.tenant_id}/inc-0000").status_code == 404


def test_a_responder_assigns_acknowledges_snoozes_and_resolves(
        client_of: ClientOf, console: Console, seeded: Seed) -> None:
    ana = person(Role.RESPONDER, "Ana Responder")
    client = client_of(ana)
    incident = seeded[1].incidents[by_category(seeded, "external-forwarding-set")]
    base = f"/incidents/{incident.tenant_id}/{incident.id}"
    client.get(base)
    assert client.post(f"{base}/assign", {"me": "1"}).status_code == 303
    assert client.post(f"{base}/acknowledge", {"note": "looking"}).status_code == 303
    past = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    refused = client.post(f"{base}/snooze", {"until": past})
    assert refused.status_code == 400 and "future" in refused.text
    later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    assert client.post(f"{base}/snooze", {"until": later}).status_code == 303
    assert incident.id not in listed(client.get("/incidents").text)
    assert listed(client.get("/incidents?status=snoozed").text) == [incident.id]
    assert listed(client.get("/incidents?assignee=ana&status=all").text) == [incident.id]
    assert client.post(f"{base}/resolve", {"note": ""}).status_code == 400
    assert client.post(f"{base}/resolve", {"note": "forwarding removed"}).status_code == 303
    stored = IncidentStore(console.history).find(incident.tenant_id, incident.id)
    assert stored is not None and stored.status is IncidentStatus.RESOLVED
    assert stored.assignee == "Ana Responder" and stored.acknowledged_by == "Ana Responder"
    assert stored.resolved_reason == "resolved by Ana Responder: forwarding removed"
    actions = [(e.action, e.outcome) for e in console.audit.entries(target=incident.id)]
    assert actions == [("incident.resolve", Outcome.DONE), ("incident.resolve", Outcome.REFUSED),
                       ("incident.snooze", Outcome.DONE), ("incident.snooze", Outcome.REFUSED),
                       ("incident.acknowledge", Outcome.DONE), ("incident.assign", Outcome.DONE)]
    page = client.get(base).text
    assert "incident.snooze" in page and "forwarding removed" in page
    assert "/resolve" not in page  # a resolved incident is closed for good: no actions


def test_with_htmx_the_action_panel_is_swapped_in_place(
        client_of: ClientOf, seeded: Seed) -> None:
    client = client_of(person(Role.RESPONDER, "Ben"))
    incident = seeded[1].incidents[by_category(seeded, "external-forwarding-set")]
    base = f"/incidents/{incident.tenant_id}/{incident.id}"
    client.get(base)
    swapped = client.post(f"{base}/assign", {"assignee": "Carla"},
                          headers={"HX-Request": "true"})
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section id="incident-actions"')
    assert "Assigned to: Carla" in swapped.text and "<html" not in swapped.text
    error = client.post(f"{base}/resolve", {"note": " "}, headers={"HX-Request": "true"})
    assert error.status_code == 200 and "a note is required" in error.text


def test_a_viewer_cannot_act_and_the_refusal_is_recorded(
        client_of: ClientOf, console: Console, seeded: Seed) -> None:
    client = client_of(person(Role.VIEWER))
    incident = seeded[1].incidents[by_category(seeded, "external-forwarding-set")]
    base = f"/incidents/{incident.tenant_id}/{incident.id}"
    client.get(base)
    for action, form in (("assign", {"me": "1"}), ("acknowledge", {}),
                         ("resolve", {"note": "x"}), ("snooze", {"until": "2999-01-01"})):
        assert client.post(f"{base}/{action}", form).status_code == 403
    assert IncidentStore(console.history).find(incident.tenant_id, incident.id) == \
        IncidentStore(console.history).load()[incident.id]
    stored = IncidentStore(console.history).load()[incident.id]
    assert stored.assignee is None and stored.status is incident.status
    refused = console.audit.entries(action="refused:incident-resolve")
    assert refused and refused[0].outcome is Outcome.REFUSED
    anonymous = client_of(None)
    assert anonymous.get("/incidents").status_code == 303
    assert anonymous.post(f"{base}/resolve", {"note": "x"}).status_code == 401
