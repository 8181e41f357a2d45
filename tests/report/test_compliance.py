"""The roll-up per control: the worst status wins (fail, error, accepted, pass), a control
with nothing in its scope is not_applicable, and CIS 1.2.2 counts shared mailboxes only."""

from __future__ import annotations

import dataclasses

from mailwarden.assess import list_checks
from mailwarden.model.controls import Framework, applicable
from mailwarden.model.findings import Finding, MailboxKind, Resource, Scope, Severity, Status
from mailwarden.model.inventory import TransportConfig
from mailwarden.report.compliance import roll_up
from tests.assess.assess_factory import finding, hardened, run, with_cas


def _finding(check: str, status: Status, upn: str, kind: MailboxKind,
             controls: tuple[str, ...] | None = None) -> Finding:
    """A finding as the engine makes it: its check's controls that hold for the kind."""
    if controls is None:
        controls = applicable(next(i for i in list_checks() if i.id == check).controls, kind)
    return Finding(check_id=check, status=status, severity=Severity.HIGH, message="m",
                   resource=Resource(type=Scope.MAILBOX, upn=upn, kind=kind), controls=controls)


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


def test_a_findings_file_of_an_older_catalogue_rolls_up_by_todays_mapping() -> None:
    old = _finding("imap-enabled", Status.FAIL, "hr@x.com", MailboxKind.SHARED,
                   controls=("CIS M365 5.0.0 5.2.2.3", "CISA SCuBA MS.AAD.1.1v1"))
    rows = roll_up([old], list_checks(), Framework.SCUBA)
    assert all(r.findings == () for r in rows)  # IMAP is not the legacy-authentication block
    signin = _finding("sign-in-enabled", Status.FAIL, "hr@x.com", MailboxKind.SHARED,
                      controls=("CIS M365 5.0.0 1.2.2",))
    assert _status([signin], "1.2.2")[0] is Status.FAIL


def test_a_mailboxs_own_smtp_auth_setting_does_not_speak_to_the_organisations() -> None:
    """CIS 6.5.4 and MS.EXO.5.1v1 audit Get-TransportConfig and allow a mailbox exception."""
    own = with_cas(hardened(), smtp_client_authentication_disabled=False)
    found = finding(run(own), "smtp-auth-enabled")
    assert found.status is Status.FAIL
    assert found.controls == ("CIS Controls v8 4.8",)
    assert _status([found], "6.5.4")[0] is Status.NOT_APPLICABLE
    org = dataclasses.replace(
        with_cas(hardened(), smtp_client_authentication_disabled=None),
        transport_config=TransportConfig(smtp_client_authentication_disabled=False))
    found = finding(run(org), "smtp-auth-enabled")
    assert "CIS M365 6.0.0 6.5.4" in found.controls
    assert _status([found], "6.5.4")[0] is Status.FAIL


def test_user_mailbox_audit_actions_count_and_shared_ones_do_not() -> None:
    """CIS 6.1.2's audit inspects each UserMailbox."""
    shared = _finding("audit-actions-missing", Status.FAIL, "hr@x.com", MailboxKind.SHARED)
    assert _status([shared], "6.1.2")[0] is Status.NOT_APPLICABLE
    user = _finding("audit-actions-missing", Status.FAIL, "ann@x.com",
                    MailboxKind.UNLICENSED_USER)
    assert _status([shared, user], "6.1.2")[0] is Status.FAIL
