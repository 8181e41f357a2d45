"""Change requests: a selection of remediation actions waiting for, or past, a second
person's approval (the console's two-person rule).

States: pending -> approved | rejected | cancelled; approved -> applying -> applied |
failed; applied | failed -> rolled-back. A request is never approved by the person who
asked for it; the checks of each step live with the step (`ChangeStore` methods), so no
caller can skip them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, insert, select

from mailwarden.errors import InputError
from mailwarden.store.history import History
from mailwarden.store.tables import change_requests


class ChangeState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"


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
