"""Spell Get-MailboxStatistics (every ownerless mailbox) and Get-CalendarProcessing (rooms
and equipment), the per-mailbox rows the collector reads besides permissions and rules.

Shapes: the cmdlets' reference pages (Get-MailboxStatistics; Set-CalendarProcessing for the
properties Get-CalendarProcessing returns). TotalItemSize is ByteQuantifiedSize text as
Exchange writes it, e.g. "14.61 GB (15,687,850,951 bytes)"; ResourceDelegates name
recipients as Exchange shows them (their Name).
"""

from __future__ import annotations

from typing import Any

from mailwarden.synth.ids import exo_date
from mailwarden.synth.model import Account, OwnerlessMailbox, Tenant

_UNITS = (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024))


def byte_quantified(size: int) -> str:
    """ByteQuantifiedSize's text: the largest unit with up to three decimals, then bytes."""
    shown = f"{size} B"
    for unit, scale in _UNITS:
        if size >= scale:
            number = f"{size / scale:.3f}".rstrip("0").rstrip(".")
            shown = f"{number} {unit}"
            break
    return f"{shown} ({size:,} bytes)"


def statistics(account: Account, box: OwnerlessMailbox) -> dict[str, Any]:
    last = exo_date(box.last_interaction) if box.last_interaction else None
    return {
        "Identity": account.exo_name,
        "DisplayName": account.display_name,
        "MailboxGuid": account.exchange_guid,
        "TotalItemSize": byte_quantified(box.size_bytes),
        "ItemCount": max(1, box.size_bytes // 75_000),
        "LastInteractionTime": last,
        "LastUserActionTime": last,
        "LastLogonTime": None,
        "IsArchiveMailbox": False,
    }


def calendar_processing(account: Account, box: OwnerlessMailbox,
                        accounts: dict[str, Account]) -> dict[str, Any] | None:
    booking = box.booking
    if booking is None:
        return None
    return {
        "Identity": account.exo_name,
        "AutomateProcessing": booking.automate,
        "ProcessExternalMeetingMessages": booking.external,
        "AllBookInPolicy": True,
        "AllRequestInPolicy": False,
        "AllRequestOutOfPolicy": False,
        "ForwardRequestsToDelegates": booking.forward_to_delegates,
        "ResourceDelegates": [accounts[i].exo_name for i in booking.delegates],
        "BookingWindowInDays": 180,
        "AllowConflicts": False,
    }


def render_upkeep(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    accounts = {account.id: account for account in tenant.accounts}
    stats: list[dict[str, Any]] = []
    calendars: list[dict[str, Any]] = []
    for box in tenant.ownerless:
        account = accounts[box.account_id]
        stats.append(statistics(account, box))
        row = calendar_processing(account, box, accounts)
        if row is not None:
            calendars.append(row)
    return {"exo/Get-MailboxStatistics": stats, "exo/Get-CalendarProcessing": calendars}
