"""What an access review's items say, in words, and what its decisions become: pure
functions over the stored items.

Last use, as a custodian reads it: "last used 2026-10-02", "never used in the audit
window (90 days)", "unknown: auditing is off on the mailbox (AuditEnabled false)" (the
reason the stored run gave), per grant behind the access.

Removals: each item decided "remove" is removed grant by grant, as the run recorded the
grant's trustee (exactly as Exchange wrote it): a grant held directly (or to a deleted
object, or to an everyone-like principal) becomes one remove-delegate action, the same
action and id the remediation plan makes for that grant; a grant held through a group
cannot be removed for one person, so it is listed as manual work (take the person out of
the group, or remove the group's grant) in the review's outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mailwarden.remediate.kinds.remove_delegate import decided_removal
from mailwarden.remediate.model import Action, Reason
from mailwarden.store.reviews import AccessReview, Decision, ReviewItem
from mailwarden.times import parse_time

#: The reason the change request's actions give (not a check: people decided them).
REVIEW_REASON = "access-review"


def _day(value: Any) -> str | None:
    moment = parse_time(value)
    return moment.date().isoformat() if moment else None


def grant_use_text(grant: Mapping[str, Any], principal: str) -> str:
    """One grant's last use in plain words."""
    use = grant.get("use")
    kind = grant.get("kind")
    if use is None:
        if kind == "orphaned":
            return "not judged: the grant belongs to a deleted object"
        if kind == "broad":
            return "not judged: nobody in particular holds this grant"
        return "unknown: this run did not record last use"
    last = _day(use.get("last_used"))
    by = use.get("used_by")
    who = f" by {by}" if by and by.lower() != principal.lower() else ""
    state = use.get("state")
    window = use.get("window_days")
    if state == "used":
        return f"last used {last}{who}" if last else "used in the audit window"
    if state == "dormant":
        unused = f"never used in the audit window ({window} days)"
        return f"{unused}; last used {last}{who}" if last else unused
    reason = use.get("reason") or "the audit log could not show a use"
    return f"unknown: {reason}" + (f"; last used {last}{who}" if last else "")


def use_text(item: ReviewItem) -> str:
    """An item's last use: each grant's, named by how it is held when there are several."""
    if not item.grants:
        return "unknown: this run did not record last use"
    if len(item.grants) == 1:
        return grant_use_text(item.grants[0], item.principal)
    return "; ".join(
        f"{'directly' if g.get('via') == 'direct' else 'through ' + str(g.get('via'))}: "
        f"{grant_use_text(g, item.principal)}" for g in item.grants)


def via_text(item: ReviewItem) -> str:
    held = [str(g.get("via")) for g in item.grants] or list(item.via)
    return ", ".join("directly" if v == "direct" else f"through group {v}" for v in held)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewOutcome:
    actions: tuple[Action, ...]  # one remove-delegate per grant to remove
    manual: tuple[str, ...]  # removals no action can make, in words
    kept: int
    removed: int
    undecided: int

    def as_dict(self) -> dict[str, Any]:
        return {"actions": [a.id for a in self.actions], "manual": list(self.manual),
                "kept": self.kept, "removed": self.removed, "undecided": self.undecided}


def _reason(review: AccessReview, item: ReviewItem) -> Reason:
    when = item.decided_at.date().isoformat() if item.decided_at else "?"
    note = f" ({item.note})" if item.note else ""
    return Reason(check_id=REVIEW_REASON,
                  message=f"{item.right} to {item.principal}: {item.decided_by} decided to "
                          f"remove it in access review {review.id} on {when}{note}.")


def outcome_of(review: AccessReview, items: Iterable[ReviewItem]) -> ReviewOutcome:
    """The removal actions and the manual work the review's decisions call for."""
    actions: dict[str, Action] = {}
    manual: list[str] = []
    kept = removed = undecided = 0
    for item in items:
        if item.decision is None:
            undecided += 1
            continue
        if item.decision is Decision.KEEP:
            kept += 1
            continue
        removed += 1
        if not item.grants:
            manual.append(f"{item.principal} keeps {item.right} on {item.mailbox}: the run "
                          "did not record the grant as Exchange wrote it; remove it by hand")
        for grant in item.grants:
            via = str(grant.get("via"))
            if via != "direct":
                manual.append(
                    f"{item.principal} holds {item.right} on {item.mailbox} through group "
                    f"{via}: a grant through a group cannot be removed for one person; take "
                    "them out of the group, or remove the group's grant (manual)")
                continue
            action = decided_removal(
                upn=item.mailbox, account_id=None, right=item.right,
                trustee=str(grant["trustee"]),
                person=grant.get("name") if grant.get("kind") == "user" else None,
                orphaned=grant.get("kind") == "orphaned", reason=_reason(review, item))
            actions.setdefault(action.id, action)
    return ReviewOutcome(actions=tuple(actions.values()), manual=tuple(manual), kept=kept,
                         removed=removed, undecided=undecided)
