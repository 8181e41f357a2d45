"""Digests: grouping per recipient and channel, critical notices at once, idempotent
delivery ids, and the custodian's wording against the security team's."""

from __future__ import annotations

import json
from pathlib import Path

from mailwarden.notify import FileOutbox, alert_notice, plan_notifications
from mailwarden.notify.digest import CUSTODIAN, SECURITY, digest_deliveries
from mailwarden.notify.outbox import Delivery
from mailwarden.notify.render_chat import slack_payload, teams_card, webhook_payload
from mailwarden.notify.render_text import html_body, plain_text
from tests.notify.notify_peers import alert, routing_of

ROUTING = """\
security_team: [secops@contoso.example]
channels:
  mail: {type: email, url: "mailto://u:p@127.0.0.1:2525?from=a@contoso.example"}
  hook: {type: json, url: "http://127.0.0.1:9/hook"}
  siem: {type: syslog, url: "udp://127.0.0.1:514"}
routes:
  - match: {}
    channels: [mail, hook, siem]
"""
CUSTODIANS = {"hr@contoso.example": "ana@contoso.example",
              "rooms@contoso.example": "ana@contoso.example",
              "legal@contoso.example": "bo@contoso.example"}


def planned(*alerts: dict[str, object]) -> tuple[Delivery, ...]:
    notices = [alert_notice(a) for a in alerts]
    return plan_notifications(notices, routing_of(ROUTING), CUSTODIANS, {}).deliveries


def three() -> tuple[Delivery, ...]:
    return planned(alert("a1", severity="medium"),
                   alert("a2", severity="high", target="rooms@contoso.example"),
                   alert("a3", severity="low", target="legal@contoso.example"))


def test_a_cycle_sends_one_digest_per_person_and_channel() -> None:
    sent = digest_deliveries(three(), routing_of(ROUTING))
    by = {(d.channel, d.recipients.to): d for d in sent if d.channel != "siem"}
    ana = by["mail", ("ana@contoso.example",)]
    assert ana.notice.kind == "digest" and ana.notice.audience == CUSTODIAN
    assert [i["key"] for i in ana.notice.items] == ["alert:a2", "alert:a1"]  # worst first
    # Bo has one notice: it goes as itself, worded for a custodian, to Bo alone.
    bo = by["mail", ("bo@contoso.example",)]
    assert bo.notice.key == "alert:a3" and bo.notice.audience == CUSTODIAN
    assert bo.recipients.cc == ()
    # The security team hears of what it was copied on (high), in its own message.
    security = by["mail", ("secops@contoso.example",)]
    assert security.notice.audience == SECURITY and security.notice.key == "alert:a2"
    hook = by["hook", ()]
    assert hook.notice.kind == "digest" and len(hook.notice.items) == 3
    # Syslog keeps an event per notice.
    assert sorted(d.notice.key for d in sent if d.channel == "siem") == [
        "alert:a1", "alert:a2", "alert:a3"]
    assert len(sent) == 4 + 3


def test_critical_goes_at_once_and_a_baseline_holds_everything() -> None:
    deliveries = planned(alert("c1", severity="critical"), alert("m1", severity="medium"))
    sent = digest_deliveries(deliveries, routing_of(ROUTING))
    # At once, as two emails: the custodian's in a custodian's words, the security team's
    # with the admin steps.
    alone = {d.notice.audience: d for d in sent
             if d.notice.key == "alert:c1" and d.channel == "mail"}
    assert alone[CUSTODIAN].recipients.to == ("ana@contoso.example",)
    assert alone[CUSTODIAN].recipients.cc == ()
    assert "If it was you" in plain_text(alone[CUSTODIAN].notice)
    assert alone[SECURITY].recipients.to == ("secops@contoso.example",)
    assert alone[SECURITY].notice.actions == alert_notice(alert("c1")).actions
    assert len({d.id for d in sent}) == len(sent)

    baseline = digest_deliveries(deliveries, routing_of(ROUTING), immediate=lambda n: False,
                                 baseline=True)
    mail = [d for d in baseline if d.channel == "mail"]
    assert sorted(d.recipients.to for d in mail) == [
        ("ana@contoso.example",), ("secops@contoso.example",)]
    assert all(d.notice.kind == "digest" and len(d.notice.items) == 2 for d in mail)
    assert all("what is open now" in d.notice.subject for d in mail)


def test_a_digest_has_a_stable_id_and_is_stored_once(tmp_path: Path) -> None:
    first = digest_deliveries(three(), routing_of(ROUTING))
    again = digest_deliveries(three(), routing_of(ROUTING))
    assert [d.id for d in first] == [d.id for d in again]
    assert len({d.id for d in first}) == len(first)
    with FileOutbox(tmp_path / "outbox.json") as outbox:
        outbox.store(first, ())
        outbox.store(again, ())  # a cycle repeated after a crash
        assert len(outbox.pending()) == len(first)
        stored = {d.id: d for d in outbox.pending()}
    ana = next(d for d in first if d.recipients.to == ("ana@contoso.example",))
    assert stored[ana.id].notice == ana.notice  # survives the trip through JSON


def test_a_custodian_is_told_why_and_what_to_do_without_the_admin_steps() -> None:
    deliveries = planned(alert("a1", severity="high"),
                         alert("a2", severity="high", target="rooms@contoso.example"))
    sent = [d for d in digest_deliveries(deliveries, routing_of(ROUTING)) if d.channel == "mail"]
    ana = next(d for d in sent if d.recipients.to == ("ana@contoso.example",))
    security = next(d for d in sent if d.recipients.to == ("secops@contoso.example",))
    assert ana.notice.kind == security.notice.kind == "digest"
    text = plain_text(ana.notice, ana.recipients)
    assert "Why you: You are receiving this because you are the custodian named for " \
           "hr@contoso.example, rooms@contoso.example" in text
    assert "If it was you" in text and "report it to the security team" in text
    assert "secops@contoso.example" in text
    admin = alert_notice(alert("a1")).actions
    assert admin and not any(step in text for step in admin)
    assert "Seen:" not in text  # the evidence rows are for the security team
    team = plain_text(security.notice, security.recipients)
    assert "Why you" not in team
    assert any(f"Do: {step}" in team for step in admin)
    assert "Seen:" in team


def test_every_rendering_of_a_digest_escapes_tenant_text() -> None:
    hostile = alert("h1", severity="medium", agent="<img src=x> <!channel> {{DATE(x)}}")
    sent = digest_deliveries(planned(hostile, alert("a1", severity="low")),
                             routing_of(ROUTING))
    hook = next(d for d in sent if d.channel == "hook")
    ana = next(d for d in sent if d.channel == "mail")
    assert ana.notice.kind == "digest"
    assert "<img" not in html_body(ana.notice, ana.recipients)
    assert "<img" not in html_body(hook.notice, hook.recipients)
    assert "&lt;img src=x&gt;" in html_body(hook.notice, hook.recipients)
    slack = json.dumps(slack_payload(hook.notice, hook.recipients))
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack
    card = json.dumps(teams_card(hook.notice, hook.recipients))
    assert "{{DATE" not in card
    body = webhook_payload(hook.notice, channel="hook", recipients=hook.recipients)
    assert body["kind"] == "digest" and len(body["digest"]["items"]) == 2


def test_a_notice_with_nobody_to_address_is_not_dropped() -> None:
    nobody = ROUTING.replace("security_team: [secops@contoso.example]\n", "")
    deliveries = plan_notifications([alert_notice(alert("u1", severity="medium",
                                                        target="unmapped@contoso.example"))],
                                    routing_of(nobody), CUSTODIANS, {}).deliveries
    sent = digest_deliveries(deliveries, routing_of(nobody), immediate=lambda n: False,
                             baseline=True)
    mail = [d for d in sent if d.channel == "mail"]
    assert [(d.notice.key, d.recipients.to) for d in mail] == [("alert:u1", ())]


def test_the_fallback_is_not_told_it_is_a_custodian() -> None:
    text = ROUTING.replace("security_team: [secops@contoso.example]\n",
                           "security_team: [secops@contoso.example]\n"
                           "fallback: [it@contoso.example]\n")
    deliveries = plan_notifications(
        [alert_notice(alert(f"u{n}", severity="medium", target=f"u{n}@contoso.example"))
         for n in (1, 2)], routing_of(text), CUSTODIANS, {}).deliveries
    sent = digest_deliveries(deliveries, routing_of(text))
    (fallback,) = [d for d in sent if d.channel == "mail"]
    assert fallback.recipients.to == ("it@contoso.example",)
    assert fallback.notice.audience == SECURITY
    assert "Why you" not in plain_text(fallback.notice, fallback.recipients)
