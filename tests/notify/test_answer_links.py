"""The custodian's "was this you?" link goes into the email copy of an incident notice (or
a custodian digest's incident items) addressed to one custodian, and nowhere else."""

from __future__ import annotations

from dataclasses import replace

from mailwarden.notify import Channel, ChannelType, Delivery, Recipients, incident_notice
from mailwarden.notify.answer import linked, with_answer_links
from mailwarden.notify.digest import item_of
from mailwarden.notify.render_text import CUSTODIAN, SECURITY, html_body, plain_text

INCIDENT = {"id": "inc-1", "category": "ownerless-sign-in", "severity": "high",
            "targets": ["hr@contoso.com"], "alert_ids": ["a1"], "summary": "signed in"}
ALERT = {"id": "a1", "category": "ownerless-sign-in", "rule_id": "r", "severity": "high",
         "target": "hr@contoso.com", "summary": "signed in", "evidence": []}
URL = "https://console.contoso.example/r/TOKEN"


def links(incident: str, custodian: str) -> str | None:
    return f"{URL}-{incident}-{custodian}" if incident == "inc-1" else None


def delivery(*, audience: str | None = CUSTODIAN, to: tuple[str, ...] = ("kim@contoso.com",)
             ) -> Delivery:
    notice = replace(incident_notice(INCIDENT, [ALERT], ()), audience=audience)
    return Delivery(id="d1", notice=notice, channel="mail", recipients=Recipients(to=to))


def test_one_custodians_email_gets_its_link_and_shows_it() -> None:
    sent = linked(delivery(), links)
    url = f"{URL}-inc-1-kim@contoso.com"
    assert sent.notice.answer_url == url
    assert f"Was this you? Answer here: {url}" in plain_text(sent.notice, sent.recipients)
    assert f'<a href="{url}">' in html_body(sent.notice, sent.recipients)
    assert "Was this you" not in plain_text(delivery().notice)


def test_others_get_no_link() -> None:
    for other in (delivery(audience=SECURITY), delivery(audience=None),
                  delivery(to=("kim@contoso.com", "lee@contoso.com"))):
        assert linked(other, links) is other
    unknown = delivery()
    unknown = replace(unknown, notice=replace(unknown.notice, incident={"id": "inc-2"}))
    assert linked(unknown, links).notice.answer_url is None


def test_a_custodian_digest_links_each_incident_item() -> None:
    single = delivery()
    digest = replace(single, notice=replace(
        single.notice, kind="digest", items=(item_of(single.notice), {"key": "finding:x"})))
    items = linked(digest, links).notice.items
    assert items[0]["answer_url"] == f"{URL}-inc-1-kim@contoso.com"
    assert "answer_url" not in items[1]
    text = plain_text(linked(digest, links).notice)
    assert f"Was this you? Answer here: {URL}-inc-1-kim@contoso.com" in text


def test_only_email_is_given_links_and_the_stored_delivery_is_left_alone() -> None:
    seen: list[Delivery] = []
    send = with_answer_links(lambda channel, d: seen.append(d), links)
    original = delivery()
    send(Channel(name="mail", type=ChannelType.EMAIL, url="mailto://x@127.0.0.1"), original)
    send(Channel(name="chat", type=ChannelType.TEAMS, url="http://127.0.0.1:9/t"), original)
    assert seen[0].notice.answer_url is not None and seen[1] is original
    assert original.notice.answer_url is None
