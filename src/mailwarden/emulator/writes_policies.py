"""Conditional-access policies: read one, update one, create one (Microsoft Graph v1.0).

    GET    /v1.0/identity/conditionalAccess/policies/{id}   -> 200 the policy
    PATCH  /v1.0/identity/conditionalAccess/policies/{id}   -> 204 (no body)
    POST   /v1.0/identity/conditionalAccess/policies        -> 201 the new policy
    DELETE /v1.0/identity/conditionalAccess/policies/{id}   -> 204 (no body)

As documented in microsoft-graph-docs-contrib, api-reference/v1.0/api/
conditionalaccesspolicy-update.md, conditionalaccessroot-post-policies.md and
conditionalaccesspolicy-delete.md:
- the writes need the application permissions Policy.Read.All *and*
  Policy.ReadWrite.ConditionalAccess; a token without them is refused with Graph's 403
  `Authorization_RequestDenied` "Insufficient privileges to complete the operation.";
- a PATCH keeps every property it does not name ("Existing properties that are not
  included in the request body will maintain their previous values"), and the documented
  example sends only `conditions.signInRiskLevels`: nested complex values are merged, a
  collection given replaces the old one;
- a POST answers 201 with the whole policy (every condition collection present, empty
  when not given), a new `id` and `createdDateTime`.

Validation follows the v1.0 schema (`conditionalAccessPolicy` in the CSDL,
../shared/reference/graph-v1.0-metadata.xml): `displayName` and `state` are not
nullable, `state` is one of conditionalAccessPolicyState, `clientAppTypes` members of
conditionalAccessClientApp, the user and group lists collections of strings; unknown
properties are refused as Graph refuses them (400 BadRequest).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import graph_error
from mailwarden.emulator.runtime import Emulator

SOURCE = "graph/conditionalAccessPolicies"
COLLECTION = ("identity", "conditionalaccess", "policies")
#: The permissions both writes need (application; least privileged, both at once).
WRITE_PERMISSIONS = ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess")
STATES = frozenset({"enabled", "disabled", "enabledForReportingButNotEnforced"})
CLIENT_APPS = frozenset({"all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync",
                         "easSupported", "other", "unknownFutureValue"})
POLICY_PROPERTIES = frozenset({"conditions", "createdDateTime", "description", "displayName",
                               "grantControls", "id", "modifiedDateTime", "sessionControls",
                               "state", "templateId"})
USER_LISTS = ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups",
              "includeRoles", "excludeRoles")


def is_policy_path(segments: list[str]) -> bool:
    lowered = tuple(s.lower() for s in segments[:3])
    return lowered == COLLECTION and len(segments) in (3, 4)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _bad(message: str) -> Response:
    return graph_error(400, "BadRequest", message)


def _find(emulator: Emulator, policy_id: str) -> dict[str, Any] | None:
    wanted = policy_id.lower()
    return next((p for p in emulator.state.rows(SOURCE) if str(p.get("id")).lower() == wanted),
                None)


def _missing(policy_id: str) -> Response:
    return graph_error(404, "ResourceNotFound",
                       f"Resource '{policy_id}' does not exist or one of its queried "
                       "reference-property objects are not present.")


def answer_policy_get(emulator: Emulator, base: str, version: str, policy_id: str) -> Response:
    policy = _find(emulator, policy_id)
    if policy is None:
        return _missing(policy_id)
    context = f"{base}/{version}/$metadata#identity/conditionalAccess/policies/$entity"
    return JSONResponse({"@odata.context": context, **policy})


def _holds(granted: frozenset[str] | None) -> bool:
    if granted is None:
        return True
    lowered = {g.lower() for g in granted}
    return all(p.lower() in lowered for p in WRITE_PERMISSIONS)


def _validate(body: Mapping[str, Any], *, creating: bool) -> str | None:
    """Why Graph refuses the body, or None."""
    unknown = [k for k in body if k not in POLICY_PROPERTIES and not k.startswith("@odata.")]
    if unknown:
        return (f"Invalid property '{unknown[0]}' for resource "
                "'microsoft.graph.conditionalAccessPolicy'.")
    if "state" in body and body["state"] not in STATES:
        return f"Requested value '{body['state']}' was not found."
    if creating:
        for name in ("displayName", "state", "conditions"):
            if not body.get(name):
                return f"The property '{name}' is required when creating the policy."
        if not (body.get("grantControls") or body.get("sessionControls")):
            return "A policy needs a grant control or a session control."
    conditions = body.get("conditions")
    if conditions is None:
        return None
    if not isinstance(conditions, Mapping):
        return "Invalid value for property 'conditions'."
    apps = conditions.get("clientAppTypes")
    if apps is not None and (not isinstance(apps, list) or set(map(str, apps)) - CLIENT_APPS):
        return "Invalid value for property 'clientAppTypes'."
    users = conditions.get("users")
    if users is not None:
        if not isinstance(users, Mapping):
            return "Invalid value for property 'users'."
        for name in USER_LISTS:
            value = users.get(name)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                return f"Invalid value for property '{name}'."
    if creating and not (isinstance(users, Mapping) and any(users.get(n) for n in USER_LISTS)):
        return "The policy has no user condition (for example 'includeUsers': ['None'])."
    return None


def _merge(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        before = merged.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            merged[key] = _merge(before, value)
        else:
            merged[key] = value
    return merged


def _shaped(body: Mapping[str, Any]) -> dict[str, Any]:
    """A created policy as Graph returns it: every user list present."""
    conditions = dict(body.get("conditions") or {})
    users = dict(conditions.get("users") or {})
    for name in USER_LISTS:
        users.setdefault(name, [])
    conditions["users"] = users
    conditions.setdefault("signInRiskLevels", [])
    conditions.setdefault("clientAppTypes", [])
    policy = {k: v for k, v in body.items() if not k.startswith("@odata.")}
    return {**policy, "id": str(uuid.uuid4()), "createdDateTime": _now(),
            "modifiedDateTime": None, "conditions": conditions,
            "sessionControls": body.get("sessionControls"), "templateId": None}


async def answer_policy_write(
    emulator: Emulator, request: Request, segments: list[str], granted: frozenset[str] | None
) -> Response:
    """A PATCH of one policy or a POST to the collection."""
    creating = len(segments) == 3
    if creating != (request.method == "POST"):
        return graph_error(405, "Request_BadRequest", "The method is not allowed here.")
    if not _holds(granted):
        return graph_error(403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.")
    if request.method == "DELETE":
        return _delete(emulator, segments[3])
    try:
        body: Any = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body:
        return _bad("Empty Payload. JSON content expected.")
    refusal = _validate(body, creating=creating)
    if refusal is not None:
        return _bad(refusal)
    state = emulator.state
    with state.lock:
        rows = state.rows(SOURCE)
        if creating:
            created = _shaped(body)
            state.replace_source(SOURCE, [*rows, created])
            base = str(request.base_url).rstrip("/")
            version = request.url.path.split("/")[1]
            context = f"{base}/{version}/$metadata#identity/conditionalAccess/policies/$entity"
            return JSONResponse({"@odata.context": context, **created}, 201)
        wanted = segments[3].lower()
        if not any(str(r.get("id")).lower() == wanted for r in rows):
            return _missing(segments[3])
        changes = {k: v for k, v in body.items() if k not in {"id", "createdDateTime"}}
        state.replace_source(SOURCE, [
            {**_merge(r, changes), "modifiedDateTime": _now()}
            if str(r.get("id")).lower() == wanted else r
            for r in rows
        ])
    return Response(status_code=204)


def _delete(emulator: Emulator, policy_id: str) -> Response:
    state = emulator.state
    with state.lock:
        rows = state.rows(SOURCE)
        kept = [r for r in rows if str(r.get("id")).lower() != policy_id.lower()]
        if len(kept) == len(rows):
            return _missing(policy_id)
        state.replace_source(SOURCE, kept)
    return Response(status_code=204)
