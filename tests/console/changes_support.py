"""What the exceptions and remediation tests share: the small synthetic tenant served by
the emulator on loopback HTTPS, a console connected to it through a settings file (as
`--config` gives it), and the console itself served on loopback for a browser."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from mailwarden.console.context import Console
from mailwarden.emulator import DEFAULT_CLIENT_SECRET, Served, serve_in_thread
from mailwarden.tenant.recorded import RecordedTenant
from tests.console.support import console_for
from tests.remediate.remediate_helpers import small, tenant_id


@contextmanager
def served_tenant(monkeypatch: pytest.MonkeyPatch,
                  recorded: RecordedTenant | None = None) -> Iterator[Served]:
    """The emulator serving `recorded` (the small synthetic tenant by default); the client
    secret in the environment, where the console reads it."""
    monkeypatch.setenv("MAILWARDEN_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    with serve_in_thread(recorded or small().recorded) as running:
        yield running
        gc.collect()  # close MSAL's dropped HTTP sessions before the server stops
        time.sleep(0.1)


def connected_console(served: Served, directory: Path) -> Console:
    """A console on a new history database in `directory`, started with a settings file
    naming the served tenant."""
    settings = directory / "mailwarden.toml"
    base = served.base_url
    settings.write_text(
        f'tenant = "{tenant_id()}"\nclient_id = "console-test"\nlogin_url = "{base}"\n'
        f'graph_url = "{base}"\nexo_url = "{base}"\nca_bundle = "{served.ca_file}"\n',
        encoding="utf-8")
    return console_for(f"sqlite:///{directory / 'history.db'}", settings_file=settings)


@contextmanager
def serve_console(app: Starlette) -> Iterator[str]:
    """The console app on http://127.0.0.1:PORT in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="critical",
                                           access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                              name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def with_rule_names(recorded: RecordedTenant, name: str) -> RecordedTenant:
    """The tenant with every inbox rule renamed `name` and its number."""
    rules = [{**rule, "Name": f"{name} {n}"}
             for n, rule in enumerate(recorded.data["exo/Get-InboxRule"])]
    return dataclasses.replace(recorded, data={**recorded.data, "exo/Get-InboxRule": rules})
