"""The emulator's own control endpoint for log records: `POST /_emulator/logs/{kind}`.

Real tenants log sign-ins and audits as they happen; a running emulator gets them here,
so a watcher run as a process (nothing injected) can be shown an attack between two of
its cycles. This path is the emulator's, like `/_emulator/stats`: Microsoft has no such
endpoint, and nothing in mailwarden's client calls it.

The body is a JSON array of records, or `{"value": [...]}`, each in the kind's recorded
shape (a Graph `signIn` or `directoryAudit`; a Unified Audit Log record in the common
schema). A record without its time (`createdDateTime`, `activityDateTime`,
`CreationTime`) is stamped with the current time, and one without an id (`id`, `Id` for
the UAL) gets a new GUID, as the services assign both when they log. The records are
then served by the log APIs like every other record: a reader whose checkpoint is before
their time reads each of them once. Answers 200 with `{"added": N}`, or 400 naming what
is wrong with the body.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailwarden.emulator.logs_store import TIME_FIELDS, as_kind
from mailwarden.emulator.runtime import Emulator
from mailwarden.tenant.logs import LogKind
from mailwarden.times import iso

ID_FIELDS: Mapping[LogKind, str] = {"signIns": "id", "directoryAudits": "id", "ual": "Id"}


def stamped(kind: LogKind, row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """`row` with its time and id filled in where it has none."""
    record = dict(row)
    if not record.get(TIME_FIELDS[kind]):
        record[TIME_FIELDS[kind]] = iso(now)
    if not record.get(ID_FIELDS[kind]):
        record[ID_FIELDS[kind]] = str(uuid.uuid4())
    return record


def _bad(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)


def add_logs_endpoint(emulator_of: Callable[[Request], Emulator],
                      clock: Callable[[], datetime] = lambda: datetime.now(UTC)
                      ) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            kind = as_kind(request.path_params["kind"])
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            return _bad(f"the body is not JSON ({exc.msg})")
        rows = body.get("value") if isinstance(body, dict) else body
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return _bad('give a JSON array of records, or {"value": [...]}')
        now = clock()
        try:
            added = emulator_of(request).state.add_log_records(
                kind, [stamped(kind, row, now) for row in rows])
        except ValueError as exc:
            return _bad(str(exc))
        return JSONResponse({"added": added})

    return endpoint


def control_routes(emulator_of: Callable[[Request], Emulator]) -> list[Route]:
    return [Route("/_emulator/logs/{kind}", add_logs_endpoint(emulator_of), methods=["POST"])]
