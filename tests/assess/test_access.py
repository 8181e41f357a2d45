"""The access map: trustee resolution, nested groups (with a cycle), orphaned SIDs, Deny
entries, ignored system entries, and the people behind every grant."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mailwarden.assess.groups import GroupGraph
from mailwarden.model.findings import MailboxAccess, ScanResult, Status, TrusteeKind
from mailwarden.model.inventory import DirectoryObjectRef, GroupMembers, Snapshot
from tests.assess.assess_factory import (
    HR,
    NOW,
    adding,
    finding,
    full_access,
    group,
    hardened,
    mailbox_of,
    person,
    run,
    send_as,
    with_mailbox,
)


def access_of(result: ScanResult, upn: str = HR) -> MailboxAccess:
    return next(a for a in result.access if a.upn == upn)


def people(result: ScanResult) -> dict[str, tuple[str, ...]]:
    return {p.upn: p.rights for p in access_of(result).people}


def nested() -> tuple[Snapshot, dict[str, str]]:
    """hr -> FullAccess to 'Payroll', which holds bob and 'Payroll Leads' (carol), which
    holds 'Payroll' again: a cycle."""
    bob, carol = person("bob"), person("carol")
    payroll, leads = group("Payroll", bob), group("Payroll Leads", carol)
    cycle_back = DirectoryObjectRef(id=payroll[0].id, object_type="group")
    leads_members = GroupMembers(group_id=leads[0].id, members=(*leads[1].members, cycle_back))
    payroll_members = GroupMembers(
        group_id=payroll[0].id,
        members=(*payroll[1].members, DirectoryObjectRef(id=leads[0].id, object_type="group")),
    )
    snapshot = adding(
        hardened(),
        accounts=(bob, carol),
        groups=(payroll[0], leads[0]),
        group_members=(payroll_members, leads_members),
        mailbox_permissions=(full_access(mailbox_of(hardened()), "Payroll"),),
    )
    return snapshot, {"bob": bob.upn, "carol": carol.upn}


def test_nested_groups_expand_to_people_and_a_cycle_terminates() -> None:
    snapshot, names = nested()
    result = run(snapshot)
    found = people(result)
    assert found[names["bob"]] == ("FullAccess",)
    assert found[names["carol"]] == ("FullAccess",)
    carol = next(p for p in access_of(result).people if p.upn == names["carol"])
    assert carol.via == ("Payroll",) and not carol.direct
    grant = next(g for g in access_of(result).grants if g.trustee == "Payroll")
    assert grant.kind is TrusteeKind.GROUP and grant.people == 2


def test_group_graph_expands_each_group_once_and_reports_missing_members() -> None:
    a = GroupMembers(
        group_id="A",
        members=(
            DirectoryObjectRef(id="u1", object_type="user"),
            DirectoryObjectRef(id="B", object_type="group"),
        ),
    )
    b = GroupMembers(
        group_id="B",
        members=(
            DirectoryObjectRef(id="u2", object_type="user"),
            DirectoryObjectRef(id="A", object_type="group"),
            DirectoryObjectRef(id="C", object_type="group"),  # never collected
        ),
    )
    graph = GroupGraph((a, b))
    expansion = graph.expand("a")
    assert expansion.users == {"u1", "u2"}
    assert expansion.missing == ("c",) and not expansion.complete
    assert graph.expand("B").users == {"u1", "u2"}
    assert graph.contains("A", "u3") is None  # unknown: C's members were not read
    assert GroupGraph((a,), available=False).expand("A").missing[-1] == "graph/groupMembers"


def test_an_orphaned_sid_is_a_stale_delegate() -> None:
    sid = "S-1-5-21-1207388624-1311111475-3301595691-1103514"
    snapshot = adding(hardened(), mailbox_permissions=(full_access(mailbox_of(hardened()), sid),))
    result = run(snapshot)
    orphaned = access_of(result).orphaned
    assert [g.trustee for g in orphaned] == [sid]
    assert orphaned[0].kind is TrusteeKind.ORPHANED
    stale = finding(result, "stale-delegate")
    assert stale.status is Status.FAIL and sid in stale.message
    assert any(sid in command for command in stale.remediation.powershell)  # type: ignore[union-attr]


def test_a_sid_that_still_matches_an_account_resolves_to_it() -> None:
    sid = "S-1-5-21-1-2-3-4242"
    bob = person("bob", sid=sid)
    box = mailbox_of(hardened())
    snapshot = adding(hardened(), accounts=(bob,), mailbox_permissions=(full_access(box, sid),))
    assert bob.upn in people(run(snapshot))


def test_deny_removes_what_it_denies_even_through_a_group() -> None:
    snapshot, names = nested()
    box = mailbox_of(snapshot)
    denied = adding(snapshot, mailbox_permissions=(full_access(box, names["carol"], deny=True),))
    found = people(run(denied))
    assert names["carol"] not in found and names["bob"] in found
    # A deny on one right leaves the others.
    both = adding(denied, recipient_permissions=(send_as(box, names["carol"]),))
    assert people(run(both))[names["carol"]] == ("SendAs",)


def test_a_deny_alone_grants_nothing_and_is_not_stale() -> None:
    leaver = person("dave", enabled=False)
    box = mailbox_of(hardened())
    snapshot = adding(
        hardened(),
        accounts=(leaver,),
        mailbox_permissions=(full_access(box, leaver.upn, deny=True),),
    )
    result = run(snapshot)
    assert leaver.upn not in people(result)
    assert finding(result, "stale-delegate").status is Status.PASS


def test_self_and_inherited_system_entries_are_ignored() -> None:
    box = mailbox_of(hardened())
    rows = (
        full_access(box, "NAMPR07A766\\Administrator", deny=True, inherited=True),
        full_access(box, "NT AUTHORITY\\SYSTEM", inherited=True),
        full_access(box, "NAMPR07A766\\Exchange Servers", inherited=True),
        full_access(box, "hr@contoso.com"),  # the mailbox's own account
    )
    result = run(adding(hardened(), mailbox_permissions=rows))
    access = access_of(result)
    assert access.ignored == 6  # the four above, plus SELF on FullAccess and SendAs
    assert [g.trustee for g in access.grants] == ["alice@contoso.com"]
    assert finding(result, "stale-delegate").status is Status.PASS


def test_send_on_behalf_names_resolve_by_exchange_name_and_id() -> None:
    bob, carol = person("bob"), person("carol")
    snapshot = adding(hardened(), accounts=(bob, carol))
    snapshot = with_mailbox(snapshot, grant_send_on_behalf_to=("bob", carol.id))
    found = people(run(snapshot))
    assert found[bob.upn] == ("SendOnBehalf",)
    assert found[carol.upn] == ("SendOnBehalf",)


def test_a_name_nothing_answers_to_is_orphaned_and_a_shared_name_is_reported() -> None:
    twin_a, twin_b = group("Finance"), group("Finance")
    box = mailbox_of(hardened())
    snapshot = adding(
        hardened(),
        groups=(twin_a[0], twin_b[0]),
        group_members=(twin_a[1], twin_b[1]),
        mailbox_permissions=(full_access(box, "Old Team"), full_access(box, "Finance")),
    )
    result = run(snapshot)
    kinds = {g.trustee: g.kind for g in access_of(result).grants}
    assert kinds["Old Team"] is TrusteeKind.ORPHANED
    assert kinds["Finance"] is TrusteeKind.AMBIGUOUS
    assert any(p.kind.value == "unresolved-trustee" for p in result.problems)


def test_people_are_marked_disabled_guest_unlicensed_and_left_recently() -> None:
    recent = person("erin", enabled=False, leave=NOW - timedelta(days=5))
    old = person("frank", enabled=False, leave=NOW - timedelta(days=400))
    guest = person("gina", guest=True, licensed=False)
    bot = person("printer", licensed=False)
    box = mailbox_of(hardened())
    everyone = (recent, old, guest, bot)
    snapshot = adding(
        hardened(),
        accounts=everyone,
        mailbox_permissions=tuple(full_access(box, p.upn) for p in everyone),
    )
    result = run(snapshot)
    by_upn = {p.upn: p for p in access_of(result).people}
    assert by_upn[recent.upn].left_recently and by_upn[recent.upn].stale_reasons() == (
        "left recently",
    )
    assert not by_upn[old.upn].left_recently and by_upn[old.upn].stale_reasons() == ("disabled",)
    assert by_upn[guest.upn].guest and "guest" in by_upn[guest.upn].stale_reasons()
    assert by_upn[bot.upn].stale_reasons() == ("unlicensed",)
    assert by_upn["alice@contoso.com"].stale_reasons() == ()
    recent_only = run(snapshot, left_recently_days=3)
    assert not next(p for p in access_of(recent_only).people if p.upn == recent.upn).left_recently


def test_broad_grants_large_groups_and_too_many_delegates() -> None:
    staff = [person(f"staff{i}") for i in range(6)]
    all_staff = group("All Staff", *staff)
    box = mailbox_of(hardened())
    snapshot = adding(
        hardened(),
        accounts=tuple(staff),
        groups=(all_staff[0],),
        group_members=(all_staff[1],),
        mailbox_permissions=(full_access(box, "All Staff"),),
    )
    assert finding(run(snapshot), "broad-delegation").status is Status.PASS
    small_groups = run(snapshot, broad_group_min=5)
    broad = finding(small_groups, "broad-delegation")
    assert broad.status is Status.FAIL and "All Staff" in broad.message
    crowded = run(snapshot, max_delegates=3)
    assert "7 delegates" in finding(crowded, "broad-delegation").message


def test_a_broad_grant_says_whom_it_reaches() -> None:
    box = mailbox_of(hardened())
    for trustee, reach in (("Default", "every user of the tenant"),
                           ("Everyone", "every user of the tenant"),
                           ("Anonymous", "anyone, even without signing in")):
        snapshot = adding(hardened(), mailbox_permissions=(full_access(box, trustee),))
        broad = finding(run(snapshot), "broad-delegation")
        assert broad.status is Status.FAIL
        assert f"FullAccess to '{trustee}' reaches {reach}" in broad.message, broad.message


def test_missing_group_members_make_delegation_checks_error_not_pass() -> None:
    snapshot, _ = nested()
    missing = replace(
        snapshot,
        group_members=(),
        problems={"graph/groupMembers": "403 Forbidden (test)"},
    )
    result = run(missing)
    assert not access_of(result).complete
    assert finding(result, "stale-delegate").status is Status.ERROR
    assert finding(result, "broad-delegation").status is Status.ERROR
