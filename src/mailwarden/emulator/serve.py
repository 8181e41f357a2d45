"""Serving the emulator on loopback HTTPS, with a certificate authority made at start.

    with serve_in_thread(generate("small").recorded) as served:
        settings = Settings(login_url=served.base_url, graph_url=served.base_url,
                            exo_url=served.base_url, ca_bundle=served.ca_file, ...)

The CA and the server's key live in a private temporary directory (0700, files 0600)
that is removed on stop. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import trustme
import uvicorn
from starlette.applications import Starlette

from mailwarden.emulator.app import DEFAULT_CONFIG, create_app, emulator_of
from mailwarden.emulator.conditions import EmulatorStats
from mailwarden.emulator.config import EmulatorConfig
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.errors import ConfigError, ServiceError
from mailwarden.files import write_private_bytes, write_private_text
from mailwarden.tenant.recorded import RecordedTenant

LOOPBACK = "127.0.0.1"
_START_TIMEOUT = 10.0


@dataclass(slots=True)
class Served:
    """A running emulator. Use as a context manager, or call `stop()`."""

    base_url: str
    ca_file: Path
    app: Starlette
    _server: uvicorn.Server = field(repr=False)
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _directory: Path = field(repr=False)

    @property
    def stats(self) -> EmulatorStats:
        return emulator_of(self.app).stats

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop may have closed meanwhile
                self._loop.call_soon_threadsafe(_drop_connections, self._server)
            self._server.should_exit = True
            self._thread.join(timeout=_START_TIMEOUT)
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> Served:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _private_directory() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="mailwarden-emulator-"))
    directory.chmod(0o700)
    return directory


def _certificates(directory: Path) -> tuple[Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""
    authority = trustme.CA(organization_name="mailwarden emulator")
    server = authority.issue_cert(LOOPBACK, "localhost")
    ca_file, server_file = directory / "ca.pem", directory / "server.pem"
    write_private_bytes(ca_file, authority.cert_pem.bytes())
    write_private_bytes(server_file, server.private_key_and_cert_chain_pem.bytes())
    return ca_file, server_file


def _bind(host: str, port: int) -> socket.socket:
    if host not in {LOOPBACK, "localhost"}:
        raise ConfigError(f"the emulator serves on {LOOPBACK} only, not {host}")
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only
    # on sockets whose protocol says TCP, and with it on, every answer written in two parts
    # (head, then body) waits for the client's delayed acknowledgement: about 40 ms more
    # per request, whatever latency the emulator was asked for.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {LOOPBACK}:{port} ({exc.strerror}); pick another --port, "
            "or 0 for a free one"
        ) from None
    sock.listen(128)
    return sock


def _drop_connections(server: uvicorn.Server) -> None:
    """Abort the connections clients keep alive. Closing them politely would wait for each
    client's TLS close reply, which an idle client never sends, and their sockets would
    outlive the server."""
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.abort()  # also those closing politely (e.g. after keep-alive expiry)


def _serve(server: uvicorn.Server, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_until_complete(server.serve(sockets=[sock]))
        _drop_connections(server)
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        sock.close()
        loop.close()


def serve_in_thread(
    app_or_tenant: Starlette | RecordedTenant,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    config: EmulatorConfig = DEFAULT_CONFIG,
) -> Served:
    """Serve an app (or a tenant, with `config`) on https://127.0.0.1:PORT in a thread."""
    app = app_or_tenant if isinstance(app_or_tenant, Starlette) else create_app(
        app_or_tenant, config=config)
    tenancy_of(app).loopback = True
    directory = _private_directory()
    try:
        ca_file, server_file = _certificates(directory)
        sock = _bind(host, port)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    bound = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            ssl_certfile=str(server_file),
            log_config=None,
            log_level="critical",  # injected drops and timeouts would fill the log otherwise
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=_serve, args=(server, sock, loop), name="mailwarden-emulator", daemon=True
    )
    thread.start()
    served = Served(base_url=f"https://{LOOPBACK}:{bound}", ca_file=ca_file, app=app,
                    _server=server, _loop=loop, _thread=thread, _directory=directory)
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            served.stop()
            raise ServiceError("the emulator did not start; run with --debug to see why")
        time.sleep(0.005)
    return served


def run(
    app_or_tenant: Starlette | RecordedTenant,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    config: EmulatorConfig = DEFAULT_CONFIG,
    ca_out: Path | None = None,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve until `stop` is set or the process is interrupted (Ctrl-C). The CA is copied
    to `ca_out` (0600) before `on_ready` is called with the base URL."""
    with serve_in_thread(app_or_tenant, host=host, port=port, config=config) as served:
        if ca_out is not None:
            write_private_text(ca_out, served.ca_file.read_text(encoding="ascii"))
        if on_ready is not None:
            on_ready(served.base_url)
        (stop or threading.Event()).wait()
