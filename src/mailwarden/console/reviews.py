"""Access reviews, the security team's side (responder and up): the list with each
review's progress per custodian, starting a review of one or every ownerless mailbox of a
tenant, a review's page (per mailbox, per delegate: last use, decision, who decided),
reminders, and closing a review into one change request (`review_steps`).

Decisions on mailboxes nobody answers for are the security team's: the review page takes
them for every item, recorded with the person's name and the time.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.review_mail import (
    MANUAL_GAP,
    MailResult,
    last_told,
    send_review_mail,
    undecided_custodians,
)
from mailwarden.console.review_outcome import use_text, via_text
from mailwarden.console.review_steps import (
    close_if_complete,
    close_review,
    counts,
    decisions_from,
    mailer_of,
    reviews_of,
)
from mailwarden.console.roles import Role
from mailwarden.errors import MailwardenError
from mailwarden.store.changes import ChangeStore
from mailwarden.store.reviews import AccessReview, progress

#: The due date the start form suggests.
DEFAULT_DUE = timedelta(days=14)


def _tenants(ctx: Ctx) -> list[tuple[str, str]]:
    latest = {ref.tenant_id: ref for ref in ctx.console.history.runs()}
    return sorted(((t, r.tenant_name or t) for t, r in latest.items()),
                  key=lambda pair: pair[1].lower())


def _listing(ctx: Ctx, error: str | None = None, status: int = 200) -> Response:
    store = reviews_of(ctx.console)
    rows = [(review, progress(store.items(review.id))) for review in store.reviews()]
    return ctx.render("reviews.html", status=status, title="Access reviews", rows=rows,
                      tenants=_tenants(ctx), now=ctx.now, error=error,
                      default_due=(ctx.now + DEFAULT_DUE).date().isoformat())


async def review_list(request: Request, ctx: Ctx) -> Response:
    return _listing(ctx)


async def start_review(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    tenant = str(form.get("tenant") or "").strip()
    mailbox = str(form.get("mailbox") or "").strip() or None
    try:
        due = date.fromisoformat(str(form.get("due") or ""))
    except ValueError:
        return _listing(ctx, "Give the due date as YYYY-MM-DD.", 400)
    principal = ctx.principal
    assert principal is not None  # the guard let only a signed-in responder in
    try:
        review = reviews_of(ctx.console).start(tenant_id=tenant, mailbox=mailbox, due=due,
                                               by=principal.name, at=ctx.now)
    except MailwardenError as exc:
        ctx.record("review.start", outcome=Outcome.REFUSED, tenant_id=tenant or None,
                   detail={"reason": str(exc)})
        return _listing(ctx, str(exc), 400)
    ctx.record("review.start", tenant_id=review.tenant_id, target=review.id,
               detail={"scope": review.detail.get("scope"), "due": due.isoformat(),
                       "items": len(reviews_of(ctx.console).items(review.id))})
    sent = await _mail(ctx, review, custodians=None, reminder=False)
    return RedirectResponse(f"/reviews/{review.id}?sent={_flag(sent)}", status_code=303)


def _flag(result: MailResult | str | None) -> str:
    if result is None:
        return "none"
    return "failed" if isinstance(result, str) or result.failed else "ok"


async def _mail(ctx: Ctx, review: AccessReview, *, custodians: set[str] | None,
                reminder: bool) -> MailResult | str | None:
    """Send the invitations (custodians None: every custodian) or reminders; the result,
    a one-line error, or None when the console has no routing file."""
    store = reviews_of(ctx.console)
    try:
        mailer = mailer_of(ctx.console)
        if mailer is None:
            return None
        people = custodians if custodians is not None else {
            i.custodian for i in store.items(review.id) if i.custodian}
        result = await run_in_threadpool(
            send_review_mail, mailer, store, review, now=ctx.now, custodians=people,
            reminder=reminder, tell_security=not reminder)
    except MailwardenError as exc:
        ctx.record("review.mail", outcome=Outcome.FAILED, tenant_id=review.tenant_id,
                   target=review.id, detail={"reminder": reminder, "error": str(exc)})
        return str(exc)
    ctx.record("review.mail", outcome=Outcome.FAILED if result.failed else Outcome.DONE,
               tenant_id=review.tenant_id, target=review.id,
               detail={"reminder": reminder, "told": list(result.told),
                       "failed": len(result.failed)})
    return result


def _review_page(ctx: Ctx, review: AccessReview, *, message: str | None = None,
                 status: int = 200) -> Response:
    items = reviews_of(ctx.console).items(review.id)
    mailboxes = [(mailbox, list(group)) for mailbox, group in
                 groupby(items, key=lambda i: i.mailbox)]
    change = (ChangeStore(ctx.console.history).get(review.change_request_id)
               if review.change_request_id else None)
    return ctx.render("review.html", status=status, title=f"Access review {review.id}",
                      review=review, mailboxes=mailboxes, progress=progress(items),
                      use_text=use_text, via_text=via_text, change=change, now=ctx.now,
                      message=message, sent=ctx.request.query_params.get("sent"))


def _found(ctx: Ctx) -> AccessReview | Response:
    review = reviews_of(ctx.console).find(ctx.request.path_params["id"])
    if review is None:
        return ctx.render("error.html", status=404, title="No such review",
                          message="There is no access review with that id.")
    return review


async def review_page(request: Request, ctx: Ctx) -> Response:
    review = _found(ctx)
    return review if isinstance(review, Response) else _review_page(ctx, review)


async def decide_items(request: Request, ctx: Ctx) -> Response:
    review = _found(ctx)
    if isinstance(review, Response):
        return review
    decisions = decisions_from(await request.form())
    principal = ctx.principal
    assert principal is not None
    try:
        changed = reviews_of(ctx.console).decide(review.id, decisions, by=principal.name,
                                                 at=ctx.now)
    except MailwardenError as exc:
        ctx.record("review.decide", outcome=Outcome.REFUSED, tenant_id=review.tenant_id,
                   target=review.id, detail={"reason": str(exc)})
        return _review_page(ctx, review, message=str(exc), status=409)
    ctx.record("review.decide", tenant_id=review.tenant_id, target=review.id,
               detail={**counts(decisions), "changed": changed})
    closed = close_if_complete(ctx.console, review.id, at=ctx.now,
                               subject=principal.subject, name=principal.name)
    if closed is not None:
        ctx.record("review.close", tenant_id=closed.tenant_id, target=closed.id,
                   detail={"change_request": closed.change_request_id, "automatic": True})
    return RedirectResponse(f"/reviews/{review.id}", status_code=303)


async def remind(request: Request, ctx: Ctx) -> Response:
    review = _found(ctx)
    if isinstance(review, Response):
        return review
    if not review.is_open:
        return _review_page(ctx, review, message="The review is closed.", status=409)
    waiting = undecided_custodians(reviews_of(ctx.console).items(review.id))
    due = {c for c in waiting
           if (told := last_told(review, c)) is None or ctx.now - told >= MANUAL_GAP}
    if not due:
        ctx.record("review.remind", tenant_id=review.tenant_id, target=review.id,
                   detail={"told": [], "waiting": len(waiting)})
        return _review_page(ctx, review, message="Nobody to remind: every custodian with "
                            "undecided grants heard from the console in the last day.")
    result = await _mail(ctx, review, custodians=due, reminder=True)
    ctx.record("review.remind", tenant_id=review.tenant_id, target=review.id,
               detail={"due": sorted(due), "sent": _flag(result)})
    text = ("No routing file: start the console with one to send mail." if result is None
            else result if isinstance(result, str) else result.summary())
    return _review_page(ctx, reviews_of(ctx.console).get(review.id), message=text)


async def close(request: Request, ctx: Ctx) -> Response:
    review = _found(ctx)
    if isinstance(review, Response):
        return review
    principal = ctx.principal
    assert principal is not None
    closed = close_review(ctx.console, review.id, subject=principal.subject,
                          name=principal.name, at=ctx.now)
    if closed is None:
        ctx.record("review.close", outcome=Outcome.REFUSED, tenant_id=review.tenant_id,
                   target=review.id, detail={"reason": "not open"})
        return _review_page(ctx, reviews_of(ctx.console).get(review.id),
                            message="The review was already closed.", status=409)
    ctx.record("review.close", tenant_id=closed.tenant_id, target=closed.id,
               detail={"change_request": closed.change_request_id,
                       "outcome_removed": (closed.detail.get("outcome") or {}).get("removed")})
    return RedirectResponse(f"/reviews/{closed.id}", status_code=303)


PAGES = (
    Page(path="/reviews", endpoint=review_list, name="reviews", need=Role.RESPONDER),
    Page(path="/reviews", endpoint=start_review, name="review-start", methods=("POST",),
         need=Role.RESPONDER),
    Page(path="/reviews/{id}", endpoint=review_page, name="review", need=Role.RESPONDER),
    Page(path="/reviews/{id}/decide", endpoint=decide_items, name="review-decide",
         methods=("POST",), need=Role.RESPONDER),
    Page(path="/reviews/{id}/remind", endpoint=remind, name="review-remind",
         methods=("POST",), need=Role.RESPONDER),
    Page(path="/reviews/{id}/close", endpoint=close, name="review-close", methods=("POST",),
         need=Role.RESPONDER),
)
