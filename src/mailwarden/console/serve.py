"""Serving the console with uvicorn, until Ctrl-C or SIGTERM.

Where it listens: in local mode (a token printed at start signs in as admin) only on a
loopback address, so nobody else on the network reaches the sign-in page; team mode (Entra
ID sign-in) may listen on any address, typically behind a TLS-terminating reverse proxy.

What it logs: uvicorn's access and error logs go to stderr through `RedactSecrets`, which
removes every query string (the local token, an OpenID Connect code and state) and the
token in a custodian link (`/r/...`) or an invite (`/invite/...`) path from every line.
The one place a local token is ever shown is the sign-in URL the CLI prints once.

Stopping: SIGINT and SIGTERM make uvicorn finish the requests in flight (a few seconds at
most) and return; the signal is not raised again afterwards, so the command ends normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mailwarden.console.config import AuthMode
from mailwarden.errors import ConfigError

_QUERY = re.compile(r"\?[^\s\"']*")
_TOKEN_PATH = re.compile(r"/(r|invite)/[^\s\"'?/]+")
_START_TIMEOUT = 15.0


def redact(text: str) -> str:
    """`text` without query strings and without the token of a link or invite path."""
    return _TOKEN_PATH.sub(r"/\1/[redacted]", _QUERY.sub("?[redacted]", text))


class RedactSecrets(logging.Filter):
    """A logging filter that rewrites each record's message with `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        return True


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": RedactSecrets}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                            "filters": ["redact"], "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, auth: AuthMode) -> None:
    """Local mode listens on loopback only; a ConfigError says what to do otherwise."""
    if auth is AuthMode.LOCAL and not is_loopback(host):
        raise ConfigError(
            f"--host {host}: local mode listens on a loopback address only (127.0.0.1, ::1, "
            "localhost), since its token signs in as admin; for a team, use --auth entra "
            "(Entra ID sign-in) behind HTTPS, or reach this machine with an SSH tunnel")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one)."""
    address = "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        return socket.create_server((address, port), family=family, backlog=128)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick "
                          "another --port, or 0 for a free one") from None


class _Server(uvicorn.Server):
    """uvicorn's server, stopping gracefully on SIGINT or SIGTERM without raising the
    signal again afterwards (uvicorn re-raises it, which would end the process with the
    signal's status instead of the command's own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(app: Starlette, sock: socket.socket, *, on_ready: Callable[[], None],
          stop: threading.Event | None = None) -> None:
    """Serve `app` on `sock` until a signal (or `stop`, for tests) ends it; `on_ready` is
    called once the server accepts connections."""
    server = _Server(uvicorn.Config(app, log_config=LOG_CONFIG, access_log=True,
                                    lifespan="off", timeout_graceful_shutdown=5,
                                    server_header=False))

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        waited = 0.0
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
            waited += 0.01
            if waited > _START_TIMEOUT:
                server.should_exit = True
                break
        if server.started:
            on_ready()
        while stop is not None and not stop.is_set() and not task.done():
            await asyncio.sleep(0.05)
        if stop is not None:
            server.should_exit = True
        await task

    try:
        asyncio.run(run())
    finally:
        sock.close()


__all__ = ["LOG_CONFIG", "RedactSecrets", "bind", "check_host", "is_loopback", "redact",
           "serve"]
