""""Was this you?" links in the messages custodians get about an incident.

Whoever wires the watcher (the command line) gives a function that makes the link for an
incident and a custodian (`AnswerLinks`, made by `mailwarden.console.answer_links`); this
module only puts the URL into the copy of a delivery that is being sent: a single incident
notice gets `Notice.answer_url`, a custodian's digest gets `answer_url` on each incident
item. Only email to one custodian (the audience the digest rules address as a custodian)
carries a link: a link is bound to one person, and chat and webhook channels are read by a
team. The outbox stores the delivery without it (the URL holds a link token, which must
not reach a saved file), so a delivery sent again carries a fresh link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mailwarden.notify.dispatch import SendFunction
from mailwarden.notify.outbox import Delivery
from mailwarden.notify.render_text import CUSTODIAN
from mailwarden.notify.routing import Channel, ChannelType

#: (incident id, custodian address) -> the URL of their answer page, or None (no link:
#: the incident is no longer kept, or was answered already).
AnswerLinks = Callable[[str, str], str | None]


def with_answer_links(send: SendFunction, links: AnswerLinks) -> SendFunction:
    """`send`, with the custodian's answer link in each email about an incident."""
    def sending(channel: Channel, delivery: Delivery) -> None:
        if channel.type is ChannelType.EMAIL:
            delivery = linked(delivery, links)
        send(channel, delivery)
    return sending


def linked(delivery: Delivery, links: AnswerLinks) -> Delivery:
    """The delivery with its custodian's answer links, when it is addressed to one
    custodian and tells of incidents."""
    notice = delivery.notice
    if notice.audience != CUSTODIAN or len(delivery.recipients.to) != 1:
        return delivery
    custodian = delivery.recipients.to[0]
    if notice.kind == "digest":
        items = []
        for item in notice.items:
            ident = item.get("incident_id")
            url = links(str(ident), custodian) if ident else None
            items.append({**item, "answer_url": url} if url else item)
        return replace(delivery, notice=replace(notice, items=tuple(items)))
    ident = notice.incident.get("id") if notice.incident else None
    url = links(str(ident), custodian) if ident else None
    return replace(delivery, notice=replace(notice, answer_url=url)) if url else delivery


__all__ = ["AnswerLinks", "linked", "with_answer_links"]
