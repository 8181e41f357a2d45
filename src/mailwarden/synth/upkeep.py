"""Size, last activity, archive and holds, licences, and room booking of the ownerless
mailboxes: what Get-MailboxStatistics, Get-Mailbox and Get-CalendarProcessing show.

Every value is derived from the mailbox's id and its place among the others, never drawn
from the tenant's random stream, so the rest of a seed's tenant stays as it was. Hardened
mailboxes are kept clean of these problems too; among the others, by position:

- shared mailboxes: one over 50 GB, one with an archive and one on litigation hold,
  none licensed (each needs an Exchange Online Plan 2 licence); one licensed that needs
  nothing (cost); one licensed and over 50 GB (needs it, has it: clean unless the
  tenant's licence profile holds no Exchange Online Plan 2);
- two mailboxes of any kind with no activity for over 180 days;
- rooms and equipment: one that processes external meeting requests, one whose booking
  delegate has left, one that forwards requests to a guest delegate; the others take
  internal requests only, some with a delegate who works here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from mailwarden.synth.access import Pools
from mailwarden.synth.constants import COLLECTED_AT, SKUS
from mailwarden.synth.model import Account, Booking, OwnerlessMailbox

GIB = 1024**3
MIB = 1024**2
#: Over the 50 GB a shared mailbox holds without a licence.
LARGE_BYTES = 53 * GIB + 123 * MIB
INACTIVE_DAYS = (214, 397)


def _spread(account_id: str) -> int:
    return int(account_id.replace("-", "")[:8], 16)


def _pick(ids: Sequence[str], index: int) -> str | None:
    return ids[index] if index < len(ids) else None


def plant(accounts: dict[str, Account], boxes: list[OwnerlessMailbox],
          pools: Pools) -> tuple[dict[str, Account], list[OwnerlessMailbox]]:
    """The mailboxes with their upkeep values, and the accounts given a licence."""
    loose = sorted(b.account_id for b in boxes if not b.hardened)
    shared = [i for i in loose if accounts[i].kind == "shared"]
    resources = [i for i in loose if accounts[i].recipient_type in {"RoomMailbox",
                                                                    "EquipmentMailbox"}]
    # From the end of the list, so that the smallest tenant has them too.
    unused, large, archived, held, paid_large = (
        _pick(shared, len(shared) - 1 - n) if len(shared) > n else None for n in range(5))
    inactive = [i for i in (_pick(loose, 3), _pick(loose, len(loose) // 2)) if i]
    external, left, guest_delegate = (_pick(resources, n) for n in range(3))
    staff = sorted(pools.active, key=lambda a: a.id)
    leavers = sorted(pools.leavers_with_mailbox, key=lambda a: a.id)
    guests = sorted(pools.guests, key=lambda a: a.id)
    licence = SKUS["SPE_E3"]
    out: list[OwnerlessMailbox] = []
    changed: dict[str, Account] = {}
    for box in boxes:
        box_id = box.account_id
        spread = _spread(box_id)
        size = (40 + spread % 4000) * MIB
        last = COLLECTED_AT - timedelta(days=spread % 21, minutes=spread % 1440)
        settings = box.settings
        if box_id in {large, paid_large}:
            size = LARGE_BYTES
        if box_id == archived:
            settings = replace(settings, archive=True)
        if box_id == held:
            settings = replace(settings, litigation_hold=True)
        if box_id in {unused, paid_large}:
            changed[box_id] = replace(accounts[box_id], skus=(licence,))
        if box_id in inactive:
            last = COLLECTED_AT - timedelta(days=INACTIVE_DAYS[inactive.index(box_id)])
        booking = None
        if accounts[box_id].recipient_type in {"RoomMailbox", "EquipmentMailbox"}:
            delegates: tuple[str, ...] = ()
            if staff and spread % 3 == 0:
                delegates = (staff[spread % len(staff)].id,)
            booking = Booking(delegates=delegates)
            if box_id == external:
                booking = replace(booking, external=True)
            if box_id == left and leavers:
                leaver = leavers[spread % len(leavers)].id
                booking = replace(booking, delegates=(*delegates, leaver))
            if box_id == guest_delegate and guests:
                booking = replace(booking, delegates=(guests[spread % len(guests)].id,))
        out.append(replace(box, settings=settings, size_bytes=size, last_interaction=last,
                           booking=booking))
    return changed, out
