"""The outbox: stored before sent, exactly once per key across a crash, private file."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from mailwarden.errors import InputError
from mailwarden.notify import Channel, Delivery, FileOutbox, Senders, notify
from tests.notify.notify_peers import alert, routing_of
from tests.support.peers import http_server


class Crash(BaseException):
    """Stands for the process dying: nothing below catches a BaseException."""


def _routing(base: str) -> str:
    return (f"channels:\n  hook: {{type: json, url: '{base}/hook'}}\n"
            "routes:\n  - channels: [hook]\n")


def test_a_crash_between_store_and_send_resends_exactly_the_unsent(tmp_path: Path) -> None:
    alerts = [alert(f"a{n}") for n in range(5)]
    state = tmp_path / "state" / "notify.json"
    with http_server() as (web, base), httpx.Client(trust_env=False) as client:
        routing = routing_of(_routing(base))
        real = Senders(client=client, redact=routing.redactor).send
        sent_before_crash = []

        def crashing(channel: Channel, delivery: Delivery) -> None:
            if len(sent_before_crash) == 2:
                raise Crash
            real(channel, delivery)
            sent_before_crash.append(delivery.id)

        with pytest.raises(Crash):
            notify(FileOutbox(state), routing, crashing, alerts=alerts, findings=None,
                   custodians={}, since="")
        assert len(web.bodies("/hook")) == 2
        assert len(FileOutbox(state).pending()) == 3  # stored, not yet sent

        # Restart: a fresh outbox from the file; the same alerts come in again.
        _, reports = notify(FileOutbox(state), routing, real, alerts=alerts, findings=None,
                            custodians={}, since="")
        assert len(reports) == 3 and all(r.ok for r in reports)
        # And once more: nothing new, nothing sent.
        _, reports = notify(FileOutbox(state), routing, real, alerts=alerts, findings=None,
                            custodians={}, since="")
        assert reports == ()
        ids = sorted(body["alert"]["id"] for body in web.bodies("/hook"))
    assert ids == sorted(a["id"] for a in alerts)  # each exactly once
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert FileOutbox(state).sent_count() == 5
    assert "onerror" not in state.read_text()  # sent messages are not archived


def test_an_escalation_of_a_stored_alert_is_a_second_delivery(tmp_path: Path) -> None:
    with http_server() as (web, base), httpx.Client(trust_env=False) as client:
        routing = routing_of(_routing(base))
        send = Senders(client=client, redact=routing.redactor).send
        first = alert("e1", severity="high")
        notify(FileOutbox(tmp_path / "s.json"), routing, send, alerts=[first], findings=None,
               custodians={}, since="")
        worse = {**first, "severity": "critical", "facts": {"proven": ["hr@contoso.example"]}}
        notify(FileOutbox(tmp_path / "s.json"), routing, send, alerts=[first, worse],
               findings=None, custodians={}, since="")
        bodies = web.bodies("/hook")
    assert [b["notification"]["escalation"] for b in bodies] == [False, True]
    assert bodies[1]["notification"]["marks"] == ["password-proven"]


def test_a_damaged_state_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_text("{not json")
    with pytest.raises(InputError, match="move it away to start afresh"):
        FileOutbox(state)
    state.write_text('{"schema": "other"}')
    with pytest.raises(InputError, match="not a mailwarden notification state"):
        FileOutbox(state)
