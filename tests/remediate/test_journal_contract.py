"""What every journal must do, for the file journal and the history database (SQLite
always; PostgreSQL when MAILWARDEN_TEST_POSTGRES_URL names a server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from mailwarden.remediate.apply import OutcomeStatus, apply_plan
from mailwarden.remediate.errors import JournalError
from mailwarden.remediate.history import summarize
from mailwarden.remediate.journal import (
    EntryStatus,
    FileJournal,
    Journal,
    JournalEntry,
    RunContext,
)
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.rollback import rollback_run
from mailwarden.store.tables import remediation_runs
from tests.remediate.remediate_helpers import app_for, plan_for, rescan, wire_to
from tests.support.postgres_schema import postgres_schema_url

NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)

@pytest.fixture(params=["file", "sqlite", "postgresql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    if request.param == "file":
        yield FileJournal(tmp_path / "journal")
        return
    urls = ([str(tmp_path / "history.db")] if request.param == "sqlite"
            else postgres_schema_url("mw_journal_"))
    for url in urls:  # the PostgreSQL schema is dropped when the generator finishes
        with DatabaseJournal(url) as database:
            yield database


def test_entries_replace_each_other_and_read_back(journal: Journal) -> None:
    actions = plan_for().actions[:2]
    journal.begin("run-a", tenant_id="t1", started_at=NOW, actions=actions)
    for status in (EntryStatus.PRIOR_RECORDED, EntryStatus.APPLIED):
        journal.record("run-a", JournalEntry(action_id=actions[0].id, status=status, at=NOW,
                                             prior={"AuditOwner": ["Update", "Move"]}))
    run = journal.load("run-a")
    assert run.actions == actions and run.tenant_id == "t1" and run.started_at == NOW
    assert list(run.entries) == [actions[0].id]
    entry = run.entries[actions[0].id]
    assert entry.status is EntryStatus.APPLIED and entry.at == NOW
    assert entry.prior == {"AuditOwner": ["Update", "Move"]}
    assert journal.run_ids() == ("run-a",)


def test_a_run_is_begun_once_and_an_unknown_run_is_an_error(journal: Journal) -> None:
    journal.begin("run-b", tenant_id="t", started_at=NOW, actions=())
    with pytest.raises(JournalError, match="already journalled"):
        journal.begin("run-b", tenant_id="t", started_at=NOW, actions=())
    with pytest.raises(JournalError, match="no remediation run nothing"):
        journal.load("nothing")


def test_apply_and_rollback_through_the_journal(journal: Journal) -> None:
    app = app_for()
    plan = plan_for(checks=("audit-actions-missing", "external-forwarding"))

    async def main() -> None:
        async with wire_to(app) as wire:
            before = await rescan(wire)
            report = await apply_plan(plan, wire, journal, dry_run=False)
            assert {o.status for o in report.outcomes} == {OutcomeStatus.APPLIED}
            back = await rollback_run(report.run_id or "", wire, journal)
            assert {o.status for o in back.outcomes} == {OutcomeStatus.ROLLED_BACK}
            after = await rescan(wire)
        assert after.snapshot.mailboxes == before.snapshot.mailboxes
        assert after.snapshot.inbox_rules == before.snapshot.inbox_rules
        statuses = {e.status for e in journal.load(report.run_id or "").entries.values()}
        assert statuses == {EntryStatus.ROLLED_BACK}

    asyncio.run(main())


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_a_journal_in_memory_is_refused(url: str) -> None:
    with pytest.raises(JournalError, match="could never be rolled back"):
        DatabaseJournal(url)


def test_a_run_keeps_who_applied_it_and_how_it_connected(journal: Journal) -> None:
    context = RunContext(by="alice", tenant_name="Adventure Works",
                         connection={"tenant": "t1", "client_id": "app", "cloud": "global",
                                     "login_url": "https://127.0.0.1:9"})
    journal.begin("run-c", tenant_id="t1", started_at=NOW, actions=plan_for().actions[:1],
                  context=context)
    assert journal.load("run-c").context == context
    journal.begin("run-d", tenant_id="t1", started_at=NOW, actions=())
    assert journal.load("run-d").context == RunContext()


def test_a_database_run_journalled_before_the_context_still_loads(tmp_path: Path) -> None:
    action = plan_for().actions[0]
    with DatabaseJournal(str(tmp_path / "history.db")) as database:
        with database.engine.begin() as connection:  # the row as it was written before
            connection.execute(insert(remediation_runs).values(
                run_id="old", tenant_id="t1", started_at=NOW, actions=[action.as_dict()]))
        run = database.load("old")
    assert run.actions == (action,) and run.context == RunContext()
    assert summarize(run).rolled_back == "nothing to undo"
    assert summarize(run).counts == {"not-done": 1}
