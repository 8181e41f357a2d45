"""`mailwarden watch --once --from-dir` delivering to real local peers (SMTP, Teams, Slack and
JSON webhooks on 127.0.0.1), attacker-controlled strings escaped; `mailwarden alerts`
listing and acknowledging incidents, and an acknowledged incident not sent again."""

from __future__ import annotations

import email
import json
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.model.incidents import IncidentStatus
from mailwarden.store.incidents import IncidentStore
from mailwarden.watch.cycle import OUTBOX_FILE
from tests.support.peers import html_part, http_server, smtp_server
from tests.watch.watch_helpers import FIRST_CUT, append_logs, rows_of, write_tenant

HOSTILE_AGENT = "<img src=x onerror=alert(1)> <!channel>"
TARGET = "partners@northwindtraders.com"
CUSTODIAN = "tariq.fischer@northwindtraders.com"


def hostile_sign_in() -> dict[str, Any]:
    """The ownerless mailbox's IMAP sign-in of 13 October, moved into the first days and
    carrying a user agent meant to break the messages it ends up in."""
    (row,) = [r for r in rows_of("signIns") if r["userPrincipalName"] == TARGET]
    return {**row, "id": "hostile-1", "createdDateTime": "2026-10-03T23:00:00Z",
            "userAgent": HOSTILE_AGENT}


def routing_file(tmp_path: Path, base: str, smtp_port: int) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(f"""\
security_team: [secops@northwindtraders.com]
channels:
  mail:
    type: email
    url: mailto://alerts:SMTPPASS@127.0.0.1:{smtp_port}?from=alerts@northwindtraders.com&mode=insecure
  teams:
    type: teams
    url: {base}/teams/webhookb2/TEAMSTOKEN
  slack:
    type: slack
    url: {base}/slack/T000/B000/SLACKTOKEN
  hook:
    type: json
    url: {base}/hook?token=HOOKTOKEN
routes:
  - match: {{categories: [ownerless-sign-in]}}
    channels: [mail, teams, slack, hook]
""", encoding="utf-8")
    return path


def told(bodies: list[Any]) -> list[dict[str, Any]]:
    """The incidents and findings webhook bodies tell of, a digest's items opened."""
    items = []
    for body in bodies:
        if body["kind"] == "digest":
            items += body["digest"]["items"]
        else:
            notification = body["notification"]
            items.append({"key": notification["key"], "category": body["alert"]["category"],
                          "mailboxes": notification["mailboxes"],
                          "incident_id": body["incident"]["id"],
                          "alert_ids": body["incident"]["alert_ids"]})
    return items


def test_watch_once_delivers_escaped_and_alerts_ack_silences(tmp_path: Path) -> None:
    source = write_tenant(tmp_path / "source", until=FIRST_CUT)
    append_logs(source, "signIns", [hostile_sign_in()])
    state, log = tmp_path / "state", tmp_path / "watch.log"
    database = str(tmp_path / "history.db")
    runner = CliRunner()
    with smtp_server(b"SMTPPASS") as (mail, smtp_port), http_server() as (web, base):
        args = ["watch", "--once", "--from-dir", str(source), "--state-dir", str(state),
                "--routing", str(routing_file(tmp_path, base, smtp_port)),
                "--log-file", str(log), "--db", database,
                # Sent as any cycle sends, not as a baseline summary (test_first_cycle).
                "--first-cycle", "all"]
        result = runner.invoke(command_app(), args)
        assert result.exit_code == 0, result.output

        (line,) = log.read_text(encoding="utf-8").splitlines()
        cycle = json.loads(line)
        assert cycle["ok"] and cycle["deliveries_failed"] == 0
        assert cycle["records_new"] > 0 and cycle["unrouted"] > 0  # findings: no route
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        for secret in ("SMTPPASS", "TEAMSTOKEN", "SLACKTOKEN", "HOOKTOKEN"):
            assert secret not in line

        hooks = web.bodies("/hook")
        (hostile,) = [h for h in told(hooks) if TARGET in h["mailboxes"]]
        assert hostile["category"] == "ownerless-sign-in"
        # Critical incidents go at once, each its own message; the rest in one message per
        # channel and per person: the custodian's own, and the security team's (no
        # longer a copy of the custodian's).
        assert len(web.bodies("/teams/webhookb2/TEAMSTOKEN")) == len(hooks)
        people = Counter(to for m in mail.messages for to in m.rcpt_tos
                         if "CRITICAL:" not in str(email.message_from_bytes(m.content)["Subject"]))
        assert max(people.values(), default=1) == 1
        assert sum(CUSTODIAN in m.rcpt_tos for m in mail.messages) == 1
        slack = [json.dumps(b) for b in web.bodies("/slack/T000/B000/SLACKTOKEN")]
        assert any("&lt;!channel&gt;" in body for body in slack)
        assert not any("<!channel>" in body or "<img" in body for body in slack)
        (envelope,) = [m for m in mail.messages if CUSTODIAN in m.rcpt_tos]
        html = html_part(email.message_from_bytes(envelope.content))
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html

        listed = runner.invoke(command_app(), ["alerts", "--db", database])
        # Every incident is listed, also those no route sends anywhere.
        assert listed.exit_code == 0 and f"{cycle['incidents_open']} open incidents" in (
            listed.output)
        ident = hostile["incident_id"]
        assert hostile["alert_ids"]
        acked = runner.invoke(command_app(), ["alerts", "ack", ident[:10], "--by", "ana",
                                              "--note", "known test", "--db",
                                              database])
        assert acked.exit_code == 0 and f"acknowledged {ident}" in acked.output

        # Even with what was sent forgotten, the acknowledged incident is not sent again.
        (state / OUTBOX_FILE).unlink()
        again = runner.invoke(command_app(), args)
        assert again.exit_code == 0, again.output
        resent = told(web.bodies("/hook")[len(hooks):])
        assert sorted(h["incident_id"] for h in resent) == sorted(
            h["incident_id"] for h in told(hooks) if h["incident_id"] != ident)
    second = json.loads(log.read_text(encoding="utf-8").splitlines()[1])
    assert second["incidents_acknowledged"] == 1 and second["records_new"] == 0
    with IncidentStore.open(database) as store:
        acknowledged = [i for i in store.load().values()
                        if i.status is IncidentStatus.ACKNOWLEDGED]
    assert [(i.id, i.acknowledged_by, i.note) for i in acknowledged] == [
        (ident, "ana", "known test")]


def test_once_and_cycles_together_are_refused(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("channels: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mailwarden", "watch", "--routing", str(routing),
         "--state-dir", str(tmp_path / "state"), "--from-dir", str(tmp_path),
         "--once", "--cycles", "2"],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "choose one of --once and --cycles N" in result.stderr
    assert not (tmp_path / "state").exists()
