"""Access review mail: each custodian's invitation and reminders, and the security team's
notice of mailboxes nobody answers for, sent through the routing file's email channels
(`mailwarden.notify`: apprise over SMTP) with an outbox for de-duplication.

Only email channels carry review mail: a custodian's message holds their personal link,
which must not be posted to a team channel. The outbox is a file of its own
(`default_state_path`), so `mailwarden notify` and the watcher never send review mail.

A custodian's link is a secret: the notice stored in the outbox holds no link, and the
sender issues one (`LinkStore.issue`, purpose "review", bound to the review and the
custodian) just before handing the message to the channel. A delivery left pending by a
crash is sent by the next review mail with a fresh link.

Reminders (`reminder_due`): a custodian with undecided items in an open review is
reminded when their last message (invitation or reminder) is at least `REMIND_EVERY`
(7 days) old, and once more when the due date is `BEFORE_DUE` (2 days) away or less and
they have not heard since that window began; overdue reviews go on being reminded every
7 days. The console's "Send reminders" button reminds every custodian with undecided
items who has not heard for `MANUAL_GAP` (one day). Each reminder's outbox key holds its
UTC day, so a retried or repeated run never sends the same reminder twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path

import httpx
import platformdirs

from mailwarden.console.links import LinkStore
from mailwarden.errors import ConfigError
from mailwarden.notify import Delivery, DeliveryReport, FileOutbox, Routing, Senders
from mailwarden.notify.dedup import Decision, decide, remembered
from mailwarden.notify.dispatch import send_pending
from mailwarden.notify.notice import Notice
from mailwarden.notify.outbox import delivery_id
from mailwarden.notify.render_text import Recipients
from mailwarden.notify.routing import Channel, ChannelType
from mailwarden.store.reviews import AccessReview, ReviewItem, ReviewState, ReviewStore
from mailwarden.text import plural

REMIND_EVERY = timedelta(days=7)
BEFORE_DUE = timedelta(days=2)
MANUAL_GAP = timedelta(days=1)

SendFunction = Callable[[Channel, Delivery], None]


def default_state_path() -> Path:
    """The review mail outbox: a folder of its own (an outbox holds its folder's lock)."""
    return Path(platformdirs.user_state_dir("mailwarden")) / "reviews" / "review-mail.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewMailer:
    routing: Routing
    state: Path  # the outbox file
    base_url: str  # where people reach the console (links in the messages)
    links: LinkStore


@dataclass(frozen=True, slots=True, kw_only=True)
class MailResult:
    told: tuple[str, ...]  # custodians whose message a channel accepted
    failed: tuple[str, ...]  # "who: why", one per refused delivery
    security: str | None  # what happened to the security team's notice, if one was due

    def summary(self) -> str:
        parts = [f"{plural(len(self.told), 'custodian')} sent a link"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed ({'; '.join(self.failed[:3])})")
        if self.security:
            parts.append(self.security)
        return "; ".join(parts)


def last_told(review: AccessReview, custodian: str) -> datetime | None:
    times = [t for t in (review.invited(custodian), review.reminded(custodian)) if t]
    return max(times) if times else None


def reminder_due(review: AccessReview, custodian: str, now: datetime, *,
                 every: timedelta = REMIND_EVERY, before_due: timedelta = BEFORE_DUE) -> bool:
    """Whether a custodian with undecided items is to be reminded now (module docstring)."""
    last = last_told(review, custodian)
    if last is None or now - last >= every:
        return True
    window = datetime.combine(review.due, time(), tzinfo=now.tzinfo) - before_due
    return now >= window and last < window


def undecided_custodians(items: Iterable[ReviewItem]) -> tuple[str, ...]:
    return tuple(sorted({i.custodian for i in items if i.custodian and i.decision is None}))


def _custodian_notice(review: AccessReview, custodian: str, items: list[ReviewItem], *,
                      reminder: bool, now: datetime) -> Notice:
    mailboxes = tuple(sorted({i.mailbox for i in items}))
    open_items = sum(1 for i in items if i.decision is None)
    key = f"review:{review.id}:{custodian}:" + (f"reminder:{now:%Y-%m-%d}" if reminder
                                                   else "invite")
    ask = (f"Reminder: {plural(open_items, 'grant')} still to decide" if reminder
           else f"Please review {plural(len(items), 'grant')}")
    return Notice(
        key=key, kind="review", severity="info",
        title=f"Access review of {mailboxes[0]}" + (
            f" and {plural(len(mailboxes) - 1, 'more mailbox', 'more mailboxes')}"
            if len(mailboxes) > 1 else ""),
        summary=(f"{ask} on the mailboxes you are the custodian of, by {review.due}: for "
                 "each person who can open or send as the mailbox, say whether they should "
                 "keep that access. Removals are made only after a second person approves."),
        mailboxes=mailboxes,
        actions=("Open the link below (it is yours alone; do not forward it) and choose "
                 "keep or remove for each delegate.",),
        document={"review_id": review.id, "tenant_id": review.tenant_id,
                  "custodian": custodian, "due": review.due.isoformat()})


def _security_notice(review: AccessReview, mailboxes: tuple[str, ...],
                     base_url: str) -> Notice:
    return Notice(
        key=f"review:{review.id}:nobody-answerable", kind="review", severity="medium",
        title=f"Access review {review.id}: {plural(len(mailboxes), 'mailbox', 'mailboxes')} "
              "with nobody answerable",
        summary=("No custodian is named for these mailboxes, so nobody was asked who should "
                 "keep access to them: the security team decides in the console."),
        mailboxes=mailboxes,
        actions=("Decide keep or remove for their delegates on the review's page.",
                 "Name a custodian for each (custodians file) so the next review asks them."),
        document={"review_id": review.id, "tenant_id": review.tenant_id,
                  "due": review.due.isoformat()},
        link=f"{base_url.rstrip('/')}/reviews/{review.id}", audience="security")


def email_channels(routing: Routing) -> tuple[Channel, ...]:
    channels = tuple(c for c in routing.channels.values() if c.type is ChannelType.EMAIL)
    if not channels:
        raise ConfigError(f"{routing.source} names no email channel: add one (type: email) "
                          "so custodians can be sent their review links")
    return channels


def send_review_mail(mailer: ReviewMailer, store: ReviewStore, review: AccessReview, *,
                     now: datetime, custodians: Collection[str], reminder: bool,
                     tell_security: bool = False, send: SendFunction | None = None
                     ) -> MailResult:
    """Send `custodians` their invitation (or a reminder) for `review`, and the security
    team the mailboxes nobody answers for when `tell_security`; record who was told."""
    channels = email_channels(mailer.routing)
    items = store.items(review.id)
    notices: list[tuple[Notice, Recipients]] = []
    for custodian in sorted(custodians):
        theirs = [i for i in items if i.custodian == custodian]
        if theirs:
            notices.append((_custodian_notice(review, custodian, theirs, reminder=reminder,
                                              now=now), Recipients(to=(custodian,))))
    nobody = tuple(sorted({i.mailbox for i in items if i.custodian is None}))
    security: str | None = None
    if tell_security and nobody:
        team = mailer.routing.security_team or mailer.routing.fallback
        if team:
            notices.append((_security_notice(review, nobody, mailer.base_url),
                            Recipients(to=team)))
        else:
            security = (f"{plural(len(nobody), 'mailbox', 'mailboxes')} with nobody "
                        f"answerable, and {mailer.routing.source} names no security_team "
                        "or fallback to tell")
    recipients = {n.key: r for n, r in notices}
    with FileOutbox(mailer.state) as outbox:
        verdicts = [v for v in decide(outbox.remembered(), [n for n, _ in notices])
                    if v.decision is Decision.NEW]
        outbox.store([Delivery(id=delivery_id(v.notice, c.name), notice=v.notice,
                               channel=c.name, recipients=recipients[v.notice.key])
                      for v in verdicts for c in channels],
                     [remembered(None, v.notice) for v in verdicts])
        reports = _send_all(mailer, outbox, now, send)
    told: dict[str, set[str]] = {}
    failed = []
    for report in reports:
        document = report.delivery.notice.document
        who = document.get("custodian")
        if report.ok and who:
            told.setdefault(str(document["review_id"]), set()).add(str(who))
        elif report.ok:
            security = "the security team was told of the mailboxes with nobody answerable"
        else:
            failed.append(f"{', '.join(report.delivery.recipients.to)}: {report.error}")
    for review_id, people in told.items():
        store.mark_notified(review_id, people, at=now,
                            reminder=reminder if review_id == review.id else True)
    return MailResult(told=tuple(sorted(told.get(review.id, ()))), failed=tuple(failed),
                      security=security)


def _send_all(mailer: ReviewMailer, outbox: FileOutbox, now: datetime,
              send: SendFunction | None) -> tuple[DeliveryReport, ...]:
    with httpx.Client(trust_env=False) as client:
        deliver = send or Senders(client=client, redact=mailer.routing.redactor).send

        def with_link(channel: Channel, delivery: Delivery) -> None:
            deliver(channel, _linked(mailer, delivery, now))

        return send_pending(outbox, mailer.routing, with_link, clock=lambda: now)


def _linked(mailer: ReviewMailer, delivery: Delivery, now: datetime) -> Delivery:
    """The delivery with the custodian's own link, issued now (never stored)."""
    notice = delivery.notice
    custodian = notice.document.get("custodian")
    if notice.kind != "review" or not custodian:
        return delivery
    issued = mailer.links.issue(purpose="review", tenant_id=str(notice.document["tenant_id"]),
                                target=str(notice.document["review_id"]),
                                custodian=str(custodian), now=now)
    return replace(delivery, notice=replace(notice, link=issued.url(mailer.base_url)))


def remind_due(mailer: ReviewMailer, store: ReviewStore, *, now: datetime,
               every: timedelta = REMIND_EVERY, before_due: timedelta = BEFORE_DUE,
               send: SendFunction | None = None
               ) -> tuple[tuple[AccessReview, tuple[str, ...], MailResult], ...]:
    """What a scheduler runs: in every open review, remind the custodians with undecided
    grants whose reminder is due (`reminder_due`). Returns, per review reminded, who was
    due and what happened."""
    done = []
    for review in store.reviews(states=(ReviewState.OPEN,)):
        due = tuple(c for c in undecided_custodians(store.items(review.id))
                    if reminder_due(review, c, now, every=every, before_due=before_due))
        if due:
            done.append((review, due, send_review_mail(mailer, store, review, now=now,
                                                       custodians=due, reminder=True,
                                                       send=send)))
    return tuple(done)
