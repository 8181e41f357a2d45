"""Access reviews end to end on a stored synthetic tenant: start a review, custodians get
their link by mail (a real SMTP server on loopback), follow it, decide, and the review
closes into one change request with exactly the removed grants."""

from __future__ import annotations

import dataclasses
import email
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest

from mailwarden.assess import assess
from mailwarden.console.app import create_app
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.console.sessions import COOKIE
from mailwarden.pipeline import Scan, scan_directory, store_scan
from mailwarden.remediate.model import Action, ActionKind
from mailwarden.report import make_run
from mailwarden.store import dispose_engines, store_run
from mailwarden.store.changes import ChangeStore
from mailwarden.store.facts import DelegateFact, delegate_facts
from mailwarden.store.reviews import Decision, ReviewStore
from mailwarden.synth import generate, write_synthetic
from tests.console.support import BASE_URL, LINK_KEY, ConsoleClient, console_for, person
from tests.report.report_factory import snapshot
from tests.support.peers import SmtpInbox, html_part, smtp_server

EXPECTED_ACCESS = {
    ("GET", "/reviews"): "responder",
    ("POST", "/reviews"): "responder",
    ("GET", "/reviews/{id}"): "responder",
    ("POST", "/reviews/{id}/decide"): "responder",
    ("POST", "/reviews/{id}/remind"): "responder",
    ("POST", "/reviews/{id}/close"): "responder",
    ("GET", "/custodian/review/{target}"): "link:review",
    ("POST", "/custodian/review/{target}"): "link:review",
}

ClientOf = Callable[[Principal | None], ConsoleClient]
HOSTILE = "\"><img src=x onerror=alert(1)><script>alert(2)</script>=HYPERLINK(\"x\")\x1b[31m"
GROUP = "IT - Service Desk"
HOSTILE_GROUP = "<script>alert(3)</script> Desk =HYPERLINK(\"http://x\") \x1b[31m"
_LINK = re.compile(r'href="http://127\.0\.0\.1:8765(/r/[^"]+)"')


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """The small synthetic tenant (seed 0) with its logs and custodians file, assessed,
    after an administrator gave the group that holds grants a hostile name."""
    out = tmp_path_factory.mktemp("reviews") / "tenant"
    write_synthetic(generate("small", seed=0), out)
    for path in out.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        if GROUP in text:
            path.write_text(text.replace(GROUP, json.dumps(HOSTILE_GROUP)[1:-1]),
                            encoding="utf-8")
    return scan_directory(out, db_url=str(out / "unused.db"))


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def console(tmp_path: Path, scan: Scan, smtp: tuple[SmtpInbox, int]) -> Iterator[Console]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "security_team: [secops@contoso.example]\n"
        "channels:\n"
        "  mail:\n"
        "    type: email\n"
        f"    url: mailto://alerts:HUNTER2PASS@127.0.0.1:{smtp[1]}"
        "?from=alerts@contoso.example&mode=insecure\n"
        "routes:\n"
        "  - channels: [mail]\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'history.db'}"
    store_scan(scan, detection=None, db_url=db)
    yield console_for(db, routing=routing, review_mail_state=tmp_path / "mail" / "state.json")
    dispose_engines()


def _tenant(console: Console) -> str:
    return console.history.runs()[-1].tenant_id


def _start(client: ConsoleClient, console: Console, mailbox: str = "") -> str:
    client.get("/reviews")
    response = client.post("/reviews", {"tenant": _tenant(console), "mailbox": mailbox,
                                         "due": (date.today() + timedelta(days=14)).isoformat()})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/reviews/")[1].split("?")[0]


def _messages(inbox: SmtpInbox) -> dict[str, Message]:
    return {envelope.rcpt_tos[0]: email.message_from_bytes(envelope.content)
            for envelope in inbox.messages}


def test_a_review_holds_every_grant_of_the_run_grouped_by_custodian(
        console: Console, client_of: ClientOf, scan: Scan,
        smtp: tuple[SmtpInbox, int]) -> None:
    review_id = _start(client_of(person(Role.RESPONDER)), console)
    store = ReviewStore(console.history)
    items = store.items(review_id)
    expected = {(d.mailbox, d.principal, d.right) for d in _facts(scan)}
    assert {(i.mailbox, i.principal, i.right) for i in items} == expected
    custodians = {e.upn: e.custodian.person if e.custodian else None
                  for e in scan.result.inventory}
    assert all(i.custodian == custodians[i.mailbox] for i in items)
    # Every custodian with grants to review got one mail with a link; nobody else did.
    mail = _messages(smtp[0])
    named = {i.custodian for i in items if i.custodian}
    assert set(mail) - {"secops@contoso.example"} == named
    for who in named:
        html = html_part(mail[who])
        assert _LINK.search(html), html
    review = store.get(review_id)
    assert set(review.detail.get("invited") or {}) == named
    # The token is in no stored file or row other than the link's own signature check.
    outbox = Path(str(console.config.review_mail_state)).read_text(encoding="utf-8")
    assert "/r/" not in outbox
    assert all("/r/" not in repr(e.detail) for e in console.audit.entries())


def test_a_custodian_decides_through_the_link_and_the_review_becomes_one_change_request(
        console: Console, client_of: ClientOf, scan: Scan,
        smtp: tuple[SmtpInbox, int]) -> None:
    staff = client_of(person(Role.RESPONDER, "Sec Person"))
    store = ReviewStore(console.history)
    mailbox = _mixed_mailbox(scan)
    review_id = _start(staff, console, mailbox)
    items = store.items(review_id)
    custodian = items[0].custodian
    assert custodian is not None
    link = _LINK.search(html_part(_messages(smtp[0])[custodian]))
    assert link is not None
    visitor = client_of(None)
    opened = visitor.get(link.group(1))
    assert opened.status_code == 200
    page = visitor.get(f"/custodian/review/{review_id}")
    assert page.status_code == 200
    assert mailbox in page.text and "last use" in page.text.lower()
    # Remove every grant, one with a hostile note; keep none.
    form = {f"d-{i.id}": "remove" for i in items}
    form[f"n-{items[0].id}"] = HOSTILE
    decided = visitor.post(f"/custodian/review/{review_id}", form)
    assert decided.status_code == 303
    closed = store.get(review_id)
    assert not closed.is_open and closed.change_request_id
    request = ChangeStore(console.history).get(closed.change_request_id)
    assert request.origin == "review" and request.origin_id == review_id
    actions = [Action.from_dict(a) for a in request.actions]
    assert {a.kind for a in actions} == {ActionKind.REMOVE_DELEGATE}
    direct = {(i.right, str(g["trustee"])) for i in items for g in i.grants
              if g.get("via") == "direct"}
    assert {(a.detail["right"], a.detail["trustee"]) for a in actions} == direct
    assert all(a.upn == mailbox for a in actions)
    recorded = store.items(review_id)
    assert all(i.decision is Decision.REMOVE and i.decided_by == custodian for i in recorded)
    # Grants through a group are manual work, said so in the outcome.
    manual = closed.detail["outcome"]["manual"]
    assert any("through group" in line and "(manual)" in line for line in manual) == any(
        g.get("via") != "direct" for i in items for g in i.grants)
    # After the close, the page is read-only and every hostile string is inert.
    after = visitor.get(f"/custodian/review/{review_id}")
    assert "Save my decisions" not in after.text and "final" in after.text
    for text in (after.text, staff.get(f"/reviews/{review_id}").text):
        assert "<script>alert(2)" not in text and "<img src=x" not in text
        assert "<script>alert(3)" not in text and "&lt;script&gt;alert(3)" in text
        assert "&lt;img src=x" in text
    refused = visitor.post(f"/custodian/review/{review_id}", {f"d-{items[0].id}": "keep"})
    assert refused.status_code == 409
    actions_logged = [e.action for e in console.audit.entries()]
    assert "review.decide" in actions_logged and "review.close" in actions_logged


def test_a_link_sees_only_its_custodians_mailboxes_and_only_its_review(
        console: Console, client_of: ClientOf, scan: Scan,
        smtp: tuple[SmtpInbox, int]) -> None:
    staff = client_of(person(Role.RESPONDER))
    review_id = _start(staff, console)
    other_review = _start(staff, console, _mixed_mailbox(scan))
    items = ReviewStore(console.history).items(review_id)
    mail = _messages(smtp[0])
    custodian = sorted({i.custodian for i in items if i.custodian})[0]
    link = _LINK.search(html_part(mail[custodian]))
    assert link is not None
    visitor = client_of(None)
    visitor.get(link.group(1))
    page = visitor.get(f"/custodian/review/{review_id}")
    mine = {i.mailbox for i in items if i.custodian == custodian}
    theirs = {i.mailbox for i in items if i.custodian != custodian} - mine
    assert all(m in page.text for m in mine)
    assert not any(f"<h2>{m}</h2>" in page.text for m in theirs)
    foreign = next(i for i in items if i.custodian != custodian)
    assert visitor.post(f"/custodian/review/{review_id}",
                        {f"d-{foreign.id}": "remove"}).status_code == 403
    assert next(i for i in ReviewStore(console.history).items(review_id)
                if i.id == foreign.id).decision is None
    assert visitor.get(f"/custodian/review/{other_review}").status_code == 403
    assert visitor.get(f"/reviews/{review_id}").status_code == 403
    assert visitor.get("/reviews").status_code == 403


def test_reminders_go_only_to_custodians_with_undecided_grants_and_not_twice(
        console: Console, client_of: ClientOf, smtp: tuple[SmtpInbox, int]) -> None:
    staff = client_of(person(Role.RESPONDER))
    review_id = _start(staff, console)
    store = ReviewStore(console.history)
    items = store.items(review_id)
    custodians = sorted({i.custodian for i in items if i.custodian})
    done = custodians[0]
    store.decide(review_id, {i.id: (Decision.KEEP, None) for i in items
                             if i.custodian == done}, by=done, at=datetime.now(UTC))
    smtp[0].messages.clear()
    # Within a day of the invitations, the button reminds nobody.
    staff.get(f"/reviews/{review_id}")
    assert "Nobody to remind" in staff.post(f"/reviews/{review_id}/remind").text
    assert smtp[0].messages == []
    # A day later, every custodian with undecided grants, and only them, once.
    later = datetime.now(UTC) + timedelta(days=1, hours=1)
    late = _client_at(dataclasses.replace(console, clock=lambda: later), later)
    try:
        late.get(f"/reviews/{review_id}")
        response = late.post(f"/reviews/{review_id}/remind")
        assert response.status_code == 200
        assert set(_messages(smtp[0])) == set(custodians) - {done}
        smtp[0].messages.clear()
        late.post(f"/reviews/{review_id}/remind")
        assert smtp[0].messages == []
    finally:
        late.close()


def _client_at(console: Console, now: datetime) -> ConsoleClient:
    """A responder's client on a console whose clock says `now`."""
    value, session = console.sessions.start(person(Role.RESPONDER, "later person"), now=now,
                                            lifetime=timedelta(hours=1), remote="127.0.0.1")
    client = ConsoleClient(create_app(console))
    client.client.cookies.set(COOKIE, value)
    client.csrf = session.csrf
    return client


def test_roles_below_responder_and_anonymous_reach_no_review_page(
        client_of: ClientOf) -> None:
    assert client_of(person(Role.VIEWER)).get("/reviews").status_code == 403
    assert client_of(None).get("/reviews").status_code == 303
    assert client_of(person(Role.RESPONDER)).get("/reviews").status_code == 200


def test_a_hostile_mailbox_name_in_the_start_form_is_refused_inert(
        console: Console, client_of: ClientOf) -> None:
    staff = client_of(person(Role.RESPONDER))
    staff.get("/reviews")
    response = staff.post("/reviews", {"tenant": _tenant(console), "mailbox": HOSTILE,
                                       "due": (date.today() + timedelta(days=3)).isoformat()})
    assert response.status_code == 400
    assert "<img src=x" not in response.text and "&lt;img src=x" in response.text


def _facts(scan: Scan) -> list[DelegateFact]:
    return [d for access in scan.result.access for d in delegate_facts(access)]


def _mixed_mailbox(scan: Scan) -> str:
    """A mailbox with a custodian whose grants are held both directly and through a group."""
    custodians = {e.upn for e in scan.result.inventory if e.custodian}
    direct = {d.mailbox for d in _facts(scan) if any(g["via"] == "direct" for g in d.grants)}
    group = {d.mailbox for d in _facts(scan) if any(g["via"] != "direct" for g in d.grants)}
    return sorted(custodians & direct & group)[0]


def test_the_remind_command_reminds_due_custodians_once_with_links_that_open(
        console: Console, client_of: ClientOf, tmp_path: Path,
        smtp: tuple[SmtpInbox, int]) -> None:
    store = ReviewStore(console.history)
    week_ago = datetime.now(UTC) - timedelta(days=8)
    review = store.start(tenant_id=_tenant(console), mailbox=None,
                         due=date.today() + timedelta(days=10), by="sec", at=week_ago)
    custodians = sorted({i.custodian for i in store.items(review.id) if i.custodian})
    store.mark_notified(review.id, custodians, at=week_ago, reminder=False)
    routing = console.config.routing
    assert routing is not None
    env = {**os.environ, "MAILWARDEN_CONSOLE_SECRET": LINK_KEY}
    command = [sys.executable, "-m", "mailwarden", "reviews", "remind", "--db",
               str(console.config.db_url), "--routing", str(routing), "--console-url",
               BASE_URL, "--state", str(tmp_path / "cli-mail" / "state.json")]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120,
                           check=False)
    assert first.returncode == 0, first.stderr
    assert review.id in first.stdout
    mail = _messages(smtp[0])
    assert set(mail) == set(custodians)
    link = _LINK.search(html_part(mail[custodians[0]]))
    assert link is not None
    visitor = client_of(None)
    assert visitor.get(link.group(1)).status_code == 200
    assert visitor.get(f"/custodian/review/{review.id}").status_code == 200
    smtp[0].messages.clear()
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120,
                           check=False)
    assert again.returncode == 0, again.stderr
    assert smtp[0].messages == []
    bad = subprocess.run([*command[:-4], "--console-url", "console", *command[-2:]],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert bad.returncode == 2 and "is not a URL" in bad.stderr


def test_a_mailbox_nobody_answers_for_is_listed_and_the_security_team_decides(
        console: Console, client_of: ClientOf, smtp: tuple[SmtpInbox, int]) -> None:
    # A tenant whose shared mailbox is held only by a leaver: no custodian can be inferred.
    snap = snapshot()
    snap = dataclasses.replace(snap, mailbox_permissions=tuple(
        p for p in snap.mailbox_permissions if p.user != "alice@contoso.com"))
    run = make_run(assess(snap), generated_at=datetime.now(UTC), snapshot=snap, detection=None)
    store_run(run, console.config.db_url)
    staff = client_of(person(Role.RESPONDER, "Sec Person"))
    staff.get("/reviews")
    started = staff.post("/reviews", {"tenant": "tenant-1", "mailbox": "",
                                      "due": (date.today() + timedelta(days=7)).isoformat()})
    review_id = started.headers["location"].split("/reviews/")[1].split("?")[0]
    (item,) = ReviewStore(console.history).items(review_id)
    assert (item.mailbox, item.principal, item.custodian) == (
        "hr@contoso.com", "bob@contoso.com", None)
    page = staff.get(f"/reviews/{review_id}")
    assert "nobody answerable" in page.text
    # The security team is told, with the review's page (no custodian link).
    (notice,) = _messages(smtp[0]).values()
    assert notice["To"] == "secops@contoso.example"
    assert f"{BASE_URL}/reviews/{review_id}" in html_part(notice)
    assert "/r/" not in html_part(notice)
    decided = staff.post(f"/reviews/{review_id}/decide", {f"d-{item.id}": "remove",
                                                          "n-1": "", "d-x": "keep"})
    assert decided.status_code == 303
    review = ReviewStore(console.history).get(review_id)
    assert not review.is_open and review.change_request_id  # every grant decided
    request = ChangeStore(console.history).get(review.change_request_id)
    (action,) = request.actions
    assert action["detail"]["trustee"] == "bob@contoso.com"
    # The person whose decision completed the review asked for the change: they cannot
    # also approve it.
    assert request.requested_by == "test:Sec Person"
    assert ReviewStore(console.history).items(review_id)[0].decided_by == "Sec Person"
    staff.get(f"/reviews/{review_id}")
    assert staff.post(f"/reviews/{review_id}/close").status_code == 409


def test_closing_with_nothing_removed_makes_no_change_request(
        console: Console, client_of: ClientOf, scan: Scan) -> None:
    staff = client_of(person(Role.RESPONDER))
    review_id = _start(staff, console, _mixed_mailbox(scan))
    staff.get(f"/reviews/{review_id}")
    assert staff.post(f"/reviews/{review_id}/close").status_code == 303
    review = ReviewStore(console.history).get(review_id)
    assert review.state.value == "closed" and review.change_request_id is None
    assert "No removal was decided" in staff.get(f"/reviews/{review_id}").text


def test_a_browser_post_with_a_null_origin_is_judged_by_its_csrf_token(
        console: Console, client_of: ClientOf) -> None:
    # Pages are served with Referrer-Policy: no-referrer, so browsers send `Origin: null`
    # on every POST (the Fetch standard); a foreign origin is still refused.
    staff = client_of(person(Role.RESPONDER))
    staff.get("/reviews")
    due = (date.today() + timedelta(days=3)).isoformat()
    form = {"tenant": _tenant(console), "mailbox": "", "due": due}
    null = {"origin": "null"}
    assert staff.post("/reviews", {**form, "csrf": "forged"}, headers=null).status_code == 403
    foreign = {"origin": "https://evil.example"}
    assert staff.post("/reviews", form, headers=foreign).status_code == 403
    assert ReviewStore(console.history).reviews() == ()
    assert staff.post("/reviews", form, headers=null).status_code == 303
