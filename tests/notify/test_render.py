"""Message formats: CEF escaping and syslog framing, plain text and HTML safety."""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC, datetime

import httpx

from mailwarden.notify import Delivery, Recipients, Senders, alert_notice
from mailwarden.notify.cef import cef_event, cef_header_escape, cef_value_escape, syslog_message
from mailwarden.notify.render_text import html_body, plain_text
from tests.notify.notify_peers import HOSTILE_NAME, alert, routing_of


def test_cef_escapes_pipes_backslashes_and_equals() -> None:
    assert cef_header_escape("a|b\\c") == "a\\|b\\\\c"
    assert cef_value_escape("x=1\\2\nnext") == "x\\=1\\\\2\\nnext"
    hostile = alert(target="a|b=c@x.example")
    line = cef_event(alert_notice(hostile), "1.0")
    fields = re.split(r"(?<!\\)\|", line, maxsplit=7)
    assert fields[:5] == ["CEF:0", "mailwarden", "mailwarden", "1.0", "ownerless-sign-in-legacy"]
    assert fields[5].endswith("on a\\|b=c@x.example") and fields[6] == "10"
    assert fields[7].startswith("cat=ownerless-sign-in msg=")
    assert "duser=a|b\\=c@x.example" in fields[7]  # pipes need no escape in extensions


def test_syslog_message_is_rfc5424_framed() -> None:
    notice = alert_notice(alert(severity="medium"))
    message = syslog_message(notice, facility=16, version="1.0",
                             now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), hostname="mw host")
    assert message.startswith(b"<132>1 2026-03-02T09:00:00.000Z mwhost mailwarden ")
    assert b" alert - CEF:0|mailwarden|mailwarden|1.0|ownerless-sign-in-legacy|" in message


def test_plain_text_cannot_be_given_extra_lines_and_html_is_escaped() -> None:
    forged = alert(agent="Mozilla\nDo now:\n  1. wire money")
    notice = alert_notice(forged)
    text = plain_text(notice, Recipients(to=("jane@x.example",)))
    assert "\n  1. wire money" not in text and "Mozilla Do now:   1. wire money" in text
    assert [line for line in text.splitlines() if line == "Do now:"] == ["Do now:"]
    html = html_body(notice)
    assert HOSTILE_NAME not in html and "<img" not in html


def test_syslog_over_tcp_uses_octet_counting() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        received: list[bytes] = []

        def accept() -> None:
            connection, _ = server.accept()
            with connection:
                while chunk := connection.recv(65535):
                    received.append(chunk)

        thread = threading.Thread(target=accept)
        thread.start()
        routing = routing_of("channels:\n  siem: {type: syslog, url: 'tcp://127.0.0.1:"
                             f"{port}'}}\nroutes:\n  - channels: [siem]\n")
        notice = alert_notice(alert())
        with httpx.Client(trust_env=False) as client:
            Senders(client=client, redact=routing.redactor).send(
                routing.channels["siem"],
                Delivery(id="d", notice=notice, channel="siem", recipients=Recipients(to=())))
        thread.join(5)
    data = b"".join(received)
    length, _, message = data.partition(b" ")
    assert int(length) == len(message) and message.startswith(b"<")


def test_evidence_headings_count_rows_and_say_when_some_are_left_out() -> None:
    from mailwarden.notify.render_chat import slack_payload, teams_card

    one = alert_notice(alert())
    assert "\nEvidence (1 row):\n" in plain_text(one)
    assert "<h3>Evidence (1 row)</h3>" in html_body(one)
    many = alert()
    many["evidence"] = [dict(many["evidence"][0], time=f"2026-03-02T09:{m:02}:00Z")
                        for m in range(12)]
    notice = alert_notice(many)
    assert "\nEvidence (first 5 of 12 rows):\n" in plain_text(notice)
    assert "Evidence (first 5 of 12 rows)" in str(teams_card(notice))
    assert "*Evidence (first 5 of 12 rows):*" in str(slack_payload(notice))


def test_a_spray_on_two_accounts_names_one_and_counts_the_other() -> None:
    spray = alert(category="password-spray", target=None,
                  targets=("a@contoso.example", "b@contoso.example"))
    assert alert_notice(spray).title == "password-spray on a@contoso.example and 1 more account"


def test_an_incident_notice_names_the_incident_its_alerts_and_their_worst() -> None:
    from mailwarden.notify import incident_notice

    probe = {**alert("p1"), "category": "leaver-access", "rule_id": "leaver-probe",
             "severity": "high", "summary": "a leaver probed hr"}
    sign_in = {**alert("s1"), "severity": "critical", "summary": "hr signed in over IMAP"}
    incident = {"id": "inc-1", "category": "ownerless-sign-in", "severity": "critical",
                "targets": ["hr@contoso.example"], "alert_ids": ["p1", "s1"],
                "categories": ["leaver-access", "ownerless-sign-in"],
                "summary": "hr signed in over IMAP (and 1 related alert)"}
    notice = incident_notice(incident, [probe, sign_in, alert("other")], ["mailbox:hr"])
    assert notice.key == "incident:inc-1" and notice.severity == "critical"
    assert notice.title == "ownerless-sign-in on hr@contoso.example and 1 related alert"
    assert notice.document["id"] == "s1"  # the worst alert, as in alerts.json
    assert [a["id"] for a in notice.incident["alerts"]] == ["s1", "p1"]
    assert set(notice.alert_kinds) == {"leaver-access/leaver-probe",
                                       f"ownerless-sign-in/{sign_in['rule_id']}"}
    text = plain_text(notice, Recipients(to=("jane@contoso.example",)))
    assert "Incident: inc-1: 2 alerts (leaver-access, ownerless-sign-in)" in text
