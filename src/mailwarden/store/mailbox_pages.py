"""What the console's mailbox pages read: one run's ownerless mailboxes in the one risk
order, filtered and a page at a time, and one mailbox: its row, findings and delegates in
a run, and its history across the tenant's runs with what changed between them
(`store.diff` over that mailbox's facts alone).

The list reads only the page's rows of one run (the `run_id, rank` index); a mailbox's
history reads its rows of every run through the `upn, run_id` indexes: four queries
whatever the number of runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement

from mailwarden.model.findings import Status
from mailwarden.model.run import Drift, MailboxChange, RunRef
from mailwarden.report.posture import RISK_BANDS
from mailwarden.store import tables
from mailwarden.store.diff import diff
from mailwarden.store.facts import FindingFact, StoredRun
from mailwarden.store.history import History
from mailwarden.store.mailbox_detail import MailboxDetail, read_detail
from mailwarden.times import as_utc


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxFilter:
    """Every condition given must hold."""

    kind: str | None = None
    band: str | None = None  # a `RISK_BANDS` label
    check: str | None = None  # a check that fails on the mailbox
    text: str | None = None  # part of the address or the display name, any case
    no_custodian: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxRow:
    upn: str
    display_name: str | None
    kind: str
    risk_score: int
    rank: int | None
    custodian: str | None
    detail: MailboxDetail
    settings: Mapping[str, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedMailbox:
    """A mailbox as the list shows it."""

    upn: str
    display_name: str | None
    kind: str
    risk_score: int
    rank: int | None
    custodian: str | None
    tier: str
    failing: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingRow:
    check_id: str
    status: str
    severity: str
    message: str
    evidence: Mapping[str, Any]
    remediation: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DelegateRow:
    principal: str
    right: str
    via: tuple[str, ...]
    state: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPoint:
    """The mailbox in one stored run, and what changed since the run before it."""

    run_id: int
    generated_at: datetime
    risk_score: int
    failing: tuple[str, ...]
    changes: Drift | None  # None for the first run that holds the mailbox


def latest_run(history: History, tenant_id: str) -> RunRef | None:
    runs = tables.runs
    query = (select(runs).where(runs.c.tenant_id == tenant_id)
             .order_by(runs.c.generated_at.desc(), runs.c.id.desc()).limit(1))
    with history._connection("read the latest run") as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        return None
    return RunRef(id=row["id"], tenant_id=row["tenant_id"], tenant_name=row["tenant_name"],
                  generated_at=as_utc(row["generated_at"]), ownerless=row["ownerless"],
                  failures=row["failures"], alerts=row["alerts"])


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(run_id: int, chosen: MailboxFilter) -> list[ColumnElement[bool]]:
    box = tables.mailboxes
    where: list[ColumnElement[bool]] = [box.c.run_id == run_id]
    if chosen.kind:
        where.append(box.c.kind == chosen.kind)
    band = next((b for b in RISK_BANDS if b[0] == chosen.band), None)
    if band is not None:
        where.append(box.c.risk_score.between(band[1], band[2]))
    if chosen.text:
        pattern = _like(chosen.text)
        where.append(or_(func.lower(box.c.upn).like(pattern, escape="\\"),
                         func.lower(box.c.display_name).like(pattern, escape="\\")))
    if chosen.no_custodian:
        where.append(box.c.custodian.is_(None))
    if chosen.check:
        found = tables.findings
        where.append(box.c.upn.in_(select(found.c.upn).where(and_(
            found.c.run_id == run_id, found.c.check_id == chosen.check,
            found.c.status == Status.FAIL.value))))
    return where


def _row(row: RowMapping) -> MailboxRow:
    return MailboxRow(upn=row["upn"], display_name=row["display_name"], kind=row["kind"],
                      risk_score=row["risk_score"], rank=row["rank"],
                      custodian=row["custodian"], detail=read_detail(row["detail"]),
                      settings=row["settings"] or {})


def list_mailboxes(history: History, run_id: int, chosen: MailboxFilter, *, offset: int,
                   limit: int) -> tuple[tuple[ListedMailbox, ...], int]:
    """One page of the run's mailboxes the filter accepts, riskiest first (the rank
    stored with the run; a run stored without ranks, whose every rank is NULL, by score,
    then address), and how many it accepts in all. The page is chosen from the covering index
    (`ix_mailboxes_run_rank`), then only its rows are read."""
    box = tables.mailboxes
    where = and_(*_conditions(run_id, chosen))
    page = (select(box.c.id).where(where)
            .order_by(box.c.rank, box.c.risk_score.desc(), box.c.upn)
            .offset(offset).limit(limit))
    with history._connection("read mailboxes") as connection:
        total = int(connection.execute(select(func.count()).select_from(box).where(where))
                    .scalar_one())
        ids = list(connection.execute(page).scalars())
        rows = {r.id: r for r in connection.execute(
            select(box.c.id, box.c.upn, box.c.display_name, box.c.kind, box.c.risk_score,
                   box.c.rank, box.c.custodian, box.c.detail["tier"].as_string().label("tier"),
                   box.c.detail["failing"].label("failing"))
            .where(box.c.id.in_(ids)))} if ids else {}
    return tuple(ListedMailbox(
        upn=r.upn, display_name=r.display_name, kind=r.kind, risk_score=r.risk_score,
        rank=r.rank, custodian=r.custodian, tier=r.tier or "none",
        failing=tuple(str(c) for c in r.failing or ())) for r in map(rows.__getitem__, ids)
    ), total


def mailbox(history: History, run_id: int, upn: str) -> MailboxRow | None:
    box = tables.mailboxes
    with history._connection("read the mailbox") as connection:
        row = connection.execute(select(box).where(and_(box.c.upn == upn,
                                                        box.c.run_id == run_id))).mappings()
        first = row.first()
    return _row(first) if first is not None else None


def findings_of(history: History, run_id: int, upn: str) -> tuple[FindingRow, ...]:
    """The mailbox's findings in the run, failing first, then by severity and check."""
    found = tables.findings
    query = select(found).where(and_(found.c.upn == upn, found.c.run_id == run_id))
    with history._connection("read findings") as connection:
        rows = [FindingRow(check_id=r["check_id"], status=r["status"], severity=r["severity"],
                           message=r["message"], evidence=r["evidence"] or {},
                           remediation=r["remediation"])
                for r in connection.execute(query).mappings()]
    order = {s.value: n for n, s in enumerate((Status.FAIL, Status.ERROR, Status.ACCEPTED))}
    severity = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    return tuple(sorted(rows, key=lambda f: (order.get(f.status, 9),
                                            severity.get(f.severity, 9), f.check_id)))


def delegates_of(history: History, run_id: int, upn: str) -> tuple[DelegateRow, ...]:
    table = tables.delegates
    query = (select(table).where(and_(table.c.mailbox == upn, table.c.run_id == run_id))
             .order_by(table.c.principal, table.c.access_right))
    with history._connection("read delegates") as connection:
        return tuple(DelegateRow(principal=r["principal"], right=r["access_right"],
                                 via=tuple(r["via"]), state=tuple(r["state"]))
                     for r in connection.execute(query).mappings())


def mailbox_history(history: History, tenant_id: str, upn: str) -> tuple[HistoryPoint, ...]:
    """The mailbox in every stored run of the tenant that holds it, oldest first."""
    runs, box = tables.runs, tables.mailboxes
    found, held = tables.findings, tables.delegates
    query = (select(runs.c.id, runs.c.tenant_name, runs.c.generated_at, runs.c.ownerless,
                    runs.c.failures, runs.c.alerts, box.c.risk_score, box.c.kind,
                    box.c.display_name, box.c.settings)
             .join(box, box.c.run_id == runs.c.id)
             .where(and_(box.c.upn == upn, runs.c.tenant_id == tenant_id))
             .order_by(runs.c.generated_at, runs.c.id))
    with history._connection("read the mailbox's history") as connection:
        points = list(connection.execute(query).mappings())
        ids = [p["id"] for p in points]
        findings: dict[int, dict[tuple[str, str | None], FindingFact]] = {i: {} for i in ids}
        for r in connection.execute(select(found.c.run_id, found.c.check_id, found.c.status,
                                           found.c.severity, found.c.message)
                                    .where(and_(found.c.upn == upn, found.c.run_id.in_(ids)))):
            findings[r.run_id][(r.check_id, upn)] = FindingFact(
                status=Status(r.status), severity=r.severity, message=r.message)
        delegates: dict[int, dict[tuple[str, str, str], tuple[str, ...]]] = {i: {} for i in ids}
        for d in connection.execute(select(held.c.run_id, held.c.principal,
                                           held.c.access_right, held.c.via)
                                    .where(and_(held.c.mailbox == upn, held.c.run_id.in_(ids)))):
            delegates[d.run_id][(upn, d.principal, d.access_right)] = tuple(d.via)
    result: list[HistoryPoint] = []
    before: StoredRun | None = None
    for point in points:
        ref = RunRef(id=point["id"], tenant_id=tenant_id, tenant_name=point["tenant_name"],
                     generated_at=as_utc(point["generated_at"]), ownerless=point["ownerless"],
                     failures=point["failures"], alerts=point["alerts"])
        facts = StoredRun(
            ref=ref, findings=findings[ref.id],
            mailboxes={upn: MailboxChange(upn=upn, kind=point["kind"],
                                          display_name=point["display_name"])},
            delegates=delegates[ref.id],
            settings={(upn, k): v for k, v in (point["settings"] or {}).items()})
        failing = tuple(sorted(check for (check, _), fact in facts.findings.items()
                               if fact.status is Status.FAIL))
        result.append(HistoryPoint(run_id=ref.id, generated_at=ref.generated_at,
                                   risk_score=point["risk_score"], failing=failing,
                                   changes=diff(before, facts) if before else None))
        before = facts
    return tuple(result)
