"""Remediation in the console against the emulator served on loopback HTTPS (tokens
through MSAL from its token endpoint, as against the real cloud): a responder submits a
selection of the fresh plan, the requester cannot approve it, another approver does (a
replay changes nothing), an admin applies it (the tenant changed: a rescan passes those
findings), each action's outcome is shown, and a rollback restores the tenant."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Console
from mailwarden.console.remediation_work import connection_settings, fresh_plan
from mailwarden.console.roles import Principal, Role
from mailwarden.m365.session import M365Session
from mailwarden.model.findings import Status
from mailwarden.pipeline import collect_live_tenant, scan_snapshot
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.model import Action
from mailwarden.store import dispose_engines
from mailwarden.store.changes import ChangeState, ChangeStore
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.console.changes_support import connected_console, served_tenant, with_rule_names
from tests.console.support import ConsoleClient, person, signed_in
from tests.remediate.remediate_helpers import small, tenant_id

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Console]:
    with served_tenant(monkeypatch) as served:
        yield connected_console(served, tmp_path)
        dispose_engines()


@pytest.fixture
def client(connected: Console) -> Iterator[Callable[[Principal], ConsoleClient]]:
    made: list[ConsoleClient] = []

    def make(principal: Principal) -> ConsoleClient:
        made.append(signed_in(connected, principal))
        return made[-1]

    yield make
    for each in made:
        each.close()


def _read(console: Console) -> tuple[set[tuple[str, str]], dict[str, str | None]]:
    """The tenant now: its failing findings, and each mailbox's forwarding address."""
    settings = connection_settings(console.config)
    assert settings is not None
    with M365Session(settings) as session:
        recorded = collect_live_tenant(session)
    scan = scan_snapshot(snapshot_from_recorded(recorded), db_url=console.config.db_url)
    failing = {(f.check_id, f.resource.upn or "") for f in scan.result.findings
               if f.status is Status.FAIL}
    forwarding = {key: m.forwarding_smtp_address or m.forwarding_address
                  for m in scan.snapshot.mailboxes
                  for key in m.keys()}  # noqa: SIM118 - the names it answers to
    return failing, forwarding


def test_request_approve_apply_and_roll_back(connected: Console,
                                             client: Callable[[Principal], ConsoleClient]
                                             ) -> None:
    settings = connection_settings(connected.config)
    assert settings is not None
    plan = fresh_plan(settings, db_url=connected.config.db_url, now=datetime.now(UTC)).plan
    forwarding = tuple(a for a in plan.actions if a.kind.value == "remove-forwarding")
    sign_in = next(a for a in plan.actions if a.kind.value == "block-sign-in")
    assert forwarding

    ann = client(person(Role.APPROVER, "Ann"))  # requests; an approver, but not of her own
    overview = ann.get("/remediation").text
    assert f'href="/remediation/plan/{tenant_id()}"' in overview
    page = ann.get(f"/remediation/plan/{tenant_id()}")
    assert page.status_code == 200
    assert "remove-forwarding" in page.text and f'value="{sign_in.id}"' in page.text
    assert ann.post(f"/remediation/plan/{tenant_id()}",
                    {"kind": "remove-forwarding", "reason": ""}).status_code == 400
    submitted = ann.post(f"/remediation/plan/{tenant_id()}",
                         {"kind": "remove-forwarding", "action": sign_in.id,
                          "reason": f"close forwarding {HOSTILE}"})
    assert submitted.status_code == 303
    url = submitted.headers["location"]
    request_id = url.rsplit("/", 1)[1]
    store = ChangeStore(connected.history)
    change = store.get(request_id)
    assert change.state is ChangeState.PENDING and change.requested_by_name == "Ann"
    chosen = tuple(Action.from_dict(a) for a in change.actions)
    assert {a.id for a in chosen} == {a.id for a in forwarding} | {sign_in.id}

    refused = ann.post(f"{url}/approve", {"note": "mine"})
    assert refused.status_code == 403 and "two-person rule" in refused.text
    audit = connected.audit.entries()[0]
    assert (audit.action, audit.outcome) == ("change.approve", Outcome.REFUSED)
    assert store.get(request_id).state is ChangeState.PENDING

    admin = client(person(Role.ADMIN, "Ada"))
    assert admin.post(f"{url}/apply").status_code == 409  # not approved yet
    bob = client(person(Role.APPROVER, "Bob"))
    assert bob.post(f"{url}/approve", {"note": f"ok {HOSTILE}"}).status_code == 303
    assert bob.post(f"{url}/approve", {"note": "replayed"}).status_code == 409
    assert bob.post(f"{url}/reject", {"note": "replayed"}).status_code == 409
    approved = store.get(request_id)
    assert approved.state is ChangeState.APPROVED and approved.decision_note == f"ok {HOSTILE}"

    before, forwards = _read(connected)
    assert ("sign-in-enabled", sign_in.upn) in before
    assert all(forwards[a.upn] for a in forwarding)
    # The test client waits for the worker thread the response starts.
    assert admin.post(f"{url}/apply").status_code == 303
    applied = store.get(request_id)
    assert applied.state is ChangeState.APPLIED, applied.outcome
    assert applied.remediation_run_id
    assert {o["status"] for o in (applied.outcome or {})["actions"].values()} == {"applied"}
    with DatabaseJournal(connected.config.db_url, create=False) as journal:
        assert journal.load(applied.remediation_run_id).tenant_id == tenant_id()
    after, forwards = _read(connected)  # the tenant changed
    assert ("sign-in-enabled", sign_in.upn) not in after and after < before
    assert not any(forwards[a.upn] for a in forwarding)
    assert admin.post(f"{url}/apply").status_code == 409  # applied once only

    shown = admin.get(url).text
    assert shown.count('class="outcome outcome-applied"') == len(chosen)
    assert applied.remediation_run_id in shown
    for raw in ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'):
        assert raw not in shown and raw not in admin.get("/remediation").text

    assert bob.post(f"{url}/rollback").status_code == 403  # an admin's step
    assert admin.post(f"{url}/rollback").status_code == 303
    undone = store.get(request_id)
    assert undone.state is ChangeState.ROLLED_BACK, undone.outcome
    assert undone.rolled_back_by == "Ada"
    restored, forwards = _read(connected)
    assert restored == before  # as it was
    assert all(forwards[a.upn] for a in forwarding)
    shown = admin.get(url).text
    assert shown.count('class="outcome outcome-rolled-back"') == len(chosen)
    actions = [e.action for e in connected.audit.entries()]
    for step in ("change.submit", "change.approve", "change.apply", "change.apply.end",
                 "change.rollback", "change.rollback.end"):
        assert step in actions


def test_a_request_under_way_refreshes_itself(connected: Console,
                                              client: Callable[[Principal], ConsoleClient]
                                              ) -> None:
    store = ChangeStore(connected.history)
    action = {"id": "a1", "kind": "remove-forwarding", "upn": "box@contoso.com",
              "account_id": None, "calls": [], "reasons": [], "breaks": "",
              "detail": {"parameters": {"ForwardingSmtpAddress": None}}}
    change = store.submit(tenant_id=tenant_id(), actions=[action], origin="review",
                          origin_id="rev-1", reason="removals of review rev-1",
                          requested_by="link:x", requested_by_name="Custodian",
                          at=datetime.now(UTC))
    store.decide(change.id, approve=True, by="sub:bob", by_name="Bob", at=datetime.now(UTC))
    store.begin_apply(change.id)
    page = client(person(Role.VIEWER)).get(f"/remediation/requests/{change.id}").text
    assert '<meta http-equiv="refresh" content="2">' in page
    assert re.search(r'class="state state-applying">applying<', page)
    assert "access review rev-1" in page


def test_hostile_tenant_strings_render_inert_in_the_plan(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    hostile = with_rule_names(small().recorded, HOSTILE + "=HYPERLINK(1)\x1b[31m")
    with served_tenant(monkeypatch, hostile) as served:
        console = connected_console(served, tmp_path)
        viewer = signed_in(console, person(Role.RESPONDER))
        try:
            page = viewer.get(f"/remediation/plan/{tenant_id()}")
            assert page.status_code == 200
            assert "disable inbox rule &#39;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            assert "<script>alert(" not in page.text and "<img" not in page.text
        finally:
            viewer.close()
            dispose_engines()
