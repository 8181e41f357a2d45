"""`necessary_requests` on a tenant built to need several pages and batch rounds, and the
collector meeting that lower bound exactly."""

from __future__ import annotations

from typing import Any

from mailwarden.collect.live import collect_tenant
from mailwarden.emulator import EmulatorConfig, create_app, emulator_of, necessary_requests
from mailwarden.emulator.necessary import batches, pages
from mailwarden.m365.http import M365Http
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.self_permission import self_permission_row
from tests.emulator.emulator_helpers import BASE, client_for, run, settings_for
from tests.support.emulator_tokens import EmulatorTokens

TENANT_ID = "0b0e0c5e-1111-4222-8333-944445555666"


def _tenant() -> RecordedTenant:
    users = [{"id": f"u{i}", "userPrincipalName": f"u{i}@contoso.test",
              "assignedLicenses": [{"skuId": "e3"}]} for i in range(1201)]
    groups = [{"id": f"g{i}", "displayName": f"group {i}"} for i in range(25)]
    members = {g["id"]: [{"@odata.type": "#microsoft.graph.user", "id": "u1"}] for g in groups}
    members["g0"] = [{"@odata.type": "#microsoft.graph.user", "id": f"u{i}"} for i in range(1000)]
    mailboxes: list[dict[str, Any]] = [
        {"Identity": f"shared{i}", "PrimarySmtpAddress": f"shared{i}@contoso.test",
         "RecipientTypeDetails": "SharedMailbox"} for i in range(12)]
    mailboxes += [{"Identity": f"u{i}", "PrimarySmtpAddress": f"u{i}@contoso.test",
                   "ExternalDirectoryObjectId": f"u{i}", "RecipientTypeDetails": "UserMailbox"}
                  for i in range(989)]
    permissions = [{"Identity": "shared0", "User": f"u{i}@contoso.test",
                    "AccessRights": ["FullAccess"]} for i in range(1001)]
    permissions += [{"Identity": f"shared{i}", "User": "u1@contoso.test",
                     "AccessRights": ["FullAccess"]} for i in range(1, 12)]
    # Exchange lists SELF on every mailbox (the emulator adds it where a tenant lacks it).
    permissions += [self_permission_row(f"shared{i}") for i in range(12)]
    data: dict[str, Any] = {
        "tenant": {"tenantId": TENANT_ID, "displayName": "Contoso",
                   "defaultDomain": "contoso.test", "verifiedDomains": ["contoso.test"]},
        "graph/users": users,
        "graph/groups": groups,
        "graph/groupMembers": members,
        "graph/roleAssignments": [],
        "graph/roleDefinitions": [],
        "graph/conditionalAccessPolicies": [],
        "graph/settings": [],
        "graph/userRegistrationDetails": [{"id": f"u{i}"} for i in range(1000)],
        "graph/subscribedSkus": [{"skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
                                  "skuPartNumber": "SPE_E5", "capabilityStatus": "Enabled",
                                  "servicePlans": [{"servicePlanName": "AAD_PREMIUM_P2",
                                                    "provisioningStatus": "Success"}]}],
        "graph/roleEligibilitySchedules": [],
        "graph/securityDefaults": {"id": "00000000-0000-0000-0000-000000000005",
                                   "isEnabled": False},
        "exo/Get-Mailbox": mailboxes,
        "exo/Get-CASMailbox": [],
        "exo/Get-User": [],
        "exo/Get-RecipientPermission": [],
        "exo/Get-MailboxAuditBypassAssociation": [],
        "exo/Get-AuthenticationPolicy": [],
        "exo/Get-MailContact": [],
        "exo/Get-MailUser": [],
        "exo/Get-MailboxPermission": permissions,
        "exo/Get-InboxRule": [],
        "exo/Get-MailboxStatistics": [],
        "exo/Get-CalendarProcessing": [],
        "exo/Get-OrganizationConfig": {"Identity": "contoso"},
        "exo/Get-TransportConfig": {"Identity": "Transport Settings"},
        "graph/servicePrincipals": [
            {"id": "sp-graph", "appId": "00000003-0000-0000-c000-000000000000",
             "displayName": "Microsoft Graph", "appRoles": []},
            {"id": "sp-app", "appId": "app-1", "displayName": "An app", "appRoles": []}],
        "graph/appRoleAssignedTo": {"sp-graph": []},
        "exo/Get-ApplicationAccessPolicy": [],
        "exo/Get-ManagementRoleAssignment": [],
    }
    return RecordedTenant(data=data)


def test_pages_and_batch_rounds() -> None:
    assert [pages(n, 500) for n in (0, 1, 500, 501)] == [1, 1, 1, 2]
    assert batches([1] * 25, 20) == 2
    assert batches([2] + [1] * 24, 20) == 3  # the second page rides in a round of its own
    assert batches([], 10) == 0


def test_necessary_counts_every_page_and_batch_round() -> None:
    counts = necessary_requests(_tenant())
    # organization 1, users 11 (120 a page: Graph's cap with signInActivity selected),
    # groups 1, registrations 2 (999), 6 unpaged lists and the security-defaults policy,
    # service principals 1 and one batch for Microsoft Graph's appRoleAssignedTo,
    # member batches: 25 groups in 2, then g0's second page in 1.
    assert counts["graph"] == 1 + 11 + 1 + 2 + 7 + 2 + 3
    # Get-Mailbox 2 pages, 9 other lists 1 each (mail contacts and mail users, access
    # policies and role assignments among them), 2 configuration objects; 36 per-mailbox
    # calls (permissions, rules and statistics of 12 shared mailboxes) 10 to a batch (4),
    # then shared0's second page of permissions (1).
    assert counts["exchange"] == 2 + 9 + 2 + 4 + 1
    assert counts["login"] == 2


def test_without_the_group_list_or_get_mailbox_no_follow_up_calls_are_counted() -> None:
    data = {k: v for k, v in _tenant().data.items()
            if k not in {"graph/groups", "exo/Get-Mailbox"}}
    counts = necessary_requests(RecordedTenant(data=data))
    assert counts["graph"] == 1 + 11 + 1 + 2 + 7 + 2
    assert counts["exchange"] == 1 + 9 + 2


def test_the_collector_meets_the_lower_bound_on_this_tenant() -> None:
    tenant = _tenant()
    app = create_app(tenant, config=EmulatorConfig())
    settings = settings_for(BASE, TENANT_ID)

    async def main() -> RecordedTenant:
        async with client_for(app) as client:
            return await collect_tenant(M365Http(client, EmulatorTokens(client, TENANT_ID),
                                                 settings), settings)

    recorded = run(main())
    assert recorded.errors == {}
    assert len(recorded.data["exo/Get-MailboxPermission"]) == 1024
    assert len(recorded.data["graph/groupMembers"]["g0"]) == 1000
    stats = emulator_of(app).stats.as_dict()
    for service in ("graph", "exchange"):
        assert stats["services"][service]["requests"] == stats["necessary"][service], service
