"""Graph's log endpoints over the tenant's log records (`TenantState.logs`).

- `GET /{v1.0|beta}/auditLogs/signIns` and `/auditLogs/directoryAudits`: `$filter` on the
  kind's time (`ge`, `gt`, `le`, `lt`, `eq`, joined by `and`), `$orderby` on it (`asc` or
  `desc`), `$top` up to 1000, `@odata.nextLink` paging, newest first unless asked
  otherwise, as Graph answers. With `reports_limit` set, at most that many requests per
  `reports_window` seconds per tenant pass; the others get 429 with Retry-After, like
  Graph's reports throttle (5 per 10 s).
- The audit log query API (`/security/auditLog/queries`): see `logs_query`.

Every request passes the token check and the emulator's conditions (latency, Graph
rate, faults). `failing_sources` refuses a kind: "logs/signIns", "logs/directoryAudits",
"logs/ual". A tenant without Entra ID P1 (emulator.licensing) is refused its sign-ins with
HTTP 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`, as Graph refuses them
(microsoftgraph/microsoft-graph-docs issues 4336 and 10987); its directory audits are
served (invictus-ir/Microsoft-Extractor-Suite issue 202: audit logs read, sign-ins 403 on
a free tenant).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailwarden.emulator import logs_query
from mailwarden.emulator.answers import graph_error
from mailwarden.emulator.licensing import NON_PREMIUM_CODE, NON_PREMIUM_MESSAGE, served_licences
from mailwarden.emulator.logs_odata import (
    QueryError,
    decode_token,
    guarded,
    next_link,
    parse_order,
    parse_time_filter,
    parse_top,
    refused,
)
from mailwarden.emulator.logs_store import TIME_FIELDS
from mailwarden.emulator.runtime import Emulator
from mailwarden.tenant.logs import LogKind
from mailwarden.times import parse_time

#: Largest `$top` for sign-ins and directory audits; the page size when none is asked.
LOG_MAX_TOP = 1000
LOG_DEFAULT_TOP = 100
_PATHS: Mapping[str, LogKind] = {"auditLogs/signIns": "signIns",
                                 "auditLogs/directoryAudits": "directoryAudits"}


def _resume_after(query: Mapping[str, str]) -> tuple[datetime, int] | None:
    if "$skiptoken" not in query:
        return None
    raw = decode_token(query["$skiptoken"])
    moment = parse_time(raw.get("t")) if isinstance(raw, dict) else None
    if moment is None or not isinstance(raw.get("s"), int):
        raise QueryError("The $skiptoken is not valid.")
    return moment, int(raw["s"])


def _page(emulator: Emulator, request: Request, kind: LogKind) -> Response:
    field = TIME_FIELDS[kind]
    query = request.query_params
    window = parse_time_filter(query.get("$filter"), field)
    newest_first = parse_order(query.get("$orderby"), field)
    top = parse_top(query.get("$top"), default=LOG_DEFAULT_TOP, largest=LOG_MAX_TOP)
    rows, more = emulator.state.logs.page(
        kind, window.start, window.end, start_inclusive=window.start_inclusive,
        end_inclusive=window.end_inclusive, after=_resume_after(query), limit=top,
        newest_first=newest_first)
    version = request.url.path.split("/")[1]
    body: dict[str, Any] = {
        "@odata.context": f"{str(request.base_url).rstrip('/')}/{version}/"
                          f"$metadata#auditLogs/{kind}",
        "value": [stored.row for stored in rows],
    }
    if more and rows:
        moment, sequence = rows[-1].key
        body["@odata.nextLink"] = next_link(request, {"t": moment.isoformat(), "s": sequence})
    return JSONResponse(body)


def _unlicensed(emulator: Emulator, kind: LogKind) -> Response | None:
    if kind != "signIns" or served_licences(emulator.state).p1:
        return None
    return graph_error(403, NON_PREMIUM_CODE, NON_PREMIUM_MESSAGE)


def _log_endpoint(kind: LogKind) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        async def handle(emulator: Emulator) -> Response:
            return refused(emulator, kind) or _unlicensed(emulator, kind) or _page(
                emulator, request, kind)

        return await guarded(request, handle, reports=True)

    return endpoint


def logs_routes() -> list[Route]:
    """The log routes, to be placed before the catch-all Graph routes."""
    routes = []
    for version in ("v1.0", "beta"):
        routes += [Route(f"/{version}/{path}", _log_endpoint(kind), methods=["GET"])
                   for path, kind in _PATHS.items()]
        routes += logs_query.query_routes(version)
    return routes
