"""Local-mode invites: one use, until they expire, with the invite's role; only the hash is
stored, and neither the link nor its token reach the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mailwarden.console.context import Console
from mailwarden.console.invites import InviteStore
from mailwarden.console.roles import Principal, Role, Source
from mailwarden.errors import ConfigError
from mailwarden.store.tables import console_audit, console_invites
from tests.console.support import ConsoleClient

ClientOf = Callable[[Principal | None], ConsoleClient]


def _rows(console: Console, table: object) -> list[dict[str, object]]:
    with console.history._connection("read") as connection:
        return [dict(row) for row in connection.execute(select(table)).mappings()]  # type: ignore[call-overload]


def test_an_invite_signs_in_once_with_its_role(console: Console, client_of: ClientOf) -> None:
    issued = InviteStore(console.history).issue(name="Bea Approver", role=Role.APPROVER,
                                                created_by="alex", now=datetime.now(UTC))
    assert issued.url("http://127.0.0.1:8765") == f"http://127.0.0.1:8765/invite/{issued.token}"
    client = client_of(None)
    shown = client.get(f"/invite/{issued.token}")  # a link preview spends nothing
    assert shown.status_code == 200 and "Bea Approver" in shown.text
    assert client.get(f"/invite/{issued.token}").status_code == 200
    accepted = client.post(f"/invite/{issued.token}", csrf=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/"
    assert "samesite=strict" in accepted.headers["set-cookie"].lower()
    home = client.get("/")
    assert home.status_code == 200 and "Bea Approver" in home.text and "approver" in home.text
    (session,) = console.sessions.live(now=datetime.now(UTC))
    assert session.subject == "invite:Bea Approver" and session.source is Source.INVITE
    assert session.roles == ("approver",)

    again = client_of(None)
    assert again.get(f"/invite/{issued.token}").status_code == 404
    assert again.post(f"/invite/{issued.token}", csrf=False).status_code == 404
    assert again.get("/").status_code == 303  # nobody signed in by the replay

    (stored,) = _rows(console, console_invites)
    assert stored["token_hash"] != issued.token and stored["used_at"] is not None
    audit = _rows(console, console_audit)
    assert [(a["action"], a["outcome"]) for a in audit] == [
        ("invite.accept", "done"), ("invite.accept", "refused"), ("invite.accept", "refused")]
    assert audit[0]["actor"] == "invite:Bea Approver"
    assert issued.token not in repr(audit)


def test_an_expired_invite_opens_nothing(console: Console, client_of: ClientOf) -> None:
    issued = InviteStore(console.history).issue(
        name="Late", role=Role.ADMIN, created_by="alex",
        now=datetime.now(UTC) - timedelta(hours=2), lifetime=timedelta(hours=1))
    client = client_of(None)
    assert client.get(f"/invite/{issued.token}").status_code == 404
    assert client.post(f"/invite/{issued.token}", csrf=False).status_code == 404
    assert client.get("/").status_code == 303


def test_an_invite_needs_a_name_and_a_sane_lifetime(console: Console) -> None:
    store = InviteStore(console.history)
    now = datetime.now(UTC)
    with pytest.raises(ConfigError, match="name"):
        store.issue(name="  ", role=Role.VIEWER, created_by="alex", now=now)
    with pytest.raises(ConfigError, match="name"):
        store.issue(name="bad\x1b[31m", role=Role.VIEWER, created_by="alex", now=now)
    with pytest.raises(ConfigError, match="14 days"):
        store.issue(name="x", role=Role.VIEWER, created_by="alex", now=now,
                    lifetime=timedelta(days=30))


def test_a_signed_in_person_accepting_an_invite_sends_the_form_token(
        console: Console, client_of: ClientOf) -> None:
    from tests.console.support import person

    issued = InviteStore(console.history).issue(name="Cy", role=Role.VIEWER,
                                                created_by="alex", now=datetime.now(UTC))
    client = client_of(person(Role.VIEWER, "already here"))
    assert client.post(f"/invite/{issued.token}", {"csrf": "forged"}).status_code == 403
    assert client.get(f"/invite/{issued.token}").status_code == 200  # not spent
    assert client.post(f"/invite/{issued.token}").status_code == 303
    # The earlier session ended: only Cy's is left.
    assert [s.subject for s in console.sessions.live(now=datetime.now(UTC))] == ["invite:Cy"]
