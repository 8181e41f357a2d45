"""Who reaches the exceptions and remediation pages: the least visitor for each route
(collected by the console's authorization matrix), checked here against every kind of
visitor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mailwarden.console import exceptions, remediation
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from tests.console.support import ConsoleClient, link_principal, person

EXPECTED_ACCESS = {
    ("GET", "/exceptions"): "viewer",
    ("POST", "/exceptions"): "responder",
    ("POST", "/exceptions/{exception_id}/approve"): "approver",
    ("POST", "/exceptions/{exception_id}/reject"): "approver",
    ("GET", "/remediation"): "viewer",
    ("GET", "/remediation/plan/{tenant_id}"): "viewer",
    ("POST", "/remediation/plan/{tenant_id}"): "responder",
    ("GET", "/remediation/requests/{request_id}"): "viewer",
    ("POST", "/remediation/requests/{request_id}/approve"): "approver",
    ("POST", "/remediation/requests/{request_id}/reject"): "approver",
    ("POST", "/remediation/requests/{request_id}/cancel"): "responder",
    ("POST", "/remediation/requests/{request_id}/apply"): "admin",
    ("POST", "/remediation/requests/{request_id}/rollback"): "admin",
}

ClientOf = Callable[[Principal | None], ConsoleClient]
_ROLES = (Role.VIEWER, Role.RESPONDER, Role.APPROVER, Role.ADMIN)
_VALUES = {"{exception_id}": "1", "{tenant_id}": "t1", "{request_id}": "cr-none"}


def _url(template: str) -> str:
    for name, value in _VALUES.items():
        template = template.replace(name, value)
    return template


def test_every_route_of_these_pages_has_a_row() -> None:
    routes = {(method, page.path) for page in (*exceptions.PAGES, *remediation.PAGES)
              for method in page.methods}
    assert routes == set(EXPECTED_ACCESS)
    for page in (*exceptions.PAGES, *remediation.PAGES):
        for method in page.methods:
            assert page.need is not None and page.need.value == EXPECTED_ACCESS[
                (method, page.path)]


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_ACCESS))
def test_each_visitor_reaches_what_the_table_says(method: str, path: str, console: Console,
                                                  client_of: ClientOf) -> None:
    least = Role(EXPECTED_ACCESS[(method, path)])
    url = _url(path)
    anonymous = client_of(None).request(method, url)
    assert anonymous.status_code == (303 if method == "GET" else 401)
    issued = console.links.issue(purpose="review", tenant_id="t1", target="rev-1",
                                 custodian="a@contoso.com", now=datetime.now(UTC))
    linked = client_of(link_principal(issued.grant))
    response = linked.get(url) if method == "GET" else linked.post(url)
    assert response.status_code == 403
    for role in _ROLES:
        client = client_of(person(role))
        response = client.get(url) if method == "GET" else client.post(url)
        if role.rank < least.rank:
            assert response.status_code == 403, (role, response.text)
        else:
            assert response.status_code not in (401, 403), (role, response.text)


def test_a_post_with_origin_null_is_decided_by_its_token(client_of: ClientOf) -> None:
    """What Chromium sends from a page served with Referrer-Policy: no-referrer."""
    client = client_of(person(Role.RESPONDER))
    same = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert client.post("/exceptions", {"tenant": ""}, headers=same).status_code == 400
    assert client.post("/exceptions", {"csrf": "forged"}, headers=same).status_code == 403
    cross = {"origin": "null", "sec-fetch-site": "cross-site"}
    assert client.post("/exceptions", {"tenant": ""}, headers=cross).status_code == 403
    other = {"origin": "https://evil.example"}
    assert client.post("/exceptions", {"tenant": ""}, headers=other).status_code == 403
