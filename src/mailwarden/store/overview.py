"""What the console's overview reads of the history database, for every tenant at once:
each stored run's posture score and freshness, open incidents by severity, the latest
run's mailboxes by risk band, and the stored exceptions.

Every read is one query over all tenants (no query per run or per tenant): the overview's
cost does not grow with the number of runs beyond reading the `runs` rows themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from mailwarden.model.exceptions import FindingException
from mailwarden.model.incidents import IncidentStatus
from mailwarden.report.posture import RISK_BANDS, posture_from_scores, risk_band
from mailwarden.store import tables
from mailwarden.store.exceptions import ExceptionStore
from mailwarden.store.history import History
from mailwarden.times import as_utc


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPoint:
    """One stored run, as the overview charts and dates it."""

    id: int
    tenant_id: str
    tenant_name: str | None
    generated_at: datetime
    collected_at: datetime | None
    alerts: int | None  # None: no logs were analysed in that run
    ownerless: int
    failures: int
    posture: int  # `report.posture`: 100 minus the mean risk of the ownerless mailboxes


def run_points(history: History) -> dict[str, tuple[RunPoint, ...]]:
    """Every tenant's stored runs, oldest first, by tenant id. A run stored before runs
    kept their posture score gets it from its stored mailboxes (the same mean)."""
    runs = tables.runs
    query = select(runs.c.id, runs.c.tenant_id, runs.c.tenant_name, runs.c.generated_at,
                   runs.c.collected_at, runs.c.alerts, runs.c.ownerless, runs.c.failures,
                   runs.c.summary).order_by(runs.c.generated_at, runs.c.id)
    with history._connection("read the runs") as connection:
        rows = list(connection.execute(query).mappings())
        missing = [r["id"] for r in rows if "posture_score" not in (r["summary"] or {})]
        means: dict[int, float] = {}
        if missing:
            box = tables.mailboxes
            means = {run_id: float(mean) for run_id, mean in connection.execute(
                select(box.c.run_id, func.avg(box.c.risk_score))
                .where(box.c.run_id.in_(missing)).group_by(box.c.run_id))}
    points: dict[str, list[RunPoint]] = {}
    for row in rows:
        stored = (row["summary"] or {}).get("posture_score")
        if stored is None:
            mean = means.get(row["id"])
            stored = posture_from_scores([]) if mean is None else round(100 - mean)
        collected = row["collected_at"]
        points.setdefault(row["tenant_id"], []).append(RunPoint(
            id=row["id"], tenant_id=row["tenant_id"], tenant_name=row["tenant_name"],
            generated_at=as_utc(row["generated_at"]),
            collected_at=as_utc(collected) if collected else None, alerts=row["alerts"],
            ownerless=row["ownerless"], failures=row["failures"], posture=int(stored)))
    return {tenant: tuple(found) for tenant, found in points.items()}


def open_incidents(history: History) -> dict[str, dict[str, int]]:
    """Incidents not resolved (open, notified or acknowledged), per tenant and severity."""
    table = tables.incidents
    query = (select(table.c.tenant_id, table.c.severity, func.count())
             .where(table.c.status != IncidentStatus.RESOLVED.value)
             .group_by(table.c.tenant_id, table.c.severity))
    counts: dict[str, dict[str, int]] = {}
    with history._connection("read incidents") as connection:
        for tenant, severity, count in connection.execute(query):
            counts.setdefault(tenant, {})[severity] = int(count)
    return counts


def risk_bands(history: History, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Each run's ownerless mailboxes per risk band (`report.posture.RISK_BANDS`)."""
    box = tables.mailboxes
    bands: dict[int, dict[str, int]] = {
        run_id: {label: 0 for label, _, _ in RISK_BANDS} for run_id in run_ids}
    if not run_ids:
        return bands
    query = (select(box.c.run_id, box.c.risk_score, func.count())
             .where(box.c.run_id.in_(list(run_ids)))
             .group_by(box.c.run_id, box.c.risk_score))
    with history._connection("read mailboxes") as connection:
        for run_id, score, count in connection.execute(query):
            bands[run_id][risk_band(int(score))] += int(count)
    return bands


def approved_exceptions(history: History) -> Mapping[str, tuple[FindingException, ...]]:
    """The stored exceptions that apply (approved; not those still requested or
    rejected in the console), per tenant."""
    table = tables.exceptions
    with history._connection("read exceptions") as connection:
        waiting = set(connection.execute(
            select(table.c.id).where(table.c.state != "approved")).scalars())
    found: dict[str, list[FindingException]] = {}
    for exception in ExceptionStore(history).load():
        if exception.id not in waiting and exception.tenant_id is not None:
            found.setdefault(exception.tenant_id, []).append(exception)
    return {tenant: tuple(items) for tenant, items in found.items()}
