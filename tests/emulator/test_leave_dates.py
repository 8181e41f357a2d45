"""employeeLeaveDateTime without User-LifeCycleInfo.Read.All: null, not an error.

Graph's user resource: "To read this property, the calling app must be assigned the
User-LifeCycleInfo.Read.All permission" (microsoftgraph/microsoft-graph-docs-contrib,
api-reference/v1.0/resources/user.md, employeeLeaveDateTime). Microsoft does not document
the answer without it; the one public report (Azure/LogicAppsUX#4925, Azure/logicapps#1077)
shows HTTP 200 with `"employeeHireDate": null, "employeeLeaveDateTime": null` for an app that
lacked it. App-only tokens list the app's permissions in their `roles` claim.

The emulator answers the same way, and the collector records in tenant.json that the value
could not be read, so a null leave date reads as "unknown" downstream.
"""

from __future__ import annotations

from typing import Any

import httpx

from mailwarden.collect.live import collect_tenant
from mailwarden.emulator import emulator_of
from mailwarden.m365.http import M365Http
from mailwarden.m365.permissions import token_roles, withheld_user_properties
from mailwarden.synth import generate
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.emulator.emulator_helpers import BASE, app_for, client_for, run, settings_for
from tests.support.emulator_tokens import emulator_token

GRAPH = "https://graph.microsoft.com"
EXCHANGE = "https://outlook.office365.com"
WITHOUT_LIFECYCLE = ["User.Read.All", "AuditLog.Read.All", "GroupMember.Read.All",
                     "RoleManagement.Read.Directory", "Policy.Read.All", "Directory.Read.All"]


def _tenant() -> RecordedTenant:
    return generate(60, seed=4).recorded


class RoleTokens:
    """App-only tokens as Entra issues them, with the application permissions in `roles`."""

    def __init__(self, client: httpx.AsyncClient, app: Any, tenant: str,
                 roles: list[str]) -> None:
        self.client, self.app, self.tenant, self.roles = client, app, tenant, roles

    async def token(self, scope: str) -> str:
        if scope.startswith(GRAPH):
            return emulator_of(self.app).tokens.issue(
                audience=GRAPH, client_id="app", extra={"idtyp": "app", "roles": self.roles})
        return await emulator_token(self.client, scope, self.tenant)


def _collect(roles: list[str]) -> RecordedTenant:
    recorded = _tenant()
    app = app_for(recorded)
    tenant = str(recorded.data["tenant"]["tenantId"])
    settings = settings_for(BASE, tenant)

    async def main() -> RecordedTenant:
        async with client_for(app) as client:
            http = M365Http(client, RoleTokens(client, app, tenant, roles), settings)
            return await collect_tenant(http, settings)

    return run(main())


def _leave_dates(recorded: RecordedTenant) -> list[Any]:
    return [u.get("employeeLeaveDateTime") for u in recorded.data["graph/users"]]


def test_without_the_lifecycle_permission_leave_dates_arrive_as_null_and_are_noted() -> None:
    served = [d for d in _leave_dates(_tenant()) if d]
    assert served  # the tenant has leavers with dates
    recorded = _collect(WITHOUT_LIFECYCLE)
    assert recorded.errors == {}
    assert not any(_leave_dates(recorded))
    why = recorded.data["tenant"]["unreadable"]["graph/users.employeeLeaveDateTime"]
    assert "User-LifeCycleInfo.Read.All" in why
    snapshot = snapshot_from_recorded(recorded)
    assert snapshot.tenant.why_unreadable("graph/users.employeeLeaveDateTime") == why


def test_with_it_the_dates_arrive_and_nothing_is_noted() -> None:
    recorded = _collect([*WITHOUT_LIFECYCLE, "User-LifeCycleInfo.Read.All"])
    assert [d for d in _leave_dates(recorded) if d] == [d for d in _leave_dates(_tenant()) if d]
    assert "unreadable" not in recorded.data["tenant"]


def test_a_token_without_roles_tells_nothing_and_a_full_grant_withholds_nothing() -> None:
    assert token_roles("opaque") is None
    assert withheld_user_properties(None) == {}
    recorded = _tenant()
    app = app_for(recorded)
    tenant = str(recorded.data["tenant"]["tenantId"])

    async def main() -> str:
        async with client_for(app) as client:
            return await emulator_token(client, f"{GRAPH}/.default", tenant)

    # The emulator's app-only tokens carry the roles it grants: by default every permission
    # mailwarden reads with, the lifecycle one included, so nothing is withheld.
    granted = token_roles(run(main()))
    assert granted is not None
    assert withheld_user_properties(granted) == {}
    roles = token_roles(emulator_of(app).tokens.issue(
        audience=GRAPH, client_id="app", extra={"roles": ["user-lifecycleinfo.read.all"]}))
    assert roles == frozenset({"user-lifecycleinfo.read.all"})
    assert withheld_user_properties(roles) == {}  # permission names compare without case
