"""The two-person rule cannot be bypassed: whoever asked for a change cannot approve it
(whatever role they hold), an approval replayed changes nothing, a decided request cannot
be decided again, and a refused step leaves the request as it was and is audited.

Tested through the console's route (`POST /remediation/requests/{request_id}/approve`) and
through `ChangeStore.decide`, which holds the rule for every caller. Both are skipped
while the remediation pages are not part of the console (they are added beside it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from mailwarden.console.app import all_pages
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role, Source
from mailwarden.errors import InputError
from mailwarden.store.changes import ChangeRequest, ChangeStore
from tests.console.support import ConsoleClient, person

ClientOf = Callable[[Principal | None], ConsoleClient]
APPROVE = "/remediation/requests/{request_id}/approve"
REJECT = "/remediation/requests/{request_id}/reject"
ANN = person(Role.RESPONDER, "Ann")  # asks for the change


def _submit(console: Console) -> ChangeRequest:
    return ChangeStore(console.history).submit(
        tenant_id="t1", origin="console", origin_id=None, reason="close the stale grant",
        actions=[{"kind": "remove-permission", "mailbox": "hr@contoso.com"}],
        requested_by=ANN.subject, requested_by_name=ANN.name, at=datetime.now(UTC))


def _served(path: str) -> None:
    if not any(page.path == path and "POST" in page.methods for page in all_pages()):
        pytest.skip(f"the console serves no {path} yet")


def test_the_requester_cannot_approve_and_a_replay_changes_nothing(
        console: Console, client_of: ClientOf) -> None:
    _served(APPROVE)
    change = _submit(console)
    approve = APPROVE.format(request_id=change.id)
    store = ChangeStore(console.history)
    # The requester, even holding every role, is refused; so is a forged form.
    same = Principal(subject=ANN.subject, name=ANN.name, roles=frozenset({Role.ADMIN}),
                     source=Source.INVITE)
    assert client_of(same).post(approve).status_code == 403
    assert client_of(person(Role.RESPONDER, "Bob")).post(approve).status_code == 403
    cy = client_of(person(Role.APPROVER, "Cy"))
    assert cy.post(approve, {"csrf": "forged"}).status_code == 403
    assert store.get(change.id) == change  # nothing changed
    refused = console.audit.entries(actor=ANN.subject)
    assert refused and refused[0].target == change.id and refused[0].outcome.value == "refused"

    assert cy.post(approve).status_code == 303
    approved = store.get(change.id)
    assert approved.state.value == "approved" and approved.decided_by == "test:Cy"
    # Replays, by the approver or anyone else, and a late rejection change nothing.
    for client in (cy, client_of(person(Role.APPROVER, "Dee")), client_of(same)):
        assert client.post(approve).status_code in (403, 409)
        assert client.post(REJECT.format(request_id=change.id)).status_code in (403, 409)
    assert store.get(change.id) == approved


def test_the_store_holds_the_rule_for_every_caller(console: Console) -> None:
    store = ChangeStore(console.history)
    if not hasattr(store, "decide"):
        pytest.skip("ChangeStore has no decide() yet")
    decide: Any = store.decide
    change = _submit(console)
    now = datetime.now(UTC)
    with pytest.raises(InputError):
        decide(change.id, approve=True, by=ANN.subject, by_name=ANN.name, at=now)
    assert store.get(change.id) == change
    approved = decide(change.id, approve=True, by="test:Cy", by_name="Cy", at=now)
    with pytest.raises(InputError):
        decide(change.id, approve=True, by="test:Dee", by_name="Dee", at=now)
    with pytest.raises(InputError):
        decide(change.id, approve=False, by="test:Dee", by_name="Dee", at=now)
    assert store.get(change.id) == approved
