"""Builders for delivery tests: alerts with attacker-controlled strings, routing files."""

from __future__ import annotations

from typing import Any

from mailwarden.notify import Catalogue, Routing
from mailwarden.notify.routing import parse_routing

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
SLACK_BREAKER = "<!channel>"
CATALOGUE = Catalogue(categories=("password-spray", "ownerless-sign-in", "brute-force",
                                  "malicious-inbox-rule"),
                      rules=("spray-ip", "ownerless-sign-in-legacy", "brute-force-account",
                             "inbox-rule-hiding"),
                      checks=("sign-in-enabled", "imap-enabled", "no-custodian"))


def alert(ident: str = "a1", *, category: str = "ownerless-sign-in",
          rule_id: str = "ownerless-sign-in-legacy", severity: str = "critical",
          target: str | None = "hr@contoso.example", targets: tuple[str, ...] = (),
          facts: dict[str, Any] | None = None, agent: str = HOSTILE_NAME) -> dict[str, Any]:
    """An alert as alerts.json holds it, with attacker-controlled strings in its evidence."""
    return {
        "id": ident, "category": category, "rule_id": rule_id, "severity": severity,
        "target": target, "targets": list(targets or ((target,) if target else ())),
        "source_ips": ["203.0.113.9"], "first_seen": "2026-03-02T09:00:00Z",
        "last_seen": "2026-03-02T09:30:00Z", "event_count": 3,
        "summary": f"Sign-in to {target} over IMAP by {HOSTILE_NAME} {SLACK_BREAKER}",
        "evidence": [{"time": "2026-03-02T09:30:00Z", "upn": target, "ip": "203.0.113.9",
                      "client_app": "IMAP4", "user_agent": agent,
                      "display_name": "a|b=c\\d"}],
        "facts": facts or {}, "mitre": ["T1078"],
    }


def routing_text(base: str, smtp_port: int, *, syslog_port: int = 9,
                 slack_path: str = "/slack/T000/B000/SECRETTOKEN1") -> str:
    return f"""\
security_team: [secops@contoso.example]
fallback: [it@contoso.example]
channels:
  mail:
    type: email
    url: mailto://alerts:HUNTER2PASS@127.0.0.1:{smtp_port}?from=alerts@contoso.example&mode=insecure
  teams:
    type: teams
    url: {base}/teams/webhookb2/SECRETTEAMSTOKEN
  slack:
    type: slack
    url: {base}{slack_path}
  hook:
    type: json
    url: {base}/hook?token=SECRETHOOKTOKEN
  siem:
    type: syslog
    url: udp://127.0.0.1:{syslog_port}
    facility: local4
routes:
  - match: {{severities: [critical, high]}}
    channels: [mail, teams, slack, hook, siem]
  - match: {{checks: [sign-in-enabled]}}
    channels: [mail, hook]
  - match: {{severities: [medium]}}
    channels: [mail]
"""


def routing_of(text: str) -> Routing:
    return parse_routing(text, "routing.yaml", CATALOGUE)
