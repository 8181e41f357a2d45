"""`mailwarden notify` end to end: dry run, real sends to loopback peers, and a rerun."""

from __future__ import annotations

import email
import email.header
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.schemas import FINDINGS_SCHEMA
from tests.notify.notify_peers import alert
from tests.support.peers import http_server, smtp_server, udp_listener

runner = CliRunner()


def _findings(status: str) -> dict[str, object]:
    return {
        "schema": FINDINGS_SCHEMA, "generated_at": "2026-03-02T10:00:00Z", "tenant": {},
        "findings": [{
            "check_id": "sign-in-enabled", "status": status, "severity": "high",
            "resource": {"type": "mailbox", "upn": "hr@contoso.example", "kind": "shared"},
            "message": "The backing account of hr@contoso.example can sign in.",
            "evidence": {"accountEnabled": True}, "controls": [],
            "remediation": {"summary": "Block sign-in for the account."},
        }],
        "mailboxes": [{"upn": "hr@contoso.example",
                       "custodian": {"person": "jane@contoso.example", "team": "HR"}}],
    }


def _files(tmp_path: Path, base: str, smtp_port: int) -> list[str]:
    (tmp_path / "alerts.json").write_text(json.dumps({
        "schema": "mailwarden.alerts/1", "generated_at": "2026-03-02T10:00:00Z",
        "alerts": [alert("c1")]}))
    (tmp_path / "findings.json").write_text(json.dumps(_findings("fail")))
    (tmp_path / "routing.yaml").write_text(
        "security_team: [secops@contoso.example]\nchannels:\n"
        f"  mail: {{type: email, url: 'mailto://127.0.0.1:{smtp_port}?from=mw@contoso.example'}}\n"
        f"  hook: {{type: json, url: '{base}/hook?token=CLISECRET42'}}\n"
        "routes:\n  - match: {severities: [critical, high]}\n    channels: [mail, hook]\n")
    return ["notify", "--alerts", str(tmp_path / "alerts.json"), "--findings",
            str(tmp_path / "findings.json"), "--routing", str(tmp_path / "routing.yaml"),
            "--state", str(tmp_path / "state.json")]


def test_dry_run_then_send_then_nothing_new(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with smtp_server() as (mail, smtp_port), http_server() as (web, base):
        args = _files(tmp_path, base, smtp_port)
        dry = runner.invoke(command_app(), [*args, "--dry-run"], catch_exceptions=False)
        assert dry.exit_code == 0, dry.output
        assert "4 deliveries would be sent" in dry.output
        assert "sign-in-enabled newly failing on hr@contoso.example" in dry.output
        assert "Block sign-in for the account." in dry.output
        assert "CLISECRET42" not in dry.output
        assert not (tmp_path / "state.json").exists() and not web.received and not mail.messages

        sent = runner.invoke(command_app(), args, catch_exceptions=False)
        assert sent.exit_code == 0, sent.output
        assert "4 deliveries" in sent.output and "CLISECRET42" not in sent.output
        assert sorted(b["kind"] for b in web.bodies("/hook")) == ["alert", "finding"]
        assert [m.rcpt_tos for m in mail.messages] == [
            ["jane@contoso.example", "secops@contoso.example"]] * 2

        again = runner.invoke(command_app(), args, catch_exceptions=False)
        assert again.exit_code == 0 and "0 deliveries" in again.output
        assert len(web.bodies("/hook")) == 2 and len(mail.messages) == 2


def test_a_bad_routing_file_is_a_one_line_error(tmp_path: Path) -> None:
    args = _files(tmp_path, "http://127.0.0.1:9", 9)
    (tmp_path / "routing.yaml").write_text("channels:\n  a: {type: fax, url: 'x'}\nroutes: []\n")
    result = runner.invoke(command_app(), args)
    assert result.exit_code != 0
    assert "routing.yaml:2: channel a: type 'fax'" in str(result.exception)


def test_controls_in_tenant_text_reach_no_subject_cef_line_or_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    hostile = "hr@contoso.example\x1b[31m\x07\x9b\u202e [locked]"
    (tmp_path / "alerts.json").write_text(json.dumps({
        "schema": "mailwarden.alerts/1", "generated_at": "2026-03-02T10:00:00Z",
        "alerts": [alert("c2", target=hostile)]}))
    with smtp_server() as (mail, smtp_port), udp_listener() as (syslog, syslog_port):
        (tmp_path / "routing.yaml").write_text(
            "security_team: [secops@contoso.example]\nchannels:\n"
            f"  mail: {{type: email, url: 'mailto://127.0.0.1:{smtp_port}"
            "?from=mw@contoso.example'}\n"
            f"  siem: {{type: syslog, url: 'udp://127.0.0.1:{syslog_port}'}}\n"
            "routes:\n  - match: {severities: [critical]}\n    channels: [mail, siem]\n")
        result = runner.invoke(command_app(), [
            "notify", "--alerts", str(tmp_path / "alerts.json"), "--routing",
            str(tmp_path / "routing.yaml"), "--state", str(tmp_path / "state.json")],
            catch_exceptions=False)
        datagram = syslog.recv(65535).decode("utf-8")
    assert result.exit_code == 0, result.output
    (envelope,) = mail.messages
    raw = email.message_from_bytes(envelope.content)["Subject"]
    subject = str(email.header.make_header(email.header.decode_header(raw)))
    assert "[locked]" in subject and "[locked]" in datagram and "[locked]" in result.output
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in subject, repr(subject)
        assert control not in datagram, repr(datagram)
        assert control not in result.output, repr(result.output)


def test_notify_as_a_process_sends_one_notice_per_incident_and_again_when_worse(
        tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    from datetime import timedelta

    from mailwarden.detect.document import render_alerts_json
    from mailwarden.detect.incidents import group_incidents
    from mailwarden.detect.results import DetectionResult
    from tests.detect.test_incidents import HR, T
    from tests.detect.test_incidents import alert as make_alert

    def write(alerts: list[object]) -> None:
        result = DetectionResult(alerts=tuple(alerts), readers=(), rule_runs=(),  # type: ignore[arg-type]
                                 incidents=group_incidents(alerts))  # type: ignore[arg-type]
        (tmp_path / "alerts.json").write_text(render_alerts_json(result, T))

    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    attack = [make_alert("probe", "leaver-access", HR, severity="high"),
              make_alert("imap", "legacy-protocol-auth", HR, severity="medium",
                         start=timedelta(minutes=5))]
    with http_server() as (web, base):
        (tmp_path / "routing.yaml").write_text(
            f"channels:\n  hook: {{type: json, url: '{base}/hook'}}\n"
            "routes:\n  - match: {categories: [leaver-access, ownerless-sign-in]}\n"
            "    channels: [hook]\n")
        args = [sys.executable, "-m", "mailwarden", "notify", "--alerts",
                str(tmp_path / "alerts.json"), "--routing", str(tmp_path / "routing.yaml"),
                "--state", str(tmp_path / "state.json")]

        def run() -> list[dict[str, object]]:
            before = len(web.bodies("/hook"))
            done = subprocess.run(args, capture_output=True, text=True, timeout=120,
                                  check=False, env=env)
            assert done.returncode == 0, done.stderr
            return list(web.bodies("/hook")[before:])

        write(attack)
        (first,) = run()  # two alerts, one incident, one notice
        incident = first["incident"]
        assert isinstance(incident, dict)
        assert sorted(incident["alert_ids"]) == ["imap", "probe"]
        assert first["notification"]["key"] == f"incident:{incident['id']}"  # type: ignore[index]
        assert run() == []  # nothing new
        write([*attack, make_alert("in", "ownerless-sign-in", HR, severity="critical",
                                   start=timedelta(minutes=9))])
        (worse,) = run()  # the same incident, worse: sent again as an escalation
        assert worse["incident"]["id"] == incident["id"]  # type: ignore[index]
        assert worse["notification"]["escalation"] is True  # type: ignore[index]


def test_a_failed_delivery_is_a_partial_result_as_a_process(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "alerts.json").write_text(json.dumps({
        "schema": "mailwarden.alerts/1", "generated_at": "2026-03-02T10:00:00Z",
        "alerts": [alert("c1")]}))
    (tmp_path / "routing.yaml").write_text(
        f"channels:\n  hook: {{type: json, url: 'http://127.0.0.1:{port}/hook'}}\n"
        "routes:\n  - channels: [hook]\n")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    done = subprocess.run(
        [sys.executable, "-m", "mailwarden", "notify", "--alerts", str(tmp_path / "alerts.json"),
         "--routing", str(tmp_path / "routing.yaml"), "--state", str(tmp_path / "state.json")],
        capture_output=True, text=True, timeout=120, check=False, env={**env, "COLUMNS": "200"})
    assert done.returncode == 4, done.stdout + done.stderr
    assert "stays pending" in " ".join(done.stderr.split())
