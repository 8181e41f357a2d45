"""Checks over what Exchange really returns: hidden system rules, and a per-mailbox source
that could not be read for one mailbox."""

from __future__ import annotations

from dataclasses import replace

from mailwarden.model.findings import ProblemKind, Status
from mailwarden.model.inventory import InboxRule, Snapshot
from tests.assess.assess_factory import HR, adding, finding, hardened, run, with_mailbox

JUNK = "Junk E-mail Rule"
OOF = "Microsoft.Exchange.OOF.KnownExternalSenders.Global"


def rule(**changes: object) -> InboxRule:
    base = InboxRule(mailbox="hr", identity="hr\\1", name="r", enabled=True)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_exchange_system_rules_hide_nothing() -> None:
    """Get-InboxRule -IncludeHidden returns Exchange's own hidden rules too: the Junk E-mail
    Rule and the Microsoft.Exchange.OOF.* out-of-office rules. Public hidden-rule tools leave
    exactly these names out (CIPP-API Modules/CIPPCore/Public/Remove-CIPPMailboxRule.ps1:
    `$_.Name -ne 'Junk E-Mail Rule' -and $_.Name -notlike 'Microsoft.Exchange.OOF.*'`;
    Azure365Addict/Scripts Exchange-Get-Hidden-Inbox-Rules.ps1), and Microsoft's "Understand
    and troubleshoot Out of Office (OOF) replies" names the OOF rules. The Junk E-mail Rule
    files mail into Junk Email, which for any other rule is hiding."""
    rules = (
        rule(name=JUNK, move_to_folder="hr:\\Junk Email"),
        rule(identity="hr\\2", name=OOF, mark_as_read=True),
        rule(identity="hr\\3", name="junk e-mail RULE", move_to_folder="hr:\\Junk Email"),
    )
    result = run(adding(hardened(), inbox_rules=rules))
    assert finding(result, "hiding-inbox-rule").status is Status.PASS
    assert finding(result, "external-forwarding").status is Status.PASS


def test_a_rule_that_only_borrows_a_system_name_still_forwards() -> None:
    """Exchange's own rules never forward; one named like them that does is judged."""
    rules = (rule(name=JUNK, forward_to=('"x" [SMTP:x@gmail.com]',)),)
    got = finding(run(adding(hardened(), inbox_rules=rules)), "external-forwarding")
    assert got.status is Status.FAIL and "x@gmail.com" in got.message


def _rules_failed_for_hr(detail: str) -> Snapshot:
    """hr's calls failed: none of its rows were read, and the failure is recorded."""
    snapshot = hardened()
    return replace(
        snapshot,
        mailbox_permissions=tuple(
            row for row in snapshot.mailbox_permissions if row.identity.lower() != "hr"
        ),
        inbox_rules=(),
        mailbox_problems={
            "exo/Get-InboxRule": {HR: detail},
            "exo/Get-MailboxPermission": {HR: detail},
        },
    )


def test_a_mailbox_whose_calls_failed_gets_errors_not_passes() -> None:
    """One mailbox's failed Get-InboxRule / Get-MailboxPermission (recorded per mailbox in
    errors.json) makes the checks that need them say error for that mailbox, with the
    reason, and is listed as a problem of that mailbox."""
    detail = ("Get-InboxRule -Mailbox hr@contoso.com: Exchange Online refused POST "
              "InvokeCommand: HTTP 403 (Forbidden: Error executing cmdlet ... out of the "
              "current user's read scope ...)")
    snapshot = _rules_failed_for_hr(detail)
    result = run(snapshot)
    for check_id in ("hiding-inbox-rule", "external-forwarding", "stale-delegate",
                     "broad-delegation", "no-custodian"):
        got = finding(result, check_id)
        assert got.status is Status.ERROR, (check_id, got.message)
    hiding = finding(result, "hiding-inbox-rule")
    assert hiding.evidence["missing_sources"]["exo/Get-InboxRule"] == detail
    problems = [(p.kind, p.source, p.subject) for p in result.problems]
    assert (ProblemKind.MISSING_SOURCE, "exo/Get-InboxRule", HR) in problems


def test_external_forwarding_still_fails_on_what_was_read() -> None:
    snapshot = replace(
        hardened(),
        mailbox_problems={"exo/Get-InboxRule": {HR: "timed out"}},
    )
    outside = with_mailbox(snapshot, forwarding_smtp_address="smtp:x@gmail.com")
    assert finding(run(outside), "external-forwarding").status is Status.FAIL
