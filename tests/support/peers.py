"""Real local peers for delivery tests: SMTP, HTTP and syslog listeners on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


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


@contextmanager
def smtp_server(password: bytes = b"HUNTER2PASS") -> Iterator[tuple[SmtpInbox, int]]:
    """An SMTP server on 127.0.0.1 that takes a login without TLS, with `password` only:
    channel URLs carry a password to prove it is used for AUTH and never shown."""
    inbox = SmtpInbox()
    port = free_port()

    def accept_login(server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        return AuthResult(success=getattr(auth_data, "password", b"") == password)

    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=accept_login)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def html_part(message: Message) -> str:
    """The HTML body of a message the SMTP server received."""
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode("utf-8")
    raise AssertionError("no HTML part")


@dataclass
class HttpInbox:
    received: list[tuple[str, Any]] = field(default_factory=list)
    #: Every post, refused ones too: (path, its Idempotency-Key header, body).
    posts: list[tuple[str, str | None, Any]] = field(default_factory=list)
    failing_paths: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, body in self.received if p == path]

    def keys(self, path: str) -> list[str | None]:
        """The Idempotency-Key of every post to `path`, refused ones included."""
        with self.lock:
            return [key for p, key, _ in self.posts if p == path]


@contextmanager
def http_server() -> Iterator[tuple[HttpInbox, str]]:
    inbox = HttpInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            path = self.path.split("?", 1)[0]
            with inbox.lock:
                inbox.posts.append((path, self.headers.get("Idempotency-Key"), body))
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

    with loopback_http(Handler) as base:
        yield inbox, base


@contextmanager
def loopback_http(handler: type[BaseHTTPRequestHandler],
                  on_stop: Callable[[], None] | None = None) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (a free port) in a thread; yields the base URL.
    `on_stop` runs first when the block ends (e.g. to let held requests go)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if on_stop is not None:
            on_stop()
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextmanager
def udp_listener() -> Iterator[tuple[socket.socket, int]]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        yield sock, sock.getsockname()[1]
