"""The console's audit log: every action, by whom, when, from where, and how it ended.

Actions are short dotted names ("incident.acknowledge", "change.approve", "signin.local").
`detail` holds what the action changed (ids, states, notes); it never holds a token, a
cookie or a link, and `record` refuses keys that name one, so a careless caller cannot
write a secret into the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, func, insert, select

from mailwarden.console.roles import Principal
from mailwarden.store.history import History
from mailwarden.store.tables import console_audit

_SECRET_KEYS = ("token", "cookie", "secret", "password", "session", "csrf", "link", "code")


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    actor_name: str | None
    source: str | None
    action: str
    tenant_id: str | None
    target: str | None
    outcome: Outcome
    detail: Mapping[str, Any]
    remote: str | None


class AuditLog:
    def __init__(self, history: History) -> None:
        self.history = history

    def record(self, *, at: datetime, principal: Principal | None, action: str,
               outcome: Outcome = Outcome.DONE, tenant_id: str | None = None,
               target: str | None = None, detail: Mapping[str, Any] | None = None,
               remote: str | None = None) -> None:
        detail = dict(detail or {})
        unsafe = [k for k in detail if any(word in k.lower() for word in _SECRET_KEYS)]
        if unsafe:
            raise ValueError(f"audit detail keys {unsafe} may hold a secret; record ids only")
        with self.history._connection("record a console action", write=True) as connection:
            connection.execute(insert(console_audit).values(
                at=at, actor=principal.subject if principal else "anonymous",
                actor_name=principal.name if principal else None,
                source=principal.source.value if principal else None, action=action,
                tenant_id=tenant_id, target=target, outcome=outcome.value, detail=detail,
                remote=remote))

    def entries(self, *, limit: int = 200, offset: int = 0, action: str | None = None,
                actor: str | None = None) -> tuple[AuditEntry, ...]:
        """Newest first."""
        query = select(console_audit).order_by(console_audit.c.id.desc())
        if action:
            query = query.where(console_audit.c.action == action)
        if actor:
            query = query.where(console_audit.c.actor == actor)
        query = query.limit(limit).offset(offset)
        with self.history._connection("read the console audit log") as connection:
            return tuple(_entry(row) for row in connection.execute(query).mappings())

    def count(self) -> int:
        with self.history._connection("read the console audit log") as connection:
            return int(connection.execute(select(func.count()).select_from(console_audit))
                       .scalar_one())


def _entry(row: RowMapping) -> AuditEntry:
    at = row["at"]
    return AuditEntry(id=row["id"], at=at if at.tzinfo else at.replace(tzinfo=UTC),
                      actor=row["actor"], actor_name=row["actor_name"], source=row["source"],
                      action=row["action"], tenant_id=row["tenant_id"], target=row["target"],
                      outcome=Outcome(row["outcome"]), detail=row["detail"] or {},
                      remote=row["remote"])
