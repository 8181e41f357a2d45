"""The roll-up per control: the worst status wins (fail, error, accepted, pass), a control
with nothing in its scope is not_applicable, and CIS 1.2.2 counts shared mailboxes only."""

from __future__ import annotations

from mailwarden.assess import list_checks
from mailwarden.model.controls import Framework
from mailwarden.model.findings import Finding, MailboxKind, Resource, Scope, Severity, Status
from mailwarden.report.compliance import roll_up


def _finding(check: str, status: Status, upn: str, kind: MailboxKind) -> Finding:
    return Finding(check_id=check, status=status, severity=Severity.HIGH, message="m",
                   resource=Resource(type=Scope.MAILBOX, upn=upn, kind=kind))


def _status(findings: list[Finding], control_id: str) -> tuple[Status, dict[str, int]]:
    rows = {r.control.id: r for r in roll_up(findings, list_checks(), Framework.CIS_M365)}
    return rows[control_id].status, rows[control_id].counts


def test_the_worst_status_wins_and_accepted_is_never_a_pass() -> None:
    shared = MailboxKind.SHARED
    ok = _finding("smtp-auth-enabled", Status.PASS, "a@x.com", shared)
    accepted = _finding("smtp-auth-enabled", Status.ACCEPTED, "b@x.com", shared)
    error = _finding("smtp-auth-enabled", Status.ERROR, "c@x.com", shared)
    fail = _finding("smtp-auth-enabled", Status.FAIL, "d@x.com", shared)
    assert _status([ok], "6.5.4")[0] is Status.PASS
    assert _status([ok, accepted], "6.5.4")[0] is Status.ACCEPTED
    assert _status([ok, accepted, error], "6.5.4")[0] is Status.ERROR
    status, counts = _status([ok, accepted, error, fail], "6.5.4")
    assert status is Status.FAIL
    assert counts == {"fail": 1, "error": 1, "accepted": 1, "pass": 1, "not_applicable": 0}


def test_shared_mailbox_sign_in_counts_only_shared_mailboxes() -> None:
    room = _finding("sign-in-enabled", Status.FAIL, "room@x.com", MailboxKind.ROOM)
    assert _status([room], "1.2.2") == (
        Status.NOT_APPLICABLE,
        {"fail": 0, "error": 0, "accepted": 0, "pass": 0, "not_applicable": 0})
    shared = _finding("sign-in-enabled", Status.FAIL, "hr@x.com", MailboxKind.SHARED)
    assert _status([room, shared], "1.2.2")[0] is Status.FAIL


def test_per_mailbox_imap_does_not_count_towards_the_legacy_authentication_block() -> None:
    imap = _finding("imap-enabled", Status.FAIL, "hr@x.com", MailboxKind.SHARED)
    rows = roll_up([imap], list_checks(), Framework.SCUBA)
    legacy = next(r for r in rows if r.control.id == "MS.AAD.1.1v1")
    assert legacy.findings == () and legacy.status is Status.NOT_APPLICABLE
