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
