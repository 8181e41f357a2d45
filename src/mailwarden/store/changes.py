"""Change requests: a selection of remediation actions waiting for, or past, a second
person's approval (the console's two-person rule).

States: pending -> approved | rejected | cancelled; approved -> applying -> applied |
failed; applied | failed -> rolling-back -> rolled-back (or back to applied | failed when an
action could not be put back, to try again). A request is never approved or rejected by the
person who asked for it; the checks of each step live with the step (`ChangeStore`
methods), so no caller can skip them.

Each step is one `UPDATE ... WHERE id = :id AND state = :from` (and, for a decision,
`requested_by != :by`): of two people approving or applying at once exactly one changes the
row, the other gets a TransitionError and changes nothing, and a replayed approval finds
the request no longer pending. A request is applied once: nothing leads back to approved.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from mailwarden.errors import InputError
from mailwarden.store.history import History
from mailwarden.store.tables import change_requests


class TransitionError(InputError):
    """The step does not apply to the state the record is in now (it was decided, applied or
    rolled back already, or not yet approved): nothing was changed."""


class SamePersonError(InputError):
    """The two-person rule: the person who asked for a change cannot decide it."""


class ChangeState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
    ROLLING_BACK = "rolling-back"
    ROLLED_BACK = "rolled-back"


#: The states each step starts from.
_FROM: dict[str, tuple[ChangeState, ...]] = {
    "approve": (ChangeState.PENDING,),
    "reject": (ChangeState.PENDING,),
    "cancel": (ChangeState.PENDING,),
    "apply": (ChangeState.APPROVED,),
    "finish apply": (ChangeState.APPLYING,),
    "roll back": (ChangeState.APPLIED, ChangeState.FAILED),
    "finish rollback": (ChangeState.ROLLING_BACK,),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRequest:
    id: str
    tenant_id: str
    state: ChangeState
    actions: tuple[Mapping[str, Any], ...]  # Action.as_dict() each
    origin: str  # console | review
    origin_id: str | None
    reason: str
    requested_by: str
    requested_by_name: str | None
    requested_at: datetime
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    remediation_run_id: str | None = None
    applied_at: datetime | None = None
    outcome: Mapping[str, Any] | None = None
    rolled_back_at: datetime | None = None
    rolled_back_by: str | None = None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _request(row: RowMapping) -> ChangeRequest:
    return ChangeRequest(
        id=row["id"], tenant_id=row["tenant_id"], state=ChangeState(row["state"]),
        actions=tuple(row["actions"]), origin=row["origin"], origin_id=row["origin_id"],
        reason=row["reason"], requested_by=row["requested_by"],
        requested_by_name=row["requested_by_name"],
        requested_at=_aware(row["requested_at"]) or datetime.min.replace(tzinfo=UTC),
        decided_by=row["decided_by"], decided_by_name=row["decided_by_name"],
        decided_at=_aware(row["decided_at"]), decision_note=row["decision_note"],
        remediation_run_id=row["remediation_run_id"], applied_at=_aware(row["applied_at"]),
        outcome=row["outcome"], rolled_back_at=_aware(row["rolled_back_at"]),
        rolled_back_by=row["rolled_back_by"])


class ChangeStore:
    def __init__(self, history: History) -> None:
        self.history = history

    def submit(self, *, tenant_id: str, actions: Sequence[Mapping[str, Any]], origin: str,
               origin_id: str | None, reason: str, requested_by: str,
               requested_by_name: str | None, at: datetime) -> ChangeRequest:
        """Store a new pending request. No actions, or no reason, is an InputError."""
        if not actions:
            raise InputError("a change request needs at least one action")
        if not reason.strip():
            raise InputError("a change request needs a reason")
        request_id = f"cr-{at:%Y%m%d}-{secrets.token_hex(4)}"
        row = insert(change_requests).values(
            id=request_id, tenant_id=tenant_id, state=ChangeState.PENDING.value,
            actions=[dict(a) for a in actions], origin=origin, origin_id=origin_id,
            reason=reason.strip(), requested_by=requested_by,
            requested_by_name=requested_by_name, requested_at=at)
        with self.history._connection("store the change request", write=True) as connection:
            connection.execute(row)
        return self.get(request_id)

    def get(self, request_id: str) -> ChangeRequest:
        query = select(change_requests).where(change_requests.c.id == request_id)
        with self.history._connection("read the change request") as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise InputError(f"no change request {request_id}")
        return _request(row)

    def for_tenant(self, tenant_id: str | None = None,
                   states: Sequence[ChangeState] = ()) -> tuple[ChangeRequest, ...]:
        """Newest first."""
        query = select(change_requests).order_by(change_requests.c.requested_at.desc())
        if tenant_id is not None:
            query = query.where(change_requests.c.tenant_id == tenant_id)
        if states:
            query = query.where(change_requests.c.state.in_([s.value for s in states]))
        with self.history._connection("read change requests") as connection:
            return tuple(_request(row) for row in connection.execute(query).mappings())

    def _step(self, request_id: str, step: str, values: Mapping[str, Any], *,
              also: Any = None) -> ChangeRequest:
        """Move the request on by `step` if it is in one of the step's starting states (and
        `also` holds), in one UPDATE; else TransitionError and nothing changes."""
        allowed = _FROM[step]
        query = update(change_requests).where(
            change_requests.c.id == request_id,
            change_requests.c.state.in_([s.value for s in allowed]))
        if also is not None:
            query = query.where(also)
        with self.history._connection(f"{step} the change request", write=True) as connection:
            changed = connection.execute(query.values(**values)).rowcount
        if changed != 1:
            current = self.get(request_id)  # InputError when there is no such request
            raise TransitionError(
                f"change request {request_id} is {current.state.value}; it can be "
                f"{step_word(step)} only when {' or '.join(s.value for s in allowed)}: "
                "nothing was changed")
        return self.get(request_id)

    def decide(self, request_id: str, *, approve: bool, by: str, by_name: str | None,
               at: datetime, note: str | None = None) -> ChangeRequest:
        """Approve or reject a pending request. Its requester cannot (SamePersonError); a
        request no longer pending is a TransitionError (a replayed approval changes
        nothing)."""
        if self.get(request_id).requested_by == by:
            raise SamePersonError(f"change request {request_id} was requested by you; another "
                                  "approver decides it (two-person rule)")
        state = ChangeState.APPROVED if approve else ChangeState.REJECTED
        return self._step(request_id, "approve" if approve else "reject",
                          {"state": state.value, "decided_by": by, "decided_by_name": by_name,
                           "decided_at": at, "decision_note": (note or "").strip() or None},
                          also=change_requests.c.requested_by != by)

    def cancel(self, request_id: str, *, by: str, at: datetime) -> ChangeRequest:
        """The requester withdraws a pending request (nobody else can)."""
        if self.get(request_id).requested_by != by:
            raise SamePersonError(f"change request {request_id} is someone else's; an approver "
                                  "rejects it instead")
        return self._step(request_id, "cancel",
                          {"state": ChangeState.CANCELLED.value, "decided_at": at},
                          also=change_requests.c.requested_by == by)

    def begin_apply(self, request_id: str) -> ChangeRequest:
        """approved -> applying: the one caller that wins applies it, once."""
        return self._step(request_id, "apply", {"state": ChangeState.APPLYING.value})

    def finish_apply(self, request_id: str, *, run_id: str | None, outcome: Mapping[str, Any],
                     failed: bool, at: datetime) -> ChangeRequest:
        """applying -> applied, or failed when an action (or the whole run) failed."""
        state = ChangeState.FAILED if failed else ChangeState.APPLIED
        return self._step(request_id, "finish apply",
                          {"state": state.value, "remediation_run_id": run_id,
                           "applied_at": at, "outcome": {**outcome, "state": state.value}})

    def begin_rollback(self, request_id: str) -> ChangeRequest:
        """applied | failed -> rolling-back; only a request with a journalled run."""
        return self._step(request_id, "roll back", {"state": ChangeState.ROLLING_BACK.value},
                          also=change_requests.c.remediation_run_id.is_not(None))

    def finish_rollback(self, request_id: str, *, outcome: Mapping[str, Any], done: bool,
                        by: str, at: datetime) -> ChangeRequest:
        """rolling-back -> rolled-back when every action was put back; else back to the
        state it was rolled back from (kept in the outcome as `applied_state`), to retry."""
        current = self.get(request_id)
        before = dict(current.outcome or {})
        state = (ChangeState.ROLLED_BACK if done
                 else ChangeState(before.get("state") or ChangeState.FAILED.value))
        values: dict[str, Any] = {"state": state.value, "outcome": {**before, "rollback":
                                                                     dict(outcome)}}
        if done:
            values |= {"rolled_back_at": at, "rolled_back_by": by}
        return self._step(request_id, "finish rollback", values)


def step_word(step: str) -> str:
    """"approve" -> "approved": how a step reads in a sentence."""
    return {"approve": "approved", "reject": "rejected", "cancel": "cancelled",
            "apply": "applied", "finish apply": "finished applying",
            "roll back": "rolled back", "finish rollback": "finished rolling back"}[step]
