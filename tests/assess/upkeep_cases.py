"""Pass, fail and error cases of the room, licence and activity checks (joined into
test_checks.CASES)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from mailwarden.model.inventory import CalendarProcessing, Snapshot, SubscribedSku
from tests.assess.assess_factory import (
    E3,
    NOW,
    adding,
    hardened,
    mailbox,
    person,
    with_account,
    with_mailbox,
    without,
)

Make = Callable[[], Snapshot]
GIB = 1024**3
E1 = "18181a46-0d4e-45cd-891e-60aabd171b4e"  # Office 365 E1: Exchange Online Plan 1
SKUS = (
    SubscribedSku(sku_id=E3, sku_part_number="SPE_E3",
                  service_plans=("EXCHANGE_S_ENTERPRISE", "AAD_PREMIUM")),
    SubscribedSku(sku_id=E1, sku_part_number="STANDARDPACK",
                  service_plans=("EXCHANGE_S_STANDARD",)),
)


def room(snapshot: Snapshot, **calendar: object) -> Snapshot:
    """hr as a room, with its calendar processing (internal requests only by default)."""
    row = dataclasses.replace(
        CalendarProcessing(mailbox="hr", automate_processing="AutoAccept",
                           process_external_meeting_messages=False,
                           forward_requests_to_delegates=True, resource_delegates=()),
        **calendar,
    )
    return adding(with_mailbox(snapshot, recipient_type_details="RoomMailbox"),
                  calendar_processing=(row,))


def with_delegate(**person_changes: object) -> Snapshot:
    """A room whose one resource delegate is bob, with his account as given."""
    bob = person("bob", **person_changes)  # type: ignore[arg-type]
    snapshot = adding(hardened(), accounts=(bob,), mailboxes=(mailbox(bob, "UserMailbox"),))
    return room(snapshot, resource_delegates=("bob",))


def sized(size: int, **account: object) -> Snapshot:
    snapshot = adding(hardened(), subscribed_skus=SKUS)
    stats = tuple(dataclasses.replace(s, total_item_size=size)
                  for s in snapshot.mailbox_statistics)
    snapshot = dataclasses.replace(snapshot, mailbox_statistics=stats)
    return with_account(snapshot, "hr", **account) if account else snapshot


def idle(days: int) -> Snapshot:
    snapshot = hardened()
    stats = tuple(dataclasses.replace(s, last_interaction_time=NOW - timedelta(days=days))
                  for s in snapshot.mailbox_statistics)
    return dataclasses.replace(snapshot, mailbox_statistics=stats)


UPKEEP_CASES: dict[str, dict[str, Make]] = {
    "room-external-booking": {
        "pass": lambda: room(hardened()),
        "fail": lambda: room(hardened(), process_external_meeting_messages=True),
        "error": lambda: room(without(hardened(), "exo/Get-CalendarProcessing",
                                      "calendar_processing")),
        "not_applicable": hardened,
    },
    "room-delegate-left": {
        "pass": lambda: with_delegate(),
        "fail": lambda: with_delegate(enabled=False),
        "error": lambda: room(hardened(), resource_delegates=("nobody-here",)),
        "not_applicable": hardened,
    },
    "shared-mailbox-needs-licence": {
        "pass": lambda: sized(60 * GIB, licenses=(E3,)),
        "fail": lambda: sized(60 * GIB, licenses=(E1,)),
        "error": lambda: without(hardened(), "exo/Get-MailboxStatistics", "mailbox_statistics"),
    },
    "shared-mailbox-licence-unused": {
        "pass": hardened,
        "fail": lambda: sized(2 * GIB, licenses=(E3,)),
        "error": lambda: without(hardened(), "graph/users", "accounts"),
    },
    "mailbox-inactive": {
        "pass": lambda: idle(30),
        "fail": lambda: idle(200),
        "error": lambda: without(hardened(), "exo/Get-MailboxStatistics", "mailbox_statistics"),
    },
}
