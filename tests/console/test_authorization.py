"""The authorization matrix: every route of the console against every kind of visitor.

The expected access is a hand-written table: `OWN_ACCESS` below (sign-in, invites, the
admin's pages) and the `EXPECTED_ACCESS` of every tests/console/test_access_*.py module,
each naming, for one (method, path template), the least visitor that reaches it:

    "public"         anyone, signed in or not
    "viewer" < "responder" < "approver" < "admin"   a person holding that role or a higher one
    "link:review", "link:incident"   a custodian link of that purpose, for its own target only

The test fails when a route of `all_pages()` has no row, when a row names no route, and
when any visitor gets what the table does not give:

    anonymous, a page that needs a role     GET -> 303 to /login, POST -> 401
    anonymous, a link page                  401
    a custodian link on any non-link page   403
    a custodian link on another target      403
    a role too low, or a role on a link page 403
    a visitor the table lets in             not refused by the guard, no 5xx; a GET answers
                                            below 400, or 404 where a path parameter had no
                                            seeded value or a MISSING_OK set names the route

Every refusal expected must be the guard's own (its page says `guard.NOT_ALLOWED` or
`SIGN_IN_FIRST`), and a visitor let in must never get one: an endpoint may still refuse a
step for its own reasons with a 403 or 409 (the requester approving their own change), and
that is not mistaken for a missing permission, nor the other way round.

A test_access_*.py module may also export `MISSING_OK`, a set of routes where an allowed
GET may answer 404 with this seeding (a page that needs what the matrix does not set up,
e.g. a connected tenant; tests/console/routes.py holds the console's own).

Path parameters are filled from a history seeded as the product writes it (tests/console/
seed.py); each request runs in a fresh session holding the session's CSRF token, so what is
tested is who gets in, not the form token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mailwarden.console.app import all_pages, create_app
from mailwarden.console.context import Console
from mailwarden.console.guard import FORM_EXPIRED, NOT_ALLOWED, SIGN_IN_FIRST
from mailwarden.console.limits import RateLimiter
from mailwarden.console.roles import LinkGrant, Principal, Role
from mailwarden.console.sessions import COOKIE
from mailwarden.store import dispose_engines
from tests.console.routes import access_modules, fill, missing_ok
from tests.console.seed import Seeded, seed_history
from tests.console.support import ConsoleClient, console_for, link_principal, person

OWN_ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/login"): "public",
    ("GET", "/r/{token}"): "public",
    ("POST", "/logout"): "viewer",
    ("GET", "/"): "viewer",
    ("GET", "/invite/{token}"): "public",
    ("POST", "/invite/{token}"): "public",
    ("GET", "/audit"): "admin",
    ("GET", "/sessions"): "admin",
    ("POST", "/sessions/end"): "admin",
}

VISITORS = ("anonymous", "link:review", "link:incident", "viewer", "responder", "approver",
            "admin")
LEVELS = frozenset({"public", "link:review", "link:incident", *(r.value for r in Role)})
_REVIEW_TARGET = "rev-seeded"  # where no review could be stored: its pages may answer 404


def expected_access() -> dict[tuple[str, str], str]:
    """OWN_ACCESS and every test_access_*.py module's EXPECTED_ACCESS; two rows for one
    route must agree."""
    table = dict(OWN_ACCESS)
    for module in access_modules():
        rows: dict[tuple[str, str], str] = module.EXPECTED_ACCESS
        for route, level in rows.items():
            assert table.get(route, level) == level, (
                f"{module} says {route} is {level}, another table {table[route]}")
            table[route] = level
    return table


def _routes() -> set[tuple[str, str]]:
    return {(method, page.path) for page in all_pages() for method in page.methods}


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    table, routes = expected_access(), _routes()
    assert not routes - set(table), f"routes with no row: {sorted(routes - set(table))}"
    assert not set(table) - routes, f"rows naming no route: {sorted(set(table) - routes)}"
    assert set(table.values()) <= LEVELS, set(table.values()) - LEVELS


def test_the_table_agrees_with_the_route_declarations() -> None:
    """What each page declares is what the table says (a table copied from the code would
    pass this and still be checked against real requests below)."""
    table = expected_access()
    for page in all_pages():
        for method in page.methods:
            level = table[(method, page.path)]
            declared = ("public" if page.public else f"link:{page.link}" if page.link
                        else page.need.value if page.need else "?")
            assert declared == level, (method, page.path)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class World:
    console: Console
    seeded: Seeded
    grants: dict[str, LinkGrant]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = tmp_path_factory.mktemp("matrix")
    seeded = seed_history(f"sqlite:///{work / 'history.db'}", work)
    console = console_for(seeded.db_url)
    # Every request of the matrix comes from one address: no rate limit in the way.
    console = dataclasses.replace(console, limiter=RateLimiter(
        limit=1_000_000, window=timedelta(minutes=1), clock=console.clock))
    now = datetime.now(UTC)
    grants = {
        "link:review": console.links.issue(purpose="review", tenant_id=seeded.tenant_id,
                                           target=seeded.values.get("review_id",
                                                                    _REVIEW_TARGET),
                                           custodian="custodian@contoso.com", now=now).grant,
        "link:incident": console.links.issue(purpose="incident", tenant_id=seeded.tenant_id,
                                             target=seeded.incident_id,
                                             custodian="custodian@contoso.com",
                                             now=now).grant,
    }
    yield World(console=console, seeded=seeded, grants=grants)
    dispose_engines()


def _principal(world: World, visitor: str) -> Principal | None:
    if visitor == "anonymous":
        return None
    if visitor.startswith("link:"):
        return link_principal(world.grants[visitor])
    return person(Role(visitor), f"{visitor} person")


def _fill(world: World, path: str, *, link_target: str | None) -> tuple[str, bool]:
    """The URL of `path` with seeded values; whether every parameter had one."""
    url, complete = fill(path, world.seeded, target=link_target)
    # Where no review could be stored, a review link's page may answer 404.
    return url, complete and link_target != _REVIEW_TARGET


def _request(world: World, visitor: str, method: str, url: str) -> httpx.Response:
    principal = _principal(world, visitor)
    client = ConsoleClient(create_app(world.console))
    try:
        data: dict[str, Any] = {}
        if principal is not None:
            value, session = world.console.sessions.start(
                principal, now=datetime.now(UTC), lifetime=timedelta(minutes=10),
                remote="127.0.0.1")
            client.client.cookies.set(COOKIE, value)
            data["csrf"] = session.csrf
        if method == "GET":
            return client.get(url)
        return client.request(method, url, data=data)
    finally:
        client.close()


def _allowed(level: str, visitor: str) -> bool:
    if level == "public":
        return True
    if level.startswith("link:") or visitor in ("anonymous", "link:review", "link:incident"):
        return level == visitor
    return Role(visitor).rank >= Role(level).rank


def _cases() -> list[tuple[str, str, str]]:
    return [(method, path, visitor) for method, path in sorted(_routes())
            for visitor in VISITORS]


@pytest.mark.parametrize(("method", "path", "visitor"), _cases())
def test_each_visitor_gets_what_the_table_gives(world: World, method: str, path: str,
                                                visitor: str) -> None:
    level = expected_access()[(method, path)]
    own_target = world.grants[level].target if level in world.grants else None
    url, complete = _fill(world, path, link_target=own_target)
    response = _request(world, visitor, method, url)
    status = response.status_code
    where = f"{visitor} {method} {url}: {status}"
    assert status < 500, where
    guard_refused = any(text in response.text for text in (NOT_ALLOWED, SIGN_IN_FIRST,
                                                          FORM_EXPIRED))
    if _allowed(level, visitor):
        assert status != 401 and not guard_refused, where
        if method == "GET" and status >= 400:
            assert status == 404 and (not complete or (method, path) in missing_ok()), where
        return
    if visitor == "anonymous":
        if method == "GET" and not level.startswith("link:"):
            assert status == 303, where
            assert response.headers["location"].startswith("/login?next="), where
        else:
            assert status == 401 and SIGN_IN_FIRST in response.text, where
    else:
        assert status == 403 and NOT_ALLOWED in response.text, where


@pytest.mark.parametrize("purpose", ["link:review", "link:incident"])
def test_a_link_reaches_its_own_target_only(world: World, purpose: str) -> None:
    pages = [(m, p) for (m, p), level in expected_access().items() if level == purpose
             and (m, p) in _routes()]
    if not pages:
        pytest.skip(f"no {purpose} page is served yet")
    for method, path in pages:
        url, _ = _fill(world, path, link_target="another-target")
        response = _request(world, purpose, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
        assert NOT_ALLOWED in response.text
