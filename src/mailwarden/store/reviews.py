"""Access reviews: custodians confirm, grant by grant, who should still reach their
mailbox (tables `access_reviews` and `review_items`, migration 0005).

A review is made from the tenant's latest stored run: one item per delegate row of that
run (a principal, one right, how it is held), on one ownerless mailbox or on all of them,
each with the mailbox's custodian and the grants' last use as the run stored them
(`store.facts.stored_grants`). A mailbox with no custodian keeps its items, with no
custodian: the review lists it as "nobody answerable" for the security team.

States: open -> closed | cancelled. Decisions (keep | remove, with who and when) can be
changed while the review is open, never after. Closing is claimed atomically (an update
that only an open review matches), so two people closing at once close it once.

    store = ReviewStore(history)
    review = store.start(tenant_id=..., mailbox=None, due=date(...), by=..., at=now)
    store.decide(review.id, item_id, Decision.REMOVE, by="jane@contoso.com", at=now)
    closed = store.close(review.id, by=..., at=now)     # None when it was not open
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from mailwarden.errors import InputError
from mailwarden.store import tables
from mailwarden.store.facts import stored_grants
from mailwarden.store.history import History
from mailwarden.times import parse_time

_REVIEWS = tables.access_reviews
_ITEMS = tables.review_items


class ReviewState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    KEEP = "keep"
    REMOVE = "remove"


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItem:
    id: int
    review_id: str
    mailbox: str
    custodian: str | None  # None: nobody answerable
    principal: str
    right: str
    via: tuple[str, ...]
    last_use: datetime | None
    stale: tuple[str, ...]  # why the principal should not hold access, per the run
    grants: tuple[Mapping[str, Any], ...]  # `store.facts.grant_record` each
    decision: Decision | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessReview:
    id: str
    tenant_id: str
    history_run_id: int | None
    state: ReviewState
    created_by: str
    created_at: datetime
    due: date
    reminded_at: datetime | None
    closed_at: datetime | None
    change_request_id: str | None
    #: scope ("all" or a mailbox), mailboxes {upn: custodian or None}, invited and
    #: reminded {custodian: ISO time}, closed_by, outcome (see console.review_outcome)
    detail: Mapping[str, Any]

    @property
    def is_open(self) -> bool:
        return self.state is ReviewState.OPEN

    def overdue(self, now: datetime) -> bool:
        return self.is_open and now.date() > self.due

    def invited(self, custodian: str) -> datetime | None:
        return parse_time((self.detail.get("invited") or {}).get(custodian))

    def reminded(self, custodian: str) -> datetime | None:
        return parse_time((self.detail.get("reminded") or {}).get(custodian))


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    custodian: str | None
    decided: int
    total: int

    @property
    def done(self) -> bool:
        return self.decided == self.total


def progress(items: Iterable[ReviewItem]) -> tuple[Progress, ...]:
    """Decided of total per custodian; nobody answerable (None) last."""
    counts: dict[str | None, list[int]] = {}
    for item in items:
        count = counts.setdefault(item.custodian, [0, 0])
        count[0] += item.decision is not None
        count[1] += 1
    return tuple(Progress(custodian=c, decided=d, total=t) for c, (d, t) in
                 sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))


def _review(row: RowMapping) -> AccessReview:
    return AccessReview(
        id=row["id"], tenant_id=row["tenant_id"], history_run_id=row["history_run_id"],
        state=ReviewState(row["state"]), created_by=row["created_by"],
        created_at=_aware(row["created_at"]) or datetime.min.replace(tzinfo=UTC),
        due=row["due"], reminded_at=_aware(row["reminded_at"]),
        closed_at=_aware(row["closed_at"]), change_request_id=row["change_request_id"],
        detail=row["detail"] or {})


def _item(row: RowMapping) -> ReviewItem:
    usage = row["usage"] or {}
    return ReviewItem(
        id=row["id"], review_id=row["review_id"], mailbox=row["mailbox"],
        custodian=row["custodian"], principal=row["principal"], right=row["access_right"],
        via=tuple(row["via"]), last_use=_aware(row["last_use"]),
        stale=tuple(usage.get("stale") or ()), grants=tuple(usage.get("grants") or ()),
        decision=Decision(row["decision"]) if row["decision"] else None,
        decided_by=row["decided_by"], decided_at=_aware(row["decided_at"]), note=row["note"])


def _last_use(grants: Iterable[Mapping[str, Any]]) -> datetime | None:
    times = [parse_time((g.get("use") or {}).get("last_used")) for g in grants]
    known = [t for t in times if t is not None]
    return max(known) if known else None


class ReviewStore:
    def __init__(self, history: History) -> None:
        self.history = history

    def start(self, *, tenant_id: str, mailbox: str | None, due: date, by: str,
              at: datetime) -> AccessReview:
        """A review of `mailbox` (None: every ownerless mailbox) of the tenant's latest
        stored run. InputError when the tenant has no run, the run does not hold that
        mailbox, or nothing in scope holds a delegate."""
        if due < at.date():
            raise InputError(f"the due date {due} is in the past; give a later one")
        runs = self.history.runs(tenant_id)
        if not runs:
            raise InputError(f"tenant {tenant_id} has no stored run; store one "
                             "(`mailwarden report`) before starting a review")
        run_id = runs[-1].id
        wanted = mailbox.lower() if mailbox else None
        with self.history._connection("read the run to review") as connection:
            boxes = connection.execute(select(tables.mailboxes.c.upn,
                                              tables.mailboxes.c.settings).where(
                tables.mailboxes.c.run_id == run_id)).mappings().all()
            custodians = {b["upn"]: (b["settings"] or {}).get("custodian") for b in boxes
                          if wanted is None or b["upn"] == wanted}
            if wanted is not None and wanted not in custodians:
                raise InputError(f"{wanted} is not an ownerless mailbox of the latest run of "
                                 f"tenant {tenant_id}; pick one the mailboxes page lists")
            rows = connection.execute(select(tables.delegates).where(
                tables.delegates.c.run_id == run_id).order_by(
                tables.delegates.c.mailbox, tables.delegates.c.principal,
                tables.delegates.c.access_right)).mappings().all()
        items = []
        for row in rows:
            if row["mailbox"] not in custodians:
                continue
            stale, grants = stored_grants(row["state"])
            items.append({
                "mailbox": row["mailbox"], "custodian": custodians[row["mailbox"]],
                "principal": row["principal"], "access_right": row["access_right"],
                "via": list(row["via"]), "last_use": _last_use(grants),
                "usage": {"stale": list(stale), "grants": [dict(g) for g in grants]}})
        if not items:
            raise InputError("no delegate holds access to the mailboxes in scope: there is "
                             "nothing to review")
        review_id = f"ar-{at:%Y%m%d}-{secrets.token_hex(4)}"
        detail = {"scope": wanted or "all", "mailboxes": custodians, "invited": {},
                  "reminded": {}}
        with self.history._connection("start the access review", write=True) as connection:
            connection.execute(insert(_REVIEWS).values(
                id=review_id, tenant_id=tenant_id, history_run_id=run_id,
                state=ReviewState.OPEN.value, created_by=by, created_at=at, due=due,
                detail=detail))
            connection.execute(insert(_ITEMS), [{**i, "review_id": review_id} for i in items])
        return self.get(review_id)

    def get(self, review_id: str) -> AccessReview:
        with self.history._connection("read the access review") as connection:
            row = connection.execute(select(_REVIEWS).where(
                _REVIEWS.c.id == review_id)).mappings().first()
        if row is None:
            raise InputError(f"no access review {review_id}")
        return _review(row)

    def find(self, review_id: str) -> AccessReview | None:
        try:
            return self.get(review_id)
        except InputError:
            return None

    def reviews(self, *, tenant_id: str | None = None,
                states: Iterable[ReviewState] = ()) -> tuple[AccessReview, ...]:
        """Newest first."""
        query = select(_REVIEWS).order_by(_REVIEWS.c.created_at.desc(), _REVIEWS.c.id)
        if tenant_id is not None:
            query = query.where(_REVIEWS.c.tenant_id == tenant_id)
        wanted = [s.value for s in states]
        if wanted:
            query = query.where(_REVIEWS.c.state.in_(wanted))
        with self.history._connection("read access reviews") as connection:
            return tuple(_review(row) for row in connection.execute(query).mappings())

    def items(self, review_id: str, *, custodian: str | None = None) -> tuple[ReviewItem, ...]:
        """The review's items by mailbox, principal and right; only `custodian`'s when
        named."""
        query = select(_ITEMS).where(_ITEMS.c.review_id == review_id).order_by(
            _ITEMS.c.mailbox, _ITEMS.c.principal, _ITEMS.c.access_right)
        if custodian is not None:
            query = query.where(_ITEMS.c.custodian == custodian.lower())
        with self.history._connection("read the review's items") as connection:
            return tuple(_item(row) for row in connection.execute(query).mappings())

    def decide(self, review_id: str, decisions: Mapping[int, tuple[Decision, str | None]], *,
               by: str, at: datetime, custodian: str | None = None) -> int:
        """Record keep/remove (and a note) per item id; returns how many changed. Only an
        open review takes decisions; with `custodian`, only that custodian's items (an id of
        another's is an InputError and nothing is recorded)."""
        if not decisions:
            return 0
        with self.history._connection("record review decisions", write=True) as connection:
            state = connection.execute(select(_REVIEWS.c.state).where(
                _REVIEWS.c.id == review_id)).scalar()
            if state != ReviewState.OPEN.value:
                raise InputError(f"access review {review_id} is not open: its decisions "
                                 "can no longer change")
            rows = connection.execute(select(_ITEMS).where(
                _ITEMS.c.review_id == review_id, _ITEMS.c.id.in_(list(decisions)))
            ).mappings().all()
            found = {row["id"]: row for row in rows}
            foreign = [i for i in decisions if i not in found or (
                custodian is not None and found[i]["custodian"] != custodian.lower())]
            if foreign:
                raise InputError(f"items {', '.join(map(str, sorted(foreign)))} are not in "
                                 "this review for you; reload the page")
            changed = 0
            for item_id, (decision, note) in decisions.items():
                row = found[item_id]
                note = (note or "").strip() or None
                if row["decision"] == decision.value and row["note"] == note:
                    continue
                connection.execute(update(_ITEMS).where(_ITEMS.c.id == item_id).values(
                    decision=decision.value, decided_by=by, decided_at=at, note=note))
                changed += 1
        return changed

    def mark_notified(self, review_id: str, custodians: Iterable[str], *, at: datetime,
                      reminder: bool) -> AccessReview:
        """Record that these custodians were sent their invitation or a reminder."""
        key = "reminded" if reminder else "invited"
        with self.history._connection("record review notices", write=True) as connection:
            row = connection.execute(select(_REVIEWS).where(
                _REVIEWS.c.id == review_id)).mappings().first()
            if row is None:
                raise InputError(f"no access review {review_id}")
            detail = dict(row["detail"] or {})
            sent = dict(detail.get(key) or {})
            sent.update(dict.fromkeys(custodians, at.isoformat()))
            detail[key] = sent
            values: dict[str, Any] = {"detail": detail}
            if reminder:
                values["reminded_at"] = at
            connection.execute(update(_REVIEWS).where(_REVIEWS.c.id == review_id)
                               .values(**values))
        return self.get(review_id)

    def close(self, review_id: str, *, by: str, at: datetime,
              state: ReviewState = ReviewState.CLOSED) -> AccessReview | None:
        """Close (or cancel) an open review; None when it was not open (someone closed it
        first): the caller then does nothing more."""
        review = self.get(review_id)
        detail = {**review.detail, "closed_by": by}
        with self.history._connection("close the access review", write=True) as connection:
            result = connection.execute(update(_REVIEWS).where(
                _REVIEWS.c.id == review_id, _REVIEWS.c.state == ReviewState.OPEN.value
            ).values(state=state.value, closed_at=at, detail=detail))
        if not result.rowcount:
            return None
        return self.get(review_id)

    def record_outcome(self, review_id: str, *, outcome: Mapping[str, Any],
                       change_request_id: str | None) -> AccessReview:
        """Keep the outcome of a closed review (the removals requested, the manual ones)
        and the change request it became."""
        review = self.get(review_id)
        detail = {**review.detail, "outcome": dict(outcome)}
        with self.history._connection("record the review's outcome", write=True) as connection:
            connection.execute(update(_REVIEWS).where(_REVIEWS.c.id == review_id).values(
                detail=detail, change_request_id=change_request_id))
        return self.get(review_id)
