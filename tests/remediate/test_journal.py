"""The file journal: private files, atomic entries, a readable run, clear errors."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailwarden.remediate.errors import JournalError
from mailwarden.remediate.journal import (
    JOURNAL_ENV,
    EntryStatus,
    FileJournal,
    JournalEntry,
    default_journal_dir,
)
from tests.remediate.remediate_helpers import plan_for

NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_run_reads_back_with_each_action_s_latest_entry(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "j")
    actions = plan_for().actions[:3]
    journal.begin("run-1", tenant_id="t1", started_at=NOW, actions=actions)
    first = actions[0].id
    journal.record("run-1", JournalEntry(action_id=first, status=EntryStatus.PRIOR_RECORDED,
                                         at=NOW, prior={"accountEnabled": True}))
    journal.record("run-1", JournalEntry(action_id=first, status=EntryStatus.APPLIED, at=NOW,
                                         prior={"accountEnabled": True}))
    run = journal.load("run-1")
    assert run.actions == actions and run.tenant_id == "t1" and run.started_at == NOW
    assert run.entries[first].status is EntryStatus.APPLIED
    assert run.entries[first].prior == {"accountEnabled": True}
    assert set(run.entries) == {first}
    assert journal.run_ids() == ("run-1",)


def test_journal_files_are_private_and_leave_no_temporary_files(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "j")
    action = plan_for().actions[0]
    journal.begin("run-2", tenant_id="t", started_at=NOW, actions=[action])
    journal.record("run-2", JournalEntry(action_id=action.id, status=EntryStatus.FAILED, at=NOW,
                                         error="boom"))
    run_dir = tmp_path / "j" / "run-2"
    assert mode(run_dir) == 0o700
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"run.json", f"{action.id}.json"}
    assert all(mode(p) == 0o600 for p in files)


def test_a_run_id_cannot_be_journalled_twice_or_escape_the_directory(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path)
    journal.begin("run-3", tenant_id="t", started_at=NOW, actions=())
    with pytest.raises(JournalError, match="already journalled"):
        journal.begin("run-3", tenant_id="t", started_at=NOW, actions=())
    with pytest.raises(JournalError, match="not a remediation run id"):
        journal.load("../etc")


def test_an_unknown_run_says_which_directory_was_searched(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match=re.escape(f"no remediation run missing in {tmp_path}")):
        FileJournal(tmp_path).load("missing")
    assert FileJournal(tmp_path / "absent").run_ids() == ()


def test_a_damaged_entry_is_reported_not_ignored(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path)
    action = plan_for().actions[0]
    journal.begin("run-4", tenant_id="t", started_at=NOW, actions=[action])
    (tmp_path / "run-4" / "actions" / f"{action.id}.json").write_text("{not json")
    with pytest.raises(JournalError, match="cannot read the journal"):
        journal.load("run-4")


def test_default_directory_follows_the_environment(tmp_path: Path) -> None:
    assert default_journal_dir({JOURNAL_ENV: str(tmp_path)}) == tmp_path
    assert default_journal_dir({}).name == "remediation"
