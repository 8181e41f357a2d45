"""The emulator as one ASGI application: Entra login, Graph, Exchange and its own stats.

    app = create_app(generate("small").recorded)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://e")

Every host name reaches the same tenant, so Graph, Exchange and login URLs may all point
at one base URL. `emulator_of(app)` gives the state, the conditions and the counts.
`/_emulator/...` paths are the emulator's own: its counts, and log records to add while it
runs (`logs_control`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailwarden.emulator import login, signin
from mailwarden.emulator.config import EmulatorConfig
from mailwarden.emulator.exchange_http import exchange_batch, invoke_command
from mailwarden.emulator.graph import graph_endpoint
from mailwarden.emulator.logs_api import LogsApi, logs_routes
from mailwarden.emulator.logs_control import control_routes
from mailwarden.emulator.runtime import Emulator
from mailwarden.tenant.logs import LogKind
from mailwarden.tenant.recorded import RecordedTenant

DEFAULT_CONFIG = EmulatorConfig()


def emulator_of(app: Starlette) -> Emulator:
    emulator: Emulator = app.state.emulator
    return emulator


async def _stats(request: Request) -> Response:
    return JSONResponse(emulator_of(request.app).stats.as_dict())


async def _reset(request: Request) -> Response:
    emulator_of(request.app).stats.reset()
    return Response(status_code=204)


def create_app(
    tenant: RecordedTenant,
    *,
    config: EmulatorConfig = DEFAULT_CONFIG,
    logs: Mapping[LogKind, Iterable[Mapping[str, Any]]] | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """An emulator serving `tenant` under `config` (default: no latency, throttling or faults),
    and `logs` (sign-ins, directory audits, UAL records; e.g. `read_log_directory(DIR)`).
    `clock` dates the tokens and authorization codes it issues."""
    routes = [
        Route("/_emulator/stats", _stats, methods=["GET"]),
        Route("/_emulator/stats/reset", _reset, methods=["POST"]),
        *control_routes(lambda request: emulator_of(request.app)),
        Route("/adminapi/beta/{tenant}/InvokeCommand", invoke_command, methods=["POST"]),
        Route("/adminapi/beta/{tenant}/$batch", exchange_batch, methods=["POST"]),
        *logs_routes(),
        Route("/v1.0/{path:path}", graph_endpoint, methods=["GET", "POST", "PATCH", "DELETE"]),
        Route("/beta/{path:path}", graph_endpoint, methods=["GET", "POST", "PATCH", "DELETE"]),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", login.openid_configuration,
              methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", login.token, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/devicecode", login.device_code, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/authorize", signin.authorize, methods=["GET", "POST"]),
        Route("/{tenant}/discovery/v2.0/keys", login.keys, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = Emulator(tenant, config, clock=clock)
    app.state.logs_api = LogsApi(config)
    for kind, rows in (logs or {}).items():
        app.state.emulator.state.add_log_records(kind, rows)
    return app
