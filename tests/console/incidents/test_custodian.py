""""Was this you?": the watcher's email to a custodian carries a link to the console; the
link opens that incident's page and no other; the answer is recorded, a denial raises and
reopens, a second answer is refused; the token never reaches the outbox file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.detect.triage import CONFIRMED, DENIED
from mailwarden.notify import Delivery
from mailwarden.notify.render_text import html_body, plain_text
from mailwarden.store.incidents import IncidentStore
from mailwarden.watch.cycle import OUTBOX_FILE
from tests.console.incidents.seed import SECURITY, Seeded
from tests.console.support import BASE_URL, ConsoleClient, person

ClientOf = Callable[[Principal | None], ConsoleClient]
Seed = tuple[Path, Seeded]


def custodian_mail(seeded: Seed) -> dict[str, Delivery]:
    """The incident emails addressed to one custodian, by incident id."""
    return {str(d.notice.incident["id"]): d for d in seeded[1].sent.sent
            if d.notice.incident and d.notice.audience == "custodian"
            and len(d.recipients.to) == 1}


def opened(client_of: ClientOf, delivery: Delivery) -> ConsoleClient:
    """A browser that followed the link in the email (as a custodian reads it)."""
    url = delivery.notice.answer_url
    assert url is not None and url.startswith(f"{BASE_URL}/r/")
    assert url in plain_text(delivery.notice, delivery.recipients)
    assert f'href="{url}"' in html_body(delivery.notice, delivery.recipients)
    client = client_of(None)
    landing = client.get(urlsplit(url).path)
    assert landing.status_code == 200
    target = f"/custodian/incident/{delivery.notice.incident['id']}"
    assert target in landing.text
    return client


def test_only_a_single_custodians_email_carries_a_link(seeded: Seed) -> None:
    mail = custodian_mail(seeded)
    assert len(mail) == 2 and all(d.notice.answer_url for d in mail.values())
    for delivery in seeded[1].sent.sent:
        if delivery.notice.answer_url:
            assert delivery.recipients.to[0] not in (SECURITY,)
        if delivery.recipients.to == (SECURITY,) or len(delivery.recipients.to) > 1:
            assert delivery.notice.answer_url is None
            assert not any(i.get("answer_url") for i in delivery.notice.items)
    saved = (seeded[0] / "state" / OUTBOX_FILE).read_text(encoding="utf-8")
    assert f"{BASE_URL}/r/" not in saved
    for delivery in mail.values():
        token = str(delivery.notice.answer_url).rsplit("/", 1)[1]
        assert token not in saved


def test_the_custodian_denies_and_the_incident_is_reopened_and_recorded(
        client_of: ClientOf, console: Console, seeded: Seed) -> None:
    (ident, delivery), _ = sorted(custodian_mail(seeded).items())
    tenant = seeded[1].tenant_id
    # A responder had resolved it.
    responder = client_of(person(Role.RESPONDER))
    responder.get(f"/incidents/{tenant}/{ident}")
    responder.post(f"/incidents/{tenant}/{ident}/resolve", {"note": "expected scanner"})
    client = opened(client_of, delivery)
    page = client.get(f"/custodian/incident/{ident}")
    assert page.status_code == 200
    assert "Yes, this was me" in page.text and "No, this was not me" in page.text
    incident = seeded[1].incidents[ident]
    assert all(ip in page.text for ip in incident.source_ips[:3])
    assert f"/incidents/{tenant}" not in page.text  # nothing of the console's own pages
    answered = client.post(f"/custodian/incident/{ident}", {"answer": DENIED})
    assert answered.status_code == 303
    stored = IncidentStore(console.history).find(tenant, ident)
    assert stored is not None and stored.answer == DENIED and stored.answered_at is not None
    assert stored.live and stored.reopened and stored.severity == "critical"
    entry = console.audit.entries(action="incident.answer")[0]
    assert entry.actor.startswith("link:") and entry.outcome is Outcome.DONE
    assert entry.detail["answer"] == DENIED and entry.detail["reopened"] is True
    assert entry.detail["custodian"] == delivery.recipients.to[0]
    again = client.post(f"/custodian/incident/{ident}", {"answer": CONFIRMED})
    assert again.status_code == 409 and "the first answer stands" in again.text
    assert "no, this was not you" in client.get(f"/custodian/incident/{ident}").text
    assert IncidentStore(console.history).find(tenant, ident) == stored
    refused = console.audit.entries(action="incident.answer")[0]
    assert refused.outcome is Outcome.REFUSED
    # The responders see it on the incident's page and in the queue.
    page = responder.get(f"/incidents/{tenant}/{ident}").text
    assert "NOT them" in page and "incident.answer" in page
    assert ident in responder.get("/incidents").text


def test_a_confirmation_is_a_note_and_closes_nothing(
        client_of: ClientOf, console: Console, seeded: Seed) -> None:
    _, (ident, delivery) = sorted(custodian_mail(seeded).items())
    before = seeded[1].incidents[ident]
    client = opened(client_of, delivery)
    client.get(f"/custodian/incident/{ident}")
    assert client.post(f"/custodian/incident/{ident}", {"answer": "maybe"}).status_code == 400
    assert client.post(f"/custodian/incident/{ident}", {"answer": CONFIRMED}).status_code == 303
    stored = IncidentStore(console.history).find(seeded[1].tenant_id, ident)
    assert stored is not None and stored.answer == CONFIRMED
    assert stored.status is before.status and stored.severity == before.severity
    viewer = client_of(person(Role.VIEWER))
    assert "said this was them" in viewer.get(f"/incidents/{seeded[1].tenant_id}/{ident}").text


def test_a_link_for_one_incident_reaches_no_other(
        client_of: ClientOf, console: Console, seeded: Seed) -> None:
    (first, delivery), (second, _) = sorted(custodian_mail(seeded).items())
    client = opened(client_of, delivery)
    assert client.get(f"/custodian/incident/{first}").status_code == 200
    assert client.get(f"/custodian/incident/{second}").status_code == 403
    client.get(f"/custodian/incident/{first}")
    assert client.post(f"/custodian/incident/{second}", {"answer": DENIED}).status_code == 403
    assert client.get("/incidents").status_code == 403
    assert client.get(f"/incidents/{seeded[1].tenant_id}/{first}").status_code == 403
    untouched = IncidentStore(console.history).find(seeded[1].tenant_id, second)
    assert untouched is not None and untouched.answer is None
    # Without a session of its own, the page is not reachable at all.
    assert client_of(None).get(f"/custodian/incident/{first}").status_code == 401
    assert re.search(r"/r/[^\s\"]+", client.get(f"/custodian/incident/{first}").text) is None
