"""The fault matrix: every source of a recorded tenant failed, one at a time, the way
`collect` records a failure (the file absent, the error in errors.json), on the small
(seed 0) and medium (seed 1) synthetic tenants. No finding that fails on the whole tenant
may pass or vanish: it stays a fail, or becomes `error`.

The tenant's last stored run is there, as it is for `scan` and `report` with a history:
it is what names the unlicensed user mailboxes when graph/users failed. The small tenant
goes through the recorded-tenant directory (written as `collect` writes it, read as `scan`
reads it); the medium one is assessed from its parsed snapshot with the source's records
taken away and the source recorded as failed, which is what the reader makes of it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pytest

from mailwarden.assess import assess
from mailwarden.model.findings import (
    Finding,
    KnownMailbox,
    PriorInventory,
    ProblemKind,
    ScanResult,
    Status,
)
from mailwarden.model.inventory import Snapshot
from mailwarden.pipeline import write_tenant_directory
from mailwarden.synth import generate
from mailwarden.tenant.recorded import ALL_SOURCES, ERRORS_FILE, RecordedTenant
from mailwarden.tenant.snapshot import load_snapshot, snapshot_from_recorded

Key = tuple[str, str | None]
FAILURE = "HTTP 503 Service Unavailable (fault matrix)"
#: What `collect` records beside a failed source: without Get-Mailbox it has no mailbox to
#: ask the per-mailbox cmdlets about (collect/live.py, mailboxes_and_details).
ALSO_FAILED = {
    "exo/Get-Mailbox": {
        "exo/Get-MailboxPermission": "not collected: Get-Mailbox failed",
        "exo/Get-InboxRule": "not collected: Get-Mailbox failed",
    },
}
#: Which snapshot field holds each source's records.
FIELDS = {
    "tenant": "tenant",
    "graph/groupMembers": "group_members",
    "exo/Get-OrganizationConfig": "organization_config",
    "exo/Get-TransportConfig": "transport_config",
    "graph/securityDefaults": "security_defaults",
    "graph/users": "accounts",
    "graph/groups": "groups",
    "graph/roleAssignments": "role_assignments",
    "graph/roleDefinitions": "role_definitions",
    "graph/conditionalAccessPolicies": "ca_policies",
    "graph/settings": "directory_settings",
    "graph/userRegistrationDetails": "registrations",
    "graph/roleEligibilitySchedules": "role_eligibilities",
    "graph/subscribedSkus": "subscribed_skus",
    "exo/Get-Mailbox": "mailboxes",
    "exo/Get-CASMailbox": "cas_mailboxes",
    "exo/Get-MailboxPermission": "mailbox_permissions",
    "exo/Get-RecipientPermission": "recipient_permissions",
    "exo/Get-User": "exo_users",
    "exo/Get-InboxRule": "inbox_rules",
    "exo/Get-CalendarProcessing": "calendar_processing",
    "exo/Get-MailboxStatistics": "mailbox_statistics",
    "exo/Get-MailboxAuditBypassAssociation": "audit_bypass",
    "exo/Get-AuthenticationPolicy": "authentication_policies",
    "exo/Get-MailContact": "mail_contacts",
    "exo/Get-MailUser": "mail_users",
    "graph/servicePrincipals": "service_principals",
    "graph/appRoleAssignedTo": "app_role_assignments",
    "exo/Get-ApplicationAccessPolicy": "application_access_policies",
    "exo/Get-ManagementRoleAssignment": "management_role_assignments",
}


def test_every_source_is_in_the_matrix() -> None:
    assert set(FIELDS) == set(ALL_SOURCES)


@functools.cache
def _recorded(size: str, seed: int) -> RecordedTenant:
    return generate(size, seed=seed).recorded


@functools.cache
def _snapshot(size: str, seed: int) -> Snapshot:
    return snapshot_from_recorded(_recorded(size, seed))


@functools.cache
def _clean(size: str, seed: int) -> ScanResult:
    return assess(_snapshot(size, seed))


def _prior(size: str, seed: int) -> PriorInventory:
    """The whole tenant's run, as the history hands it back."""
    return PriorInventory(label="the run before", mailboxes=tuple(
        KnownMailbox(upn=e.upn, kind=e.kind, display_name=e.display_name)
        for e in _clean(size, seed).inventory))


def _failures(source: str) -> dict[str, str]:
    return {source: FAILURE, **ALSO_FAILED.get(source, {})}


def _failed_on_disk(tmp_path: Path, size: str, seed: int, source: str) -> Snapshot:
    """The tenant as `collect` writes it with `source` failed, read back as `scan` reads it."""
    whole = _recorded(size, seed)
    failed = _failures(source)
    recorded = RecordedTenant(
        data={k: v for k, v in whole.data.items() if k not in failed},
        errors={**whole.errors, **failed}, limitations=whole.limitations,
        mailbox_errors=whole.mailbox_errors,
    )
    write_tenant_directory(tmp_path, recorded)
    errors = json.loads((tmp_path / ERRORS_FILE).read_text(encoding="utf-8"))
    assert errors[source] == {"error": FAILURE}
    assert not (tmp_path / f"{source}.json").exists()
    return load_snapshot(tmp_path)


def _failed_in_memory(size: str, seed: int, source: str) -> Snapshot:
    whole = _snapshot(size, seed)
    failed = _failures(source)
    empty = snapshot_from_recorded(RecordedTenant(data={}, errors=dict.fromkeys(ALL_SOURCES, "")))
    return dataclasses.replace(
        whole, **{FIELDS[s]: getattr(empty, FIELDS[s]) for s in failed},
        problems={**whole.problems, **failed},
        mailbox_problems={k: v for k, v in whole.mailbox_problems.items() if k not in failed},
    )


def _by_key(result: ScanResult) -> dict[Key, Finding]:
    return {(f.check_id, f.resource.upn): f for f in result.findings}


def _lost(size: str, seed: int, result: ScanResult) -> list[str]:
    """Each finding failing on the whole tenant that now passes or is gone."""
    now = _by_key(result)
    lost = []
    for key, before in _by_key(_clean(size, seed)).items():
        if before.status is not Status.FAIL:
            continue
        after = now.get(key)
        if after is None:
            lost.append(f"{key[0]} on {key[1] or 'the tenant'}: gone")
        elif after.status not in (Status.FAIL, Status.ERROR):
            lost.append(f"{key[0]} on {key[1] or 'the tenant'}: {after.status.value}")
    return lost


def _said(result: ScanResult, source: str) -> bool:
    return any(p.source == source and p.kind is ProblemKind.MISSING_SOURCE
               for p in result.problems)


@pytest.mark.parametrize("source", ALL_SOURCES)
def test_small_tenant_with_one_source_failed(tmp_path: Path, source: str) -> None:
    result = assess(_failed_on_disk(tmp_path, "small", 0, source), prior=_prior("small", 0))
    assert _lost("small", 0, result) == []
    assert _said(result, source)


@pytest.mark.parametrize("source", ALL_SOURCES)
def test_medium_tenant_with_one_source_failed(source: str) -> None:
    result = assess(_failed_in_memory("medium", 1, source), prior=_prior("medium", 1))
    assert _lost("medium", 1, result) == []
    assert _said(result, source)


def test_small_tenant_without_get_mailbox_or_a_stored_run_loses_no_failure(
    tmp_path: Path,
) -> None:
    """Get-User and Get-CASMailbox list the ownerless mailboxes on their own; the summary
    says the inventory came from them."""
    result = assess(_failed_on_disk(tmp_path, "small", 0, "exo/Get-Mailbox"))
    assert _lost("small", 0, result) == []
    note = next(p for p in result.problems if p.kind is ProblemKind.INCOMPLETE_INVENTORY)
    assert note.source == "exo/Get-Mailbox"
    assert f"{len(_clean('small', 0).inventory)} ownerless mailboxes known from Get-User" in (
        note.detail)
    assert "no earlier stored run" in note.detail


def test_small_tenant_without_users_or_a_stored_run_names_what_it_cannot_assess(
    tmp_path: Path,
) -> None:
    """Without graph/users nor a stored run, an unlicensed user mailbox cannot be told from
    a licensed one: each is named as not assessed, never dropped silently."""
    result = assess(_failed_on_disk(tmp_path, "small", 0, "graph/users"))
    unassessed = " ".join(p.detail for p in result.problems
                          if p.kind is ProblemKind.UNKNOWN_LICENCE)
    assert "graph/users was not collected: licence unknown" in unassessed
    clean = _clean("small", 0)
    users = [e for e in clean.inventory if e.kind.value == "unlicensed-user"]
    assert users
    assert result.mailbox_counts.get("unlicensed-user", 0) == 0
    assert result.mailbox_counts["not assessed"] >= len(users)


def test_one_mailbox_whose_per_mailbox_sources_were_not_read(tmp_path: Path) -> None:
    """Get-InboxRule failed for one ownerless mailbox (recorded for it, collected for the
    rest), and Get-MailboxPermission came back with no row for it, not even the SELF row
    Exchange always lists: its findings that read them are error, the summary names it,
    and nothing passes or vanishes."""
    whole = _recorded("small", 0)
    clean = _clean("small", 0)
    victim = next(a.upn for a in clean.access if a.people)
    rows = whole.data["exo/Get-MailboxPermission"]
    identity = next(str(r["Identity"]) for r in rows
                    if str(r["Identity"]).lower() in (victim, victim.split("@")[0]))
    data = {
        **whole.data,
        "exo/Get-MailboxPermission": [r for r in rows if str(r["Identity"]) != identity],
        "exo/Get-InboxRule": [r for r in whole.data["exo/Get-InboxRule"]
                              if str(r.get("MailboxOwnerId")) != identity],
    }
    recorded = RecordedTenant(
        data=data, errors=whole.errors, limitations=whole.limitations,
        mailbox_errors={"exo/Get-InboxRule": {identity: FAILURE}},
    )
    write_tenant_directory(tmp_path, recorded)
    result = assess(load_snapshot(tmp_path))
    assert _lost("small", 0, result) == []
    now = _by_key(result)
    for check_id in ("stale-delegate", "broad-delegation", "no-custodian", "hiding-inbox-rule"):
        assert now[(check_id, victim)].status is Status.ERROR, now[(check_id, victim)].message
    named = {(p.source, p.subject) for p in result.problems
             if p.kind is ProblemKind.MISSING_SOURCE}
    assert ("exo/Get-MailboxPermission", victim) in named
    assert ("exo/Get-InboxRule", identity.lower()) in named
