"""Incidents in the history database (table `incidents`, migration 0003), on SQLite or
PostgreSQL: what the watcher raised, their lifecycle, who acknowledged them when.

    with IncidentStore.open(db) as store:
        known = store.load(tenant_id)                  # id -> TrackedIncident
        store.save(tenant_id, changed, forgotten=...)  # one transaction

The lifecycle itself (what joins what, when it is worse, quiet resolution) is pure, in
`mailwarden.detect.lifecycle`; this module only keeps it. Every write replaces the rows
it names in one transaction, so a reader sees an incident before or after a change,
never half of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Text,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import RowMapping

from mailwarden.model.findings import Severity
from mailwarden.model.incidents import IncidentStatus, Seen, TrackedIncident
from mailwarden.store import tables
from mailwarden.store.history import History
from mailwarden.times import as_utc


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return None if moment is None else as_utc(moment)


def _row(incident: TrackedIncident) -> dict[str, Any]:
    seen = incident.acknowledged_as
    return {
        "tenant_id": incident.tenant_id, "id": incident.id, "status": incident.status.value,
        "category": incident.category, "severity": incident.severity,
        "first_seen": incident.first_seen, "last_seen": incident.last_seen,
        "summary": incident.summary, "opened_at": incident.opened_at,
        "updated_at": incident.updated_at, "notified_at": incident.notified_at,
        "acknowledged_at": incident.acknowledged_at,
        "acknowledged_by": incident.acknowledged_by, "note": incident.note,
        "resolved_at": incident.resolved_at, "resolved_reason": incident.resolved_reason,
        "follows": incident.follows, "reopened": incident.reopened,
        "assignee": incident.assignee, "snoozed_until": incident.snoozed_until,
        "answer": incident.answer, "answered_at": incident.answered_at,
        "detail": {
            "categories": list(incident.categories), "families": list(incident.families),
            "targets": list(incident.targets), "places": list(incident.places),
            "targeted": incident.targeted, "source_ips": list(incident.source_ips),
            "actors": list(incident.actors), "marks": list(incident.marks),
            "alerts": {k: dict(v) for k, v in incident.alerts.items()},
            "acknowledged_as": None if seen is None else {
                "severity": seen.severity, "marks": list(seen.marks)},
        },
    }


def _incident(row: RowMapping) -> TrackedIncident:
    detail: Mapping[str, Any] = row["detail"] or {}
    seen = detail.get("acknowledged_as")
    opened, updated = _utc(row["opened_at"]), _utc(row["updated_at"])
    assert opened is not None and updated is not None  # NOT NULL columns
    return TrackedIncident(
        id=row["id"], tenant_id=row["tenant_id"], status=IncidentStatus(row["status"]),
        category=row["category"], severity=row["severity"],
        categories=tuple(detail.get("categories") or ()),
        families=tuple(detail.get("families") or ()), targets=tuple(detail.get("targets") or ()),
        places=tuple(detail.get("places") or ()), targeted=bool(detail.get("targeted")),
        source_ips=tuple(detail.get("source_ips") or ()),
        actors=tuple(detail.get("actors") or ()),
        first_seen=_utc(row["first_seen"]), last_seen=_utc(row["last_seen"]),
        alerts=dict(detail.get("alerts") or {}), marks=tuple(detail.get("marks") or ()),
        summary=row["summary"], opened_at=opened, updated_at=updated,
        notified_at=_utc(row["notified_at"]), acknowledged_at=_utc(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"], note=row["note"],
        acknowledged_as=None if not seen else Seen(severity=str(seen.get("severity")),
                                                    marks=tuple(seen.get("marks") or ())),
        resolved_at=_utc(row["resolved_at"]), resolved_reason=row["resolved_reason"],
        follows=row["follows"], reopened=bool(row["reopened"]), assignee=row["assignee"],
        snoozed_until=_utc(row["snoozed_until"]), answer=row["answer"],
        answered_at=_utc(row["answered_at"]))


def _keep_people(stored: TrackedIncident | None, incident: TrackedIncident
                 ) -> TrackedIncident:
    """`incident` with what people stored after it was read (`mailwarden alerts ack`, or
    the console, while a watch cycle ran), so neither write loses the other."""
    if stored is None:
        return incident
    return _keep_triage(stored, _keep_handled(stored, incident))


def _keep_handled(stored: TrackedIncident, incident: TrackedIncident) -> TrackedIncident:
    """An acknowledgement or resolution stored after `incident` was read."""
    if (stored.status is IncidentStatus.RESOLVED and incident.live
            and stored.resolved_at is not None):
        return replace(incident, status=IncidentStatus.RESOLVED,
                       resolved_at=stored.resolved_at, resolved_reason=stored.resolved_reason,
                       reopened=False)
    newer_ack = stored.acknowledged_at is not None and (
        incident.acknowledged_at is None or stored.acknowledged_at > incident.acknowledged_at)
    if not newer_ack:
        return incident
    acked = replace(incident, acknowledged_at=stored.acknowledged_at,
                    acknowledged_by=stored.acknowledged_by, note=stored.note,
                    acknowledged_as=stored.acknowledged_as, reopened=False)
    if not incident.live:
        return acked
    return replace(acked, status=IncidentStatus.OPEN if _worse(acked) else
                   IncidentStatus.ACKNOWLEDGED, reopened=_worse(acked))


def _worse(incident: TrackedIncident) -> bool:
    """Worse than when it was acknowledged (`detect.lifecycle.worse`)."""
    seen = incident.acknowledged_as
    return seen is not None and (
        Severity.rank_of(incident.severity) > Severity.rank_of(seen.severity)
        or bool(set(incident.marks) - set(seen.marks)))


def _keep_triage(stored: TrackedIncident, incident: TrackedIncident) -> TrackedIncident:
    """The console's triage as stored: only people set the assignee, the snooze and the
    custodian's answer, so the stored ones are the newest. An answer given after
    `incident` was read keeps what it did (`detect.triage.answer`): a denial's raised
    severity, and the incident it reopened stays open."""
    kept = replace(incident, assignee=stored.assignee, snoozed_until=stored.snoozed_until)
    if stored.answer is None or incident.answer is not None:
        return kept
    kept = replace(kept, answer=stored.answer, answered_at=stored.answered_at)
    if Severity.rank_of(stored.severity) > Severity.rank_of(kept.severity):
        kept = replace(kept, severity=stored.severity)
    if stored.live and not kept.live and stored.reopened:
        kept = replace(kept, status=stored.status, resolved_at=None, resolved_reason=None,
                       reopened=True)
    if kept.status is IncidentStatus.ACKNOWLEDGED and _worse(kept):
        kept = replace(kept, status=IncidentStatus.OPEN, reopened=True)
    return kept


class IncidentStore:
    """The incidents of one history database (a path or URL; None: MAILWARDEN_DB, else the
    per-user default). Close it when done, or use it as a context manager."""

    def __init__(self, history: History) -> None:
        self.history = history

    @classmethod
    def open(cls, db: str | None = None, *, create: bool = True) -> IncidentStore:
        """The incidents in the one history database (`--db`, else MAILWARDEN_DB, else the
        per-user default). Without `create`, a database that is not there raises
        NoHistoryError and nothing is created."""
        return cls(History.open(db, create=create))

    def close(self) -> None:
        self.history.close()

    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, tenant_id: str | None = None, *, with_alerts: bool = True
             ) -> dict[str, TrackedIncident]:
        """Every kept incident of the tenant (of every tenant when None), by id. Without
        `with_alerts` their `alerts` are empty: the alert documents (most of what an
        incident stores) are left in the database, for lists that do not show them."""
        table = tables.incidents
        columns: list[Any] = list(table.c)
        if not with_alerts:
            columns[columns.index(table.c.detail)] = self._without_alerts().label("detail")
        query = select(*columns).order_by(table.c.first_seen, table.c.id)
        if tenant_id is not None:
            query = query.where(tables.incidents.c.tenant_id == tenant_id)
        with self.history._connection("read incidents") as connection:
            return {row["id"]: _incident(row) for row in connection.execute(query).mappings()}

    def _without_alerts(self) -> Any:
        """The detail column less its "alerts" key, cut in the database."""
        detail = tables.incidents.c.detail
        cut: Any
        if self.history.engine.dialect.name == "postgresql":
            cut = cast(detail, JSONB).op("-")(literal("alerts"))
        else:  # SQLite's JSON1 functions
            cut = func.json_remove(detail, "$.alerts")
        return type_coerce(cut, JSON)

    def naming(self, tenant_id: str, mailbox: str) -> tuple[TrackedIncident, ...]:
        """The tenant's incidents that name `mailbox` among their targets, latest first.
        The rows are narrowed in the database by the target as their JSON holds it, and
        each is checked once read."""
        wanted = mailbox.lower()
        quoted = json.dumps(wanted)  # as the JSON column was written
        pattern = "%" + quoted.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        table = tables.incidents
        query = select(table).where(and_(table.c.tenant_id == tenant_id,
                                         cast(table.c.detail, Text).like(pattern,
                                                                         escape="\\")))
        with self.history._connection("read incidents") as connection:
            found = [_incident(row) for row in connection.execute(query).mappings()]
        mine = [i for i in found if wanted in {t.lower() for t in i.targets}]
        return tuple(sorted(mine, key=lambda i: i.last_seen or i.opened_at, reverse=True))

    def save(self, tenant_id: str, incidents: Iterable[TrackedIncident], *,
             forgotten: Iterable[str] = ()) -> None:
        """Write these incidents (replacing their rows) and delete the forgotten ones, in
        one transaction."""
        table = tables.incidents
        chosen = list(incidents)
        with self.history._connection("store incidents", write=True) as connection:
            query = select(table).where(and_(table.c.tenant_id == tenant_id,
                                             table.c.id.in_([i.id for i in chosen])))
            stored = {row["id"]: _incident(row)
                      for row in connection.execute(query).mappings()} if chosen else {}
            rows = [_row(_keep_people(stored.get(i.id), i)) for i in chosen]
            gone = {*forgotten, *(row["id"] for row in rows)}
            for ident in sorted(gone):
                connection.execute(delete(table).where(and_(table.c.tenant_id == tenant_id,
                                                            table.c.id == ident)))
            if rows:
                connection.execute(insert(table), rows)

    def find(self, tenant_id: str, ident: str) -> TrackedIncident | None:
        """One incident of a tenant, or None."""
        table = tables.incidents
        query = select(table).where(and_(table.c.tenant_id == tenant_id, table.c.id == ident))
        with self.history._connection("read an incident") as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _incident(row)

    def update(self, tenant_id: str, ident: str,
               change: Callable[[TrackedIncident], TrackedIncident]
               ) -> tuple[TrackedIncident, TrackedIncident] | None:
        """Apply `change` to the incident as stored now and write it back, in one
        transaction (a person's action: nothing to merge, the change sees the newest row).
        Returns (before, after), or None when there is no such incident."""
        table = tables.incidents
        where = and_(table.c.tenant_id == tenant_id, table.c.id == ident)
        with self.history._connection("update an incident", write=True) as connection:
            row = connection.execute(select(table).where(where)).mappings().first()
            if row is None:
                return None
            before = _incident(row)
            after = change(before)
            if after != before:
                values = _row(after)
                connection.execute(update(table).where(where).values(
                    {k: v for k, v in values.items() if k not in ("tenant_id", "id")}))
        return before, after

    def alert_documents(self, tenant_id: str, alert_ids: Iterable[str]
                        ) -> dict[str, Mapping[str, Any]]:
        """The newest stored document (as alerts.json holds it, evidence rows included) of
        each of these alerts, from the tenant's stored runs."""
        wanted = list(dict.fromkeys(alert_ids))
        if not wanted:
            return {}
        alerts, runs = tables.alerts, tables.runs
        query = (select(alerts.c.alert_id, alerts.c.document)
                 .join(runs, runs.c.id == alerts.c.run_id)
                 .where(and_(runs.c.tenant_id == tenant_id, alerts.c.alert_id.in_(wanted)))
                 .order_by(runs.c.generated_at.desc(), runs.c.id.desc()))
        found: dict[str, Mapping[str, Any]] = {}
        with self.history._connection("read an incident's alerts") as connection:
            for alert_id, document in connection.execute(query):
                found.setdefault(alert_id, document or {})
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentFilter:
    """What `mailwarden alerts` shows or acknowledges: every condition given must hold."""

    mailbox: str | None = None  # one of its targets
    category: str | None = None  # one of its categories
    severity: str | None = None  # at least this severe
    since: datetime | None = None  # active at or after (its last alert)
    incidents: tuple[str, ...] = ()  # these ids (or unique starts of ids)
    include_closed: bool = False  # acknowledged and resolved ones too

    def accepts(self, incident: TrackedIncident) -> bool:
        if not self.include_closed and incident.status in (IncidentStatus.ACKNOWLEDGED,
                                                           IncidentStatus.RESOLVED):
            return False
        if self.mailbox and self.mailbox.lower() not in incident.targets:
            return False
        if self.category and self.category not in incident.categories:
            return False
        if self.severity and Severity.rank_of(incident.severity) < Severity.rank_of(
                self.severity):
            return False
        if self.since and (incident.last_seen is None or incident.last_seen < self.since):
            return False
        return not self.incidents or any(incident.id.startswith(i) for i in self.incidents)

    @property
    def narrowed(self) -> bool:
        """Whether anything narrows the selection (acknowledging everything needs --all)."""
        return bool(self.mailbox or self.category or self.severity or self.since
                    or self.incidents)


def select_incidents(incidents: Iterable[TrackedIncident], chosen: IncidentFilter
                     ) -> tuple[TrackedIncident, ...]:
    """The incidents the filter accepts, worst first, then most recently active first."""
    picked = [incident for incident in incidents if chosen.accepts(incident)]
    picked.sort(key=lambda i: (i.last_seen.timestamp() if i.last_seen else 0.0), reverse=True)
    picked.sort(key=lambda i: -Severity.rank_of(i.severity))
    return tuple(picked)
