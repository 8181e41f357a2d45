"""Access reviews in the store, on SQLite and PostgreSQL: made from the latest stored run,
decisions only while open and only on one's own items, closed once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mailwarden.errors import InputError
from mailwarden.store import History, store_run
from mailwarden.store.reviews import Decision, ReviewState, ReviewStore, progress
from tests.report.report_factory import small_run

NOW = datetime(2026, 11, 3, 9, tzinfo=UTC)
DUE = date(2026, 11, 17)


def test_a_review_is_made_from_the_latest_run_and_decided_and_closed_once(db_url: str
                                                                          ) -> None:
    run = small_run()
    run_id = store_run(run, db_url)
    tenant = run.tenant.tenant_id
    with History.open(db_url) as history:
        store = ReviewStore(history)
        review = store.start(tenant_id=tenant, mailbox=None, due=DUE, by="sec", at=NOW)
        assert review.history_run_id == run_id and review.is_open
        assert review.detail["mailboxes"] == {"boardroom@contoso.com": None,
                                              "hr@contoso.com": "alice@contoso.com"}
        items = store.items(review.id)
        assert [(i.mailbox, i.principal, i.right, i.custodian) for i in items] == [
            ("hr@contoso.com", "alice@contoso.com", "FullAccess", "alice@contoso.com"),
            ("hr@contoso.com", "bob@contoso.com", "FullAccess", "alice@contoso.com")]
        assert items[1].stale == ("disabled",)
        assert items[0].grants[0]["via"] == "direct"
        # Another custodian's decision is refused whole; the custodian's own is kept.
        with pytest.raises(InputError, match="not in this review for you"):
            store.decide(review.id, {items[0].id: (Decision.KEEP, None)}, by="x",
                         at=NOW, custodian="mallory@contoso.com")
        assert store.decide(review.id, {items[1].id: (Decision.REMOVE, " left ")},
                            by="alice@contoso.com", at=NOW,
                            custodian="alice@contoso.com") == 1
        assert store.decide(review.id, {items[1].id: (Decision.REMOVE, "left")},
                            by="alice@contoso.com", at=NOW) == 0  # unchanged
        (part,) = progress(store.items(review.id))
        assert (part.custodian, part.decided, part.total) == ("alice@contoso.com", 1, 2)
        assert review.overdue(NOW) is False
        assert review.overdue(datetime(2026, 11, 18, tzinfo=UTC)) is True
        closed = store.close(review.id, by="sec", at=NOW + timedelta(hours=1))
        assert closed is not None and closed.state is ReviewState.CLOSED
        assert store.close(review.id, by="sec", at=NOW) is None
        with pytest.raises(InputError, match="not open"):
            store.decide(review.id, {items[0].id: (Decision.KEEP, None)}, by="alice",
                         at=NOW)
        decided = store.items(review.id)[1]
        assert (decided.decision, decided.decided_by, decided.note) == (
            Decision.REMOVE, "alice@contoso.com", "left")
        assert [r.id for r in store.reviews(states=(ReviewState.CLOSED,))] == [review.id]


def test_a_review_needs_a_run_a_known_mailbox_delegates_and_a_due_date_ahead(db_url: str
                                                                             ) -> None:
    run = small_run()
    with History.open(db_url) as history:
        store = ReviewStore(history)
        with pytest.raises(InputError, match="has no stored run"):
            store.start(tenant_id=run.tenant.tenant_id, mailbox=None, due=DUE, by="s", at=NOW)
        store_run(run, db_url)
        with pytest.raises(InputError, match="is not an ownerless mailbox"):
            store.start(tenant_id=run.tenant.tenant_id, mailbox="nobody@contoso.com",
                        due=DUE, by="s", at=NOW)
        with pytest.raises(InputError, match="nothing to review"):
            store.start(tenant_id=run.tenant.tenant_id, mailbox="boardroom@contoso.com",
                        due=DUE, by="s", at=NOW)
        with pytest.raises(InputError, match="in the past"):
            store.start(tenant_id=run.tenant.tenant_id, mailbox=None,
                        due=date(2026, 11, 1), by="s", at=NOW)
        assert store.reviews() == ()
