"""The permission table: every source `collect` reads has a documented least-privileged
Graph permission or Exchange role.

Graph rows are the "Permissions" tables of Microsoft Graph's API pages (application,
least privileged first), read from microsoftgraph/microsoft-graph-docs-contrib:
user-list ("Application | User.Read.All | User.ReadWrite.All, Directory.Read.All, ...";
signInActivity "require[s] ... the AuditLog.Read.All permission"), group-list and
group-list-members (GroupMember.Read.All), rbacapplication-list-roleassignments (directory
provider: RoleManagement.Read.Directory), conditionalaccessroot-list-policies
(Policy.Read.All), beta directorysetting-list (Directory.Read.All), organization-list
(application: Directory.Read.All), authenticationmethodsroot-list-userregistrationdetails
(AuditLog.Read.All), rbacapplication-list-roleeligibilityschedules
(RoleEligibilitySchedule.Read.Directory); employeeLeaveDateTime: "To read this property,
the calling app must be assigned the User-LifeCycleInfo.Read.All permission" (user
resource). Exchange: Get-InboxRule "doesn't work for members of View-Only Organization
Management role group in Exchange Online or the Global Reader role in Microsoft Entra ID"
(office-docs-powershell, exchange/exchange-ps/ExchangePowerShell/Get-InboxRule.md);
Get-RecipientPermission needs the Mail Recipients role, not a reader role
(MicrosoftDocs/office-docs-powershell#9428).
"""

from __future__ import annotations

import pytest

from mailwarden.collect.live import EXO_LISTS, GRAPH_LISTS
from mailwarden.collect.mailboxes import PerMailbox
from mailwarden.m365.graph import collection_path
from mailwarden.m365.permissions import (
    EXCHANGE_CMDLETS,
    EXCHANGE_PERMISSION,
    exchange_role,
    graph_permission,
    graph_requirements,
)


def _names(url: str) -> list[str]:
    return [p.name for p in graph_requirements(url)]


@pytest.mark.parametrize("source", sorted(GRAPH_LISTS))
def test_every_graph_source_collect_reads_has_a_documented_permission(source: str) -> None:
    path, select, _, version = GRAPH_LISTS[source]
    needed = graph_requirements(f"https://graph.microsoft.com/{version}"
                                + collection_path(path, select=select))
    assert needed, f"{source}: {path} is not in the permission table"
    assert all(p.docs for p in needed)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/users?$select=id,displayName", ["User.Read.All"]),
        ("/users?$select=id,signInActivity,employeeLeaveDateTime",
         ["User.Read.All", "AuditLog.Read.All", "User-LifeCycleInfo.Read.All"]),
        ("https://graph.microsoft.com/v1.0/users?%24select=id%2CsignInActivity",
         ["User.Read.All", "AuditLog.Read.All"]),
        ("/groups?$top=999", ["GroupMember.Read.All"]),
        ("/groups/g1/members?$select=id", ["GroupMember.Read.All"]),
        ("/roleManagement/directory/roleAssignments", ["RoleManagement.Read.Directory"]),
        ("/roleManagement/directory/roleEligibilitySchedules",
         ["RoleEligibilitySchedule.Read.Directory"]),
        ("/roleManagement/directory/roleEligibilityScheduleInstances",
         ["RoleEligibilitySchedule.Read.Directory"]),
        ("/identity/conditionalAccess/policies", ["Policy.Read.All"]),
        ("/policies/identitySecurityDefaultsEnforcementPolicy", ["Policy.Read.All"]),
        ("https://graph.microsoft.com/beta/settings", ["Directory.Read.All"]),
        ("/organization", ["Directory.Read.All"]),
        ("/reports/authenticationMethods/userRegistrationDetails", ["AuditLog.Read.All"]),
        ("/contacts", ["OrgContact.Read.All"]),
        ("/subscribedSkus", ["Organization.Read.All"]),
        ("/somethingElse", []),
    ],
)
def test_the_least_privileged_permission_of_each_read(url: str, expected: list[str]) -> None:
    assert _names(url) == expected


def test_directory_read_all_is_a_higher_permission_of_the_directory_reads() -> None:
    for url in ("/users", "/groups", "/groups/g/members", "/roleManagement/directory/x",
                "/contacts"):
        assert all("Directory.Read.All" in p.accepted for p in graph_requirements(url)), url
    # ... but not of what it does not cover.
    for url in ("/users?$select=signInActivity", "/users?$select=employeeLeaveDateTime"):
        assert "Directory.Read.All" not in graph_requirements(url)[-1].accepted
    assert "Directory.Read.All" not in graph_requirements(
        "/roleManagement/directory/roleEligibilitySchedules")[0].accepted


def test_the_403_text_keeps_naming_every_permission() -> None:
    text = graph_permission("/users?$select=id,signInActivity")
    assert "User.Read.All" in text and "AuditLog.Read.All" in text
    assert graph_permission("/$batch") == "the permissions of its sub-requests"


def _per_mailbox_cmdlets() -> set[str]:
    sources = PerMailbox(None, concurrent=False, select=True, page_size=None,  # type: ignore[arg-type]
                         report=lambda *_: None).sources
    return {s.cmdlet for s in sources}


def test_every_cmdlet_collect_runs_has_a_role_in_the_table() -> None:
    cmdlets = {cmdlet for cmdlet, _, _ in EXO_LISTS.values()} | {"Get-Mailbox"}
    cmdlets |= _per_mailbox_cmdlets()
    assert cmdlets - set(EXCHANGE_CMDLETS) == set()


def test_inbox_rules_and_send_as_need_more_than_a_reader_role() -> None:
    for cmdlet in ("Get-InboxRule", "Get-RecipientPermission"):
        role = exchange_role(cmdlet)
        assert role.role == "Mail Recipients"
        assert "Exchange Recipient Administrator" in role.text()
        assert "Global Reader" not in role.entra
    assert exchange_role("get-mailbox").entra == ("Global Reader",)
    assert "Global Reader" in exchange_role("Get-OrganizationConfig").text()


def test_the_exchange_refusal_text_names_the_app_permission_and_the_roles() -> None:
    assert "Exchange.ManageAsApp" in EXCHANGE_PERMISSION
    assert "Exchange Recipient Administrator" in EXCHANGE_PERMISSION
    assert "View-Only Organization Management" not in EXCHANGE_PERMISSION
