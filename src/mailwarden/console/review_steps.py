"""The steps of an access review that both its pages take: reading decisions from a form,
closing a review into one change request, and building the mailer from the console's
settings.

Closing: the review is claimed closed first (only an open review can be, so two closes
close it once); then its removals (`review_outcome.outcome_of`) become ONE change request
(origin "review", origin_id the review's id) that an approver must approve like any other;
the review keeps the request's id and its outcome (actions, manual work, counts). A
review with no removal closes without a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from starlette.datastructures import FormData

from mailwarden.console.context import Console
from mailwarden.console.review_mail import ReviewMailer, default_state_path
from mailwarden.console.review_outcome import outcome_of
from mailwarden.notify import load_routing
from mailwarden.store.changes import ChangeStore
from mailwarden.store.reviews import AccessReview, Decision, ReviewStore
from mailwarden.text import plural

#: The longest note a decision keeps.
NOTE_LIMIT = 1000


def reviews_of(console: Console) -> ReviewStore:
    return ReviewStore(console.history)


def decisions_from(form: FormData) -> dict[int, tuple[Decision, str | None]]:
    """`d-<item id>` = keep | remove, with `n-<item id>` an optional note; items left blank
    are not decided by this form. Anything else in a decision field is ignored."""
    found: dict[int, tuple[Decision, str | None]] = {}
    for key, value in form.multi_items():
        if not key.startswith("d-") or not isinstance(value, str):
            continue
        try:
            item_id, decision = int(key[2:]), Decision(value)
        except ValueError:
            continue
        note = form.get(f"n-{item_id}")
        found[item_id] = (decision, note[:NOTE_LIMIT] if isinstance(note, str) else None)
    return found


def counts(decisions: Mapping[int, tuple[Decision, str | None]]) -> dict[str, int]:
    return {d.value: sum(1 for v, _ in decisions.values() if v is d) for d in Decision}


def close_review(console: Console, review_id: str, *, subject: str, name: str | None,
                 at: datetime) -> AccessReview | None:
    """Close an open review into one change request; None when it was not open."""
    store = reviews_of(console)
    closed = store.close(review_id, by=name or subject, at=at)
    if closed is None:
        return None
    outcome = outcome_of(closed, store.items(review_id))
    request_id = None
    if outcome.actions:
        request = ChangeStore(console.history).submit(
            tenant_id=closed.tenant_id, actions=[a.as_dict() for a in outcome.actions],
            origin="review", origin_id=closed.id,
            reason=(f"Access review {closed.id}: "
                    f"{plural(len(outcome.actions), 'grant')} its reviewers decided to remove"),
            requested_by=subject, requested_by_name=name, at=at)
        request_id = request.id
    return store.record_outcome(closed.id, outcome=outcome.as_dict(),
                                change_request_id=request_id)


def close_if_complete(console: Console, review_id: str, *, at: datetime,
                      subject: str | None = None, name: str | None = None
                      ) -> AccessReview | None:
    """Close the review when every item is decided. The change request is requested by
    the person whose decision completed it (`subject`), so they cannot approve it; when a
    custodian completed it, by the review itself ("review:<id>"): custodians hold no role,
    so any approver may approve it."""
    if any(item.decision is None for item in reviews_of(console).items(review_id)):
        return None
    return close_review(console, review_id, subject=subject or f"review:{review_id}",
                        name=name or "access review (every grant decided)", at=at)


def mailer_of(console: Console) -> ReviewMailer | None:
    """The review mailer, or None when the console was started without a routing file."""
    config = console.config
    if config.routing is None:
        return None
    return ReviewMailer(routing=load_routing(config.routing),
                        state=config.review_mail_state or default_state_path(),
                        base_url=config.base_url, links=console.links)
