"""Change requests' state machine on SQLite and PostgreSQL: every illegal step is refused
and changes nothing, the requester never decides, and of two concurrent steps one wins."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from mailwarden.errors import InputError
from mailwarden.store.changes import (
    ChangeRequest,
    ChangeState,
    ChangeStore,
    SamePersonError,
    TransitionError,
)
from mailwarden.store.history import History

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACTION = {"id": "a1", "kind": "remove-forwarding", "upn": "box@contoso.com",
          "account_id": None, "calls": [], "reasons": [], "breaks": "", "detail": {}}


def _submit(store: ChangeStore, by: str = "ann") -> ChangeRequest:
    return store.submit(tenant_id="t1", actions=[ACTION], origin="console", origin_id=None,
                        reason="close the forwarding", requested_by=by,
                        requested_by_name=by.title(), at=AT)


def test_the_happy_path_and_every_illegal_step(db_url: str) -> None:
    history = History.open(db_url)
    try:
        store = ChangeStore(history)
        change = _submit(store)
        assert change.state is ChangeState.PENDING
        with pytest.raises(TransitionError, match="pending"):
            store.begin_apply(change.id)  # not approved yet
        with pytest.raises(TransitionError):
            store.begin_rollback(change.id)
        with pytest.raises(SamePersonError, match="two-person rule"):
            store.decide(change.id, approve=True, by="ann", by_name="Ann", at=AT)
        with pytest.raises(SamePersonError):
            store.decide(change.id, approve=False, by="ann", by_name="Ann", at=AT)
        assert store.get(change.id).state is ChangeState.PENDING

        approved = store.decide(change.id, approve=True, by="bob", by_name="Bob", at=AT,
                                note="  fine ")
        assert (approved.state, approved.decided_by, approved.decision_note) == (
            ChangeState.APPROVED, "bob", "fine")
        with pytest.raises(TransitionError, match="approved"):  # a replayed approval
            store.decide(change.id, approve=True, by="cat", by_name="Cat", at=AT)
        with pytest.raises(TransitionError):
            store.decide(change.id, approve=False, by="cat", by_name="Cat", at=AT)
        assert store.get(change.id).decided_by == "bob"

        assert store.begin_apply(change.id).state is ChangeState.APPLYING
        with pytest.raises(TransitionError, match="applying"):
            store.begin_apply(change.id)  # applied once only
        applied = store.finish_apply(change.id, run_id="run-1", failed=False, at=AT,
                                     outcome={"actions": {"a1": {"status": "applied"}}})
        assert applied.state is ChangeState.APPLIED and applied.remediation_run_id == "run-1"
        with pytest.raises(TransitionError):
            store.begin_apply(change.id)  # nothing leads back to approved

        assert store.begin_rollback(change.id).state is ChangeState.ROLLING_BACK
        kept = store.finish_rollback(change.id, outcome={"error": "refused"}, done=False,
                                     by="Bob", at=AT)
        assert kept.state is ChangeState.APPLIED  # back where it was, to try again
        store.begin_rollback(change.id)
        undone = store.finish_rollback(change.id, outcome={"actions": {}}, done=True, by="Bob",
                                       at=AT)
        assert undone.state is ChangeState.ROLLED_BACK and undone.rolled_back_by == "Bob"
        assert undone.outcome and undone.outcome["rollback"] == {"actions": {}}
        with pytest.raises(TransitionError):
            store.begin_rollback(change.id)

        rejected = store.decide(_submit(store).id, approve=False, by="bob", by_name="Bob",
                                at=AT)
        with pytest.raises(TransitionError, match="rejected"):
            store.decide(rejected.id, approve=True, by="cat", by_name="Cat", at=AT)
        with pytest.raises(TransitionError):
            store.begin_apply(rejected.id)

        other = _submit(store)
        with pytest.raises(SamePersonError):
            store.cancel(other.id, by="bob", at=AT)
        assert store.cancel(other.id, by="ann", at=AT).state is ChangeState.CANCELLED
        with pytest.raises(InputError, match="no change request"):
            store.begin_apply("cr-missing")
    finally:
        history.close()


def test_failed_runs_without_a_journal_cannot_be_rolled_back(db_url: str) -> None:
    history = History.open(db_url)
    try:
        store = ChangeStore(history)
        change = _submit(store)
        store.decide(change.id, approve=True, by="bob", by_name="Bob", at=AT)
        store.begin_apply(change.id)
        failed = store.finish_apply(change.id, run_id=None, failed=True, at=AT,
                                    outcome={"error": "sign-in refused"})
        assert failed.state is ChangeState.FAILED
        with pytest.raises(TransitionError):
            store.begin_rollback(change.id)
    finally:
        history.close()


def test_of_two_concurrent_approvals_and_applies_one_wins(db_url: str) -> None:
    history = History.open(db_url)
    try:
        store = ChangeStore(history)
        change = _submit(store)
        start = threading.Barrier(4)
        results: list[str] = []

        def race(step: str, who: str) -> None:
            start.wait()
            try:
                if step == "decide":
                    store.decide(change.id, approve=True, by=who, by_name=who, at=AT)
                else:
                    store.begin_apply(change.id)
                results.append(f"{step} won")
            except TransitionError:
                results.append(f"{step} refused")

        threads = [threading.Thread(target=race, args=("decide", f"approver-{n}"))
                   for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["decide refused"] * 3 + ["decide won"]

        results.clear()
        threads = [threading.Thread(target=race, args=("apply", "x")) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["apply refused"] * 3 + ["apply won"]
        assert store.get(change.id).state is ChangeState.APPLYING
    finally:
        history.close()
