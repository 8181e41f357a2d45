"""Apply a plan: read and journal the state before each change, change only what is not
already as wanted, and carry on past failures.

Actions on different mailboxes run concurrently (the `M365Http` under the wire keeps each
service within its limits); actions on the same mailbox run one after the other, because
Exchange can refuse or lose concurrent writes to one object.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mailwarden.errors import MailwardenError
from mailwarden.remediate.journal import EntryStatus, Journal, RunContext
from mailwarden.remediate.kinds import kind_of
from mailwarden.remediate.model import Action, Call, Plan
from mailwarden.remediate.recorder import Clock, Recorder, utc_now
from mailwarden.remediate.wire import Wire


class OutcomeStatus(StrEnum):
    APPLIED = "applied"
    ALREADY_DONE = "already-done"
    WOULD_APPLY = "would-apply"  # dry run: the state differs from what the action wants
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    WOULD_RESTORE = "would-restore"  # rollback dry run: the state differs from the prior one
    ALREADY_RESTORED = "already-restored"
    NOT_REVERSIBLE = "not-reversible"
    NOTHING_TO_UNDO = "nothing-to-undo"
    ROLLBACK_FAILED = "rollback-failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    action: Action
    status: OutcomeStatus
    prior: dict[str, Any] | None = None
    error: str | None = None
    calls: tuple[Call, ...] = ()  # a dry run's: the calls that would be made


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    run_id: str | None  # None for a dry run: nothing was journalled
    outcomes: tuple[Outcome, ...]
    dry_run: bool = False

    def count(self, status: OutcomeStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def failures(self) -> tuple[Outcome, ...]:
        failed = {OutcomeStatus.FAILED, OutcomeStatus.ROLLBACK_FAILED}
        return tuple(o for o in self.outcomes if o.status in failed)


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


async def per_mailbox(
    actions: Sequence[Action], run: Callable[[Action], Awaitable[Outcome]]
) -> tuple[Outcome, ...]:
    """Run `run` over the actions: mailboxes concurrently, one mailbox's actions in order.
    Outcomes come back in the order of `actions`."""
    groups: dict[str, list[Action]] = defaultdict(list)
    for action in actions:
        groups[action.upn].append(action)

    async def one_mailbox(group: list[Action]) -> list[Outcome]:
        return [await run(action) for action in group]

    results = await asyncio.gather(*(one_mailbox(g) for g in groups.values()))
    by_id = {o.action.id: o for outcomes in results for o in outcomes}
    return tuple(by_id[a.id] for a in actions)


class _Applier:
    """Applies actions; journals them through `recorder`, or nothing on a dry run (None)."""

    def __init__(self, wire: Wire, recorder: Recorder | None) -> None:
        self.wire = wire
        self.recorder = recorder

    async def record(
        self, action: Action, status: EntryStatus, prior: Any, error: str | None
    ) -> None:
        if self.recorder is not None:
            await self.recorder.record(action, status, prior, error)

    async def run(self, action: Action) -> Outcome:
        kind = kind_of(action)
        try:
            prior = await kind.read(action, self.wire)
        except MailwardenError as exc:
            message = f"could not read the current state: {exc}"
            await self.record(action, EntryStatus.FAILED, None, message)
            return Outcome(action=action, status=OutcomeStatus.FAILED, error=message)
        if kind.satisfied(action, prior):
            await self.record(action, EntryStatus.ALREADY_DONE, prior, None)
            return Outcome(action=action, status=OutcomeStatus.ALREADY_DONE, prior=prior)
        if self.recorder is None:
            return Outcome(action=action, status=OutcomeStatus.WOULD_APPLY, prior=prior)
        # The prior state is on disk before the first write: a crash mid-change can still
        # be rolled back.
        await self.record(action, EntryStatus.PRIOR_RECORDED, prior, None)
        try:
            calls = kind.calls_for(action, prior) if kind.calls_for else action.calls
        except MailwardenError as exc:
            await self.record(action, EntryStatus.FAILED, prior, str(exc))
            return Outcome(action=action, status=OutcomeStatus.FAILED, prior=prior, error=str(exc))
        for call in calls:
            try:
                await self.wire.send(call)
            except MailwardenError as exc:
                await self.record(action, EntryStatus.FAILED, prior, str(exc))
                return Outcome(
                    action=action, status=OutcomeStatus.FAILED, prior=prior, error=str(exc)
                )
        await self.record(action, EntryStatus.APPLIED, prior, None)
        return Outcome(action=action, status=OutcomeStatus.APPLIED, prior=prior)


async def apply_plan(
    plan: Plan,
    wire: Wire,
    journal: Journal | None,
    *,
    dry_run: bool = True,
    run_id: str | None = None,
    clock: Clock = utc_now,
    context: RunContext | None = None,
) -> RunReport:
    """Apply `plan` (or, with `dry_run`, only read what each action would change).

    A dry run writes nothing to the tenant and nothing to the journal. A real run is
    journalled under `run_id` (a new one when None), which `rollback_run` takes; the
    journal is written in worker threads (see `recorder`), never on the event loop.
    """
    if dry_run:
        applier = _Applier(wire, None)
        return RunReport(
            run_id=None, outcomes=await per_mailbox(plan.actions, applier.run), dry_run=True
        )
    if journal is None:
        raise ValueError("a run that changes the tenant needs a journal")
    started = clock()
    run_id = run_id or new_run_id(started)
    recorder = Recorder(journal, run_id, clock)
    await recorder.begin(
        tenant_id=plan.tenant_id, started_at=started, actions=plan.actions, context=context
    )
    applier = _Applier(wire, recorder)
    return RunReport(run_id=run_id, outcomes=await per_mailbox(plan.actions, applier.run))
