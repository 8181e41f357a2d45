"""Preflight against the emulator in process: every source `collect` reads is probed, and
each refusal names what to grant.

The refusals the emulator does not make yet are answered here, before the request reaches
it, with the bodies Microsoft's services publish:

- Exchange, a cmdlet outside the app's roles: HTTP 401 {"error": {"code": "Unauthorized",
  "message": "User is not allowed to call Get-Mailbox", "innererror": {...,
  "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}
  (https://github.com/MicrosoftDocs/office-docs-powershell/issues/7970).
- Get-InboxRule as Global Reader: "The operation on mailbox "User" failed because it's out
  of the current user's read scope. ..." (https://github.com/MicrosoftDocs/OfficeDocs-O365ITPro/issues/780).
- No Entra ID P1: HTTP 403 {"error": {"code":
  "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "message": "Neither tenant is B2C
  or tenant doesn't have premium license", "innerError": {...}}}
  (https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/3033, #3808).
- No Entra ID P2: HTTP 400 {"error": {"code": "AadPremiumLicenseRequired", "message": "The
  tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
  "innerError": {...}}} (https://github.com/maester365/maester/issues/1421).

When the emulator makes these refusals itself (its Exchange role and licence profiles),
drop the `refuse` argument of these tests and configure the emulator instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mailwarden.collect import live
from mailwarden.collect.preflight import Preflight, preflight
from mailwarden.collect.verdicts import Verdict
from mailwarden.errors import AuthError
from mailwarden.m365.http import M365Http, Service
from mailwarden.tenant.recorded import ALL_SOURCES
from tests.emulator.emulator_helpers import BASE, app_for, run, settings_for, tenant_id
from tests.support.emulator_tokens import EmulatorTokens

Refuse = Callable[[httpx.Request], httpx.Response | None]

EXO_ERROR_TYPE = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"
INNER = {"date": "2026-01-22T09:07:22", "request-id": "bcee6ed2-437a-4b54-bbbf-d5d615099cb6",
         "client-request-id": "66003934-6d5c-4370-b1f5-93acdc46f57e"}


def not_allowed(cmdlet: str) -> httpx.Response:
    message = f"User is not allowed to call {cmdlet}"
    return httpx.Response(401, json={"error": {"code": "Unauthorized", "message": message,
                                               "innererror": {"message": message,
                                                              "type": EXO_ERROR_TYPE}}})


def no_premium() -> httpx.Response:
    return httpx.Response(403, json={"error": {
        "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "message": "Neither tenant is B2C or tenant doesn't have premium license",
        "innerError": INNER}})


def no_p2() -> httpx.Response:
    return httpx.Response(400, json={"error": {
        "code": "AadPremiumLicenseRequired",
        "message": "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID "
        "Governance license.",
        "innerError": INNER}})


def cmdlet_of(request: httpx.Request) -> str | None:
    if not request.url.path.endswith("/InvokeCommand"):
        return None
    return str(json.loads(request.content)["CmdletInput"]["CmdletName"])


class Intercepting(httpx.AsyncBaseTransport):
    """The emulator, except for the requests `refuse` answers itself."""

    def __init__(self, app: Any, refuse: Refuse | None) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.refuse = refuse

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        answer = self.refuse(request) if self.refuse else None
        return answer if answer is not None else await self.inner.handle_async_request(request)


def doctor(refuse: Refuse | None = None, **config: Any) -> Preflight:
    app = app_for(**config)
    tenant = tenant_id()

    async def main() -> Preflight:
        transport = Intercepting(app, refuse)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            http = M365Http(client, EmulatorTokens(client, tenant), settings_for(BASE, tenant))
            return await preflight(http, tenant)

    return run(main())


def by_source(result: Preflight) -> dict[str, Verdict]:
    return {p.source: p.verdict for p in result.probes}


def probe(result: Preflight, source: str) -> Any:
    return next(p for p in result.probes if p.source == source)


def test_every_source_collect_reads_is_probed_and_ok_when_all_is_granted() -> None:
    result = doctor()
    sources = {p.source for p in result.probes if not p.source.startswith("sign-in")}
    assert sources == set(ALL_SOURCES)
    assert set(by_source(result).values()) == {Verdict.OK}
    assert not result.access_problems and not result.service_problems
    graph = result.grants[Service.GRAPH]
    assert {"User.Read.All", "AuditLog.Read.All"} <= graph.permissions
    assert result.grants[Service.EXCHANGE].permissions == {"Exchange.ManageAsApp"}


def test_a_source_added_to_the_collectors_table_is_probed(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setitem(live.GRAPH_LISTS, "graph/roleEligibilitySchedules", (
        "/roleManagement/directory/roleEligibilitySchedules", ("id", "principalId"), None,
        "v1.0"))
    result = doctor(lambda r: no_p2() if "roleEligibilitySchedules" in r.url.path else None)
    found = probe(result, "graph/roleEligibilitySchedules")
    assert found.verdict is Verdict.LICENCE
    assert "Microsoft Entra ID P2" in found.grant
    assert not result.access_problems


def test_a_missing_graph_permission_is_named() -> None:
    granted = frozenset({"GroupMember.Read.All", "Policy.Read.All", "Directory.Read.All",
                         "AuditLog.Read.All", "User-LifeCycleInfo.Read.All"})
    result = doctor(graph_permissions=granted)
    assert by_source(result)["graph/users"] is Verdict.OK  # Directory.Read.All covers users
    result = doctor(graph_permissions=granted - {"Directory.Read.All"})
    verdicts = by_source(result)
    assert verdicts["graph/users"] is Verdict.MISSING_PERMISSION
    assert probe(result, "graph/users").grant == "User.Read.All"
    assert verdicts["graph/settings"] is Verdict.MISSING_PERMISSION
    assert probe(result, "graph/settings").grant == "Directory.Read.All"
    assert probe(result, "graph/roleAssignments").grant == "RoleManagement.Read.Directory"
    assert verdicts["graph/groups"] is Verdict.OK
    assert verdicts["exo/Get-Mailbox"] is Verdict.OK


def test_permissions_graph_does_not_refuse_without_are_read_from_the_token() -> None:
    everything_else = frozenset({"User.Read.All", "GroupMember.Read.All", "Policy.Read.All",
                                 "Directory.Read.All", "AuditLog.Read.All",
                                 "RoleManagement.Read.Directory"})
    result = doctor(graph_permissions=everything_else)
    users = probe(result, "graph/users")
    assert users.verdict is Verdict.MISSING_PERMISSION
    assert users.grant.startswith("User-LifeCycleInfo.Read.All")
    assert [p.source for p in result.access_problems] == ["graph/users"]


def test_sign_in_activity_without_its_permission_names_audit_log_read_all() -> None:
    result = doctor(graph_permissions=frozenset({"User.Read.All", "Directory.Read.All",
                                                 "User-LifeCycleInfo.Read.All"}))
    assert probe(result, "graph/users").grant.startswith("AuditLog.Read.All")
    assert probe(result, "graph/userRegistrationDetails").grant.startswith("AuditLog.Read.All")


def test_a_cmdlet_outside_the_apps_roles_names_the_exchange_role() -> None:
    def refuse(request: httpx.Request) -> httpx.Response | None:
        cmdlet = cmdlet_of(request)
        return not_allowed(cmdlet) if cmdlet in {"Get-InboxRule", "Get-RecipientPermission"} \
            else None

    result = doctor(refuse)
    verdicts = by_source(result)
    for source in ("exo/Get-InboxRule", "exo/Get-RecipientPermission"):
        assert verdicts[source] is Verdict.MISSING_ROLE
        assert "Exchange Recipient Administrator" in probe(result, source).grant
        assert "Mail Recipients" in probe(result, source).grant
    assert verdicts["exo/Get-Mailbox"] is Verdict.OK
    assert verdicts["exo/Get-MailboxPermission"] is Verdict.OK


def test_a_read_scope_refusal_of_inbox_rules_is_a_missing_role() -> None:
    scope = ("The operation on mailbox \"User\" failed because it's out of the current user's "
             "read scope. You may need elevated permissions.")

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if cmdlet_of(request) != "Get-InboxRule":
            return None
        return httpx.Response(400, json={"error": {
            "code": "BadRequest", "message": "Error executing cmdlet",
            "details": [{"code": "Client", "target": "", "message":
                         f"|Microsoft.Exchange.Configuration.Tasks.TaskException|{scope}"}]}})

    found = probe(doctor(refuse), "exo/Get-InboxRule")
    assert found.verdict is Verdict.MISSING_ROLE
    assert "Exchange Recipient Administrator" in found.grant


def test_no_entra_id_p1_is_a_licence_limitation_not_a_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response | None:
        path, query = request.url.path, request.url.query.decode()
        if path.endswith("/users") and "signInActivity" in query:
            return no_premium()
        if path.endswith("/userRegistrationDetails"):
            return no_premium()
        return None

    result = doctor(refuse)
    users = probe(result, "graph/users")
    assert users.verdict is Verdict.LICENCE
    assert "Microsoft Entra ID P1" in users.grant
    assert "users are readable" in users.detail  # the second probe, without signInActivity
    assert probe(result, "graph/userRegistrationDetails").verdict is Verdict.LICENCE
    assert not result.access_problems and not result.service_problems
    assert [p.source for p in result.limitations] == ["graph/users",
                                                      "graph/userRegistrationDetails"]


def test_no_licence_and_no_permission_names_the_permission() -> None:
    def refuse(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/users") and "signInActivity" in request.url.query.decode():
            return no_premium()
        return None

    result = doctor(refuse, graph_permissions=frozenset({"GroupMember.Read.All"}))
    users = probe(result, "graph/users")
    assert users.verdict is Verdict.MISSING_PERMISSION
    assert "User.Read.All" in users.grant


def test_an_unreachable_service_is_told_apart_from_a_refusal() -> None:
    result = doctor(failing_sources={"exo/Get-TransportConfig": 503})
    assert by_source(result)["exo/Get-TransportConfig"] is Verdict.UNREACHABLE
    assert [p.source for p in result.service_problems] == ["exo/Get-TransportConfig"]
    assert not result.access_problems


def test_a_failed_sign_in_leaves_the_service_unprobed() -> None:
    app = app_for()
    tenant = tenant_id()

    class Refused(EmulatorTokens):
        async def token(self, scope: str) -> str:
            if "outlook" in scope:
                raise AuthError("AADSTS7000215: Invalid client secret provided.")
            return await super().token(scope)

    async def main() -> Preflight:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=BASE) as client:
            http = M365Http(client, Refused(client, tenant), settings_for(BASE, tenant))
            return await preflight(http, tenant)

    result = run(main())
    verdicts = by_source(result)
    assert verdicts["sign-in (Exchange Online)"] is Verdict.SIGN_IN
    assert verdicts["Exchange Online sources"] is Verdict.NOT_PROBED
    assert "AADSTS7000215" in probe(result, "Exchange Online sources").detail
    assert verdicts["graph/users"] is Verdict.OK
    assert not any(s.startswith("exo/") for s in verdicts)
    assert Service.EXCHANGE not in result.grants
