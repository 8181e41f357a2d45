"""Every source is present, in Microsoft's shapes, and readable by our own parser."""

from __future__ import annotations

import re
from typing import Any

from mailwarden.synth import SyntheticTenant
from mailwarden.tenant.recorded import ALL_SOURCES, LIST_SOURCES, OBJECT_SOURCES
from mailwarden.tenant.snapshot import snapshot_from_recorded

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GRAPH_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
EXO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$")
EXO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
CLOUD_SID = re.compile(r"^S-1-12-1-\d+-\d+-\d+-\d+$")
EXO_SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-\d+$")

USER_KEYS = {
    "id", "userPrincipalName", "displayName", "mail", "mailNickname", "accountEnabled",
    "userType", "createdDateTime", "lastPasswordChangeDateTime", "signInActivity",
    "assignedLicenses", "onPremisesSecurityIdentifier", "securityIdentifier", "department",
    "jobTitle", "employeeLeaveDateTime", "externalUserState", "creationType",
}
MAILBOX_KEYS = {
    "Name", "Alias", "DisplayName", "UserPrincipalName", "PrimarySmtpAddress", "Guid",
    "ExternalDirectoryObjectId", "RecipientTypeDetails", "AuditEnabled", "AuditOwner",
    "AuditDelegate", "AuditAdmin", "ForwardingSmtpAddress", "ForwardingAddress",
    "DeliverToMailboxAndForward", "GrantSendOnBehalfTo", "AccountDisabled",
    "RoomMailboxAccountEnabled", "WhenCreated", "Identity",
}
CAS_KEYS = {"ImapEnabled", "PopEnabled", "EwsEnabled", "ActiveSyncEnabled", "MAPIEnabled",
            "OWAEnabled", "SmtpClientAuthenticationDisabled", "ExternalDirectoryObjectId"}


def _data(tenant: SyntheticTenant) -> dict[str, Any]:
    return dict(tenant.recorded.data)


def test_every_source_is_present(small: SyntheticTenant) -> None:
    data = _data(small)
    assert set(data) == set(ALL_SOURCES)
    assert all(isinstance(data[s], list) and data[s] for s in LIST_SOURCES)
    assert all(isinstance(data[s], dict) and data[s] for s in OBJECT_SOURCES)
    assert small.recorded.errors == {}


def test_tenant_file(small: SyntheticTenant) -> None:
    tenant = _data(small)["tenant"]
    assert set(tenant) == {"tenantId", "displayName", "defaultDomain", "verifiedDomains",
                           "collectedAt"}
    assert GUID.match(tenant["tenantId"])
    assert tenant["collectedAt"] == "2026-11-01T00:00:00Z"
    assert tenant["defaultDomain"] in tenant["verifiedDomains"]
    assert any(d.endswith(".onmicrosoft.com") for d in tenant["verifiedDomains"])


def test_graph_users(small: SyntheticTenant) -> None:
    for user in _data(small)["graph/users"]:
        assert set(user) >= USER_KEYS
        assert GUID.match(user["id"])
        assert CLOUD_SID.match(user["securityIdentifier"])
        assert GRAPH_DATE.match(user["createdDateTime"])
        assert user["lastPasswordChangeDateTime"] >= user["createdDateTime"]
        activity = user["signInActivity"]
        assert set(activity) >= {"lastSignInDateTime", "lastNonInteractiveSignInDateTime",
                                 "lastSuccessfulSignInDateTime"}
        for value in activity.values():
            assert value is None or GRAPH_DATE.match(value) or GUID.match(value)
        for licence in user["assignedLicenses"]:
            assert set(licence) == {"skuId", "disabledPlans"} and GUID.match(licence["skuId"])
        if user["userType"] == "Guest":
            assert user["creationType"] == "Invitation" and "#EXT#" in user["userPrincipalName"]
            assert user["externalUserState"] in {"Accepted", "PendingAcceptance"}


def test_exchange_rows(small: SyntheticTenant) -> None:
    data = _data(small)
    users = {u["id"] for u in data["graph/users"]}
    for row in data["exo/Get-Mailbox"]:
        assert set(row) >= MAILBOX_KEYS
        assert EXO_DATE.match(row["WhenCreated"]) and EXO_UTC.match(row["WhenCreatedUTC"])
        if row["RecipientTypeDetails"] == "DiscoveryMailbox":
            assert row["ExternalDirectoryObjectId"] == ""
            assert row["UserPrincipalName"].startswith("DiscoverySearchMailbox{")
            continue
        assert row["ExternalDirectoryObjectId"] in users  # joins to Graph by object id
        assert all(isinstance(v, str) for v in row["AuditOwner"] + row["GrantSendOnBehalfTo"])
        forwarding = row["ForwardingSmtpAddress"]
        assert forwarding is None or forwarding.startswith("smtp:")
    for row in data["exo/Get-CASMailbox"]:
        assert set(row) >= CAS_KEYS
        assert row["SmtpClientAuthenticationDisabled"] in {None, True, False}
    for row in data["exo/Get-User"]:
        assert isinstance(row["RemotePowerShellEnabled"], bool)
        assert row["ExternalDirectoryObjectId"] in users


def test_permission_rows(small: SyntheticTenant) -> None:
    data = _data(small)
    rows = data["exo/Get-MailboxPermission"]
    for row in rows:
        assert set(row) >= {"Identity", "User", "AccessRights", "IsInherited", "Deny",
                            "InheritanceType"}
        assert isinstance(row["AccessRights"], list) and isinstance(row["Deny"], bool)
    keys = [(r["Identity"], r["User"], tuple(r["AccessRights"]), r["Deny"], r["IsInherited"])
            for r in rows]
    assert len(keys) == len(set(keys))  # one entry per trustee and right
    selves = [r for r in rows if r["User"] == "NT AUTHORITY\\SELF"]
    assert selves and all(r["AccessRights"] == ["FullAccess, ReadPermission"] for r in selves)
    assert any(EXO_SID.match(r["User"]) and not r["IsInherited"] for r in rows)  # orphaned
    assert any(r["IsInherited"] for r in rows)
    assert any(r["Deny"] and r["IsInherited"] for r in rows)
    assert any(r["Deny"] and not r["IsInherited"] for r in rows)
    assert any(r["User"] == "Everyone" for r in rows)
    assert any("#EXT#" in r["Trustee"] for r in data["exo/Get-RecipientPermission"])
    for row in data["exo/Get-RecipientPermission"]:
        assert row["AccessRights"] == ["SendAs"]
        assert row["AccessControlType"] in {"Allow", "Deny"}


def test_inbox_rules(small: SyntheticTenant) -> None:
    rules = _data(small)["exo/Get-InboxRule"]
    assert rules
    for rule in rules:
        assert rule["Identity"] == f"{rule['MailboxOwnerId']}\\{rule['RuleIdentity']}"
        assert isinstance(rule["RuleIdentity"], int)
        for target in (rule["ForwardTo"] or []) + (rule["RedirectTo"] or []):
            assert re.match(r'^".+" \[(SMTP|EX):.+\]$', target)
    assert any((rule["MoveToFolder"] and rule["MoveToFolder"].endswith(":\\RSS Feeds"))
               or rule["DeleteMessage"] or rule["MarkAsRead"] for rule in rules)


def test_directory_objects(small: SyntheticTenant) -> None:
    data = _data(small)
    definitions = {d["id"]: d for d in data["graph/roleDefinitions"]}
    assert definitions["29232cdf-9323-42fd-ade2-1d097af3e4de"]["displayName"] == (
        "Exchange Administrator")
    assert definitions["62e90394-69f5-4237-9190-012177145e10"]["displayName"] == (
        "Global Administrator")
    for assignment in data["graph/roleAssignments"]:
        assert assignment["roleDefinitionId"] in definitions
        assert assignment["directoryScopeId"] == "/"
    settings = data["graph/settings"]
    assert [s["templateId"] for s in settings] == ["5cf42378-d67d-4f36-ba46-e8b86229381d"]
    values = {v["name"]: v["value"] for v in settings[0]["values"]}
    assert values["LockoutThreshold"].isdigit() and values["LockoutDurationInSeconds"].isdigit()
    for detail in data["graph/userRegistrationDetails"]:
        assert isinstance(detail["isMfaRegistered"], bool)
        assert isinstance(detail["methodsRegistered"], list)


#: methodsRegistered values as Graph spells them: its list example
#: (microsoftgraph/microsoft-graph-docs-contrib,
#: api-reference/v1.0/api/authenticationmethodsroot-list-userregistrationdetails.md) and
#: the beta usageAuthMethod members (api-reference/beta/resources/usageauthmethod.md).
GRAPH_METHOD_NAMES = frozenset({
    "email", "mobilePhone", "alternateMobilePhone", "officePhone", "securityQuestion",
    "microsoftAuthenticatorPush", "microsoftAuthenticatorPasswordless",
    "softwareOneTimePasscode", "hardwareOneTimePasscode", "fido2SecurityKey",
    "windowsHelloForBusiness", "temporaryAccessPass", "macOsSecureEnclaveKey",
    "passKeyDeviceBound", "passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundWindowsHello",
    "passKeySynced", "externalAuthMethod",
})


def test_registered_methods_are_spelled_as_graph_spells_them(small: SyntheticTenant) -> None:
    details = _data(small)["graph/userRegistrationDetails"]
    used = {m for detail in details for m in detail["methodsRegistered"]}
    assert used and used <= GRAPH_METHOD_NAMES, used - GRAPH_METHOD_NAMES
    assert "passKeyDeviceBoundAuthenticator" in used  # a passkey-only account is planted
    for detail in details:
        assert detail["isMfaCapable"] == detail["isMfaRegistered"]


def test_conditional_access(small: SyntheticTenant) -> None:
    data = _data(small)
    policies = data["graph/conditionalAccessPolicies"]
    states = {p["state"] for p in policies}
    assert {"enabled", "enabledForReportingButNotEnforced", "disabled"} <= states
    blocks = [p for p in policies if p["state"] == "enabled"
              and p["grantControls"]["builtInControls"] == ["block"]]
    assert len(blocks) == 1
    block = blocks[0]
    assert block["conditions"]["clientAppTypes"] == ["exchangeActiveSync", "other"]
    assert block["conditions"]["users"]["includeUsers"] == ["All"]
    excluded = block["conditions"]["users"]["excludeGroups"]
    assert len(excluded) == 1
    members = data["graph/groupMembers"][excluded[0]]
    ownerless_ids = {row["ExternalDirectoryObjectId"] for row in data["exo/Get-Mailbox"]
                     if row["RecipientTypeDetails"] == "SharedMailbox"}
    assert ownerless_ids & {m["id"] for m in members}  # the exception covers ownerless accounts
    assert any("mfa" in p["grantControls"]["builtInControls"] for p in policies)


def test_exchange_organisation(small: SyntheticTenant) -> None:
    data = _data(small)
    org = data["exo/Get-OrganizationConfig"]
    assert isinstance(org["AuditDisabled"], bool)
    policies = {p["Name"]: p for p in data["exo/Get-AuthenticationPolicy"]}
    default = policies[org["DefaultAuthenticationPolicy"]]
    assert not any(v for k, v in default.items() if k.startswith("AllowBasicAuth"))
    assert any(any(v for k, v in p.items() if k.startswith("AllowBasicAuth"))
               for p in policies.values())
    assigned = {u["AuthenticationPolicy"] for u in data["exo/Get-User"]} - {None}
    assert assigned and assigned <= set(policies)
    assert data["exo/Get-TransportConfig"]["SmtpClientAuthenticationDisabled"] is True
    bypass = [r for r in data["exo/Get-MailboxAuditBypassAssociation"] if r["AuditBypassEnabled"]]
    assert len(bypass) == 1


def test_our_parser_reads_everything(small: SyntheticTenant) -> None:
    snapshot = snapshot_from_recorded(small.recorded)
    assert snapshot.problems == {}
    assert snapshot.skipped == ()
    assert len(snapshot.accounts) == 200
