"""The Unified Audit Log through Graph's audit log query API.

    POST /{v}/security/auditLog/queries            -> 201, status "notStarted"
    GET  /{v}/security/auditLog/queries/{id}       -> "running" for `audit_query_polls`
                                                      reads, then "succeeded"
    GET  /{v}/security/auditLog/queries/{id}/records   paged auditLogRecord objects

A query selects the records of `filterStartDateTime <= time < filterEndDateTime` (and
the record type, operation, user and service filters) present when it is created. Each
record keeps the recorded UAL fields in `auditData`, under Graph's common properties.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mailwarden.emulator.answers import graph_error
from mailwarden.emulator.config import EmulatorConfig
from mailwarden.emulator.logs_odata import (
    QueryError,
    decode_token,
    guarded,
    next_link,
    parse_top,
    refused,
)
from mailwarden.times import iso, parse_time

if TYPE_CHECKING:  # the runtime holds this module's queries: no import cycle at run time
    from mailwarden.emulator.runtime import Emulator

RECORDS_MAX_TOP = 1000
RECORDS_DEFAULT_TOP = 150
_ODATA_TYPE = "#microsoft.graph.security.auditLogQuery"
#: The UAL's RecordType numbers as members of Graph's auditLogRecordType enum, spelled as
#: the v1.0 schema spells them (PascalCase, with these values) and as live records carry
#: them ("auditLogRecordType": "ExchangeItemAggregated").
RECORD_TYPES: Mapping[int, str] = {
    1: "ExchangeAdmin", 2: "ExchangeItem", 3: "ExchangeItemGroup", 4: "SharePoint",
    6: "SharePointFileOperation", 7: "OneDrive", 8: "AzureActiveDirectory",
    9: "AzureActiveDirectoryAccountLogon", 14: "SharePointSharingOperation",
    15: "AzureActiveDirectoryStsLogon", 18: "SecurityComplianceCenterEOPCmdlet",
    19: "ExchangeAggregatedOperation", 25: "MicrosoftTeams", 50: "ExchangeItemAggregated",
}
#: The UAL's UserType numbers as members of Graph's auditLogUserType enum (by value).
USER_TYPES = ("Regular", "Reserved", "Admin", "DcAdmin", "System", "Application",
              "ServicePrincipal", "CustomPolicy", "SystemPolicy", "PartnerTechnician", "Guest")
_AUDIT_DATA_TYPES: Mapping[str, str] = {
    "ExchangeAdmin": "exchangeAdminAuditRecord",
    "ExchangeItem": "exchangeMailboxAuditRecord",
    "ExchangeItemGroup": "exchangeMailboxAuditGroupRecord",
    "ExchangeItemAggregated": "exchangeAggregatedMailboxAuditRecord",
}
_LIST_FILTERS = ("recordTypeFilters", "operationFilters", "userPrincipalNameFilters",
                 "ipAddressFilters", "objectIdFilters", "administrativeUnitIdFilters",
                 "serviceFilters")


def _enum(table: Mapping[int, str] | Sequence[str], value: Any) -> Any:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return value  # already a name, or absent
    if isinstance(table, Mapping):
        return table.get(number, str(number))
    return table[number] if 0 <= number < len(table) else str(number)


def audit_log_record(ual: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded UAL record (common schema, AuditData merged in) as Graph returns it."""
    record_type = _enum(RECORD_TYPES, ual.get("RecordType"))
    moment = parse_time(ual.get("CreationTime"))
    return {
        "id": ual.get("Id"),
        "createdDateTime": iso(moment, timespec="seconds") if moment else None,
        "auditLogRecordType": record_type,
        "operation": ual.get("Operation"),
        "organizationId": ual.get("OrganizationId"),
        "userType": _enum(USER_TYPES, ual.get("UserType")),
        # Live records carry the classic UserKey here and the classic UserId (the UPN)
        # in userPrincipalName.
        "userId": ual.get("UserKey"),
        "service": ual.get("Workload"),
        "objectId": ual.get("ObjectId"),
        "userPrincipalName": ual.get("UserId"),
        "clientIp": ual.get("ClientIP") or ual.get("ClientIPAddress"),
        "administrativeUnits": [],
        "auditData": {
            "@odata.type": "#microsoft.graph.security."
                           + _AUDIT_DATA_TYPES.get(str(record_type), "defaultAuditData"),
            **ual,
        },
    }


def _matches(record: Mapping[str, Any], filters: Mapping[str, tuple[str, ...]]) -> bool:
    checks = {
        "recordTypeFilters": record["auditLogRecordType"],
        "operationFilters": record["operation"],
        "userPrincipalNameFilters": record["userPrincipalName"],
        "ipAddressFilters": record["clientIp"],
        "objectIdFilters": record["objectId"],
        "serviceFilters": record["service"],
    }
    for name, value in checks.items():
        wanted = filters.get(name)
        if wanted and str(value or "").lower() not in wanted:
            return False
    return True


@dataclass(slots=True)
class AuditQuery:
    id: str
    body: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    reads: int = 0
    status: str = "notStarted"


class AuditQueries:
    """The queries created so far; a query finishes after `audit_query_polls` reads."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.polls = config.audit_query_polls
        self._queries: dict[str, AuditQuery] = {}
        self._lock = threading.Lock()

    def create(self, emulator: Emulator, payload: Any) -> AuditQuery:
        if not isinstance(payload, dict):
            raise QueryError("The request body must be an auditLogQuery object.")
        start = parse_time(payload.get("filterStartDateTime"))
        end = parse_time(payload.get("filterEndDateTime"))
        if start is None or end is None or end <= start:
            raise QueryError("filterStartDateTime and filterEndDateTime must be "
                             "DateTimeOffset values, the start before the end.")
        filters: dict[str, tuple[str, ...]] = {}
        for name in _LIST_FILTERS:
            values = payload.get(name) or []
            if not isinstance(values, list):
                raise QueryError(f"{name} must be a collection of strings.")
            filters[name] = tuple(str(v).lower() for v in values)
        rows, _ = emulator.state.logs.page("ual", start, end)
        records = [r for r in (audit_log_record(s.row) for s in rows) if _matches(r, filters)]
        query = AuditQuery(id=str(uuid.uuid4()), records=records, body={
            "@odata.type": _ODATA_TYPE, "displayName": payload.get("displayName"),
            "filterStartDateTime": _stamp(start), "filterEndDateTime": _stamp(end),
            **{name: list(payload.get(name) or []) for name in _LIST_FILTERS},
            "keywordFilter": payload.get("keywordFilter")})
        with self._lock:
            self._queries[query.id] = query
        return query

    def read(self, query_id: str) -> AuditQuery | None:
        """The query, one read further along its way to "succeeded"."""
        with self._lock:
            query = self._queries.get(query_id)
            if query is not None and query.status != "succeeded":
                query.reads += 1
                query.status = "running" if query.reads <= self.polls else "succeeded"
            return query

    def get(self, query_id: str) -> AuditQuery | None:
        with self._lock:
            return self._queries.get(query_id)


def _stamp(moment: datetime) -> str:
    return iso(moment, timespec="seconds")


def _entity(request: Request, query: AuditQuery) -> dict[str, Any]:
    version = request.url.path.split("/")[1]
    return {"@odata.context": f"{str(request.base_url).rstrip('/')}/{version}/"
                              "$metadata#security/auditLog/queries/$entity",
            "id": query.id, **query.body, "status": query.status}


def _not_found(query_id: str) -> Response:
    return graph_error(404, "NotFound", f"The audit log query '{query_id}' does not exist.")


async def create_query(request: Request) -> Response:
    async def handle(emulator: Emulator) -> Response:
        denied = refused(emulator, "ual")
        if denied is not None:
            return denied
        try:
            payload = json.loads(await request.body())
        except ValueError as exc:
            raise QueryError("The request body is not valid JSON.") from exc
        query = emulator.audit_queries.create(emulator, payload)
        return JSONResponse(_entity(request, query), 201)

    return await guarded(request, handle)


async def get_query(request: Request) -> Response:
    async def handle(emulator: Emulator) -> Response:
        query = emulator.audit_queries.read(request.path_params["query_id"])
        if query is None:
            return _not_found(request.path_params["query_id"])
        return JSONResponse(_entity(request, query))

    return await guarded(request, handle)


async def query_records(request: Request) -> Response:
    async def handle(emulator: Emulator) -> Response:
        query_id = request.path_params["query_id"]
        query = emulator.audit_queries.get(query_id)
        if query is None:
            return _not_found(query_id)
        if query.status != "succeeded":
            raise QueryError(f"The audit log query '{query_id}' is {query.status}; read its "
                             "records once its status is succeeded.")
        top = parse_top(request.query_params.get("$top"), default=RECORDS_DEFAULT_TOP,
                        largest=RECORDS_MAX_TOP)
        offset = 0
        if "$skiptoken" in request.query_params:
            raw = decode_token(request.query_params["$skiptoken"])
            if not isinstance(raw, dict) or not isinstance(raw.get("o"), int):
                raise QueryError("The $skiptoken is not valid.")
            offset = raw["o"]
        version = request.url.path.split("/")[1]
        body: dict[str, Any] = {
            "@odata.context": f"{str(request.base_url).rstrip('/')}/{version}/$metadata#"
                              f"security/auditLog/queries('{query_id}')/records",
            "value": query.records[offset:offset + top]}
        if offset + top < len(query.records):
            body["@odata.nextLink"] = next_link(request, {"o": offset + top})
        return JSONResponse(body)

    return await guarded(request, handle)


def query_routes(version: str) -> list[Route]:
    base = f"/{version}/security/auditLog/queries"
    return [Route(base, create_query, methods=["POST"]),
            Route(base + "/{query_id}", get_query, methods=["GET"]),
            Route(base + "/{query_id}/records", query_records, methods=["GET"])]
