"""planted.json agrees with the data it describes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from mailwarden.synth import CHECK_IDS, COLLECTED_AT, SyntheticTenant, generate
from mailwarden.synth.logs import synthetic_logs
from tests.synth.synth_reference import Reading

TENANT_SCOPE = {"audit-disabled-org", "weak-smart-lockout", "app-mail-access-unscoped",
                "direct-send-allowed"}


def _reading(tenant: SyntheticTenant) -> Reading:
    return Reading(tenant.recorded.data, tenant.custodians_csv())


def _planted(tenant: SyntheticTenant) -> set[tuple[str, str | None]]:
    return {(f.check_id, f.upn) for f in tenant.planted.findings}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_an_independent_reading_of_the_files_finds_exactly_what_was_planted(seed: int) -> None:
    tenant = generate("small", seed=seed)
    assert _reading(tenant).verdicts() == _planted(tenant)


def test_the_same_holds_for_a_medium_tenant(medium: SyntheticTenant) -> None:
    assert _reading(medium).verdicts() == _planted(medium)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_what_the_files_cannot_decide_is_planted_as_unknown(seed: int) -> None:
    """lastSuccessfulSignInDateTime exists from 1 December 2023 and is not backfilled
    (microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/signinactivity.md):
    each tenant holds a shared account whose only sign-in is older, with no success shown."""
    tenant = generate("small", seed=seed)
    unknown = {(f.check_id, f.upn) for f in tenant.planted.unknown}
    assert unknown and _reading(tenant).unknowns() == unknown
    assert not unknown & _planted(tenant)
    users = {u["userPrincipalName"].lower(): u for u in tenant.recorded.data["graph/users"]}
    for _check, upn in unknown:
        assert upn is not None
        activity = users[upn]["signInActivity"]
        assert activity["lastSuccessfulSignInDateTime"] is None
        assert activity["lastSignInDateTime"] < "2023-12-01"


def test_no_success_older_than_graphs_record_of_them_is_shown(medium: SyntheticTenant) -> None:
    for user in medium.recorded.data["graph/users"]:
        activity = user["signInActivity"]
        success = activity["lastSuccessfulSignInDateTime"]
        assert success is None or success >= "2023-12-01", user["userPrincipalName"]
        for name, since in (("lastSignInDateTime", "2020-04-01"),
                            ("lastNonInteractiveSignInDateTime", "2020-05-01")):
            assert activity[name] is None or activity[name] >= since


def test_every_check_is_planted_somewhere(small: SyntheticTenant) -> None:
    planted = Counter(f.check_id for f in small.planted.findings)
    assert small.model is not None
    # dormant-delegate is decided by the audit log: planted with the logs (planted.json's
    # "dormant" part, tests/synth/test_dormant_truth.py).
    logs = synthetic_logs(small.model, size=small.size, seed=small.seed)
    planted.update(row["check_id"] for row in logs.dormant["planted"])
    assert set(planted) <= set(CHECK_IDS)
    assert set(CHECK_IDS) - set(planted) <= {"audit-disabled-org", "weak-smart-lockout"}
    seen = set()
    for seed in range(40):
        seen |= {f.check_id for f in generate(60, seed=seed).planted.findings}
    # The tenant-wide ones vary with the seed; the logs plant dormant-delegate.
    assert seen | {"dormant-delegate"} == set(CHECK_IDS)


def test_findings_are_well_formed(small: SyntheticTenant) -> None:
    document = small.planted_document()
    assert document["schema"] == "mailwarden.planted/1"
    assert (document["size"], document["seed"]) == ("small", 0)
    for finding in document["planted"] + document["unknown"]:
        # A per-application finding also names its application.
        extra = {"app_id"} if finding["check_id"] == "app-mail-access-unscoped" else set()
        assert set(finding) == {"check_id", "upn", "detail"} | extra
        assert finding["detail"]
        if finding["check_id"] in TENANT_SCOPE:
            assert finding["upn"] is None
        elif finding["upn"] is not None:
            assert finding["upn"] == finding["upn"].lower()
    tenant_scope = [f for f in document["planted"] if f["upn"] is None]
    assert {f["check_id"] for f in tenant_scope} <= TENANT_SCOPE | {"audit-bypass-enabled"}


def _by_upn(data: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    users = {u["userPrincipalName"].lower(): u for u in data["graph/users"]}
    mailboxes = {m["UserPrincipalName"].lower(): m for m in data["exo/Get-Mailbox"]}
    cas = {c["ExternalDirectoryObjectId"]: c for c in data["exo/Get-CASMailbox"]}
    exo_users = {u["ExternalDirectoryObjectId"]: u for u in data["exo/Get-User"]}
    return users, mailboxes, cas, exo_users


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_clean_mailboxes_really_are_hardened(fixture: str, request: pytest.FixtureRequest) -> None:
    tenant: SyntheticTenant = request.getfixturevalue(fixture)
    data = tenant.recorded.data
    users, mailboxes, cas, exo_users = _by_upn(data)
    custodians = {line.split(",")[0] for line in tenant.custodians_csv().splitlines()[1:]}
    planted_upns = {f.upn for f in tenant.planted.findings}
    exceptions = next(p for p in data["graph/conditionalAccessPolicies"]
                      if p["displayName"] == "Block legacy authentication")
    excluded = {m["id"] for g in exceptions["conditions"]["users"]["excludeGroups"]
                for m in data["graph/groupMembers"][g]}
    role_holders = {a["principalId"] for a in data["graph/roleAssignments"]}
    assert len(tenant.planted.clean) >= 3
    for upn in tenant.planted.clean:
        user, mailbox = users[upn], mailboxes[upn]
        assert upn not in planted_upns
        assert user["accountEnabled"] is False and mailbox["AccountDisabled"] is True
        protocols = cas[user["id"]]
        assert not any(protocols[f] for f in ("ImapEnabled", "PopEnabled", "EwsEnabled",
                                              "ActiveSyncEnabled", "MAPIEnabled", "OWAEnabled"))
        assert protocols["SmtpClientAuthenticationDisabled"] in {True, None}
        assert mailbox["AuditEnabled"] is True
        assert {"MailItemsAccessed", "UpdateInboxRules"} <= set(mailbox["AuditOwner"])
        assert exo_users[user["id"]]["RemotePowerShellEnabled"] is False
        assert exo_users[user["id"]]["AuthenticationPolicy"] is None
        assert mailbox["ForwardingSmtpAddress"] is None and mailbox["ForwardingAddress"] is None
        assert not [r for r in data["exo/Get-InboxRule"] if r["MailboxOwnerId"] ==
                    mailbox["Identity"]]
        assert upn in custodians
        assert user["id"] not in excluded and user["id"] not in role_holders
        grants = [r for r in data["exo/Get-MailboxPermission"]
                  if r["Identity"] == mailbox["Identity"] and not r["IsInherited"]
                  and not r["Deny"] and r["User"] != "NT AUTHORITY\\SELF"]
        assert grants
        for grant in grants:
            delegate = users[grant["User"].lower()]
            assert delegate["accountEnabled"] and delegate["assignedLicenses"]
            assert delegate["userType"] == "Member"


def test_planted_sign_in_matches_account_state(medium: SyntheticTenant) -> None:
    users, mailboxes, _cas, _exo = _by_upn(medium.recorded.data)
    planted = {f.upn for f in medium.planted.findings if f.check_id == "sign-in-enabled"}
    assert planted
    for upn in planted:
        assert users[upn]["accountEnabled"] is True
        assert mailboxes[upn]["AccountDisabled"] is False
    resource = {f.upn for f in medium.planted.findings
                if f.check_id == "resource-account-enabled"}
    assert resource and resource <= planted
    for upn in resource:
        assert mailboxes[upn]["RoomMailboxAccountEnabled"] is True


def test_custodians_cover_most_but_not_all(medium: SyntheticTenant) -> None:
    rows = medium.custodians_csv().splitlines()
    assert rows[0] == "mailbox,custodian,team"
    mapped = {row.split(",")[0] for row in rows[1:]}
    ownerless = {f.upn for f in medium.planted.findings if f.upn} | set(medium.planted.clean)
    assert len(mapped) > 0.7 * len(ownerless)
    unanswered = {f.upn for f in medium.planted.findings if f.check_id == "no-custodian"}
    assert unanswered and not unanswered & mapped
    inferable = ownerless - mapped - unanswered
    assert inferable  # no row, but a delegate a custodian can be inferred from


def test_exactly_one_ownerless_account_is_privileged(medium: SyntheticTenant) -> None:
    privileged = [f for f in medium.planted.findings if f.check_id == "privileged-account"]
    assert len(privileged) == 1
    assert "Exchange Administrator" in privileged[0].detail
    _users, mailboxes, _cas, _exo = _by_upn(medium.recorded.data)
    assert privileged[0].upn is not None
    assert mailboxes[privileged[0].upn]["RecipientTypeDetails"] == "SharedMailbox"


def test_forwarding_and_rules_are_planted_with_decoys(medium: SyntheticTenant) -> None:
    data = medium.recorded.data
    forwarding = [m for m in data["exo/Get-Mailbox"] if m["ForwardingSmtpAddress"]]
    external = {f.upn for f in medium.planted.findings if f.check_id == "external-forwarding"}
    outside = [m for m in forwarding if m["UserPrincipalName"].lower() in external]
    inside = [m for m in forwarding if m["UserPrincipalName"].lower() not in external]
    assert outside and inside  # forwarding inside the verified domains is not external
    assert any(m["ForwardingAddress"] for m in data["exo/Get-Mailbox"])
    rules = data["exo/Get-InboxRule"]
    assert any(not r["Enabled"] for r in rules)  # a disabled rule hides nothing
    assert any(r["ForwardTo"] and "[EX:" in r["ForwardTo"][0] for r in rules)


def test_leavers_and_guests_keep_access(medium: SyntheticTenant) -> None:
    reading = _reading(medium)
    data = medium.recorded.data
    leavers = {u["id"]: u for u in data["graph/users"] if u["employeeLeaveDateTime"]}
    guests = {u["id"] for u in data["graph/users"] if u["userType"] == "Guest"}
    holders: dict[str, set[str]] = {"direct": set(), "group": set()}
    rights_by_leavers: set[str] = set()
    guest_access = False
    for mailbox in reading.ownerless():
        for right, trustee in reading.grants(mailbox):
            kind, value = reading.resolve(trustee)
            if kind == "user" and value in leavers:
                holders["direct"].add(value)
                rights_by_leavers.add(right)
            if kind == "group":
                holders["group"] |= reading.expand(value) & set(leavers)
            members = reading.expand(value) if kind == "group" else {value}
            guest_access |= bool(members & guests)
    assert rights_by_leavers == {"FullAccess", "SendAs", "SendOnBehalf"}
    assert holders["group"]  # through (nested) groups nobody cleaned up
    assert guest_access
    left = [datetime.fromisoformat(leavers[i]["employeeLeaveDateTime"].replace("Z", "+00:00"))
            for i in holders["direct"] | holders["group"]]
    assert any(COLLECTED_AT - when < timedelta(days=90) for when in left)
    assert any(COLLECTED_AT - when > timedelta(days=180) for when in left)


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_forwarding_by_name_reaches_a_contact_outside_and_a_colleague_inside(
        fixture: str, request: pytest.FixtureRequest) -> None:
    """ForwardingAddress is a recipient's Name: a mail contact (whose ExternalEmailAddress is
    "SMTP:..." outside) is external forwarding, a colleague's mailbox is not."""
    tenant: SyntheticTenant = request.getfixturevalue(fixture)
    data = tenant.recorded.data
    contacts = {c["Identity"]: c for c in data["exo/Get-MailContact"]}
    assert all(c["ExternalEmailAddress"].startswith("SMTP:") for c in contacts.values())
    assert {u["RecipientTypeDetails"] for u in data["exo/Get-MailUser"]} == {"GuestMailUser"}
    names = {m["Name"] for m in data["exo/Get-Mailbox"]}
    by_name = [m for m in data["exo/Get-Mailbox"] if m["ForwardingAddress"]]
    external = {f.upn for f in tenant.planted.findings if f.check_id == "external-forwarding"}
    to_contact = [m for m in by_name if m["ForwardingAddress"] in contacts]
    to_colleague = [m for m in by_name if m["ForwardingAddress"] in names]
    assert to_contact and to_colleague
    assert all(m["UserPrincipalName"].lower() in external for m in to_contact)
    assert any(m["UserPrincipalName"].lower() not in external for m in to_colleague)
    rules = [t for r in data["exo/Get-InboxRule"] for t in r["ForwardTo"] or ()]
    dns = {c["LegacyExchangeDN"] for c in contacts.values()}
    assert any(dn in target for target in rules for dn in dns)
