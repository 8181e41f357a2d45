"""Rooms and equipment: who can book them, and who approves the bookings.

Facts (Set-CalendarProcessing reference, whose properties Get-CalendarProcessing returns):
ProcessExternalMeetingMessages "$true: Meeting requests from external senders are
processed. $false: ... rejected. This value is the default." ForwardRequestsToDelegates
"$true: Forward incoming meeting requests to the delegates ... This value is the
default." ResourceDelegates are the users who "can approve or reject requests that are
sent to the resource mailbox". AutomateProcessing None turns calendar processing off.
"""

from __future__ import annotations

from mailwarden.assess.checks.base import (
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    errored,
    failed,
    listing,
    not_applicable,
    passed,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.assess.trustees import TrusteeResolver
from mailwarden.model.controls import mapped
from mailwarden.model.findings import (
    CheckInfo,
    MailboxKind,
    Remediation,
    Scope,
    Severity,
    TrusteeKind,
)
from mailwarden.model.inventory import CalendarProcessing

CALENDAR = "exo/Get-CalendarProcessing"
RESOURCE_KINDS = frozenset({MailboxKind.ROOM, MailboxKind.EQUIPMENT})

EXTERNAL_BOOKING = CheckInfo(
    id="room-external-booking",
    reads_mailbox=False,
    title="A room or equipment mailbox takes meeting requests from outside the organisation",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="Calendar processing rejects external meeting requests "
    "(ProcessExternalMeetingMessages false), and requests are forwarded to no delegate "
    "outside the organisation.",
    fails="ProcessExternalMeetingMessages is true with calendar processing on, or "
    "ForwardRequestsToDelegates sends requests to a guest or external delegate.",
    needs=(MAILBOXES, CALENDAR),
    uses=(USERS, "exo/Get-MailUser", "exo/Get-MailContact"),
    fields=(f"{CALENDAR}:ProcessExternalMeetingMessages", f"{CALENDAR}:ResourceDelegates"),
    controls=mapped("MITRE ATT&CK T1566"),
    remediation=Remediation(
        summary="Reject meeting requests from outside the organisation, and give the room "
        "delegates who work here.",
        powershell=(
            "Set-CalendarProcessing -Identity '<upn>' -ProcessExternalMeetingMessages $false",
        ),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-CalendarProcessing", "Parameters": '
            '{"Identity": "<upn>", "ProcessExternalMeetingMessages": false}}}',
        ),
        note="Graph has no API for calendar processing; the call goes to the Exchange Online "
        "admin API.",
    ),
    risk="Anyone on the internet can put meetings, with their links and attachments, in the "
    "room's calendar and in front of everyone who books it; requests forwarded to an outside "
    "delegate send the organisation's meeting details out.",
)

DELEGATE_LEFT = CheckInfo(
    id="room-delegate-left",
    reads_mailbox=False,
    title="A room's booking delegate has left or is disabled",
    severity=Severity.LOW,
    scope=Scope.MAILBOX,
    passes="Every resource delegate of the room or equipment mailbox is an enabled account "
    "of someone who has not left.",
    fails="A resource delegate (ResourceDelegates) is a disabled account, or one whose "
    "employeeLeaveDateTime has passed.",
    needs=(MAILBOXES, CALENDAR, USERS),
    fields=(f"{CALENDAR}:ResourceDelegates", "graph/users:accountEnabled"),
    controls=mapped("CIS Controls v8 6.2"),
    remediation=Remediation(
        summary="Replace the departed delegates with people who approve the bookings now.",
        powershell=(
            "Set-CalendarProcessing -Identity '<upn>' -ResourceDelegates @{remove='<delegate>'}",
        ),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-CalendarProcessing", "Parameters": '
            '{"Identity": "<upn>", "ResourceDelegates": ["<delegates who stay>"]}}}',
        ),
    ),
    risk="Requests that need approval wait for someone who is gone; whoever still reads that "
    "person's mailbox, or re-enables the account, decides who books the room.",
)


def _calendar(facts: MailboxFacts, context: Context) -> CalendarProcessing | Verdict:
    """The room's calendar processing, or the verdict when there is none to judge: the
    mailbox is no room or equipment, or its row could not be read."""
    upn = facts.subject.upn
    if facts.subject.kind not in RESOURCE_KINDS:
        return not_applicable(f"{upn} is not a room or equipment mailbox.")
    failed_here = context.snapshot.mailbox_problem(CALENDAR, facts.subject.mailbox)
    if failed_here is not None:
        return errored(f"The calendar processing of {upn} could not be read.",
                       problem=failed_here)
    rows = context.index.calendars.get(facts.subject.position)
    if not rows:
        return errored(f"Get-CalendarProcessing returned nothing for {upn}, so who can book "
                       "it is unknown.")
    return rows[0]


def _outside(raw: str, context: Context) -> str | None:
    """Why a delegate is outside the organisation, or None when it is not (or unknown)."""
    trustee = TrusteeResolver(context.index).resolve(raw)
    if trustee.kind is TrusteeKind.USER and trustee.object_id:
        account = context.index.account(trustee.object_id)
        if account is not None and account.is_guest:
            return f"{raw} is a guest"
        return None
    recipient = context.index.mail_recipient(raw)
    if recipient is not None:
        return f"{raw} is a {recipient.recipient_type_details or 'mail recipient'} outside"
    return None


def external_booking(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    found = _calendar(facts, context)
    if isinstance(found, Verdict):
        return found
    evidence = {
        "automate_processing": found.automate_processing,
        "process_external_meeting_messages": found.process_external_meeting_messages,
        "forward_requests_to_delegates": found.forward_requests_to_delegates,
        "resource_delegates": list(found.resource_delegates or ()),
    }
    reasons = []
    processing_on = (found.automate_processing or "").lower() != "none"
    if found.process_external_meeting_messages and processing_on:
        reasons.append("it processes meeting requests from external senders")
    outside = [why for raw in found.resource_delegates or () if (why := _outside(raw, context))]
    if outside and found.forward_requests_to_delegates is not False:
        reasons.append(f"it forwards requests to delegates outside ({'; '.join(outside)})")
    if reasons:
        return failed(f"{upn} takes bookings from outside: {listing(reasons)}.", evidence)
    if found.resource_delegates is None and found.forward_requests_to_delegates is not False:
        return errored(f"Whether {upn} forwards requests outside is unknown "
                       "(ResourceDelegates is missing).", evidence)
    if found.process_external_meeting_messages is None:
        return errored(f"Whether {upn} processes external meeting requests is unknown "
                       "(ProcessExternalMeetingMessages is missing).", evidence)
    return passed(f"{upn} rejects meeting requests from outside the organisation.", evidence)


def _departed(raw: str, context: Context) -> tuple[str | None, bool]:
    """(why the delegate counts as gone, whether it could be resolved at all)."""
    trustee = TrusteeResolver(context.index).resolve(raw)
    if trustee.kind is not TrusteeKind.USER or not trustee.object_id:
        return None, context.index.mail_recipient(raw) is not None
    account = context.index.account(trustee.object_id)
    if account is None:
        return None, False
    if account.account_enabled is False:
        return f"{account.upn} is disabled", True
    leave = account.leave_date
    now = context.snapshot.collected_at
    if leave is not None and now is not None and leave <= now:
        return f"{account.upn} left on {leave.date().isoformat()}", True
    return None, True


def delegate_left(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    found = _calendar(facts, context)
    if isinstance(found, Verdict):
        return found
    if found.resource_delegates is None:
        return errored(f"Who approves the bookings of {upn} is unknown (ResourceDelegates is "
                       "missing).")
    delegates = found.resource_delegates
    gone: list[str] = []
    names: list[str] = []
    unknown: list[str] = []
    for raw in delegates:
        why, resolved = _departed(raw, context)
        if why:
            gone.append(why)
            names.append(raw)
        elif not resolved:
            unknown.append(raw)
    evidence = {"resource_delegates": list(delegates), "departed": gone,
                "departed_delegates": names, "unresolved": unknown}
    if gone:
        return failed(f"Bookings of {upn} are approved by people who have left: "
                      f"{'; '.join(gone)}.", evidence)
    if unknown:
        return errored(f"Who the resource delegates {', '.join(unknown)} of {upn} are is "
                       "unknown: no account or recipient answers to them.", evidence)
    if not delegates:
        return passed(f"{upn} has no resource delegates.", evidence)
    return passed(f"Every resource delegate of {upn} is an active account.", evidence)


CHECKS = (
    Check(info=EXTERNAL_BOOKING, mailbox=external_booking),
    Check(info=DELEGATE_LEFT, mailbox=delegate_left),
)
