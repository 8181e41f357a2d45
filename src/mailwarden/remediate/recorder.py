"""Journal writes off the event loop.

A journal entry is a file written and fsynced, or a database transaction committed: each
takes milliseconds, during which the calls in flight for other mailboxes would stall if
it ran on the event loop. `Recorder` runs every write in a worker thread and returns only
once the write has returned, so `await recorder.record(...)` before a change still means
that the prior state is durable before the change is sent.

Writes run one at a time, in the order they were asked for, as they did on the loop: a
`Journal` is not asked to be safe for concurrent use, and SQLite takes one writer at a
time anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mailwarden.remediate.journal import (
    EntryStatus,
    Journal,
    JournalEntry,
    RunContext,
    RunRecord,
)
from mailwarden.remediate.model import Action

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Recorder:
    """The journal of one run, written from coroutines."""

    def __init__(self, journal: Journal, run_id: str, clock: Clock) -> None:
        self.journal = journal
        self.run_id = run_id
        self.clock = clock
        self._turn = asyncio.Lock()

    async def begin(self, *, tenant_id: str, started_at: datetime,
                    actions: Sequence[Action], context: RunContext | None = None) -> None:
        async with self._turn:
            await asyncio.to_thread(
                self.journal.begin, self.run_id, tenant_id=tenant_id, started_at=started_at,
                actions=actions, context=context,
            )

    async def load(self) -> RunRecord:
        async with self._turn:
            return await asyncio.to_thread(self.journal.load, self.run_id)

    async def record(
        self, action: Action, status: EntryStatus, prior: Mapping[str, Any] | None,
        error: str | None,
    ) -> None:
        """Journal `status` of `action`; durable when this returns."""
        entry = JournalEntry(
            action_id=action.id, status=status, at=self.clock(), prior=prior, error=error
        )
        async with self._turn:
            await asyncio.to_thread(self.journal.record, self.run_id, entry)
