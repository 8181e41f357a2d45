"""Accepted exceptions in the history database (table `exceptions`, migration 0004), on
SQLite or PostgreSQL: the same records as an exceptions file, kept per tenant, so that a
web console can edit them and every run of the tenant applies them.

    with ExceptionStore.open(db) as store:
        store.add(exception)                 # raises InputError if it is already there
        store.load(tenant_id)                # the approved ones, oldest first
        store.remove(tenant_id, ids)
        store.import_exceptions(tenant_id, exceptions, by=..., at=...)
        store.request(tenant_id, exception, by=subject, at=...)   # the console: requested
        store.decide(id, approve=True, by=subject, by_name=..., at=..., note=...)
        store.records(tenant_id)             # every state, for the console and `list`

Approval (migration 0005): the CLI's `add` and `import` write approved exceptions (an admin
acting directly); the console writes *requested* ones, which an approver other than the
requester approves or rejects. Only approved ones apply: `load`, which every run reads, returns
nothing else, so a requested or rejected exception never turns a failing finding accepted.
The decision is one `UPDATE ... WHERE state = 'requested'`, so two approvers deciding at once
cannot both win, and a replayed decision changes nothing (TransitionError).

Which exceptions a run applies: the exceptions file's first, then the store's approved ones
for the scanned tenant (`assess.accept` prefers the most specific, then the first listed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from mailwarden.errors import InputError, StoreError
from mailwarden.model.exceptions import ExceptionSource, FindingException
from mailwarden.store import tables
from mailwarden.store.changes import SamePersonError, TransitionError
from mailwarden.store.history import History
from mailwarden.times import as_utc

_TABLE = tables.exceptions


class Approval(StrEnum):
    REQUESTED = "requested"  # asked for in the console; applies to no run yet
    APPROVED = "approved"  # applies to every run of the tenant until it expires
    REJECTED = "rejected"  # kept as a record; applies to nothing


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionRecord:
    """A stored exception with where it stands in its approval."""

    exception: FindingException
    approval: Approval
    requested_by: str | None  # the console requester's subject; None: written by the CLI
    decided_by: str | None  # who approved or rejected it (a name)
    decided_at: datetime | None
    decision_note: str | None


def _row(exception: FindingException, tenant_id: str,
         approval: Approval = Approval.APPROVED) -> dict[str, Any]:
    if exception.created_at is None or not exception.created_by:
        raise ValueError("a stored exception needs created_at and created_by")
    row = {
        "tenant_id": tenant_id, "check_id": exception.check, "mailbox": exception.mailbox,
        "reason": exception.reason, "owner": exception.owner, "expires": exception.expires,
        "ticket": exception.ticket, "created_at": exception.created_at,
        "created_by": exception.created_by, "state": approval.value,
    }
    if approval is Approval.APPROVED:  # an admin acting directly approves what they write
        row |= {"approved_by": exception.created_by, "approved_at": exception.created_at}
    return row


def _record(row: RowMapping) -> ExceptionRecord:
    return ExceptionRecord(
        exception=_exception(row), approval=Approval(row["state"]),
        requested_by=row["requested_by"], decided_by=row["approved_by"],
        decided_at=as_utc(row["approved_at"]) if row["approved_at"] else None,
        decision_note=row["decision_note"])


def _exception(row: RowMapping) -> FindingException:
    return FindingException(
        check=row["check_id"], mailbox=row["mailbox"], reason=row["reason"],
        owner=row["owner"], expires=row["expires"], ticket=row["ticket"],
        source=ExceptionSource.STORE, origin=f"store #{row['id']}",
        tenant_id=row["tenant_id"], id=row["id"],
        created_at=as_utc(row["created_at"]), created_by=row["created_by"])


def _same(tenant_id: str, exception: FindingException,
          approval: Approval = Approval.APPROVED) -> Any:
    """Stored exceptions of the tenant in this state naming the same check and mailbox."""
    mailbox = (_TABLE.c.mailbox.is_(None) if exception.mailbox is None
               else _TABLE.c.mailbox == exception.mailbox)
    return and_(_TABLE.c.tenant_id == tenant_id, _TABLE.c.check_id == exception.check, mailbox,
                _TABLE.c.state == approval.value)


class ExceptionStore:
    """The exceptions of one history database (a path or URL; None: MAILWARDEN_DB, else
    the per-user default). Close it when done, or use it as a context manager."""

    def __init__(self, history: History) -> None:
        self.history = history

    @classmethod
    def open(cls, db: str | None = None, *, create: bool = True) -> ExceptionStore:
        """Without `create`, a database that is not there raises NoHistoryError and
        nothing is created."""
        return cls(History.open(db, create=create))

    def close(self) -> None:
        self.history.close()

    def __enter__(self) -> ExceptionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, tenant_id: str | None = None) -> tuple[FindingException, ...]:
        """The tenant's approved exceptions (every tenant's when None), oldest first: the
        only ones a run applies. Requested and rejected ones are never returned here."""
        query = select(_TABLE).where(_TABLE.c.state == Approval.APPROVED.value)
        if tenant_id is not None:
            query = query.where(_TABLE.c.tenant_id == tenant_id)
        with self.history._connection("read exceptions") as connection:
            rows = connection.execute(query.order_by(_TABLE.c.id)).mappings()
            return tuple(_exception(row) for row in rows)

    def records(self, tenant_id: str | None = None) -> tuple[ExceptionRecord, ...]:
        """Every stored exception of the tenant (every tenant's when None) in every state,
        oldest first."""
        query = select(_TABLE).order_by(_TABLE.c.id)
        if tenant_id is not None:
            query = query.where(_TABLE.c.tenant_id == tenant_id)
        with self.history._connection("read exceptions") as connection:
            return tuple(_record(row) for row in connection.execute(query).mappings())

    def record(self, exception_id: int) -> ExceptionRecord:
        query = select(_TABLE).where(_TABLE.c.id == exception_id)
        with self.history._connection("read the exception") as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise InputError(f"no stored exception {exception_id}")
        return _record(row)

    def request(self, tenant_id: str, exception: FindingException, *, by: str,
                at: datetime) -> ExceptionRecord:
        """Store a requested exception: it applies to no run until an approver other than
        `by` (the requester's stable subject) approves it. `exception.created_by` is the
        requester's name. One already waiting for the same check and mailbox, or an expiry
        already past, is an InputError."""
        if exception.expired(at):
            raise InputError(f"the expiry {exception.expires.isoformat()} is in the past: an "
                             "exception is accepted through its expiry date; give a later one")
        stamped = replace(exception, created_at=at)
        with self.history._connection("store the requested exception", write=True) as connection:
            waiting = connection.execute(select(_TABLE.c.id).where(
                _same(tenant_id, stamped, Approval.REQUESTED))).scalars().first()
            if waiting is not None:
                raise InputError(f"{exception.label} is already requested for tenant "
                                 f"{tenant_id} (exception {waiting}); an approver decides it")
            key = connection.execute(insert(_TABLE).values(
                **_row(stamped, tenant_id, Approval.REQUESTED), requested_by=by))
            new_id = key.inserted_primary_key[0] if key.inserted_primary_key else None
        if new_id is None:
            raise StoreError(f"the database gave no id for the new exception {exception.label}")
        return self.record(int(new_id))

    def decide(self, exception_id: int, *, approve: bool, by: str, by_name: str,
               at: datetime, note: str | None = None) -> ExceptionRecord:
        """Approve or reject a requested exception. The requester (`by` equal to its
        `requested_by`) may do neither (SamePersonError); one no longer requested is a
        TransitionError and nothing changes. An approved one replaces the approved exception
        with the same check and mailbox, if there is one. An expired request cannot be
        approved (InputError): it is rejected or asked for again."""
        current = self.record(exception_id)
        if current.requested_by is not None and current.requested_by == by:
            raise SamePersonError(f"exception {exception_id} was requested by you; another "
                                  "approver decides it (two-person rule)")
        if approve and current.exception.expired(at):
            raise InputError(f"exception {exception_id} expired on "
                             f"{current.exception.expires.isoformat()} before it was approved; "
                             "reject it, and request it again with a later expiry")
        state = Approval.APPROVED if approve else Approval.REJECTED
        changed = (update(_TABLE)
                   .where(_TABLE.c.id == exception_id,
                          _TABLE.c.state == Approval.REQUESTED.value,
                          _TABLE.c.requested_by != by)
                   .values(state=state.value, approved_by=by_name, approved_at=at,
                           decision_note=(note or "").strip() or None))
        with self.history._connection("decide the exception", write=True) as connection:
            if connection.execute(changed).rowcount != 1:
                raise TransitionError(f"exception {exception_id} is {current.approval.value}, "
                                      "not requested: nothing was changed")
            if approve:
                connection.execute(delete(_TABLE).where(
                    _same(current.exception.tenant_id or "", current.exception),
                    _TABLE.c.id != exception_id))
        return self.record(exception_id)

    def add(self, tenant_id: str, exception: FindingException, *,
            replace_existing: bool = False) -> FindingException:
        """Store one exception; returns it with its id. One with the same check and
        mailbox is an InputError, unless `replace_existing` (then it is replaced)."""
        with self.history._connection("store the exception", write=True) as connection:
            return self._put(connection, tenant_id, exception, replace_existing)

    def import_exceptions(self, tenant_id: str, exceptions: Sequence[FindingException], *,
                          by: str, at: datetime) -> tuple[FindingException, ...]:
        """Store a file's exceptions in one transaction, each replacing a stored one with
        the same check and mailbox."""
        with self.history._connection("import exceptions", write=True) as connection:
            return tuple(
                self._put(connection, tenant_id,
                          replace(e, created_at=at, created_by=by), True)
                for e in exceptions)

    def remove(self, tenant_id: str | None, ids: Iterable[int]) -> tuple[FindingException, ...]:
        """Delete these exceptions (of this tenant, when named); returns those deleted.
        An id that is not there is an InputError and nothing is deleted."""
        wanted = sorted(set(ids))
        with self.history._connection("remove exceptions", write=True) as connection:
            query = select(_TABLE).where(_TABLE.c.id.in_(wanted))
            if tenant_id is not None:
                query = query.where(_TABLE.c.tenant_id == tenant_id)
            found = {row["id"]: _exception(row) for row in connection.execute(query).mappings()}
            missing = [str(i) for i in wanted if i not in found]
            if missing:
                raise InputError(
                    f"no stored exception {', '.join(missing)}"
                    + (f" for tenant {tenant_id}" if tenant_id else "")
                    + "; `mailwarden exceptions list` shows their ids")
            connection.execute(delete(_TABLE).where(_TABLE.c.id.in_(wanted)))
        return tuple(found[i] for i in wanted)

    @staticmethod
    def _put(connection: Connection, tenant_id: str, exception: FindingException,
             replace_existing: bool) -> FindingException:
        existing = connection.execute(
            select(_TABLE.c.id).where(_same(tenant_id, exception))).scalars().all()
        if existing and not replace_existing:
            raise InputError(
                f"{exception.label} is already accepted for tenant {tenant_id} "
                f"(exception {existing[0]}); remove it first or add with --replace")
        if existing:
            connection.execute(delete(_TABLE).where(_TABLE.c.id.in_(existing)))
        key = connection.execute(insert(_TABLE).values(**_row(exception, tenant_id)))
        new_id = key.inserted_primary_key[0] if key.inserted_primary_key else None
        if new_id is None:
            raise StoreError(f"the database gave no id for the new exception {exception.label}")
        return replace(exception, source=ExceptionSource.STORE, origin=f"store #{new_id}",
                       tenant_id=tenant_id, id=int(new_id))
