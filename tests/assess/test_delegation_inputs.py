"""What the delegation checks may conclude from what was read: a permission row the reader
had to skip leaves the mailbox's access unknown (error, not pass), and an inferred
custodian's reason names the real path of its access through nested groups.

Permission rows have the properties of Get-MailboxPermission (Identity, User, AccessRights,
IsInherited, Deny: MicrosoftDocs/office-docs-powershell,
exchange/exchange-ps/ExchangePowerShell/Get-MailboxPermission.md) and of
Get-RecipientPermission (Identity, Trustee, AccessRights, AccessControlType); the unreadable
ones lack the part that says who holds what.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailwarden.model.findings import CustodianSource, Status
from mailwarden.model.inventory import SkippedRecord, Snapshot
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.assess.assess_factory import (
    adding,
    finding,
    full_access,
    group,
    hardened,
    mailbox,
    mailbox_of,
    person,
    run,
    service_account,
)

WITHOUT_USER: dict[str, Any] = {"Identity": "hr", "User": None, "AccessRights": ["FullAccess"],
                                "IsInherited": False, "Deny": False, "InheritanceType": "All"}
WITHOUT_RIGHTS: dict[str, Any] = {"Identity": "hr", "Trustee": "bob@contoso.com",
                                  "AccessControlType": "Allow", "IsInherited": False}


def test_the_reader_keeps_the_mailbox_a_skipped_permission_row_names() -> None:
    recorded = RecordedTenant(data={
        "exo/Get-MailboxPermission": [WITHOUT_USER],
        "exo/Get-RecipientPermission": [WITHOUT_RIGHTS],
    })
    skipped = snapshot_from_recorded(recorded).skipped
    assert {(s.source, s.subject, s.reason) for s in skipped} == {
        ("exo/Get-MailboxPermission", "hr", "no User"),
        ("exo/Get-RecipientPermission", "hr", "no AccessRights"),
    }


def _skipping(*records: SkippedRecord) -> Snapshot:
    return adding(hardened(), skipped=records)


def test_an_unreadable_permission_row_makes_delegation_checks_error_for_its_mailbox() -> None:
    row = SkippedRecord(source="exo/Get-MailboxPermission", index=2, reason="no User",
                        sample=WITHOUT_USER, subject="hr")
    result = run(_skipping(row))
    for check in ("stale-delegate", "broad-delegation"):
        got = finding(result, check)
        assert got.status is Status.ERROR, (check, got.message)
        assert any("row 2 of exo/Get-MailboxPermission" in u for u in got.evidence["unknown"])
    # The custodian is still inferred from what was read.
    assert finding(result, "no-custodian").status is Status.PASS


def test_a_row_of_another_mailbox_leaves_this_one_alone() -> None:
    other = service_account("payroll")
    row = SkippedRecord(source="exo/Get-RecipientPermission", index=0,
                        reason="no AccessRights", subject="payroll")
    snapshot = adding(_skipping(row), accounts=(other,), mailboxes=(mailbox(other),))
    result = run(snapshot)
    assert finding(result, "stale-delegate").status is Status.PASS
    assert finding(result, "stale-delegate", "payroll@contoso.com").status is Status.ERROR


def test_a_row_that_names_no_mailbox_could_be_anyones() -> None:
    row = SkippedRecord(source="exo/Get-MailboxPermission", index=5, reason="no Identity")
    got = finding(run(_skipping(row)), "broad-delegation")
    assert got.status is Status.ERROR
    assert got.evidence["unknown"] == [
        "1 row of exo/Get-MailboxPermission that names no mailbox could not be read"
    ]


def test_a_failing_delegate_still_fails_with_the_unread_row_noted() -> None:
    row = SkippedRecord(source="exo/Get-MailboxPermission", index=2, reason="no User",
                        subject="hr")
    bob = person("bob", enabled=False)
    snapshot = adding(_skipping(row), accounts=(bob,),
                      mailbox_permissions=(full_access(mailbox_of(hardened()), bob.upn),))
    got = finding(run(snapshot), "stale-delegate")
    assert got.status is Status.FAIL
    assert got.evidence["incomplete"]


def granted_to_group_only(snapshot: Snapshot, name: str) -> Snapshot:
    """FullAccess on hr only through the group `name` (alice's direct grant removed)."""
    rows = tuple(p for p in snapshot.mailbox_permissions if "alice" not in p.user)
    return replace(snapshot, mailbox_permissions=(
        *rows, full_access(mailbox_of(snapshot), name)))


def test_the_inferred_custodian_names_the_nested_groups_it_holds_access_through() -> None:
    tom = person("tom", job_title="Accountant")
    team, team_members = group("Finance Team", tom)
    finance, finance_members = group("All Finance", team)
    base = adding(
        hardened(),
        accounts=(tom,),
        groups=(team, finance),
        group_members=(team_members, finance_members),
    )
    snapshot = granted_to_group_only(base, "All Finance")
    result = run(snapshot, infer_custodian_from_groups=True)
    got = finding(result, "no-custodian")
    assert got.status is Status.PASS and got.evidence["custodian"] == tom.upn
    assert got.evidence["source"] == CustodianSource.INFERRED.value
    assert "through a group (a member of 'Finance Team', nested in 'All Finance', which " \
        "holds it)" in got.evidence["reason"], got.evidence["reason"]


def test_a_direct_member_of_the_granted_group_is_named_with_that_group() -> None:
    tom = person("tom")
    team, members = group("HR Team", tom)
    base = adding(hardened(), accounts=(tom,), groups=(team,), group_members=(members,))
    snapshot = granted_to_group_only(base, "HR Team")
    got = finding(run(snapshot, infer_custodian_from_groups=True), "no-custodian")
    assert "(a member of 'HR Team', which holds it)" in got.evidence["reason"]
