"""Graph write calls that remediation makes: block sign-in and end sessions.

    PATCH /v1.0/users/{id}  {"accountEnabled": false}          -> 204
    POST  /v1.0/users/{id}/revokeSignInSessions                -> 200 {"value": true}

A write changes the served state (a rescan sees it) and counts in the stats as `writes`,
refused or not. An unknown user answers 404 as Graph does. Setting `failing_sources`
{"graph/write": 403} answers every write 403, as Graph does for an app that may read
users but lacks User.EnableDisableAccount.All / User.ReadWrite.All.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import graph_error
from mailwarden.emulator.config import Service
from mailwarden.emulator.runtime import Emulator

#: `failing_sources` key that refuses every Graph write.
GRAPH_WRITE_SOURCE = "graph/write"
WRITE_METHODS = frozenset({"PATCH", "POST"})
#: User properties a PATCH may change here, with their JSON type.
WRITABLE_USER_PROPERTIES: Mapping[str, type] = {"accountEnabled": bool}


def _missing(key: str) -> Response:
    return graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def _denied() -> Response:
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


async def answer_write(emulator: Emulator, request: Request, path: str) -> Response:
    """A PATCH or POST other than `$batch`."""
    emulator.stats.add(Service.GRAPH, "writes")
    segments = [s for s in path.split("/") if s]
    if not segments or segments[0].lower() != "users" or len(segments) not in (2, 3):
        return graph_error(405, "Request_BadRequest", "The method is not allowed here.")
    status = emulator.config.failing_sources.get(GRAPH_WRITE_SOURCE)
    if status is not None:
        return _denied() if status == 403 else graph_error(status, "ServiceUnavailable", "Retry.")
    user = emulator.state.user(segments[1])
    if user is None:
        return _missing(segments[1])
    if len(segments) == 3:
        if request.method != "POST" or segments[2].lower() != "revokesigninsessions":
            return graph_error(400, "BadRequest", f"Resource not found for the segment "
                               f"'{segments[2]}'.")
        base = str(request.base_url).rstrip("/")
        version = request.url.path.split("/")[1]
        return JSONResponse(
            {"@odata.context": f"{base}/{version}/$metadata#Edm.Boolean", "value": True}
        )
    if request.method != "PATCH":
        return graph_error(405, "Request_BadRequest", "The method is not allowed here.")
    try:
        body: Any = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body:
        return graph_error(400, "BadRequest", "Empty Payload. JSON content expected.")
    for name, value in body.items():
        expected = WRITABLE_USER_PROPERTIES.get(name)
        if expected is None:
            return graph_error(400, "Request_BadRequest", f"Invalid property '{name}'.")
        if not isinstance(value, expected):
            return graph_error(
                400, "Request_BadRequest", f"Invalid value specified for property '{name}'."
            )
    _update_user(emulator, str(user.get("id")), body)
    return Response(status_code=204)


def _update_user(emulator: Emulator, user_id: str, changes: Mapping[str, Any]) -> None:
    state = emulator.state
    with state.lock:
        rows = [
            {**row, **changes} if str(row.get("id")).lower() == user_id.lower() else row
            for row in state.rows("graph/users")
        ]
        state.replace_source("graph/users", rows)
