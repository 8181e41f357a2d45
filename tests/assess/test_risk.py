"""Risk scores and attack paths, and the riskiest-mailboxes summary."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mailwarden.assess import riskiest
from mailwarden.assess.risk import SPRAYABLE_FLOOR, risk_score
from mailwarden.model.findings import (
    TENANT_RESOURCE,
    Finding,
    MailboxAssessment,
    ScanResult,
    Severity,
    Status,
)
from tests.assess.assess_factory import (
    HR,
    NOW,
    account_of,
    adding,
    block_legacy,
    full_access,
    hardened,
    mailbox_of,
    person,
    run,
    with_account,
    with_cas,
    with_mailbox,
)


def assessment(result: ScanResult, upn: str = HR) -> MailboxAssessment:
    return next(a for a in result.assessments if a.upn == upn)


def failing(*severities: Severity) -> list[Finding]:
    return [
        Finding(
            check_id=f"c{i}", status=Status.FAIL, severity=s, resource=TENANT_RESOURCE, message="x."
        )
        for i, s in enumerate(severities)
    ]


def test_scores_grow_with_diminishing_returns_and_stay_within_100() -> None:
    assert risk_score([], sprayable=False) == 0
    one_high = risk_score(failing(Severity.HIGH), sprayable=False)
    two_high = risk_score(failing(Severity.HIGH, Severity.HIGH), sprayable=False)
    assert 0 < one_high < two_high < 2 * one_high
    assert risk_score(failing(*[Severity.CRITICAL] * 20), sprayable=False) == 100
    assert risk_score(failing(Severity.LOW), sprayable=True) == SPRAYABLE_FLOOR
    assert risk_score(failing(Severity.CRITICAL), sprayable=False) > risk_score(
        failing(Severity.HIGH, Severity.MEDIUM), sprayable=False
    )


def sprayable_mailbox() -> ScanResult:
    base = hardened()
    hr = account_of(base, "hr")
    leavers = [person(f"left{i}", enabled=False) for i in range(3)]
    box = mailbox_of(base)
    snapshot = adding(
        base,
        accounts=tuple(leavers),
        mailbox_permissions=tuple(full_access(box, p.upn) for p in leavers),
    )
    snapshot = with_account(
        snapshot, "hr", account_enabled=True, last_password_change=NOW - timedelta(days=41)
    )
    snapshot = with_cas(snapshot, imap_enabled=True)
    snapshot = replace(snapshot, ca_policies=(block_legacy(exclude_users=(hr.id,)),))
    return run(snapshot)


def test_the_sprayable_path_reads_as_a_chain_of_facts() -> None:
    result = sprayable_mailbox()
    item = assessment(result)
    assert item.risk_score >= SPRAYABLE_FLOOR
    path = item.attack_paths[0]
    assert path.severity is Severity.CRITICAL
    assert path.text == (
        "sign-in enabled -> IMAP on -> excluded from CA policy 'Block legacy authentication' "
        "-> no MFA method registered -> password reset by an admin 41 days ago "
        "-> 3 people who left still hold access"
    )
    assert item.failing[0] in {"sign-in-enabled", "legacy-auth-not-blocked"}
    titles = [p.title for p in item.attack_paths]
    assert "Access kept after leaving" in titles


def test_a_hardened_mailbox_has_no_paths_and_scores_zero() -> None:
    item = assessment(run(hardened()))
    assert item.risk_score == 0 and item.attack_paths == () and item.failing == ()


def test_forwarding_and_auditing_facts_join_the_paths() -> None:
    snapshot = with_mailbox(
        hardened(), forwarding_smtp_address="smtp:drop@evil.example", audit_enabled=False
    )
    item = assessment(run(snapshot))
    path = next(p for p in item.attack_paths if p.title == "Mail leaves the organisation")
    assert path.steps == (
        "mail forwarded to drop@evil.example",
        "abuse goes unaudited (mailbox auditing off)",
    )


def test_riskiest_orders_by_score_and_returns_data_only() -> None:
    result = sprayable_mailbox()
    top = riskiest(result, limit=5)
    assert [t.upn for t in top] == [HR]
    assert top[0].paths and top[0].risk_score == assessment(result).risk_score
    assert riskiest(run(hardened())) == ()


def test_a_guest_delegate_is_no_leaver_in_the_attack_path() -> None:
    base = hardened()
    box = mailbox_of(base)
    guest = person("pat.partner", guest=True)
    result = run(adding(base, accounts=(guest,),
                        mailbox_permissions=(full_access(box, guest.upn),)))
    titles = [p.title for p in assessment(result).attack_paths]
    assert "Access held from outside the organisation" in titles
    assert "Access kept after leaving" not in titles
