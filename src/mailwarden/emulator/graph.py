"""Microsoft Graph: the collections mailwarden reads, with `$select`, `$top`, paging and `$batch`.

A request is served from the tenant its token was issued for (`emulator.tenancy`).

`answer_get` is one GET as Graph answers it (status, headers, body); the HTTP route and
each `$batch` sub-request both go through it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import graph_error, graph_error_body
from mailwarden.emulator.config import Service
from mailwarden.emulator.licensing import licence_refusal
from mailwarden.emulator.paging import (
    DIRECTORY_DEFAULT_TOP,
    DIRECTORY_MAX_TOP,
    SIGN_IN_ACTIVITY_MAX_TOP,
    names_sign_in_activity,
)
from mailwarden.emulator.permissions import blank_leave_dates, granted_by, read_refusal
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.emulator.tokens import GRAPH_AUDIENCES, b64url, b64url_decode
from mailwarden.emulator.writes_graph import GRAPH_WRITE_SOURCE, WRITE_METHODS, answer_write
from mailwarden.emulator.writes_policies import (
    answer_policy_get,
    answer_policy_write,
    is_policy_path,
)

BATCH_LIMIT = 20
VERSIONS = ("v1.0", "beta")
#: Properties Graph returns for a user when the request names none.
USER_DEFAULT_PROPERTIES = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)

Answer = tuple[int, dict[str, str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Collection:
    source: str
    entity: str
    default_top: int | None = None  # None: Graph returns the whole collection at once
    max_top: int | None = None
    default_select: tuple[str, ...] | None = None


COLLECTIONS: Mapping[str, Collection] = {
    "users": Collection("graph/users", "users", DIRECTORY_DEFAULT_TOP, DIRECTORY_MAX_TOP,
                        USER_DEFAULT_PROPERTIES),
    "groups": Collection("graph/groups", "groups", DIRECTORY_DEFAULT_TOP, DIRECTORY_MAX_TOP),
    "rolemanagement/directory/roleassignments": Collection(
        "graph/roleAssignments", "roleManagement/directory/roleAssignments"
    ),
    "rolemanagement/directory/roledefinitions": Collection(
        "graph/roleDefinitions", "roleManagement/directory/roleDefinitions"
    ),
    "identity/conditionalaccess/policies": Collection(
        "graph/conditionalAccessPolicies", "identity/conditionalAccess/policies"
    ),
    "settings": Collection("graph/settings", "settings"),
    "reports/authenticationmethods/userregistrationdetails": Collection(
        "graph/userRegistrationDetails",
        "reports/authenticationMethods/userRegistrationDetails",
        DIRECTORY_DEFAULT_TOP,
        DIRECTORY_MAX_TOP,
    ),
    "subscribedskus": Collection("graph/subscribedSkus", "subscribedSkus"),
    "rolemanagement/directory/roleeligibilityschedules": Collection(
        "graph/roleEligibilitySchedules", "roleManagement/directory/roleEligibilitySchedules"
    ),
    "serviceprincipals": Collection("graph/servicePrincipals", "servicePrincipals",
                                    DIRECTORY_DEFAULT_TOP, DIRECTORY_MAX_TOP),
}
#: GET /servicePrincipals/{id}/appRoleAssignedTo, paged as directory collections are.
APP_ROLE_ASSIGNED_TO = Collection("graph/appRoleAssignedTo", "appRoleAssignments",
                                  DIRECTORY_DEFAULT_TOP, DIRECTORY_MAX_TOP)
#: Singletons: path (lower case) -> (source, entity set named in @odata.context).
SINGLETONS: Mapping[str, tuple[str, str]] = {
    "policies/identitysecuritydefaultsenforcementpolicy": (
        "graph/securityDefaults", "policies/identitySecurityDefaultsEnforcementPolicy"
    ),
}
MEMBERS = Collection("graph/groupMembers", "directoryObjects", DIRECTORY_DEFAULT_TOP,
                     DIRECTORY_MAX_TOP)


def _error(status: int, code: str, message: str) -> Answer:
    return status, {}, graph_error_body(code, message)


def _refused(status: int) -> Answer:
    if status == 403:
        return _error(403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")
    return _error(status, "InternalServerError" if status >= 500 else "BadRequest",
                  "The service failed to answer this request.")


def project(item: Mapping[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
    """Only the selected properties (any case) plus `id` and OData annotations;
    properties the object lacks are left out, unknown names ignored."""
    if select is None:
        return dict(item)
    wanted = {s.strip().lower() for s in select} | {"id"}
    return {k: v for k, v in item.items() if k.lower() in wanted or k.startswith("@odata.")}


class GraphRequest:
    """One GET, relative to the version: path segments and query options, and the
    permissions its token grants (None: every one)."""

    def __init__(
        self,
        base: str,
        version: str,
        path: str,
        query: Mapping[str, str],
        *,
        granted: frozenset[str] | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self.version = version
        self.path = path.strip("/")
        self.query = query
        self.granted = granted

    @property
    def select(self) -> list[str] | None:
        raw = self.query.get("$select")
        return [p for p in raw.split(",") if p.strip()] if raw else None

    def context(self, entity: str) -> str:
        return f"{self.base}/{self.version}/$metadata#{entity}"

    def next_link(self, offset: int) -> str:
        options = [(k, v) for k, v in self.query.items() if k != "$skiptoken"]
        options.append(("$skiptoken", b64url(json.dumps({"o": offset}).encode())))
        query = "&".join(f"{k}={quote(v, safe=',$')}" for k, v in options)
        return f"{self.base}/{self.version}/{self.path}?{query}"


def _page(request: GraphRequest, spec: Collection, items: list[dict[str, Any]]) -> Answer:
    select = request.select
    top_text = request.query.get("$top")
    top = spec.default_top
    if top_text is not None and spec.max_top is not None:
        if not top_text.isdigit() or not 1 <= int(top_text) <= spec.max_top:
            return _error(400, "Request_UnsupportedQuery",
                          f"Invalid page size specified: '{top_text}'. "
                          f"Must be between 1 and {spec.max_top} inclusive.")
        top = int(top_text)
    if top is not None and spec.source == "graph/users" and names_sign_in_activity(
            request.select, request.query.get("$filter")):
        top = min(top, SIGN_IN_ACTIVITY_MAX_TOP)
    offset = 0
    token = request.query.get("$skiptoken")
    if token is not None:
        try:
            offset = int(json.loads(b64url_decode(token))["o"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "Request_BadRequest", "The $skiptoken is not valid.")
    chosen = items[offset:] if top is None else items[offset : offset + top]
    if select is None and spec.default_select is not None:
        select = list(spec.default_select)
    values = [project(item, select) for item in chosen]
    body: dict[str, Any] = {
        "@odata.context": request.context(spec.entity),
        "value": values,
    }
    if top is not None and offset + top < len(items):
        body["@odata.nextLink"] = request.next_link(offset + top)
    return 200, {}, body


def _organization(emulator: Emulator, request: GraphRequest) -> Answer:
    refused = emulator.refusal_status("tenant")
    if refused is not None:
        return _refused(refused)
    info = emulator.state.tenant_info
    domains = emulator.state.domains
    initial = next((d for d in domains if d.lower().endswith(".onmicrosoft.com")), None)
    org = {
        "id": emulator.state.tenant_id,
        "displayName": info.get("displayName"),
        "verifiedDomains": [
            {
                "name": name,
                "isDefault": name == info.get("defaultDomain"),
                "isInitial": name == initial,
                "type": "Managed",
                "capabilities": "Email, OfficeCommunicationsOnlineService",
            }
            for name in domains
        ],
    }
    return 200, {}, {"@odata.context": request.context("organization"),
                     "value": [project(org, request.select)]}


def _entity(emulator: Emulator, request: GraphRequest, kind: str, key: str) -> Answer:
    source = "graph/users" if kind == "users" else "graph/groups"
    refused = emulator.refusal_status(source)
    if refused is not None:
        return _refused(refused)
    found = emulator.state.user(key) if kind == "users" else emulator.state.group(key)
    if found is None:
        return _error(404, "Request_ResourceNotFound",
                      f"Resource '{key}' does not exist or one of its queried "
                      "reference-property objects are not present.")
    select = request.select
    if select is None and kind == "users":
        select = list(USER_DEFAULT_PROPERTIES)
    projected = project(found, select)
    body = {"@odata.context": request.context(f"{kind}/$entity"), **projected}
    return 200, {}, body


def _singleton(emulator: Emulator, request: GraphRequest, source: str, entity: str) -> Answer:
    refused = emulator.refusal_status(source)
    if refused is not None:
        return _refused(refused)
    found = emulator.state.data.get(source)
    if isinstance(found, list) and len(found) == 1:
        found = found[0]
    if not isinstance(found, Mapping):
        return _refused(500)
    body = {k: v for k, v in found.items() if not k.startswith("@odata.")}
    return 200, {}, {"@odata.context": request.context(entity), **project(body, request.select)}


def answer_get(emulator: Emulator, request: GraphRequest) -> Answer:
    """A GET as Graph answers it."""
    segments = [s for s in request.path.split("/") if s]
    lowered = "/".join(segments).lower()
    denied = read_refusal(request.granted, segments, request.select)
    if denied is not None:
        return denied
    if lowered == "organization":
        return _organization(emulator, request)
    spec = COLLECTIONS.get(lowered)
    source = spec.source if spec is not None else None
    if source not in emulator.config.failing_sources:
        # The app is allowed the call; what the tenant's licences allow comes next.
        unlicensed = licence_refusal(emulator.state, lowered, request.query)
        if unlicensed is not None:
            return unlicensed
    if spec is not None:
        refused = emulator.refusal_status(spec.source)
        if refused is not None:
            return _refused(refused)
        answer = _page(request, spec, emulator.state.rows(spec.source))
        if spec.source == "graph/users":
            blank_leave_dates(answer[2], request.granted)
        return answer
    if lowered in SINGLETONS:
        return _singleton(emulator, request, *SINGLETONS[lowered])
    if len(segments) == 2 and segments[0].lower() in {"users", "groups"}:
        answer = _entity(emulator, request, segments[0].lower(), segments[1])
        if segments[0].lower() == "users":
            blank_leave_dates(answer[2], request.granted)
        return answer
    if len(segments) == 3 and segments[0].lower() == "groups" and segments[2].lower() == "members":
        return _members(emulator, request, segments[1])
    if (len(segments) == 3 and segments[0].lower() == "serviceprincipals"
            and segments[2].lower() == "approleassignedto"):
        return _assigned_to(emulator, request, segments[1])
    return _error(400, "BadRequest",
                  f"Resource not found for the segment '{segments[0] if segments else ''}'.")


def _members(emulator: Emulator, request: GraphRequest, group_id: str) -> Answer:
    for source in ("graph/groups", "graph/groupMembers"):
        refused = emulator.refusal_status(source)
        if refused is not None:
            return _refused(refused)
    if emulator.state.group(group_id) is None:
        return _error(404, "Request_ResourceNotFound",
                      f"Resource '{group_id}' does not exist or one of its queried "
                      "reference-property objects are not present.")
    return _page(request, MEMBERS, emulator.state.members(group_id))


def _assigned_to(emulator: Emulator, request: GraphRequest, sp_id: str) -> Answer:
    """The app role assignments granted on a resource service principal."""
    for source in ("graph/servicePrincipals", "graph/appRoleAssignedTo"):
        refused = emulator.refusal_status(source)
        if refused is not None:
            return _refused(refused)
    known = {str(sp.get("id", "")).lower() for sp in emulator.state.rows("graph/servicePrincipals")}
    if sp_id.lower() not in known:
        return _error(404, "Request_ResourceNotFound",
                      f"Resource '{sp_id}' does not exist or one of its queried "
                      "reference-property objects are not present.")
    assigned = emulator.state.data.get("graph/appRoleAssignedTo")
    rows = next((list(v) for k, v in (assigned or {}).items()
                 if str(k).lower() == sp_id.lower() and isinstance(v, list)), [])
    return _page(request, APP_ROLE_ASSIGNED_TO, rows)


def _json(answer: Answer) -> JSONResponse:
    status, headers, body = answer
    return JSONResponse(body, status, headers=headers)


def _unauthorized(reason: str) -> JSONResponse:
    return graph_error(401, "InvalidAuthenticationToken", reason,
                       {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'})


async def graph_endpoint(request: Request) -> Response:
    """GET /{version}/{path}, POST /{version}/$batch, and the writes of `writes_graph`."""
    emulator = tenancy_of(request.app).for_token(request.headers.get("authorization"))
    version, path = request.url.path.split("/")[1], request.path_params["path"]
    base = str(request.base_url).rstrip("/")
    route = f"/{version}/{path}" + (f"?{request.url.query}" if request.url.query else "")

    async def handle() -> Response:
        authorization = request.headers.get("authorization")
        reason = emulator.tokens.check(authorization, GRAPH_AUDIENCES)
        if reason is not None:
            return _unauthorized(reason)
        granted = granted_by(emulator.tokens.claims(authorization))
        if request.method == "POST" and path.strip("/") == "$batch":
            return await _batch(emulator, request, base, version, granted)
        segments = [s for s in path.split("/") if s]
        if is_policy_path(segments) and request.method in {*WRITE_METHODS, "DELETE"}:
            return await _policy_write(emulator, request, segments, granted)
        if request.method in WRITE_METHODS:
            return await answer_write(emulator, request, path)
        if request.method != "GET":
            return graph_error(405, "Request_BadRequest", "The method is not allowed here.")
        query = dict(request.query_params)
        if is_policy_path(segments) and len(segments) == 4:
            denied = read_refusal(granted, segments, None)
            if denied is not None:
                return _json(denied)
            return answer_policy_get(emulator, base, version, segments[3])
        return _json(answer_get(emulator, GraphRequest(base, version, path, query,
                                                       granted=granted)))

    throttle = not (request.method == "POST" and path.strip("/") == "$batch")
    if not throttle:  # its sub-requests are throttled, each on its own
        emulator.stats.add(Service.GRAPH, "batches")
    return await emulator.conditions.guard(Service.GRAPH, route, handle, throttle=throttle)


async def _policy_write(
    emulator: Emulator, request: Request, segments: list[str], granted: frozenset[str]
) -> Response:
    emulator.stats.add(Service.GRAPH, "writes")
    status = emulator.config.failing_sources.get(GRAPH_WRITE_SOURCE)
    if status is not None:
        return _json(_refused(status))
    return await answer_policy_write(emulator, request, segments, granted)


async def _batch(
    emulator: Emulator, request: Request, base: str, version: str, granted: frozenset[str]
) -> Response:
    try:
        payload = json.loads(await request.body())
        items = payload["requests"]
        if not isinstance(items, list):
            raise TypeError("requests is not an array")
    except (ValueError, KeyError, TypeError):
        return graph_error(400, "BadRequest", "Invalid batch payload format.")
    if len(items) > BATCH_LIMIT:
        return graph_error(400, "BadRequest",
                           f"The number of batch requests exceeds the limit of {BATCH_LIMIT}.")
    responses = [_sub_answer(emulator, item, base, version, granted) for item in items]
    return JSONResponse({"responses": responses})


def _sub_answer(
    emulator: Emulator, item: Any, base: str, version: str, granted: frozenset[str]
) -> dict[str, Any]:
    if not isinstance(item, Mapping) or "id" not in item or "url" not in item:
        status, headers, body = _error(400, "BadRequest", "A batch request needs an id and a url.")
        return {"id": str(item.get("id", "")) if isinstance(item, Mapping) else "",
                "status": status, "headers": headers, "body": body}
    url = urlsplit(str(item["url"]))
    path = url.path
    marker = f"/{version}/"
    if marker in path:
        path = path.split(marker, 1)[1]
    route = f"/{version}/{path.lstrip('/')}" + (f"?{url.query}" if url.query else "")
    held = emulator.conditions.sub_answer(route)
    if held is not None:
        status, headers, body = held
    elif str(item.get("method", "GET")).upper() != "GET":
        status, headers, body = _error(405, "Request_BadRequest", "Only GET is emulated in $batch.")
    else:
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        status, headers, body = answer_get(
            emulator, GraphRequest(base, version, path, query, granted=granted)
        )
    if 400 <= status < 500 and status != 429:
        emulator.stats.add(Service.GRAPH, "refused")
    return {
        "id": str(item["id"]),
        "status": status,
        "headers": {"Content-Type": "application/json", **headers},
        "body": body,
    }
