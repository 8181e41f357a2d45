"""Exceptions requested in the console: a requested or rejected exception never turns a
failing finding accepted; approved by someone other than the requester, it does on the
next scan. The CLI's own writes stay approved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailwarden.errors import InputError
from mailwarden.model.exceptions import FindingException
from mailwarden.model.findings import Status
from mailwarden.pipeline import scan_snapshot
from mailwarden.store.changes import SamePersonError, TransitionError
from mailwarden.store.exceptions import Approval, ExceptionStore
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.remediate.remediate_helpers import SOON_AFTER, small, tenant_id

AT = SOON_AFTER
MAILBOX = "noreply@adventure-works.com"


def _imap(**extra: object) -> FindingException:
    values: dict[str, object] = {"reason": "a partner's scanner reads it", "owner": "ops",
                                 "expires": (AT + timedelta(days=90)).date(),
                                 "created_by": "Ann", "mailbox": MAILBOX, **extra}
    return FindingException(check="imap-enabled", **values)  # type: ignore[arg-type]


def _status(db_url: str) -> Status:
    scan = scan_snapshot(snapshot_from_recorded(small().recorded), db_url=db_url, at=AT)
    (finding,) = [f for f in scan.result.findings
                  if f.check_id == "imap-enabled" and f.resource.upn == MAILBOX]
    return finding.status


def test_only_an_approved_exception_accepts_a_failing_finding(db_url: str) -> None:
    tenant = tenant_id().lower()
    with ExceptionStore.open(db_url) as store:
        assert _status(db_url) is Status.FAIL
        asked = store.request(tenant, _imap(), by="sub:ann", at=AT)
        assert asked.approval is Approval.REQUESTED and asked.requested_by == "sub:ann"
        assert store.load(tenant) == ()
        assert _status(db_url) is Status.FAIL  # requested: applies to no run

        with pytest.raises(InputError, match="already requested"):
            store.request(tenant, _imap(), by="sub:cat", at=AT)
        rejected = store.decide(asked.exception.id or 0, approve=False, by="sub:bob",
                                by_name="Bob", at=AT, note="fix it instead")
        assert (rejected.approval, rejected.decided_by, rejected.decision_note) == (
            Approval.REJECTED, "Bob", "fix it instead")
        assert _status(db_url) is Status.FAIL  # rejected: applies to no run
        with pytest.raises(TransitionError, match="rejected"):
            store.decide(asked.exception.id or 0, approve=True, by="sub:bob", by_name="Bob",
                         at=AT)

        again = store.request(tenant, _imap(reason="renewed ask"), by="sub:ann", at=AT)
        with pytest.raises(SamePersonError, match="two-person rule"):
            store.decide(again.exception.id or 0, approve=True, by="sub:ann", by_name="Ann",
                         at=AT)
        assert store.record(again.exception.id or 0).approval is Approval.REQUESTED
        approved = store.decide(again.exception.id or 0, approve=True, by="sub:bob",
                                by_name="Bob", at=AT)
        assert approved.approval is Approval.APPROVED
        assert [e.reason for e in store.load(tenant)] == ["renewed ask"]
        assert _status(db_url) is Status.ACCEPTED
        with pytest.raises(TransitionError):  # a replayed approval changes nothing
            store.decide(again.exception.id or 0, approve=True, by="sub:cat", by_name="Cat",
                         at=AT)
        assert [r.approval for r in store.records(tenant)] == [Approval.REJECTED,
                                                               Approval.APPROVED]


def test_an_approval_replaces_the_approved_one_and_past_expiries_are_refused(
        db_url: str) -> None:
    with ExceptionStore.open(db_url) as store:
        direct = store.add("t1", _imap(created_at=AT, created_by="admin"))
        assert store.record(direct.id or 0).approval is Approval.APPROVED
        assert store.record(direct.id or 0).decided_by == "admin"  # the CLI approves its own
        renewal = store.request("t1", _imap(expires=(AT + timedelta(days=300)).date()),
                                by="sub:ann", at=AT)
        assert len(store.load("t1")) == 1  # the request does not apply yet
        store.decide(renewal.exception.id or 0, approve=True, by="sub:bob", by_name="Bob",
                     at=AT)
        (only,) = store.load("t1")
        assert only.id == renewal.exception.id

        with pytest.raises(InputError, match="in the past"):
            store.request("t1", _imap(expires=(AT - timedelta(days=1)).date()), by="sub:ann",
                          at=AT)
        late = store.request("t1", _imap(mailbox="other@contoso.com"), by="sub:ann", at=AT)
        with pytest.raises(InputError, match="expired"):
            store.decide(late.exception.id or 0, approve=True, by="sub:bob", by_name="Bob",
                         at=AT + timedelta(days=400))
        assert store.record(late.exception.id or 0).approval is Approval.REQUESTED
