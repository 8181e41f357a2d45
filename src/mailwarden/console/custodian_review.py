"""The custodian's side of an access review, reached only through their link
(`/r/{token}` -> `/custodian/review/{review id}`): the mailboxes in that review they are the
custodian of, and nothing else; every delegate with their last use; keep or remove each
(with an optional note). Decisions are recorded with the custodian's address and the time,
and in the audit log; they can be changed until the review closes, after which the page
shows the outcome, read-only. When the last undecided grant of the whole review is decided
the review closes (`review_steps.close_if_complete`).
"""

from __future__ import annotations

from itertools import groupby

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.review_outcome import use_text, via_text
from mailwarden.console.review_steps import (
    close_if_complete,
    counts,
    decisions_from,
    reviews_of,
)
from mailwarden.console.roles import LinkGrant
from mailwarden.errors import MailwardenError


def _grant(ctx: Ctx) -> LinkGrant:
    principal = ctx.principal
    # The guard lets only a review link whose target is this path's in.
    assert principal is not None and principal.link is not None
    return principal.link


def _page(ctx: Ctx, *, message: str | None = None, status: int = 200) -> Response:
    grant = _grant(ctx)
    store = reviews_of(ctx.console)
    review = store.find(grant.target)
    if review is None or review.tenant_id != grant.tenant_id:
        return ctx.render("error.html", status=404, title="No such review",
                          message="This review no longer exists.")
    items = store.items(review.id, custodian=grant.custodian)
    mailboxes = [(mailbox, list(group)) for mailbox, group in
                 groupby(items, key=lambda i: i.mailbox)]
    return ctx.render("custodian_review.html", status=status,
                      title="Who should keep access", review=review, mailboxes=mailboxes,
                      custodian=grant.custodian, use_text=use_text, via_text=via_text,
                      message=message, saved=ctx.request.query_params.get("saved"))


async def custodian_page(request: Request, ctx: Ctx) -> Response:
    return _page(ctx)


async def custodian_decide(request: Request, ctx: Ctx) -> Response:
    grant = _grant(ctx)
    decisions = decisions_from(await request.form())
    review = reviews_of(ctx.console).find(grant.target)
    if review is not None and not review.is_open:
        ctx.record("review.decide", outcome=Outcome.REFUSED, tenant_id=grant.tenant_id,
                   target=grant.target, detail={"reason": "closed"})
        return _page(ctx, message="This review is closed: decisions can no longer change.",
                     status=409)
    try:
        changed = reviews_of(ctx.console).decide(grant.target, decisions, by=grant.custodian,
                                                 at=ctx.now, custodian=grant.custodian)
    except MailwardenError as exc:
        ctx.record("review.decide", outcome=Outcome.REFUSED, tenant_id=grant.tenant_id,
                   target=grant.target, detail={"reason": str(exc)})
        return _page(ctx, message=str(exc), status=403)
    ctx.record("review.decide", tenant_id=grant.tenant_id, target=grant.target,
               detail={**counts(decisions), "changed": changed, "custodian": grant.custodian})
    closed = close_if_complete(ctx.console, grant.target, at=ctx.now)
    if closed is not None:
        ctx.record("review.close", tenant_id=closed.tenant_id, target=closed.id,
                   detail={"change_request": closed.change_request_id, "automatic": True})
    return RedirectResponse(f"/custodian/review/{grant.target}?saved=1", status_code=303)


PAGES = (
    Page(path="/custodian/review/{target}", endpoint=custodian_page, name="custodian-review",
         need=None, link="review"),
    Page(path="/custodian/review/{target}", endpoint=custodian_decide,
         name="custodian-review-decide", methods=("POST",), need=None, link="review"),
)
