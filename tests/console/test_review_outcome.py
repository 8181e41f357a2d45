"""What a review's items say in words, what its decisions become, and when a reminder is
due: pure functions over stored items."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from mailwarden.console.review_mail import reminder_due
from mailwarden.console.review_outcome import outcome_of, use_text
from mailwarden.remediate.kinds import describe
from mailwarden.remediate.model import ActionKind, ExoCall
from mailwarden.store.reviews import AccessReview, Decision, ReviewItem, ReviewState

NOW = datetime(2026, 11, 3, 9, tzinfo=UTC)
REVIEW = AccessReview(id="ar-1", tenant_id="t", history_run_id=1, state=ReviewState.OPEN,
                      created_by="sec", created_at=NOW, due=date(2026, 11, 17),
                      reminded_at=None, closed_at=None, change_request_id=None,
                      detail={"invited": {"a@x.com": NOW.isoformat()}, "reminded": {}})


def _use(state: str, last: str | None = None, reason: str | None = None,
         by: str | None = None) -> dict[str, Any]:
    return {"state": state, "window_days": 90, "last_used": last, "operation": "SendAs",
            "used_by": by, "reason": reason}


def _item(*grants: dict[str, Any], right: str = "FullAccess",
          decision: Decision | None = Decision.REMOVE, ident: int = 1) -> ReviewItem:
    return ReviewItem(id=ident, review_id="ar-1", mailbox="hr@x.com", custodian="a@x.com",
                      principal="bob@x.com", right=right, via=("direct",), last_use=None,
                      stale=(), grants=grants, decision=decision, decided_by="a@x.com",
                      decided_at=NOW)


def _grant(via: str, use: dict[str, Any] | None, kind: str = "user",
           trustee: str = "Bob Smith") -> dict[str, Any]:
    return {"via": via, "trustee": trustee, "kind": kind, "name": "bob@x.com", "use": use}


def test_last_use_is_said_plainly() -> None:
    assert use_text(_item(_grant("direct", _use("used", "2026-10-02T08:00:00+00:00")))) == \
        "last used 2026-10-02"
    assert use_text(_item(_grant("direct", _use("dormant")))) == \
        "never used in the audit window (90 days)"
    off = _use("unknown", reason="auditing is off on the mailbox (AuditEnabled false)")
    assert use_text(_item(_grant("direct", off))) == \
        "unknown: auditing is off on the mailbox (AuditEnabled false)"
    assert use_text(_item()) == "unknown: this run did not record last use"
    both = use_text(_item(_grant("direct", _use("dormant")), _grant(
        "Sales", _use("used", "2026-10-01T00:00:00+00:00", by="eve@x.com"), kind="group")))
    assert both == ("directly: never used in the audit window (90 days); through Sales: "
                    "last used 2026-10-01 by eve@x.com")


def test_removals_become_exact_actions_and_group_grants_manual_work() -> None:
    items = [
        _item(_grant("direct", None), _grant("Sales", None, kind="group", trustee="Sales"),
              right="SendAs", ident=1),
        _item(_grant("direct", None, kind="orphaned", trustee="S-1-5-21-9"), ident=2),
        _item(_grant("direct", None), decision=Decision.KEEP, ident=3),
        _item(_grant("direct", None), right="SendOnBehalf", decision=None, ident=4),
    ]
    outcome = outcome_of(REVIEW, items)
    assert (outcome.kept, outcome.removed, outcome.undecided) == (1, 2, 1)
    send_as, orphan = outcome.actions
    assert send_as.kind is ActionKind.REMOVE_DELEGATE
    assert send_as.calls == (ExoCall(cmdlet="Remove-RecipientPermission", parameters={
        "Identity": "hr@x.com", "Trustee": "Bob Smith", "AccessRights": ["SendAs"]}),)
    assert describe(send_as) == "remove SendAs of bob@x.com (reviewed)"
    assert "a@x.com decided to remove it in access review ar-1" in send_as.reasons[0].message
    assert orphan.calls[0].parameters["User"] == "S-1-5-21-9" and not orphan.reversible
    (manual,) = outcome.manual
    assert "through group Sales" in manual and "(manual)" in manual


def test_a_reminder_is_due_a_week_after_the_last_message_and_once_near_the_due_date() -> None:
    assert not reminder_due(REVIEW, "a@x.com", NOW + timedelta(days=6))
    assert reminder_due(REVIEW, "a@x.com", NOW + timedelta(days=7))
    assert reminder_due(REVIEW, "never@x.com", NOW)  # never told: due at once
    near = AccessReview(**{**{f: getattr(REVIEW, f) for f in REVIEW.__dataclass_fields__},
                           "due": date(2026, 11, 6)})
    assert reminder_due(near, "a@x.com", datetime(2026, 11, 4, 8, tzinfo=UTC))
    told = AccessReview(**{**{f: getattr(near, f) for f in near.__dataclass_fields__},
                           "detail": {"reminded": {"a@x.com": "2026-11-04T08:00:00+00:00"}}})
    assert not reminder_due(told, "a@x.com", datetime(2026, 11, 5, 8, tzinfo=UTC))
