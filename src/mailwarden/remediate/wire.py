"""The calls remediation makes, sent through the run's one `M365Http` (its concurrency
limits, throttling and retries), with refusals that name the *write* permission needed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.errors import PermissionDeniedError, ServiceError
from mailwarden.m365.exchange import ExchangeClient
from mailwarden.m365.graph import GraphClient
from mailwarden.m365.http import M365Http, Service
from mailwarden.remediate.model import Call, ExoCall, GraphCall

GRAPH_DISABLE_PERMISSION = (
    "the Microsoft Graph application permission User.EnableDisableAccount.All with "
    "User.Read.All (or User.ReadWrite.All); an account that holds a directory role also "
    "needs the app to hold the Privileged Authentication Administrator role"
)
GRAPH_REVOKE_PERMISSION = (
    "the Microsoft Graph application permission User.RevokeSessions.All (or User.ReadWrite.All)"
)
GRAPH_APP_ROLE_PERMISSION = (
    "the Microsoft Graph application permission AppRoleAssignment.ReadWrite.All with "
    "Application.Read.All"
)
EXCHANGE_WRITE_PERMISSION = (
    "the Office 365 Exchange Online application permission Exchange.ManageAsApp (admin "
    "consented) and an Exchange role that may change recipients for the app's service "
    "principal, such as the Entra role Exchange Administrator (Global Reader and View-Only "
    "Organization Management can only read)"
)


GRAPH_CA_PERMISSION = (
    "the Microsoft Graph application permissions Policy.Read.All and "
    "Policy.ReadWrite.ConditionalAccess (both; Graph docs, conditionalaccesspolicy-update)"
)


def write_permission(call: Call) -> str:
    if isinstance(call, ExoCall):
        return EXCHANGE_WRITE_PERMISSION
    if call.path.startswith("/identity/conditionalAccess/"):
        return GRAPH_CA_PERMISSION
    if "/appRoleAssignedTo" in call.path:
        return GRAPH_APP_ROLE_PERMISSION
    if call.path.endswith("/revokeSignInSessions"):
        return GRAPH_REVOKE_PERMISSION
    return GRAPH_DISABLE_PERMISSION


class Wire:
    """Reads and writes for one tenant."""

    def __init__(self, http: M365Http, tenant: str) -> None:
        self.http = http
        self.graph = GraphClient(http)
        self.exo = ExchangeClient(http, tenant)

    async def graph_get(self, path: str) -> Mapping[str, Any]:
        body = await self.graph.get(path)
        if not isinstance(body, Mapping):
            raise ServiceError(f"Microsoft Graph answered GET {path} without an object")
        return body

    async def graph_list(self, path: str) -> list[dict[str, Any]]:
        return await self.graph.collection(path)

    async def exo_rows(self, cmdlet: str, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return await self.exo.invoke(cmdlet, parameters, page_size=None)

    async def exo_row(self, cmdlet: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        rows = await self.exo_rows(cmdlet, parameters)
        if not rows:
            raise ServiceError(
                f"{cmdlet} {dict(parameters)} returned nothing: the object no longer exists "
                "or was renamed; scan the tenant again",
                service=Service.EXCHANGE.value,
            )
        return rows[0]

    async def send(self, call: Call) -> None:
        """Make one change. A 403 says which write permission to grant."""
        try:
            if isinstance(call, GraphCall):
                url = f"{self.graph.base.rsplit('/', 1)[0]}/{call.version}{call.path}"
                await self.http.send(Service.GRAPH, call.method, url, json_body=call.body)
            else:
                await self.exo.invoke(call.cmdlet, call.parameters, page_size=None)
        except PermissionDeniedError as exc:
            label = "Microsoft Graph" if isinstance(call, GraphCall) else "Exchange Online"
            raise PermissionDeniedError(
                f"{label} refused {call.text()} (HTTP {exc.status or 403}): the application may "
                f"read but not change this. Grant it {write_permission(call)}, then run again",
                status=exc.status or 403,
                service=exc.service,
            ) from exc
