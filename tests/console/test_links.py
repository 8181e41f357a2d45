"""Custodian links: the token opens one page of one target, and nothing once revoked,
expired or tampered with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mailwarden.console.context import Console
from mailwarden.console.roles import Principal
from mailwarden.console.signin import LINK_PAGES
from tests.console.support import ConsoleClient

ClientOf = Callable[[Principal | None], ConsoleClient]


def test_a_link_opens_a_session_bound_to_its_target(console: Console,
                                                    client_of: ClientOf) -> None:
    issued = console.links.issue(purpose="incident", tenant_id="t1", target="inc-1",
                                 custodian="Owner@Contoso.com", now=datetime.now(UTC))
    client = client_of(None)
    response = client.get(f"/r/{issued.token}")
    assert response.status_code == 200
    assert LINK_PAGES["incident"].format(target="inc-1") in response.text
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    assert issued.token not in response.text
    # A link session reaches none of the console's own pages.
    assert client.get("/").status_code == 403
    entries = console.audit.entries()
    assert entries[0].action == "link.open" and entries[0].actor.startswith("link:")
    assert issued.token not in repr(entries)


def test_tampered_expired_and_revoked_links_open_nothing(console: Console,
                                                         client_of: ClientOf) -> None:
    now = datetime.now(UTC)
    issued = console.links.issue(purpose="review", tenant_id="t1", target="rev-1",
                                 custodian="a@contoso.com", now=now)
    client = client_of(None)
    tampered = issued.token[:-2] + ("AA" if not issued.token.endswith("AA") else "BB")
    assert client.get(f"/r/{tampered}").status_code == 404
    old = console.links.issue(purpose="review", tenant_id="t1", target="rev-1",
                              custodian="a@contoso.com", now=now - timedelta(days=30),
                              lifetime=timedelta(days=1))
    assert client.get(f"/r/{old.token}").status_code == 404
    assert client.get(f"/r/{issued.token}").status_code == 200
    console.links.revoke(purpose="review", target="rev-1", now=now)
    assert client.get(f"/r/{issued.token}").status_code == 404
    assert console.sessions.find("nothing", now=now) is None
