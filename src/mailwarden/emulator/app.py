"""The emulator as one ASGI application: Entra login, Graph, Exchange and its own stats.

    app = create_app(generate("small").recorded)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://e")

Every host name reaches the same tenants, so Graph, Exchange and login URLs may all point
at one base URL. `emulator_of(app)` gives the state, the conditions and the counts.
`create_tenants_app(specs)` serves many tenants, each on its own (`emulator.tenancy`).
`/_emulator/...` paths are the emulator's own: the (first) tenant's counts, and log records
to add while it runs (`logs_control`); `/_emulator/tenants` lists every tenant with its
counts and the limits its clients asked beyond, and `/_emulator/tenants/{id}/stats` and
`/_emulator/tenants/{id}/logs/{kind}` are one tenant's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailwarden.emulator import login, signin
from mailwarden.emulator.config import EmulatorConfig
from mailwarden.emulator.exchange_http import exchange_batch, invoke_command
from mailwarden.emulator.graph import graph_endpoint
from mailwarden.emulator.logs_api import logs_routes
from mailwarden.emulator.logs_control import add_logs_endpoint, control_routes
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.tenancy import Tenancy, TenantSpec, recorded_spec, tenancy_of
from mailwarden.tenant.logs import LogKind
from mailwarden.tenant.recorded import RecordedTenant

DEFAULT_CONFIG = EmulatorConfig()


def emulator_of(app: Starlette) -> Emulator:
    """The (first) tenant's emulator: its state, conditions and counts."""
    return tenancy_of(app).primary()


async def _stats(request: Request) -> Response:
    return JSONResponse(emulator_of(request.app).stats.as_dict())


async def _reset(request: Request) -> Response:
    emulator_of(request.app).stats.reset()
    return Response(status_code=204)


def _tenant_of(request: Request) -> Emulator | None:
    return tenancy_of(request.app).named(str(request.path_params["tenant"]))


def _no_such_tenant(request: Request) -> Response:
    return JSONResponse({"error": f"no tenant {request.path_params['tenant']!r} is served"},
                        status_code=404)


async def _tenants(request: Request) -> Response:
    """Every served tenant (`built`: a request has named it), with its counts once built
    and the limits its clients asked beyond (`exceeded`, empty when none)."""
    tenancy = tenancy_of(request.app)
    built = tenancy.built()
    return JSONResponse({"tenants": [
        {"tenantId": tenant_id, "built": tenant_id in built,
         **({"stats": built[tenant_id].stats.as_dict(),
             "exceeded": list(built[tenant_id].stats.exceeded())}
            if tenant_id in built else {})}
        for tenant_id in tenancy.tenant_ids
    ], "unattributed": tenancy.nobody.stats.as_dict()})


async def _tenant_stats(request: Request) -> Response:
    emulator = _tenant_of(request)
    if emulator is None:
        return _no_such_tenant(request)
    return JSONResponse(emulator.stats.as_dict())


def _tenant_logs_endpoint() -> Callable[[Request], Awaitable[Response]]:
    add = add_logs_endpoint(lambda request: _tenant_of(request) or emulator_of(request.app))

    async def endpoint(request: Request) -> Response:
        if _tenant_of(request) is None:
            return _no_such_tenant(request)
        response: Response = await add(request)
        return response

    return endpoint


def _routes() -> list[Route]:
    return [
        Route("/_emulator/stats", _stats, methods=["GET"]),
        Route("/_emulator/stats/reset", _reset, methods=["POST"]),
        *control_routes(lambda request: emulator_of(request.app)),
        Route("/_emulator/tenants", _tenants, methods=["GET"]),
        Route("/_emulator/tenants/{tenant}/stats", _tenant_stats, methods=["GET"]),
        Route("/_emulator/tenants/{tenant}/logs/{kind}", _tenant_logs_endpoint(),
              methods=["POST"]),
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
    return create_tenants_app((recorded_spec(tenant, logs),), config=config, clock=clock)


def create_tenants_app(
    specs: Sequence[TenantSpec],
    *,
    config: EmulatorConfig = DEFAULT_CONFIG,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """An emulator serving every tenant of `specs`, each with its own state, conditions
    (`config` applies to each tenant on its own: a rate is per tenant) and counts; a
    tenant is built when a request first names it (`emulator.tenancy`)."""
    app = Starlette(routes=_routes())
    app.state.tenancy = Tenancy(specs, config, clock=clock)
    return app
