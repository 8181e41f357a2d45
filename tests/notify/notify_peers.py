"""Real local peers for delivery tests (SMTP, HTTP, syslog on 127.0.0.1) and small builders."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from mailwarden.notify import Catalogue, Routing
from mailwarden.notify.routing import parse_routing

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
SLACK_BREAKER = "<!channel>"
CATALOGUE = Catalogue(categories=("password-spray", "ownerless-sign-in", "brute-force",
                                  "malicious-inbox-rule"),
                      rules=("spray-ip", "ownerless-sign-in-legacy", "brute-force-account",
                             "inbox-rule-hiding"),
                      checks=("sign-in-enabled", "imap-enabled", "no-custodian"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SmtpInbox:
    messages: list[Any] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.7.1 message refused by policy"
        self.messages.append(envelope)
        return "250 OK"


def _accept_login(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    return AuthResult(success=getattr(auth_data, "password", b"") == b"HUNTER2PASS")


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    port = free_port()
    # Accepts any login without TLS: the channel URL carries a password to prove it is
    # used for AUTH and never shown.
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=_accept_login)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class HttpInbox:
    received: list[tuple[str, Any]] = field(default_factory=list)
    failing_paths: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, body in self.received if p == path]


@contextmanager
def http_server() -> Iterator[tuple[HttpInbox, str]]:
    inbox = HttpInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            path = self.path.split("?", 1)[0]
            if path in inbox.failing_paths:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"receiver down")
                return
            with inbox.lock:
                inbox.received.append((path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def udp_listener() -> Iterator[tuple[socket.socket, int]]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        yield sock, sock.getsockname()[1]


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
