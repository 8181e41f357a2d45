"""Roll back a journalled run: put back the state recorded before each change.

Only actions that may have changed something are undone (applied, failed part-way, or
interrupted after their prior state was recorded). Each is read first: when the state is
already the prior one, nothing is written. Actions are undone in the reverse order of the
run, per mailbox, so that a mailbox goes back through the same states.
"""

from __future__ import annotations

from mailwarden.errors import MailwardenError
from mailwarden.remediate.apply import Clock, Outcome, OutcomeStatus, RunReport, _now, per_mailbox
from mailwarden.remediate.errors import UnknownActionError
from mailwarden.remediate.journal import EntryStatus, Journal, JournalEntry
from mailwarden.remediate.model import Action
from mailwarden.remediate.state import read_state, restored, undo_calls
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
    def __init__(self, wire: Wire, journal: Journal, run_id: str, clock: Clock) -> None:
        self.wire = wire
        self.journal = journal
        self.run_id = run_id
        self.clock = clock
        self.entries = journal.load(run_id).entries

    def record(
        self, action: Action, status: EntryStatus, entry: JournalEntry, error: str | None
    ) -> None:
        self.journal.record(
            self.run_id,
            JournalEntry(
                action_id=action.id, status=status, at=self.clock(), prior=entry.prior,
                error=error,
            ),
        )

    async def run(self, action: Action) -> Outcome:
        entry = self.entries.get(action.id)
        if entry is None or entry.prior is None or entry.status not in UNDOABLE:
            return Outcome(action=action, status=OutcomeStatus.NOTHING_TO_UNDO)
        prior = dict(entry.prior)
        if not action.reversible:
            return Outcome(
                action=action, status=OutcomeStatus.NOT_REVERSIBLE, prior=prior, error=action.note
            )
        try:
            if restored(prior, await read_state(action, self.wire)):
                self.record(action, EntryStatus.ROLLED_BACK, entry, None)
                return Outcome(action=action, status=OutcomeStatus.ALREADY_RESTORED, prior=prior)
            for call in undo_calls(action, prior):
                await self.wire.send(call)
        except MailwardenError as exc:
            self.record(action, EntryStatus.ROLLBACK_FAILED, entry, str(exc))
            return Outcome(
                action=action, status=OutcomeStatus.ROLLBACK_FAILED, prior=prior, error=str(exc)
            )
        self.record(action, EntryStatus.ROLLED_BACK, entry, None)
        return Outcome(action=action, status=OutcomeStatus.ROLLED_BACK, prior=prior)


async def rollback_run(
    run_id: str,
    wire: Wire,
    journal: Journal,
    *,
    action_ids: tuple[str, ...] = (),
    clock: Clock = _now,
) -> RunReport:
    """Undo run `run_id`, or only the actions `action_ids` names."""
    run = journal.load(run_id)
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
    restorer = _Restorer(wire, journal, run_id, clock)
    outcomes = await per_mailbox(tuple(reversed(actions)), restorer.run)
    return RunReport(run_id=run_id, outcomes=tuple(reversed(outcomes)))
