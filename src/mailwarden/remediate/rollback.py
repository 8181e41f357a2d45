"""Roll back a journalled run: put back the state recorded before each change.

Only actions that may have changed something are undone (applied, failed part-way, or
interrupted after their prior state was recorded). Each is read first: when the state is
already the prior one, nothing is written. Actions are undone in the reverse order of the
run, per mailbox, so that a mailbox goes back through the same states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.errors import MailwardenError
from mailwarden.remediate.apply import Outcome, OutcomeStatus, RunReport, per_mailbox
from mailwarden.remediate.errors import UnknownActionError
from mailwarden.remediate.journal import EntryStatus, Journal, JournalEntry
from mailwarden.remediate.kinds import kind_of
from mailwarden.remediate.kinds.base import all_same
from mailwarden.remediate.model import Action
from mailwarden.remediate.recorder import Clock, Recorder, utc_now
from mailwarden.remediate.wire import Wire

#: Entries whose change may have happened, in full or in part.
UNDOABLE = frozenset(
    {
        EntryStatus.APPLIED,
        EntryStatus.FAILED,
        EntryStatus.PRIOR_RECORDED,
        EntryStatus.ROLLBACK_FAILED,
    }
)


class _Restorer:
    """Restores actions, journalling through `recorder`; a dry run (None) only reads."""

    def __init__(
        self, wire: Wire, recorder: Recorder | None, entries: Mapping[str, JournalEntry]
    ) -> None:
        self.wire = wire
        self.recorder = recorder
        self.entries = entries

    async def record(self, action: Action, status: EntryStatus, prior: Any,
                     error: str | None) -> None:
        if self.recorder is not None:
            await self.recorder.record(action, status, prior, error)

    async def run(self, action: Action) -> Outcome:
        entry = self.entries.get(action.id)
        if entry is None or entry.prior is None or entry.status not in UNDOABLE:
            return Outcome(action=action, status=OutcomeStatus.NOTHING_TO_UNDO)
        prior = dict(entry.prior)
        if not action.reversible:
            return Outcome(
                action=action, status=OutcomeStatus.NOT_REVERSIBLE, prior=prior, error=action.note
            )
        kind = kind_of(action)
        try:
            current = await kind.read(action, self.wire)
            if kind.restore is not None:
                calls = kind.restore(action, prior, current)
                restored = not calls
            else:
                restored = all_same(prior, current)
                calls = () if restored else kind.undo(action, prior)
            if restored:  # already as it was
                await self.record(action, EntryStatus.ROLLED_BACK, entry.prior, None)
                return Outcome(action=action, status=OutcomeStatus.ALREADY_RESTORED, prior=prior)
            if self.recorder is None:
                return Outcome(action=action, status=OutcomeStatus.WOULD_RESTORE, prior=prior,
                               calls=calls)
            for call in calls:
                await self.wire.send(call)
        except MailwardenError as exc:
            await self.record(action, EntryStatus.ROLLBACK_FAILED, entry.prior, str(exc))
            return Outcome(
                action=action, status=OutcomeStatus.ROLLBACK_FAILED, prior=prior, error=str(exc)
            )
        await self.record(action, EntryStatus.ROLLED_BACK, entry.prior, None)
        return Outcome(action=action, status=OutcomeStatus.ROLLED_BACK, prior=prior)


async def rollback_run(
    run_id: str,
    wire: Wire,
    journal: Journal,
    *,
    action_ids: tuple[str, ...] = (),
    clock: Clock = utc_now,
    dry_run: bool = False,
) -> RunReport:
    """Undo run `run_id`, or only the actions `action_ids` names. The journal is read and
    written in worker threads (see `recorder`), never on the event loop. A dry run reads
    each object and reports what would be restored, writing nothing anywhere."""
    recorder = Recorder(journal, run_id, clock)
    run = await recorder.load()
    actions = run.actions
    if action_ids:
        known = {a.id for a in actions}
        missing = [i for i in action_ids if i not in known]
        if missing:
            raise UnknownActionError(
                f"run {run_id} has no action {', '.join(missing)}; `mailwarden remediate "
                f"show {run_id}` lists its actions"
            )
        actions = tuple(a for a in actions if a.id in set(action_ids))
    restorer = _Restorer(wire, None if dry_run else recorder, run.entries)
    outcomes = await per_mailbox(tuple(reversed(actions)), restorer.run)
    return RunReport(run_id=run_id, outcomes=tuple(reversed(outcomes)), dry_run=dry_run)
