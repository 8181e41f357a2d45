"""Who reaches the incident pages: the least visitor of each route (the authorization
matrix collects `EXPECTED_ACCESS`), checked here against the route table and the routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from mailwarden.console import custodian, incidents
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.console.sessions import COOKIE
from tests.console.support import ConsoleClient, person

ClientOf = Callable[[Principal | None], ConsoleClient]

EXPECTED_ACCESS = {
    ("GET", "/incidents"): "viewer",
    ("GET", "/incidents/{tenant}/{id}"): "viewer",
    ("POST", "/incidents/{tenant}/{id}/assign"): "responder",
    ("POST", "/incidents/{tenant}/{id}/acknowledge"): "responder",
    ("POST", "/incidents/{tenant}/{id}/resolve"): "responder",
    ("POST", "/incidents/{tenant}/{id}/snooze"): "responder",
    ("GET", "/custodian/incident/{target}"): "link:incident",
    ("POST", "/custodian/incident/{target}"): "link:incident",
}


def test_every_route_of_the_incident_pages_has_a_row() -> None:
    routes = {(method, page.path): ("link:" + page.link if page.link else str(page.need))
              for page in (*incidents.PAGES, *custodian.PAGES) for method in page.methods}
    assert routes == EXPECTED_ACCESS


def test_the_least_visitor_reaches_each_route_and_the_one_below_does_not(
        client_of: ClientOf, console: Console) -> None:
    path = {"tenant": "t1", "id": "inc-1", "target": "inc-1"}
    issued = console.links.issue(purpose="incident", tenant_id="t1", target="inc-1",
                                 custodian="owner@contoso.com", now=datetime.now(UTC))
    below = {"viewer": None, "responder": person(Role.VIEWER)}
    for (method, template), least in EXPECTED_ACCESS.items():
        url = template.format(**path)
        if least.startswith("link:"):
            linked = client_of(None)
            linked.get(f"/r/{issued.token}")
            session = console.sessions.find(linked.client.cookies[COOKIE], now=datetime.now(UTC))
            assert session is not None
            linked.csrf = session.csrf
            status = (linked.get(url) if method == "GET" else linked.post(url)).status_code
            assert status not in (401, 403), url
            viewer = client_of(person(Role.ADMIN))
            assert viewer.request(method, url).status_code == 403, url
            continue
        reached = client_of(person(Role(least)))
        reached.get("/incidents")
        status = (reached.get(url) if method == "GET" else reached.post(url)).status_code
        assert status not in (401, 403), (method, url, status)
        lower = client_of(below[least])
        lower.get("/incidents")
        status = (lower.get(url) if method == "GET" else lower.post(url)).status_code
        assert status in (303, 401, 403), (method, url, status)


def test_a_plain_form_posted_with_origin_null_is_judged_by_its_token(
        client_of: ClientOf) -> None:
    """Under the console's no-referrer policy a browser posts a plain form with
    `Origin: null`: the CSRF token decides; another site's origin is refused."""
    client = client_of(person(Role.RESPONDER))
    client.get("/incidents")
    url = "/incidents/t1/inc-1/acknowledge"
    assert client.post(url, headers={"origin": "null"}).status_code == 404  # no such one
    assert client.post(url, {"csrf": "forged"}, headers={"origin": "null"}).status_code == 403
    assert client.post(url, headers={"origin": "https://evil.example"}).status_code == 403
