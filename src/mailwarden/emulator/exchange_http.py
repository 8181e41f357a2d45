"""Exchange's HTTP endpoints: InvokeCommand, and `$batch` of InvokeCommand sub-requests.

A `$batch` request is one request in flight for the concurrency cap; each of its
sub-requests (at most ten) is throttled, faulted and answered on its own.

Without `Prefer: odata.continue-on-error` (on the batch, or on every sub-request, where
CIPP's New-ExoBulkRequest puts it) the batch stops at the first sub-request that fails and
answers none after it: the default of Microsoft's OData batch handler since Web API 5.7
(OData/WebApi#447). No capture shows what the Exchange admin API itself does without the
preference; this is the cautious reading, under which a client that omits it loses answers.

The tenant is the one the path names (`emulator.tenancy`); a token issued for another
tenant is refused with 401 and `error="invalid_token"` in a WWW-Authenticate challenge
naming the app, its token types and the authority, the shape Exchange Online's REST
endpoints answer a token they do not accept for the tenant with (a captured answer:
git.azcomputerguru.com/azcomputerguru/claudetools, clients/cascades-tucson/reports/
2026-05-07-exchange-api-propagation-status.md). Refusing, rather than answering from the
token's tenant, matters: the ExchangeOnlineManagement module once connected with an access
token and another -DelegatedOrganization silently served the token's tenant
(MicrosoftDocs/office-docs-powershell#10378), which a fleet must never mistake for data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import exo_error, exo_error_body, retry_after_text
from mailwarden.emulator.config import FaultKind, Service
from mailwarden.emulator.exchange import Answer, Invocation, answer_call
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.emulator.tokens import EXCHANGE_AUDIENCES

BATCH_LIMIT = 10
CONTINUE_ON_ERROR = "odata.continue-on-error"
_SERVER_ERROR_CODES = {500: "InternalServerError", 502: "BadGateway",
                       503: "ServiceUnavailable", 504: "GatewayTimeout"}


def _refusal(emulator: Emulator, request: Request, tenant: str) -> Response | None:
    """Why the request is not served (token, tenant, the token's tenant), or None."""
    authorization = request.headers.get("authorization")
    reason = emulator.tokens.check(authorization, EXCHANGE_AUDIENCES)
    if reason is not None:
        return exo_error(401, "Unauthorized", reason,
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if not emulator.state.knows_tenant(tenant) or tenant.lower() in {"common", "organizations"}:
        return exo_error(400, "BadRequest", f"The tenant '{tenant}' could not be found.")
    claims = emulator.tokens.claims(authorization)
    if str(claims.get("tid", "")).lower() != emulator.state.tenant_id.lower():
        return exo_error(401, "Unauthorized",
                         "The access token was issued for another tenant than the one in "
                         "the request.", headers={"WWW-Authenticate": _challenge(claims)})
    return None


def _challenge(claims: Mapping[str, Any]) -> str:
    return (f'Bearer client_id="{claims.get("appid", "")}", '
            'token_types="app_asserted_user_v1 service_asserted_app_v1", '
            'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
            'error="invalid_token"')


def _emulator(request: Request, tenant: str) -> Emulator:
    return tenancy_of(request.app).for_path(tenant)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


async def invoke_command(request: Request) -> Response:
    tenant = str(request.path_params["tenant"])
    emulator = _emulator(request, tenant)
    call = Invocation(str(request.url), await _json_body(request),
                      request.headers.get("prefer", ""))

    async def handle() -> Response:
        refused = _refusal(emulator, request, tenant)
        if refused is not None:
            return refused
        status, headers, body = answer_call(emulator, call, tenant)
        return JSONResponse(body, status, headers=headers)

    return await emulator.conditions.guard(Service.EXCHANGE, call.route, handle)


async def exchange_batch(request: Request) -> Response:
    tenant = str(request.path_params["tenant"])
    emulator = _emulator(request, tenant)
    payload = await _json_body(request)

    async def handle() -> Response:
        refused = _refusal(emulator, request, tenant)
        if refused is not None:
            return refused
        items = payload.get("requests") if isinstance(payload, Mapping) else None
        if not isinstance(items, list):
            return exo_error(400, "BadRequest", "Invalid batch payload format.")
        if len(items) > BATCH_LIMIT:
            return exo_error(400, "BadRequest",
                             f"The number of batch requests exceeds the limit of {BATCH_LIMIT}.")
        go_on = _continue_on_error(request.headers.get("prefer", ""), items)
        responses = []
        for item in items:
            responses.append(_sub(emulator, item, tenant))
            if responses[-1]["status"] >= 400 and not go_on:
                break  # the rest are not run, and not answered
        headers = {"Preference-Applied": CONTINUE_ON_ERROR} if go_on else {}
        return JSONResponse({"responses": responses}, headers=headers)

    emulator.stats.add(Service.EXCHANGE, "batches")
    return await emulator.conditions.guard(Service.EXCHANGE, "$batch", handle, throttle=False)


def _prefer(item: Any) -> str:
    headers = item.get("headers") if isinstance(item, Mapping) else None
    if not isinstance(headers, Mapping):
        return ""
    return next((str(v) for k, v in headers.items() if str(k).lower() == "prefer"), "")


def _continue_on_error(prefer: str, items: list[Any]) -> bool:
    if CONTINUE_ON_ERROR in prefer.lower():
        return True
    return bool(items) and all(CONTINUE_ON_ERROR in _prefer(item).lower() for item in items)


def _sub(emulator: Emulator, item: Any, tenant: str) -> dict[str, Any]:
    if not isinstance(item, Mapping) or "id" not in item or "url" not in item:
        body = exo_error_body("BadRequest", "A batch request needs an id and a url.")
        rid = str(item.get("id", "")) if isinstance(item, Mapping) else ""
        return {"id": rid, "status": 400, "headers": {}, "body": body}
    call = Invocation(str(item["url"]), item.get("body"), _prefer(item))
    status, headers, body = _sub_answer(emulator, call, str(item["url"]), tenant)
    return {"id": str(item["id"]), "status": status,
            "headers": {"Content-Type": "application/json", **headers}, "body": body}


def _sub_answer(emulator: Emulator, call: Invocation, url: str, tenant: str) -> Answer:
    conditions = emulator.conditions
    emulator.stats.add(Service.EXCHANGE, "subrequests")
    if not urlsplit(url).path.lower().endswith("/invokecommand"):
        return 404, {}, exo_error_body("NotFound", "Only InvokeCommand can be batched.")
    wait = conditions.throttle_wait(Service.EXCHANGE)
    if wait > 0:
        emulator.stats.add(Service.EXCHANGE, "throttled")
        return 429, {"Retry-After": retry_after_text(wait)}, exo_error_body(
            "TooManyRequests", "Too many requests; retry after the time in Retry-After.")
    fault = conditions.fault_for(Service.EXCHANGE, call.route, kinds=(FaultKind.SERVER_ERROR,))
    if fault is not None:
        emulator.stats.add(Service.EXCHANGE, "faulted")
        headers = conditions.fault_headers(fault.status)
        fallback = "Forbidden" if fault.status == 403 else "Error"
        code = _SERVER_ERROR_CODES.get(fault.status, fallback)
        return fault.status, headers, exo_error_body(code, "An injected failure.")
    answer = answer_call(emulator, call, tenant)
    if 400 <= answer[0] < 500:
        emulator.stats.add(Service.EXCHANGE, "refused")
    return answer
