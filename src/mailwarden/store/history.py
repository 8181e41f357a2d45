"""The run history: store runs, list them, read one back as facts for `diff`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Engine, Table, func, insert, select
from sqlalchemy.engine import URL, Connection, RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mailwarden.errors import StoreError
from mailwarden.model.findings import Status
from mailwarden.model.run import MailboxChange, Run, RunRef
from mailwarden.report.findings_json import plain_value
from mailwarden.report.posture import posture_score
from mailwarden.store import tables
from mailwarden.store.engines import is_in_memory, private_engine, shared_engine
from mailwarden.store.facts import (
    FindingFact,
    StoredRun,
    delegate_facts,
    mailbox_settings,
)
from mailwarden.store.location import resolve_db_url, shown
from mailwarden.store.mailbox_detail import mailbox_rows
from mailwarden.times import as_utc, parse_time


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return None if moment is None else as_utc(moment)


class History:
    """One open history database, at the current schema. Its engine is the process's for
    that database (`store.engines`): opening a History again is cheap and migrates nothing.
    With `create=False` (commands that only read) a database that is not there raises
    NoHistoryError and nothing is created."""

    def __init__(self, url: URL, *, create: bool = True) -> None:
        self.url = url
        self._private = is_in_memory(url)  # lives only as long as this History
        try:
            self.engine: Engine = (private_engine(url) if self._private
                                   else shared_engine(url, create=create))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(
                f"cannot open the history database {shown(url)}: {exc}; check --db / "
                "MAILWARDEN_DB and that the database server is reachable"
            ) from exc

    @classmethod
    def open(cls, db: str | None = None, *, create: bool = True) -> History:
        return cls(resolve_db_url(db), create=create)

    def close(self) -> None:
        # A shared engine stays open for the next store call in this process.
        if self._private:
            self.engine.dispose()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _connection(self, what: str, *, write: bool = False) -> Iterator[Connection]:
        try:
            with self.engine.begin() if write else self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot {what} in {shown(self.url)}: {exc}") from exc

    # -- writing ---------------------------------------------------------------------------

    def save(self, run: Run, *, job_key: str | None = None) -> int:
        """Store a run; returns its id. With `job_key` (the fleet job making the run) a run
        that job stored already is kept and its id returned: a job run twice (a message
        redelivered after its worker died) stores one run."""
        if job_key is not None and (known := self.run_of_job(job_key)) is not None:
            return known
        try:
            with self._connection("store the run", write=True) as connection:
                row = {**_run_row(run), "job_key": job_key}
                run_id = int(connection.execute(insert(tables.runs), [row])
                             .inserted_primary_key[0])  # type: ignore[index]
                for table, rows in _child_rows(run):
                    if rows:
                        insert_rows(connection, table, [{**r, "run_id": run_id} for r in rows])
        except StoreError as exc:
            # Another worker running the same job stored its run between the two steps.
            if job_key is None or not isinstance(exc.__cause__, IntegrityError):
                raise
            if (known := self.run_of_job(job_key)) is None:
                raise
            return known
        return run_id

    def run_of_job(self, job_key: str) -> int | None:
        """The id of the run the fleet job `job_key` stored, if it stored one."""
        with self._connection("find the job's run") as connection:
            found = connection.execute(select(tables.runs.c.id)
                                       .where(tables.runs.c.job_key == job_key)).scalar()
        return int(found) if found is not None else None

    # -- reading ---------------------------------------------------------------------------

    def runs(self, tenant_id: str | None = None) -> tuple[RunRef, ...]:
        """Stored runs, oldest first."""
        query = select(tables.runs).order_by(tables.runs.c.generated_at, tables.runs.c.id)
        if tenant_id is not None:
            query = query.where(tables.runs.c.tenant_id == tenant_id)
        with self._connection("list runs") as connection:
            return tuple(_ref(row) for row in connection.execute(query).mappings())

    def ref(self, run_id: int) -> RunRef:
        with self._connection("read run") as connection:
            row = connection.execute(
                select(tables.runs).where(tables.runs.c.id == run_id)).mappings().first()
        if row is None:
            raise StoreError(f"there is no run {run_id} in {shown(self.url)}; "
                             "`mailwarden history` lists the stored runs")
        return _ref(row)

    def count(self) -> int:
        with self._connection("count runs") as connection:
            return int(connection.execute(select(func.count()).select_from(tables.runs))
                       .scalar_one())

    def load(self, run_id: int) -> StoredRun:
        """A stored run's facts, for `diff`."""
        ref = self.ref(run_id)
        with self._connection("read run") as connection:
            def rows(table: Any) -> list[RowMapping]:
                query = select(table).where(table.c.run_id == run_id).order_by(table.c.id)
                return list(connection.execute(query).mappings())

            findings = {(r["check_id"], r["upn"]): FindingFact(
                status=Status(r["status"]), severity=r["severity"], message=r["message"])
                for r in rows(tables.findings)}
            boxes = rows(tables.mailboxes)
            delegates = {(r["mailbox"], r["principal"], r["access_right"]): tuple(r["via"])
                         for r in rows(tables.delegates)}
            tenant = connection.execute(select(tables.runs.c.settings).where(
                tables.runs.c.id == run_id)).scalar_one()
        settings: dict[tuple[str | None, str], str | None] = {
            (None, name): value for name, value in tenant.items()}
        for box in boxes:
            settings.update({(box["upn"], name): value for name, value in box["settings"].items()})
        return StoredRun(
            ref=ref, findings=findings,
            mailboxes={b["upn"]: MailboxChange(upn=b["upn"], kind=b["kind"],
                                               display_name=b["display_name"]) for b in boxes},
            delegates=delegates, settings=settings,
        )


#: JSON values as SQLAlchemy's JSON type writes them (`json.dumps` with no options).
_JSON = json.JSONEncoder()


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns. On PostgreSQL they go in one COPY:
    a run is about a thousand rows, and an INSERT per row (SQLAlchemy's executemany)
    costs about twice the CPU. JSON columns get the JSON an INSERT would store (None
    included: the JSON type stores it as JSON null)."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    encoded = [isinstance(column.type, JSON) for column in columns]
    quote = connection.dialect.identifier_preparer.quote
    statement = (f"COPY {connection.dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(quote(name) for name in names)}) FROM STDIN")
    raw: Any = connection.connection.dbapi_connection  # psycopg's, in this transaction
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_JSON.encode(row[name]) if json_column else row[name]
                            for name, json_column in zip(names, encoded, strict=True)])


def _ref(row: RowMapping) -> RunRef:
    generated = _utc(row["generated_at"])
    assert generated is not None
    return RunRef(id=row["id"], tenant_id=row["tenant_id"], tenant_name=row["tenant_name"],
                  generated_at=generated, ownerless=row["ownerless"], failures=row["failures"],
                  alerts=row["alerts"])


def _run_row(run: Run) -> dict[str, Any]:
    result, tenant = run.result, run.tenant
    return {
        "tenant_id": tenant.tenant_id,
        "tenant_name": tenant.display_name or tenant.default_domain,
        "generated_at": as_utc(run.generated_at),
        "collected_at": as_utc(tenant.collected_at) if tenant.collected_at else None,
        "version": run.version,
        "ownerless": len(result.inventory),
        "failures": len(result.failures()),
        "alerts": len(run.alerts) if run.detection is not None else None,
        "summary": {
            "statuses": result.status_counts(),
            "mailboxes": dict(result.mailbox_counts),
            "records": dict(run.snapshot.records),
            "missing_sources": dict(run.snapshot.missing_sources),
            "skipped_records": run.snapshot.skipped_records,
            "posture_score": posture_score(result.assessments),
        },
        "settings": dict(run.snapshot.settings),
    }


def _child_rows(run: Run) -> list[tuple[Any, list[dict[str, Any]]]]:
    result = run.result
    findings = [{
        "check_id": f.check_id, "upn": f.resource.key,
        "kind": f.resource.kind.value if f.resource.kind else None,
        "status": f.status.value, "severity": f.severity.value, "message": f.message,
        "evidence": plain_value(f.evidence), "controls": list(f.controls),
        "remediation": f.remediation.as_dict() if f.remediation else None,
    } for f in result.findings]
    mailboxes = mailbox_rows(result)
    delegates = [{
        "mailbox": d.mailbox, "principal": d.principal, "access_right": d.right,
        "via": list(d.via), "state": d.stored_state(),
    } for access in result.access for d in delegate_facts(access)]
    alerts = [{
        "alert_id": str(a["id"]), "category": str(a["category"]), "rule_id": str(a["rule_id"]),
        "severity": str(a["severity"]), "target": a.get("target"),
        "first_seen": parse_time(a.get("first_seen")), "last_seen": parse_time(a.get("last_seen")),
        "event_count": int(a.get("event_count") or 0), "summary": str(a.get("summary") or ""),
        "document": dict(a), "incident_id": a.get("incident_id"),
    } for a in run.alerts]
    return [(tables.findings, findings), (tables.mailboxes, mailboxes),
            (tables.delegates, delegates), (tables.alerts, alerts)]


def facts_of(run: Run, ref: RunRef) -> StoredRun:
    """The facts of a run that is not stored (yet), as `load` would return them."""
    result = run.result
    settings: dict[tuple[str | None, str], str | None] = {
        (None, name): value for name, value in run.snapshot.settings.items()}
    for entry in result.inventory:
        settings.update({(entry.upn, k): v for k, v in mailbox_settings(entry).items()})
    return StoredRun(
        ref=ref,
        findings={(f.check_id, f.resource.key): FindingFact(
            status=f.status, severity=f.severity.value, message=f.message)
            for f in result.findings},
        mailboxes={e.upn: MailboxChange(upn=e.upn, kind=e.kind.value,
                                        display_name=e.display_name) for e in result.inventory},
        delegates={(d.mailbox, d.principal, d.right): d.via
                   for access in result.access for d in delegate_facts(access)},
        settings=settings,
    )


def run_ref(run: Run, run_id: int = 0) -> RunRef:
    """A RunRef for a run in memory (id 0 until it is stored)."""
    return RunRef(id=run_id, tenant_id=run.tenant.tenant_id,
                  tenant_name=run.tenant.display_name or run.tenant.default_domain,
                  generated_at=run.generated_at, ownerless=len(run.result.inventory),
                  failures=len(run.result.failures()),
                  alerts=len(run.alerts) if run.detection is not None else None)
