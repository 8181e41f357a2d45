"""End to end over loopback HTTPS, through the command line: scan, plan, apply, rescan
(the remediated findings pass), roll back, rescan (the tenant is as it was).

The emulator is served with `serve_in_thread`; tokens come from its token endpoint
through MSAL, as against the real cloud.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailwarden.cli import command_app
from mailwarden.emulator import (
    DEFAULT_CLIENT_SECRET,
    EmulatorConfig,
    Served,
    Service,
    serve_in_thread,
)
from mailwarden.m365.session import M365Session
from mailwarden.model.findings import Status
from mailwarden.model.inventory import Snapshot
from mailwarden.pipeline import Scan, collect_live_tenant, scan_snapshot
from mailwarden.remediate.errors import RemediationFailed
from mailwarden.remediate.journal import EntryStatus, FileJournal
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.model import ActionKind
from mailwarden.settings import Settings
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.remediate.remediate_helpers import small, tenant_id, without_collection_time
from tests.support.cli_runner import invoke_ok, runner


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("MAILWARDEN_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    with serve_in_thread(small().recorded) as running:
        yield running
        # MSAL's HTTP sessions are dropped, not closed: collect them so that their
        # connections close from the client's side before the server stops.
        gc.collect()
        time.sleep(0.1)


def connection(served: Served) -> list[str]:
    base = served.base_url
    return ["--tenant", tenant_id(), "--client-id", "remediation-test", "--login-url", base,
            "--graph-url", base, "--exo-url", base, "--ca-bundle", str(served.ca_file)]


def collect(served: Served) -> Scan:
    settings = Settings(tenant=tenant_id(), client_id="remediation-test",
                        login_url=served.base_url, graph_url=served.base_url,
                        exo_url=served.base_url, ca_bundle=served.ca_file)
    with M365Session(settings) as session:
        recorded = collect_live_tenant(session)
    assert not recorded.errors, recorded.errors
    return scan_snapshot(snapshot_from_recorded(recorded))


def comparable(snapshot: Snapshot, *, drop_trustees: frozenset[str] = frozenset()) -> Snapshot:
    """The snapshot without its collection time, with permission entries in a fixed order
    (Exchange lists an entry added back after the others) and without `drop_trustees`."""
    mailboxes = tuple(
        dataclasses.replace(m, grant_send_on_behalf_to=tuple(sorted(m.grant_send_on_behalf_to)))
        if m.grant_send_on_behalf_to else m
        for m in snapshot.mailboxes
    )
    permissions = tuple(sorted(
        (p for p in snapshot.mailbox_permissions if p.user.lower() not in drop_trustees),
        key=repr))
    return dataclasses.replace(
        without_collection_time(snapshot), mailboxes=mailboxes,
        mailbox_permissions=permissions,
        recipient_permissions=tuple(sorted(snapshot.recipient_permissions, key=repr)),
    )


def test_apply_then_rollback_over_loopback(served: Served, tmp_path: Path) -> None:
    db = tmp_path / "history.db"  # the journal lives in the history database
    original = collect(served)
    assert original.result.failures()

    planned = json.loads(invoke_ok("remediate", "plan", "--include-ews", "--format", "json",
                             *connection(served)))
    kinds = {a["kind"] for a in planned["actions"]}
    assert {"block-sign-in", "disable-protocols", "remove-delegate"} <= kinds

    invoke_ok("remediate", "apply", "--include-ews", *connection(served))  # no --yes: a dry run
    assert served.stats.service(Service.GRAPH).writes == 0
    assert served.stats.service(Service.EXCHANGE).writes == 0
    assert not db.exists()

    invoke_ok("remediate", "apply", "--include-ews", "--yes", "--db", str(db), *connection(served))
    with DatabaseJournal(str(db)) as journal:
        (run_id,) = journal.run_ids()
        run = journal.load(run_id)
    assert {e.status for e in run.entries.values()} == {EntryStatus.APPLIED}
    assert len(run.entries) == len(run.actions) > 20

    after = collect(served)
    statuses = {(f.check_id, f.resource.upn): f.status for f in after.result.findings}
    assert any(a.kind is ActionKind.REJECT_DIRECT_SEND for a in run.actions)
    for action in run.actions:
        for check in action.check_ids:
            if check != "stale-delegate":  # a tenant-wide action's finding has no UPN
                assert statuses[(check, action.upn or None)] in {
                    Status.PASS, Status.NOT_APPLICABLE}, (check, action.upn)
    removed = {(a.upn, a.detail["trustee"].lower()) for a in run.actions
               if a.kind is ActionKind.REMOVE_DELEGATE}
    still = {(m.upn, g.trustee.lower()) for m in after.result.access for g in m.grants}
    still |= {(m.upn, g.trustee.lower()) for m in after.result.access for g in m.orphaned}
    assert removed and not removed & still

    rolled = invoke_ok("remediate", "rollback", run_id, "--yes", "--db", str(db),
                       *connection(served))
    assert "not-reversible" in rolled  # the deleted objects' grants cannot come back
    irreversible = frozenset(a.detail["trustee"].lower() for a in run.actions
                             if not a.reversible)
    back = collect(served)
    assert comparable(back.snapshot) == comparable(original.snapshot,
                                                   drop_trustees=irreversible)


def test_an_app_without_write_permission_is_told_what_to_grant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MAILWARDEN_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    config = EmulatorConfig(failing_sources={"graph/write": 403, "exo/write": 403})
    with serve_in_thread(small().recorded, config=config) as running:
        result = runner.invoke(command_app(), [
            "remediate", "apply", "--check", "sign-in-enabled", "--check", "pop-enabled",
            "--yes", "--journal-dir", str(tmp_path), *connection(running)])
        gc.collect()
        time.sleep(0.1)
    assert isinstance(result.exception, RemediationFailed)
    assert "failed" in str(result.exception) and "run the same command again" in str(
        result.exception)
    assert "failed" in result.output  # each failure is listed in the run's table
    (run_id,) = FileJournal(tmp_path).run_ids()
    entries = FileJournal(tmp_path).load(run_id).entries.values()
    assert {e.status for e in entries} == {EntryStatus.FAILED}
    assert all(e.prior is not None and "403" in (e.error or "") for e in entries)
    assert any("Exchange.ManageAsApp" in (e.error or "") for e in entries)
    assert any("User.EnableDisableAccount.All" in (e.error or "") for e in entries)
