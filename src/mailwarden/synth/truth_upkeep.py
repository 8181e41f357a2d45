"""Ground truth of the room, licence and activity checks (see `upkeep` for what is planted).

- room-external-booking: a room or equipment mailbox whose calendar processing is on
  (AutomateProcessing not None) and ProcessExternalMeetingMessages true, or that forwards
  requests (ForwardRequestsToDelegates true) to a guest delegate.
- room-delegate-left: a resource delegate's account is disabled or its leave date passed.
- shared-mailbox-needs-licence: a SharedMailbox over 50 GiB, with an archive or on litigation
  hold, whose account holds no SKU with the EXCHANGE_S_ENTERPRISE plan.
- shared-mailbox-licence-unused: a SharedMailbox whose account holds a licence and needs none.
- mailbox-inactive: LastInteractionTime more than 180 days before the collection.
"""

from __future__ import annotations

from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.licensing import PRODUCTS
from mailwarden.synth.model import Account, OwnerlessMailbox

Failure = tuple[str, str]
FREE_BYTES = 50 * 1024**3
INACTIVE_DAYS = 180


def _gone(person: Account) -> bool:
    return not person.enabled or (person.left_at is not None and person.left_at <= COLLECTED_AT)


def _rooms(box: OwnerlessMailbox, accounts: dict[str, Account]) -> list[Failure]:
    booking = box.booking
    if booking is None:
        return []
    found: list[Failure] = []
    delegates = [accounts[i] for i in booking.delegates]
    guests = [d for d in delegates if d.user_type == "Guest"]
    if (booking.external and booking.automate != "None") or (
            guests and booking.forward_to_delegates):
        found.append(("room-external-booking",
                      "ProcessExternalMeetingMessages true" if booking.external
                      else "requests forwarded to a guest delegate"))
    gone = sorted(d.upn.lower() for d in delegates if d.user_type != "Guest" and _gone(d))
    if gone:
        found.append(("room-delegate-left", ", ".join(gone)))
    return found


def _licences(box: OwnerlessMailbox, account: Account) -> list[Failure]:
    if account.recipient_type != "SharedMailbox":
        return []
    settings = box.settings
    needs = box.size_bytes > FREE_BYTES or settings.archive or settings.litigation_hold
    if needs:
        plans = {name for sku in account.skus for name, _ in PRODUCTS[sku][1]}
        if "EXCHANGE_S_ENTERPRISE" not in plans:
            return [("shared-mailbox-needs-licence", "over 50 GB, archive or litigation hold")]
        return []
    if account.skus:
        return [("shared-mailbox-licence-unused", ", ".join(account.skus))]
    return []


def upkeep_failures(box: OwnerlessMailbox, accounts: dict[str, Account]) -> list[Failure]:
    account = accounts[box.account_id]
    found = _rooms(box, accounts) + _licences(box, account)
    if box.last_interaction is not None and (
            COLLECTED_AT - box.last_interaction).days > INACTIVE_DAYS:
        found.append(("mailbox-inactive", f"last interaction {box.last_interaction.date()}"))
    return found
