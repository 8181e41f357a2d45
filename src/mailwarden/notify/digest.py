"""Digests: the notices of one cycle folded into one message per recipient.

`digest_deliveries` takes the deliveries a plan made (one per notice and channel) and
returns what is sent instead: the notices `immediate` picks stay single deliveries; the
rest become, per email channel, one digest per person in To (a custodian, or the fallback)
and one to the security team, and per chat or JSON webhook channel one digest. Syslog
channels keep one event per notice: a SIEM correlates events, not letters.

Who reads a digest decides its wording (`audience`): a custodian is told what happened to
which mailbox, why they are the one told, and what a custodian does (confirm it was them,
or report it); the admin steps of each notice go only to the security team and to team
channels.

A digest is one delivery like any other: its key names the channel, the recipient and the
deliveries it replaces, so storing it again (a cycle repeated after a crash) stores it
once, its id is the `Idempotency-Key` of its post, and the outbox's at-least-once holds
for it as for a single notice. What the notices it holds said is remembered per notice
(`dedup`), so a later cycle does not send them again unless they get worse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mailwarden.model.findings import Severity
from mailwarden.notify.notice import Notice
from mailwarden.notify.outbox import Delivery, delivery_id
from mailwarden.notify.render_text import CHANNEL, CUSTODIAN, SECURITY, Recipients
from mailwarden.notify.routing import ChannelType, Routing
from mailwarden.text import plural

__all__ = ["CHANNEL", "CUSTODIAN", "SECURITY", "critical", "digest_deliveries", "goes_alone",
           "item_of"]

_ITEM_FIELDS = ("key", "kind", "severity", "title", "summary", "mailboxes", "actions",
                "category", "check_id", "first_seen", "last_seen", "escalation")


def item_of(notice: Notice) -> dict[str, Any]:
    """A notice as one line of a digest (JSON-ready)."""
    item = {name: getattr(notice, name) for name in _ITEM_FIELDS}
    item["mailboxes"] = list(notice.mailboxes)
    item["actions"] = list(notice.actions)
    item["evidence"] = [dict(row) for row in notice.evidence]
    if notice.incident:
        item["incident_id"] = notice.incident.get("id")
        item["alert_ids"] = list(notice.incident.get("alert_ids") or ())
    elif notice.kind == "alert":
        item["alert_ids"] = [notice.key.removeprefix("alert:")]
    return item


def goes_alone(delivery: Delivery, routing: Routing) -> bool:
    """Sent as itself whatever the digest rules: a critical notice, or a syslog event."""
    channel = routing.channels.get(delivery.channel)
    return (channel is None or channel.type is ChannelType.SYSLOG
            or critical(delivery.notice))


def critical(notice: Notice) -> bool:
    """What goes at once rather than in the next digest."""
    return notice.severity == Severity.CRITICAL.value


@dataclass
class _Bucket:
    channel: str
    audience: str
    to: tuple[str, ...]
    notices: dict[str, Notice] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)
    first: Delivery | None = None


def digest_deliveries(deliveries: Sequence[Delivery], routing: Routing, *,
                      immediate: Callable[[Notice], bool] = critical,
                      baseline: bool = False) -> tuple[Delivery, ...]:
    """Single deliveries for the notices `immediate` picks (and for syslog channels), and
    a digest per recipient and channel for the rest (a recipient with one notice gets it
    as itself, addressed and worded for them); see the module docstring.

    A baseline (the first cycle's summary) tells the security team of every notice, not
    only of those it would be sent or copied on."""
    kept: list[Delivery] = []
    buckets: dict[tuple[str, str, tuple[str, ...]], _Bucket] = {}
    security = routing.security_team

    def add(channel: str, audience: str, to: tuple[str, ...], delivery: Delivery) -> None:
        bucket = buckets.setdefault((channel, audience, to), _Bucket(
            channel=channel, audience=audience, to=to))
        # The later of two notices with one key (held, then worse) is the one to tell.
        bucket.notices[delivery.notice.key] = delivery.notice
        bucket.first = bucket.first or delivery
        bucket.replaced.add(delivery.id)

    for delivery in deliveries:
        channel = routing.channels.get(delivery.channel)
        if channel is None or channel.type is ChannelType.SYSLOG:
            kept.append(delivery)
            continue
        if immediate(delivery.notice):
            kept += (split_by_audience(delivery, routing)
                     if channel.type is ChannelType.EMAIL else [delivery])
            continue
        if channel.type is not ChannelType.EMAIL:
            add(delivery.channel, CHANNEL, (), delivery)
            continue
        if not delivery.recipients.to:
            # Nobody to address: sent alone, its channel reports it (nothing is dropped).
            kept.append(delivery)
            continue
        people = [a for a in delivery.recipients.to if a not in security]
        for person in people:
            # The fallback reads for mailboxes with no custodian: the admin's wording.
            audience = SECURITY if person in routing.fallback else CUSTODIAN
            add(delivery.channel, audience, (person,), delivery)
        told = set(delivery.recipients.to) | set(delivery.recipients.cc)
        if security and (baseline or told & set(security)):
            add(delivery.channel, SECURITY, security, delivery)
    kept += [_digest(bucket, routing, baseline=baseline) if baseline or len(bucket.notices) > 1
             else _alone(bucket, routing) for bucket in buckets.values()]
    return tuple(kept)


def split_by_audience(delivery: Delivery, routing: Routing) -> list[Delivery]:
    """An email to custodians with the security team copied, as two: the custodians'
    (worded for them) and the security team's (with the admin steps)."""
    security = routing.security_team
    people = tuple(a for a in delivery.recipients.to
                   if a not in security and a not in routing.fallback)
    if not people:
        return [delivery]
    notice, note = delivery.notice, delivery.recipients.note
    split = [Delivery(
        id=_derived(delivery.id, CUSTODIAN), channel=delivery.channel,
        notice=replace(notice, audience=CUSTODIAN, actions=_actions(CUSTODIAN, routing)),
        recipients=Recipients(to=people, note=note))]
    told = set(delivery.recipients.to) | set(delivery.recipients.cc)
    if security and told & set(security):
        split.append(Delivery(id=_derived(delivery.id, SECURITY), channel=delivery.channel,
                              notice=replace(notice, audience=SECURITY),
                              recipients=Recipients(to=security, note=note)))
    return split


def _derived(ident: str, audience: str) -> str:
    return hashlib.sha256(f"{ident}\x1f{audience}".encode()).hexdigest()[:24]


def _alone(bucket: _Bucket, routing: Routing) -> Delivery:
    """The one notice of a recipient's cycle, sent as itself (worded for its reader)."""
    (notice,) = bucket.notices.values()
    if bucket.audience == CHANNEL and bucket.first is not None:
        return bucket.first  # as it was planned: one channel, one message
    if bucket.audience == CUSTODIAN:
        notice = replace(notice, audience=CUSTODIAN, actions=_actions(CUSTODIAN, routing))
    elif bucket.audience == SECURITY:
        notice = replace(notice, audience=SECURITY)
    material = "\x1f".join((bucket.channel, bucket.audience, *bucket.to,
                            *sorted(bucket.replaced)))
    ident = hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]
    note = bucket.first.recipients.note if bucket.first is not None else None
    return Delivery(id=ident, notice=notice, channel=bucket.channel,
                    recipients=Recipients(to=bucket.to, note=note))


def _digest(bucket: _Bucket, routing: Routing, *, baseline: bool) -> Delivery:
    notices = sorted(bucket.notices.values(), key=lambda n: (-n.rank, n.title))
    material = "\x1f".join((bucket.channel, bucket.audience, *bucket.to,
                            *sorted(bucket.replaced)))
    key = f"digest:{hashlib.sha256(material.encode('utf-8')).hexdigest()[:24]}"
    mailboxes = tuple(dict.fromkeys(m for n in notices for m in n.mailboxes))
    notice = Notice(
        key=key, kind="digest", severity=notices[0].severity,
        title=_title(notices, baseline=baseline), summary=_summary(notices, baseline=baseline),
        mailboxes=mailboxes, actions=_actions(bucket.audience, routing),
        items=tuple(item_of(n) for n in notices), audience=bucket.audience,
        escalation=any(n.escalation for n in notices))
    recipients = Recipients(to=bucket.to)
    return Delivery(id=delivery_id(notice, bucket.channel), notice=notice,
                    channel=bucket.channel, recipients=recipients)


def counted(notices: Iterable[Notice]) -> str:
    """"2 incidents and 3 failing checks"."""
    notices = list(notices)
    alerts = sum(1 for n in notices if n.kind == "alert")
    findings = len(notices) - alerts
    parts = [plural(alerts, "incident")] if alerts else []
    parts += [plural(findings, "failing check")] if findings else []
    return " and ".join(parts) or "nothing"


def _title(notices: Sequence[Notice], *, baseline: bool) -> str:
    if baseline:
        return f"what is open now: {counted(notices)}"
    return f"digest: {counted(notices)}"


def _summary(notices: Sequence[Notice], *, baseline: bool) -> str:
    if baseline:
        return (f"mailwarden has started watching this tenant. This is what it found open "
                f"on its first look ({counted(notices)}); from now on you hear only of what "
                "is new or gets worse.")
    return f"Since the last message: {counted(notices)} new or worse."


def _actions(audience: str, routing: Routing) -> tuple[str, ...]:
    if audience != CUSTODIAN:
        return ("Work through the items below, worst first; each names its own steps.",)
    team = ", ".join(routing.security_team) or "your IT security team"
    return (
        "If it was you, or someone you know and expected (a colleague, a device or an "
        f"application set up for the mailbox), tell the security team ({team}) so they "
        "can close it.",
        f"If it was not, or you do not know, report it to the security team ({team}) now "
        "and do not sign in to the mailbox yourself until they answer.",
    )
