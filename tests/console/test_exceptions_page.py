"""The exceptions page: a responder requests, the requester cannot approve (audited
refusal), another approver approves and the next scan accepts the finding; replays change
nothing; expiry is flagged; hostile strings render inert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.model.exceptions import FindingException
from mailwarden.model.findings import Status
from mailwarden.pipeline import scan_snapshot
from mailwarden.store.exceptions import Approval, ExceptionStore
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.console.support import ConsoleClient, person
from tests.remediate.remediate_helpers import small, tenant_id

ClientOf = Callable[[Principal | None], ConsoleClient]
MAILBOX = "noreply@adventure-works.com"
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
           '=HYPERLINK("http://evil.example","x")', "\x1b[31mred")


def _form(**values: str) -> dict[str, str]:
    expires = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    return {"tenant": tenant_id(), "check": "imap-enabled", "mailbox": MAILBOX,
            "reason": "a partner's scanner reads it", "owner": "ops@adventure-works.com",
            "expires": expires, "ticket": "CHG-1", **values}


def _status(console: Console) -> Status:
    scan = scan_snapshot(snapshot_from_recorded(small().recorded),
                         db_url=console.config.db_url, at=datetime.now(UTC))
    (finding,) = [f for f in scan.result.findings
                  if f.check_id == "imap-enabled" and f.resource.upn == MAILBOX]
    return finding.status


def test_request_then_a_second_person_approves(console: Console, client_of: ClientOf) -> None:
    ann = client_of(person(Role.APPROVER, "Ann"))
    assert ann.get("/exceptions").status_code == 200
    response = ann.post("/exceptions", _form())
    assert response.status_code == 303
    store = ExceptionStore(console.history)
    (asked,) = store.records()
    assert asked.approval is Approval.REQUESTED and asked.exception.created_by == "Ann"
    page = ann.get(response.headers["location"]).text
    assert "requested" in page and "yours: another approver decides it" in page
    assert _status(console) is Status.FAIL  # requested: no run applies it

    exception_id = asked.exception.id
    refused = ann.post(f"/exceptions/{exception_id}/approve", {"note": "mine"})
    assert refused.status_code == 403 and "two-person rule" in refused.text
    entry = console.audit.entries()[0]
    assert (entry.action, entry.outcome, entry.detail["why"]) == (
        "exception.approve", Outcome.REFUSED, "two-person rule")
    assert store.record(exception_id or 0).approval is Approval.REQUESTED

    bob = client_of(person(Role.APPROVER, "Bob"))
    assert bob.post(f"/exceptions/{exception_id}/approve",
                    {"note": "until the partner moves"}).status_code == 303
    decided = store.record(exception_id or 0)
    assert (decided.approval, decided.decided_by) == (Approval.APPROVED, "Bob")
    assert _status(console) is Status.ACCEPTED  # the next scan accepts it
    replay = bob.post(f"/exceptions/{exception_id}/approve", {"note": "again"})
    assert replay.status_code == 409
    assert store.record(exception_id or 0).decision_note == "until the partner moves"
    assert console.audit.entries()[0].outcome is Outcome.REFUSED
    page = bob.get("/exceptions").text
    assert "approved" in page and "until the partner moves" in page


def test_a_rejected_request_changes_nothing_and_bad_input_is_said(console: Console,
                                                                  client_of: ClientOf) -> None:
    responder = client_of(person(Role.RESPONDER, "Rita"))
    bad = responder.post("/exceptions", _form(check="no-such-check"))
    assert bad.status_code == 400 and "unknown check" in bad.text
    past = responder.post("/exceptions", _form(expires="2020-01-01"))
    assert past.status_code == 400 and "in the past" in past.text
    assert responder.post("/exceptions", _form()).status_code == 303
    (asked,) = ExceptionStore(console.history).records()
    approver = client_of(person(Role.APPROVER, "Bob"))
    assert approver.post(f"/exceptions/{asked.exception.id}/reject",
                         {"note": "fix it"}).status_code == 303
    assert _status(console) is Status.FAIL
    viewer = client_of(person(Role.VIEWER, "Vic")).get("/exceptions").text
    assert "rejected" in viewer and "Request an exception" not in viewer
    assert 'action="/exceptions/' not in viewer  # no decision forms for a viewer


def test_expiry_is_flagged(console: Console, client_of: ClientOf) -> None:
    now = datetime.now(UTC)
    store = ExceptionStore(console.history)
    store.import_exceptions("t1", [
        FindingException(check="imap-enabled", mailbox="a@contoso.com", reason="r",
                         owner="o", expires=(now + timedelta(days=5)).date()),
        FindingException(check="pop-enabled", mailbox="b@contoso.com", reason="r",
                         owner="o", expires=(now - timedelta(days=3)).date()),
        FindingException(check="smtp-auth-enabled", mailbox="c@contoso.com", reason="r",
                         owner="o", expires=(now + timedelta(days=200)).date()),
    ], by="admin", at=now)
    page = client_of(person(Role.VIEWER)).get("/exceptions?tenant=t1").text
    assert "expires in 5 days" in page
    assert page.count('class="flag expired"') == 1
    assert page.count('class="flag expiring"') == 1


def test_hostile_strings_render_inert(console: Console, client_of: ClientOf) -> None:
    ann = client_of(person(Role.RESPONDER, '<b>Ann</b>"><script>x()</script>'))
    for n, text in enumerate(HOSTILE):
        response = ann.post("/exceptions", _form(
            mailbox=f"box{n}@adventure-works.com", reason=text, owner=text, ticket=text))
        assert response.status_code == 303, response.text
    bob = client_of(person(Role.APPROVER, "Bob"))
    (first, *_) = ExceptionStore(console.history).records()
    bob.post(f"/exceptions/{first.exception.id}/reject", {"note": HOSTILE[1]})
    page = bob.get("/exceptions").text
    for raw in (*HOSTILE[:2], "<b>Ann</b>", "<script>x()</script>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page.replace('<script src="/static/', "")
