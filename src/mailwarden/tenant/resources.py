"""Get-CalendarProcessing and Get-MailboxStatistics rows of a recorded tenant -> the model.

Shapes: the cmdlets' pages in Microsoft's Exchange PowerShell reference. Get-CalendarProcessing
returns the properties Set-CalendarProcessing sets (AutomateProcessing,
ProcessExternalMeetingMessages, AllBookInPolicy, AllRequestInPolicy,
ForwardRequestsToDelegates, ResourceDelegates); AutomateProcessing is a
CalendarProcessingFlags value (None 0, AutoUpdate 1, AutoAccept 2) when PowerShell 5's
ConvertTo-Json writes it as a number. Get-MailboxStatistics writes sizes as ByteQuantifiedSize
text, e.g. "14.61 GB (15,687,850,951 bytes)"; the byte count in brackets is exact, the
rounded figure before it is not used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mailwarden.model.inventory import CalendarProcessing, MailboxStatistics
from mailwarden.tenant.lenient import Record, to_enum
from mailwarden.tenant.records import RecordError

AUTOMATE_PROCESSING = {0: "None", 1: "AutoUpdate", 2: "AutoAccept"}
_BYTES = re.compile(r"\(([\d,.\s\u00a0']+)\s*bytes\)", re.IGNORECASE)


def byte_count(value: Any) -> int | None:
    """A ByteQuantifiedSize as text ("1.2 GB (1,288,490,189 bytes)"), a number of bytes, or
    a serialized object with a Value holding either; None when it cannot be read."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value) if value >= 0 else None
    if isinstance(value, Mapping):
        inner = Record(value).get("Value", "ToBytes")
        return byte_count(inner) if inner is not value else None
    if isinstance(value, str):
        match = _BYTES.search(value)
        digits = re.sub(r"\D", "", match.group(1)) if match else value.strip()
        return int(digits) if digits.isdigit() else None
    return None


def parse_calendar_processing(r: Record) -> CalendarProcessing:
    mailbox = r.text("Identity", "MailboxOwnerId")
    if mailbox is None:
        raise RecordError("no Identity: the mailbox the calendar settings belong to")
    return CalendarProcessing(
        mailbox=mailbox,
        automate_processing=to_enum(r.get("AutomateProcessing"), AUTOMATE_PROCESSING),
        process_external_meeting_messages=r.flag("ProcessExternalMeetingMessages"),
        all_book_in_policy=r.flag("AllBookInPolicy"),
        all_request_in_policy=r.flag("AllRequestInPolicy"),
        forward_requests_to_delegates=r.flag("ForwardRequestsToDelegates"),
        resource_delegates=r.texts("ResourceDelegates"),
    )


def parse_mailbox_statistics(r: Record) -> MailboxStatistics:
    mailbox = r.text("Identity", "MailboxGuid")
    if mailbox is None:
        raise RecordError("no Identity or MailboxGuid: the mailbox the statistics belong to")
    return MailboxStatistics(
        mailbox=mailbox,
        total_item_size=byte_count(r.get("TotalItemSize")),
        last_interaction_time=r.when("LastInteractionTime"),
        last_user_action_time=r.when("LastUserActionTime"),
        last_logon_time=r.when("LastLogonTime"),
    )
