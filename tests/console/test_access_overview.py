"""Who reaches the overview and the mailbox pages: every signed-in role reads them;
anonymous visitors are sent to sign in, custodian links reach none of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.store import store_run
from tests.console.support import ConsoleClient, link_principal, person
from tests.report.report_factory import small_run

ClientOf = Callable[[Principal | None], ConsoleClient]

EXPECTED_ACCESS = {
    ("GET", "/"): "viewer",
    ("GET", "/mailboxes"): "viewer",
    ("GET", "/tenants/{tenant}/mailboxes"): "viewer",
    ("GET", "/tenants/{tenant}/mailboxes/{upn:path}"): "viewer",
}


def _paths(tenant: str, upn: str) -> list[str]:
    return [path.replace("{tenant}", tenant).replace("{upn:path}", upn)
            for _, path in EXPECTED_ACCESS]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_pages(console: Console, client_of: ClientOf, role: Role) -> None:
    run = small_run()
    store_run(run, console.history.url.render_as_string(hide_password=False))
    client = client_of(person(role))
    for path in _paths(run.tenant.tenant_id, run.result.inventory[0].upn):
        response = client.get(path)
        assert response.status_code in (200, 303), (path, response.status_code)


def test_anonymous_and_custodian_links_reach_none(console: Console,
                                                  client_of: ClientOf) -> None:
    run = small_run()
    store_run(run, console.history.url.render_as_string(hide_password=False))
    paths = _paths(run.tenant.tenant_id, run.result.inventory[0].upn)
    anonymous = client_of(None)
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next="), path
    issued = console.links.issue(purpose="review", tenant_id=run.tenant.tenant_id,
                                 target="rev-1", custodian="a@contoso.com",
                                 now=datetime.now(UTC))
    grant = console.links.open(issued.token, now=datetime.now(UTC))
    assert grant is not None
    linked = client_of(link_principal(grant))
    for path in paths:
        assert linked.get(path).status_code == 403, path
