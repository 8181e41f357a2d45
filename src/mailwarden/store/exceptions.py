"""Accepted exceptions in the history database (table `exceptions`, migration 0004), on
SQLite or PostgreSQL: the same records as an exceptions file, kept per tenant, so that a
web console can edit them and every run of the tenant applies them.

    with ExceptionStore.open(db) as store:
        store.add(exception)                 # raises InputError if it is already there
        store.load(tenant_id)                # file order: oldest first
        store.remove(tenant_id, ids)
        store.import_exceptions(tenant_id, exceptions, by=..., at=...)

Which exceptions a run applies: the exceptions file's first, then the store's for the
scanned tenant (`assess.accept` prefers the most specific, then the first listed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.engine import Connection, RowMapping

from mailwarden.errors import InputError, StoreError
from mailwarden.model.exceptions import ExceptionSource, FindingException
from mailwarden.store import tables
from mailwarden.store.history import History
from mailwarden.times import as_utc

_TABLE = tables.exceptions


def _row(exception: FindingException, tenant_id: str) -> dict[str, Any]:
    if exception.created_at is None or not exception.created_by:
        raise ValueError("a stored exception needs created_at and created_by")
    return {
        "tenant_id": tenant_id, "check_id": exception.check, "mailbox": exception.mailbox,
        "reason": exception.reason, "owner": exception.owner, "expires": exception.expires,
        "ticket": exception.ticket, "created_at": exception.created_at,
        "created_by": exception.created_by,
    }


def _exception(row: RowMapping) -> FindingException:
    return FindingException(
        check=row["check_id"], mailbox=row["mailbox"], reason=row["reason"],
        owner=row["owner"], expires=row["expires"], ticket=row["ticket"],
        source=ExceptionSource.STORE, origin=f"store #{row['id']}",
        tenant_id=row["tenant_id"], id=row["id"],
        created_at=as_utc(row["created_at"]), created_by=row["created_by"])


def _same(tenant_id: str, exception: FindingException) -> Any:
    mailbox = (_TABLE.c.mailbox.is_(None) if exception.mailbox is None
               else _TABLE.c.mailbox == exception.mailbox)
    return and_(_TABLE.c.tenant_id == tenant_id, _TABLE.c.check_id == exception.check, mailbox)


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
        """The tenant's exceptions (every tenant's when None), oldest first."""
        query = select(_TABLE).order_by(_TABLE.c.id)
        if tenant_id is not None:
            query = query.where(_TABLE.c.tenant_id == tenant_id)
        with self.history._connection("read exceptions") as connection:
            return tuple(_exception(row) for row in connection.execute(query).mappings())

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
