"""Journal writes leave the event loop free, and still come before the change: the prior
state of an action is on disk before the first call that changes it is sent."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from mailwarden.remediate.apply import OutcomeStatus, apply_plan
from mailwarden.remediate.journal import EntryStatus, FileJournal, JournalEntry
from mailwarden.remediate.model import Call
from mailwarden.remediate.rollback import rollback_run
from tests.remediate.remediate_helpers import app_for, plan_for, wire_to


class WatchedJournal(FileJournal):
    """A file journal that notes the thread of every write."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.threads: list[int] = []

    def record(self, run_id: str, entry: JournalEntry) -> None:
        self.threads.append(threading.get_ident())
        super().record(run_id, entry)


def test_the_prior_state_is_on_disk_before_the_change_and_off_the_loop(tmp_path: Path) -> None:
    plan = plan_for(checks=("sign-in-enabled", "imap-enabled", "stale-delegate"))
    journal = WatchedJournal(tmp_path)
    owner = {id(call): action for action in plan.actions for call in action.calls}
    sent: list[str] = []

    async def main() -> None:
        loop_thread = threading.get_ident()
        async with wire_to(app_for()) as wire:
            send = wire.send

            async def checked_send(call: Call) -> None:
                action = owner[id(call)]
                (run_id,) = journal.run_ids()
                entry = FileJournal(tmp_path).load(run_id).entries[action.id]
                assert entry.status is EntryStatus.PRIOR_RECORDED and entry.prior is not None
                sent.append(action.id)
                await send(call)

            wire.send = checked_send  # type: ignore[method-assign]
            report = await apply_plan(plan, wire, journal, dry_run=False)
            assert {o.status for o in report.outcomes} == {OutcomeStatus.APPLIED}
            wire.send = send  # type: ignore[method-assign]
            back = await rollback_run(report.run_id or "", wire, journal)
            assert {o.status for o in back.outcomes} <= {OutcomeStatus.ROLLED_BACK,
                                                        OutcomeStatus.NOT_REVERSIBLE}
        # prior-recorded and applied per action, then rolled-back per reversible one
        assert len(journal.threads) > 2 * len(plan.actions)
        assert loop_thread not in journal.threads

    asyncio.run(main())
    assert set(sent) == {a.id for a in plan.actions}

