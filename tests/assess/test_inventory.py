"""The ownerless inventory: classification, joins, and what could not be joined."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mailwarden.assess import assess, classify
from mailwarden.model.findings import KnownMailbox, MailboxKind, PriorInventory, ProblemKind, Status
from mailwarden.model.inventory import RoleAssignment, SkippedRecord
from tests.assess.assess_factory import (
    GLOBAL_ADMIN,
    HR,
    account_of,
    adding,
    cas,
    exo_user,
    full_access,
    hardened,
    mailbox,
    mailbox_of,
    person,
    run,
    service_account,
)


@pytest.mark.parametrize(
    ("kind", "licensed", "expected"),
    [
        ("SharedMailbox", False, MailboxKind.SHARED),
        ("RoomMailbox", False, MailboxKind.ROOM),
        ("EquipmentMailbox", False, MailboxKind.EQUIPMENT),
        ("SchedulingMailbox", False, MailboxKind.SCHEDULING),
        ("UserMailbox", False, MailboxKind.UNLICENSED_USER),
        ("UserMailbox", True, MailboxKind.OWNED),
        ("DiscoveryMailbox", False, None),
    ],
)
def test_classify(kind: str, licensed: bool, expected: MailboxKind | None) -> None:
    account = person("x", licensed=licensed)
    assert classify(mailbox(account, kind), account).kind is expected


def test_system_mailboxes_by_name_and_unknown_licences_are_not_assessed() -> None:
    account = person("y")
    search = mailbox(account, "UserMailbox", name="DiscoverySearchMailbox{D919BA05-46A6}")
    assert classify(search, account).kind is None
    unknown = replace(account, licenses=None)
    assert "not collected" in classify(mailbox(unknown, "UserMailbox"), unknown).reason


def test_ownerless_mailboxes_are_inventoried_and_owned_ones_counted() -> None:
    leaver = service_account("old.user")
    snapshot = adding(
        hardened(),
        accounts=(leaver,),
        mailboxes=(mailbox(leaver, "UserMailbox"),),
        exo_users=(exo_user(leaver),),
    )
    result = run(snapshot)
    kinds = {entry.upn: entry.kind for entry in result.inventory}
    assert kinds == {HR: MailboxKind.SHARED, leaver.upn: MailboxKind.UNLICENSED_USER}
    assert result.mailbox_counts == {"owned": 1, "shared": 1, "unlicensed-user": 1}
    entry = next(e for e in result.inventory if e.upn == HR)
    assert entry.account_enabled is False and entry.licensed is False
    assert entry.protocols["IMAP"] is False and entry.smtp_auth_enabled is False
    assert entry.legacy_blocked_by == ("Block legacy authentication",)
    assert entry.custodian is not None and entry.custodian.person == "alice@contoso.com"
    assert entry.roles == ()


def test_the_inventory_lists_the_roles_the_account_holds() -> None:
    base = hardened()
    hr = account_of(base, "hr")
    assignment = RoleAssignment(id="r1", principal_id=hr.id, role_definition_id=GLOBAL_ADMIN)
    result = run(adding(base, role_assignments=(assignment,)))
    entry = next(e for e in result.inventory if e.upn == HR)
    assert entry.roles == ("Global Administrator",)


def test_a_mailbox_joins_its_account_by_upn_when_the_object_id_is_absent() -> None:
    snapshot = hardened()
    boxes = tuple(
        replace(m, external_directory_object_id=None) if m.name == "hr" else m
        for m in snapshot.mailboxes
    )
    result = run(replace(snapshot, mailboxes=boxes))
    entry = next(e for e in result.inventory if e.upn == HR)
    assert entry.account_id == account_of(snapshot, "hr").id.lower()


def test_unmatched_objects_are_reported_not_dropped() -> None:
    ghost = service_account("ghost")  # Exchange has its mailbox; Entra has no account
    stray = person("stray")  # Entra account that Get-User does not list
    orphan_cas = cas(mailbox(person("gone")))  # a client access row for no mailbox
    snapshot = adding(
        hardened(),
        mailboxes=(mailbox(ghost),),
        accounts=(stray,),
        exo_users=(exo_user(person("nobody")),),
        cas_mailboxes=(orphan_cas,),
    )
    result = run(snapshot)
    problems = {
        (p.source, p.subject) for p in result.problems if p.kind is ProblemKind.UNMATCHED_OBJECT
    }
    assert ("exo/Get-Mailbox", ghost.upn) in problems
    assert ("graph/users", stray.upn) in problems
    assert ("exo/Get-User", "nobody@contoso.com") in problems
    assert ("exo/Get-CASMailbox", "gone@contoso.com") in problems
    # The unmatched shared mailbox is still assessed; account checks say error.
    assert any(e.upn == ghost.upn and e.account_id is None for e in result.inventory)


def test_missing_sources_and_skipped_records_become_problems() -> None:
    snapshot = replace(
        hardened(),
        problems={"exo/Get-InboxRule": "timed out"},
        skipped=(SkippedRecord(source="graph/users", index=7, reason="no id"),),
    )
    result = run(snapshot)
    kinds = {(p.kind, p.source) for p in result.problems}
    assert (ProblemKind.MISSING_SOURCE, "exo/Get-InboxRule") in kinds
    assert (ProblemKind.SKIPPED_RECORD, "graph/users") in kinds


def test_per_mailbox_rows_for_unknown_mailboxes_are_reported() -> None:
    stray_row = replace(full_access(mailbox_of(hardened()), "alice@contoso.com"), identity="gone")
    result = run(adding(hardened(), mailbox_permissions=(stray_row,)))
    assert any(
        p.subject == "gone" and p.source == "exo/Get-MailboxPermission" for p in result.problems
    )


def test_without_get_mailbox_the_last_run_names_what_get_user_does_not() -> None:
    """Get-Mailbox failed and Get-User has no row for hr@: Get-CASMailbox names a mailbox
    of unknown type, which is listed as not assessed; with the last stored run, which knew
    hr@ as shared, it is assessed: checks that read only the account and Get-CASMailbox
    judge it, those that read Get-Mailbox's properties say error, and the summary says the
    inventory came from that run."""
    snapshot = hardened()
    failed = replace(
        snapshot,
        exo_users=tuple(u for u in snapshot.exo_users if u.user_principal_name != HR),
        problems={**snapshot.problems, "exo/Get-Mailbox": "HTTP 503 (test)"},
    )
    alone = run(failed)
    assert HR not in {e.upn for e in alone.inventory}
    assert any(p.kind is ProblemKind.UNKNOWN_LICENCE and "type (RecipientTypeDetails) is "
               "unknown" in p.detail for p in alone.problems)

    prior = PriorInventory(label="the run of 2026-11-01", mailboxes=(
        KnownMailbox(upn=HR, kind=MailboxKind.SHARED, display_name="HR"),))
    known = assess(failed, prior=prior)
    assert [e.upn for e in known.inventory] == [HR]
    whole = {f.check_id: f.status for f in run(snapshot).findings if f.resource.upn == HR}
    now = {f.check_id: f.status for f in known.findings if f.resource.upn == HR}
    assert now["sign-in-enabled"] is whole["sign-in-enabled"] is Status.PASS
    assert now["imap-enabled"] is whole["imap-enabled"]
    assert now["mailbox-audit-disabled"] is Status.ERROR
    assert now["stale-delegate"] is Status.ERROR  # GrantSendOnBehalfTo is unknown
    note = next(p for p in known.problems if p.kind is ProblemKind.INCOMPLETE_INVENTORY)
    assert "1 ownerless mailbox known from the run of 2026-11-01 (1)" in note.detail
