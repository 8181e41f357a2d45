"""Graph write calls that remediation makes: block sign-in and end sessions.

    PATCH /v1.0/users/{id}  {"accountEnabled": false}          -> 204
    POST  /v1.0/users/{id}/revokeSignInSessions                -> 200 {"value": true}
    DELETE /v1.0/servicePrincipals/{resource}/appRoleAssignedTo/{id}          -> 204
    POST   /v1.0/servicePrincipals/{resource}/appRoleAssignedTo {principalId, resourceId,
           appRoleId}                                                        -> 201 + object
    (microsoft-graph-docs-contrib serviceprincipal-delete-approleassignedto.md and
    serviceprincipal-post-approleassignedto.md)

A write changes the served state (a rescan sees it) and counts in the stats as `writes`,
refused or not. An unknown user answers 404 as Graph does. Setting `failing_sources`
{"graph/write": 403} answers every write 403, as Graph does for an app that may read
users but lacks User.EnableDisableAccount.All / User.ReadWrite.All.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import graph_error
from mailwarden.emulator.config import Service
from mailwarden.emulator.runtime import Emulator
from mailwarden.times import iso

#: `failing_sources` key that refuses every Graph write.
GRAPH_WRITE_SOURCE = "graph/write"
WRITE_METHODS = frozenset({"PATCH", "POST", "DELETE"})
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
    assigned = (len(segments) in (3, 4) and segments[0].lower() == "serviceprincipals"
                and segments[2].lower() == "approleassignedto")
    if not assigned and (not segments or segments[0].lower() != "users"
                         or len(segments) not in (2, 3) or request.method == "DELETE"):
        return graph_error(405, "Request_BadRequest", "The method is not allowed here.")
    status = emulator.config.failing_sources.get(GRAPH_WRITE_SOURCE)
    if status is not None:
        return _denied() if status == 403 else graph_error(status, "ServiceUnavailable", "Retry.")
    if assigned:
        return await _app_role_write(emulator, request, segments)
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


ASSIGNED = "graph/appRoleAssignedTo"


async def _app_role_write(emulator: Emulator, request: Request, segments: list[str]) -> Response:
    """Grant (POST) or remove (DELETE) an app role assignment on a resource."""
    state = emulator.state
    resource = segments[1].lower()
    principals = {str(sp.get("id", "")).lower(): sp for sp in state.rows("graph/servicePrincipals")}
    if resource not in principals:
        return _missing(segments[1])
    raw = state.data.get(ASSIGNED)
    table: dict[str, list[dict[str, Any]]] = {
        str(k).lower(): list(v) for k, v in (raw or {}).items() if isinstance(v, list)}
    rows = table.get(resource, [])
    if request.method == "DELETE" and len(segments) == 4:
        kept = [r for r in rows if str(r.get("id")) != segments[3]]
        if len(kept) == len(rows):
            return _missing(segments[3])
        table[resource] = kept
        state.replace_source(ASSIGNED, table)
        return Response(status_code=204)
    if request.method != "POST" or len(segments) != 3:
        return graph_error(405, "Request_BadRequest", "The method is not allowed here.")
    try:
        body: Any = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not {"principalId", "resourceId", "appRoleId"} <= set(body):
        return graph_error(400, "Request_BadRequest",
                           "principalId, resourceId and appRoleId are required.")
    principal = principals.get(str(body["principalId"]).lower())
    roles = {str(r.get("id", "")).lower() for r in principals[resource].get("appRoles") or ()}
    if principal is None or str(body["appRoleId"]).lower() not in roles \
            or str(body["resourceId"]).lower() != resource:
        return graph_error(400, "Request_BadRequest",
                           "Permission being assigned was not found on application")
    created = {
        "id": secrets.token_urlsafe(32)[:43], "deletedDateTime": None,
        "appRoleId": body["appRoleId"], "createdDateTime": iso(datetime.now(UTC)),
        "principalDisplayName": principal.get("displayName"), "principalId": body["principalId"],
        "principalType": "ServicePrincipal",
        "resourceDisplayName": principals[resource].get("displayName"),
        "resourceId": principals[resource].get("id"),
    }
    table[resource] = [*rows, created]
    state.replace_source(ASSIGNED, table)
    return JSONResponse(created, status_code=201)
