"""The audit page (every console action, newest first, paged, filtered) and the sessions
page (an admin ends a person's sessions)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mailwarden.console.admin import PAGE_SIZE
from mailwarden.console.audit import Outcome
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from tests.console.seed import HOSTILE
from tests.console.support import ConsoleClient, person

ClientOf = Callable[[Principal | None], ConsoleClient]


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_the_audit_page_lists_actions_newest_first_with_filters_and_pages(
        console: Console, client_of: ClientOf) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    bea = person(Role.RESPONDER, "Bea")
    for n in range(PAGE_SIZE + 5):
        console.audit.record(at=start + timedelta(minutes=n), principal=bea,
                             action="incident.acknowledge", target=f"inc-{n:03d}",
                             detail={"note": f"n{n}"}, remote="10.0.0.7")
    console.audit.record(at=start + timedelta(hours=5), principal=None, action="link.open",
                         outcome=Outcome.REFUSED, detail={"why": HOSTILE})
    admin = client_of(person(Role.ADMIN, "Ada"))
    page = admin.get("/audit")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert len(rows) == PAGE_SIZE
    assert "link.open" in rows[0] and "refused" in rows[0] and "anonymous" in rows[0]
    assert "inc-054" in rows[1] and "10.0.0.7" in rows[1] and "Bea" in rows[1]
    assert "<img" not in page.text and "&lt;img" in page.text
    older = admin.get("/audit?page=2")
    assert [r for r in _rows(older.text) if "inc-000" in r]
    assert len(_rows(older.text)) == 6
    only = admin.get("/audit", params={"action": "link.open"})
    assert len(_rows(only.text)) == 1
    by_bea = admin.get("/audit", params={"actor": "test:Bea", "page": "99"})
    assert len(_rows(by_bea.text)) == 5  # past the last page: the last page
    assert "page 2 of 2" in by_bea.text


def test_only_an_admin_reads_the_audit(console: Console, client_of: ClientOf) -> None:
    assert client_of(person(Role.APPROVER)).get("/audit").status_code == 403
    assert client_of(person(Role.APPROVER)).get("/sessions").status_code == 403
    assert client_of(None).get("/audit").status_code == 303


def test_an_admin_ends_a_persons_sessions(console: Console, client_of: ClientOf) -> None:
    bea = client_of(person(Role.RESPONDER, "Bea"))
    assert bea.get("/").status_code == 200
    admin = client_of(person(Role.ADMIN, "Ada"))
    listing = admin.get("/sessions")
    assert listing.status_code == 200 and "test:Bea" in listing.text
    assert "mailwarden_session" not in listing.text
    ended = admin.post("/sessions/end", {"subject": "test:Bea"})
    assert ended.status_code == 303
    assert bea.get("/").status_code == 303  # signed out
    assert admin.get("/").status_code == 200
    entry = console.audit.entries(action="sessions.end")[0]
    assert entry.target == "test:Bea" and entry.detail == {"ended": 1}
    assert entry.actor == "test:Ada"
    assert admin.post("/sessions/end", {"subject": ""}).status_code == 400
