"""Deliveries to real local peers: SMTP, HTTP webhooks and syslog on 127.0.0.1."""

from __future__ import annotations

import email
import json
from pathlib import Path

import httpx

from mailwarden.notify import FileOutbox, Senders, notify
from tests.notify.notify_peers import HOSTILE_NAME, SLACK_BREAKER, alert, routing_of, routing_text
from tests.support.peers import html_part, http_server, smtp_server, udp_listener


def test_every_channel_receives_the_alert_escaped(tmp_path: Path) -> None:
    with smtp_server() as (mail, smtp_port), http_server() as (web, base), \
            udp_listener() as (syslog, syslog_port), httpx.Client(trust_env=False) as client:
        routing = routing_of(routing_text(base, smtp_port, syslog_port=syslog_port))
        outbox = FileOutbox(tmp_path / "state.json")
        plan, reports = notify(
            outbox, routing, Senders(client=client, redact=routing.redactor).send,
            alerts=[alert()], findings=None,
            custodians={"hr@contoso.example": "jane@contoso.example"}, since="")
        datagram = syslog.recv(65535).decode("utf-8")

    assert [r.error for r in reports if not r.ok] == []
    assert sorted(r.delivery.channel for r in reports) == ["hook", "mail", "siem", "slack",
                                                           "teams"]
    # Email: custodian as To, the security team copied on critical, HTML escaped.
    (envelope,) = mail.messages
    assert sorted(envelope.rcpt_tos) == ["jane@contoso.example", "secops@contoso.example"]
    message = email.message_from_bytes(envelope.content)
    assert message["To"] == "jane@contoso.example"
    assert message["Cc"] == "secops@contoso.example"
    assert message["Subject"] == "[mailwarden] CRITICAL: ownerless-sign-in on hr@contoso.example"
    html = html_part(message)
    assert HOSTILE_NAME not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Do now" in html
    # Teams: tenant strings only inside TextRuns (never markdown), the payload is a card.
    (card,) = web.bodies("/teams/webhookb2/SECRETTEAMSTOKEN")
    content = card["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    assert {block["type"] for block in content["body"]} == {"RichTextBlock"}
    assert any(HOSTILE_NAME in run["text"] for block in content["body"]
               for run in block["inlines"])
    # Slack: <, > and & escaped, so <!channel> cannot ping everyone.
    (slack,) = web.bodies("/slack/T000/B000/SECRETTOKEN1")
    slack_text = json.dumps(slack)
    assert SLACK_BREAKER not in slack_text and "<img" not in slack_text
    assert "&lt;!channel&gt;" in slack_text
    # Generic webhook: the alert as in alerts.json plus routing.
    (hook,) = web.bodies("/hook")
    assert hook["alert"] == alert()
    assert hook["notification"]["custodians"] == ["jane@contoso.example"]
    assert hook["notification"]["copied"] == ["secops@contoso.example"]
    # Syslog: RFC 5424 header (local4 = 20, critical = 2 -> PRI 162) carrying CEF.
    assert datagram.startswith("<162>1 ")
    assert "|mailwarden|mailwarden|" in datagram and "CEF:0|" in datagram
    assert "duser=hr@contoso.example" in datagram
    assert plan.deliveries and outbox.pending() == ()


def test_a_failing_channel_is_reported_redacted_and_others_still_deliver(tmp_path: Path
                                                                        ) -> None:
    with smtp_server() as (mail, smtp_port), http_server() as (web, base), \
            httpx.Client(trust_env=False) as client:
        web.failing_paths.add("/slack/T000/B000/SECRETTOKEN1")
        routing = routing_of(routing_text(base, smtp_port).replace(
            "[mail, teams, slack, hook, siem]", "[slack, mail, teams, hook]"))
        outbox = FileOutbox(tmp_path / "state.json")
        _, reports = notify(outbox, routing, Senders(client=client, redact=routing.redactor).send,
                            alerts=[alert()], findings=None, custodians={}, since="")
        (failed,) = [r for r in reports if not r.ok]
        assert failed.delivery.channel == "slack"
        assert "HTTP 500" in (failed.error or "")
        assert "SECRETTOKEN1" not in (failed.error or "")
        assert len(mail.messages) == 1 and web.bodies("/hook")
        # Without a custodian, mail goes to the fallback and says why.
        assert mail.messages[0].rcpt_tos == ["it@contoso.example", "secops@contoso.example"]
        assert b"no-custodian" in mail.messages[0].content
        # The failed one stays pending and goes out once the receiver is back.
        (pending,) = outbox.pending()
        assert pending.channel == "slack" and pending.notice.key == "alert:a1"
        web.failing_paths.clear()
        _, again = notify(outbox, routing, Senders(client=client, redact=routing.redactor).send,
                          alerts=[alert()], findings=None, custodians={}, since="")
    assert [(r.delivery.channel, r.ok, r.decision) for r in again] == [("slack", True, "retry")]
    assert len(web.bodies("/slack/T000/B000/SECRETTOKEN1")) == 1
    assert len(mail.messages) == 1
    assert "SECRETTOKEN1" not in (tmp_path / "state.json").read_text()


def test_a_refusing_smtp_server_is_reported_without_the_password(tmp_path: Path) -> None:
    with smtp_server() as (mail, smtp_port), httpx.Client(trust_env=False) as client:
        mail.refuse = True
        text = routing_text("http://127.0.0.1:9", smtp_port)
        routing = routing_of(text.replace("[mail, teams, slack, hook, siem]", "[mail]"))
        _, reports = notify(FileOutbox(tmp_path / "s.json"), routing,
                            Senders(client=client, redact=routing.redactor).send,
                            alerts=[alert()], findings=None, custodians={}, since="")
    (report,) = reports
    assert not report.ok and report.error
    assert "HUNTER2PASS" not in report.error and "HUNTER2PASS" not in repr(routing)
    assert report.error.startswith("channel mail:")
    assert "554" in report.error or "refused" in report.error, report.error


def test_a_retried_delivery_carries_the_same_idempotency_key(tmp_path: Path) -> None:
    """At least once, de-duplicable: a post refused (or lost to a crash before its "sent"
    mark) goes out again, after a restart too, with the key it had the first time."""
    hooks = {"teams": "/teams/webhookb2/SECRETTEAMSTOKEN", "slack": "/slack/T000/B000/SECRETTOKEN1",
             "hook": "/hook"}
    with smtp_server() as (_, smtp_port), http_server() as (web, base), \
            httpx.Client(trust_env=False) as client:
        routing = routing_of(routing_text(base, smtp_port).replace(
            "[mail, teams, slack, hook, siem]", "[teams, slack, hook]"))
        web.failing_paths.update(hooks.values())
        with FileOutbox(tmp_path / "state.json") as outbox:
            _, first = notify(outbox, routing, Senders(client=client, redact=routing.redactor).send,
                              alerts=[alert()], findings=None, custodians={}, since="")
        assert not any(r.ok for r in first)
        ids = {r.delivery.channel: r.delivery.id for r in first}
        web.failing_paths.clear()
        with FileOutbox(tmp_path / "state.json") as reopened:  # as after a restart
            _, again = notify(reopened, routing,
                              Senders(client=client, redact=routing.redactor).send,
                              alerts=[alert()], findings=None, custodians={}, since="")
    assert all(r.ok for r in again)
    for channel, path in hooks.items():
        assert web.keys(path) == [ids[channel], ids[channel]], channel
    assert len(set(ids.values())) == 3
    (hook,) = web.bodies("/hook")
    assert hook["idempotency_key"] == ids["hook"]
