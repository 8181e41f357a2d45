"""The remediation journal in the history database (SQLite or PostgreSQL), beside the
stored runs: tables `remediation_runs` and `remediation_entries` (migration 0002).

Each entry is written in its own transaction, so the state before a change is committed
before the change is made, as with the file journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mailwarden.remediate.errors import JournalError
from mailwarden.remediate.journal import EntryStatus, JournalEntry, RunContext, RunRecord
from mailwarden.remediate.model import Action
from mailwarden.store.history import History
from mailwarden.store.location import shown
from mailwarden.store.tables import remediation_entries, remediation_runs


def _utc(moment: datetime) -> datetime:
    """SQLite hands timezone-aware columns back naive; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DatabaseJournal:
    """A `Journal` in the history database `db` (a path or URL; None: MAILWARDEN_DB, else
    the per-user default). Close it when done, or use it as a context manager."""

    def __init__(self, db: str | None = None, *, create: bool = True) -> None:
        # create=False (commands that only read the journal): NoHistoryError, nothing created.
        self.history = History.open(db, create=create)
        self.engine = self.history.engine
        url = self.history.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            # Also: each worker thread that writes the journal would get an empty one.
            self.close()
            raise JournalError(
                "a remediation journal in an in-memory database is gone when mailwarden "
                "exits, so its runs could never be rolled back; give --db a file or a "
                "PostgreSQL URL, or journal to files with --journal-dir"
            )

    def close(self) -> None:
        self.history.close()

    def __enter__(self) -> DatabaseJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, what: str, exc: SQLAlchemyError) -> JournalError:
        return JournalError(f"cannot {what} in {shown(self.history.url)}: {exc}")

    def begin(
        self, run_id: str, *, tenant_id: str, started_at: datetime, actions: Sequence[Action],
        context: RunContext | None = None,
    ) -> None:
        # The `actions` column holds {"actions": [...], "context": {...}}; runs journalled
        # before the context was kept hold the bare list, which `load` still reads.
        row = {
            "run_id": run_id,
            "tenant_id": tenant_id,
            "started_at": started_at,
            "actions": {
                "actions": [a.as_dict() for a in actions],
                "context": (context or RunContext()).as_dict(),
            },
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(remediation_runs).values(row))
        except IntegrityError as exc:
            raise JournalError(f"run {run_id} is already journalled") from exc
        except SQLAlchemyError as exc:
            raise self._fail("journal the run", exc) from exc

    def record(self, run_id: str, entry: JournalEntry) -> None:
        table = remediation_entries
        row: dict[str, Any] = {
            "run_id": run_id,
            "action_id": entry.action_id,
            "status": entry.status.value,
            "at": entry.at,
            "prior": dict(entry.prior) if entry.prior is not None else None,
            "error": entry.error,
        }
        try:
            # Delete then insert in one transaction: an upsert both SQLite and PostgreSQL take.
            with self.engine.begin() as connection:
                connection.execute(
                    delete(table).where(
                        table.c.run_id == run_id, table.c.action_id == entry.action_id
                    )
                )
                connection.execute(insert(table).values(row))
        except SQLAlchemyError as exc:
            raise self._fail("journal an action", exc) from exc

    def load(self, run_id: str) -> RunRecord:
        try:
            with self.engine.connect() as connection:
                run = connection.execute(
                    select(remediation_runs).where(remediation_runs.c.run_id == run_id)
                ).mappings().first()
                rows = connection.execute(
                    select(remediation_entries).where(remediation_entries.c.run_id == run_id)
                ).mappings().all()
        except SQLAlchemyError as exc:
            raise self._fail("read the journal", exc) from exc
        if run is None:
            raise JournalError(
                f"no remediation run {run_id} in {shown(self.history.url)}; give the run id "
                "`remediate apply` printed, and the same --db"
            )
        entries = {
            str(r["action_id"]): JournalEntry(
                action_id=str(r["action_id"]),
                status=EntryStatus(r["status"]),
                at=_utc(r["at"]),
                prior=r["prior"],
                error=r["error"],
            )
            for r in rows
        }
        stored = run["actions"]
        listed = stored.get("actions") or [] if isinstance(stored, dict) else stored
        context = stored.get("context") if isinstance(stored, dict) else None
        return RunRecord(
            run_id=run_id,
            tenant_id=str(run["tenant_id"]),
            started_at=_utc(run["started_at"]),
            actions=tuple(Action.from_dict(a) for a in listed),
            entries=entries,
            context=RunContext.from_dict(context),
        )

    def run_ids(self) -> tuple[str, ...]:
        try:
            with self.engine.connect() as connection:
                ids = connection.execute(
                    select(remediation_runs.c.run_id).order_by(remediation_runs.c.started_at)
                ).scalars()
                return tuple(str(i) for i in ids)
        except SQLAlchemyError as exc:
            raise self._fail("list the journalled runs", exc) from exc
