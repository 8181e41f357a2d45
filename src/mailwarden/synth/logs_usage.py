"""Delegates' use of the shared mailboxes over a longer past than the other logs, so that
the Unified Audit Log covers the `dormant-delegate` window (90 days) and the check has
grants to find used and grants to find dormant.

For each direct grant to an enabled, licensed member (`background.direct_delegates`),
`dormant` decides, from the grant alone (no random draw, so the tenant never changes),
whether it is one nobody uses. A used grant gets one use between 31 and 85 days before
collection (the background adds more in the last 30 days); a dormant one gets none in the
window, and every other one of them a last use 91 to 110 days before collection, which
the access map shows. One use on the first day of the history makes the log's first
record fall before the window's start.
"""

from __future__ import annotations

import random
import zlib
from datetime import timedelta

from mailwarden.synth.logs_book import LogBook

#: How far back the Unified Audit Log of a synthetic tenant reaches.
USAGE_DAYS = 110
#: One grant in this many (per mailbox, person and right) is one nobody uses.
DORMANT_ONE_IN = 5
#: The operation each right's use is recorded as (Microsoft's "Manage mailbox auditing").
USE_OPERATIONS = {"FullAccess": "MailItemsAccessed", "SendAs": "SendAs",
                  "SendOnBehalf": "SendOnBehalf"}


def _hash(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def dormant(mailbox_id: str, person_id: str, right: str) -> bool:
    """Whether the direct grant of `right` to `person_id` on the mailbox goes unused."""
    return _hash(mailbox_id, person_id, right) % DORMANT_ONE_IN == 0


def usage_history(book: LogBook, direct: dict[str, dict[str, set[str]]], seed: int) -> None:
    """One use per used grant inside the window, older uses of half the dormant ones, and
    the record that starts the history. `direct` is mailbox id -> person id -> rights.
    Drawn from a random stream of its own, so the other logs stay as the seed draws them."""
    drawing, book.rng = book.rng, random.Random(f"mailwarden-usage-{seed}")
    try:
        _history(book, direct)
    finally:
        book.rng = drawing


def _history(book: LogBook, direct: dict[str, dict[str, set[str]]]) -> None:
    rng = book.rng
    first = True
    for box in book.tenant.ownerless:
        mailbox = book.accounts[box.account_id]
        for person_id in sorted(direct.get(box.account_id, {})):
            person = book.accounts[person_id]
            ip = book.office_ip(person)
            for right in sorted(direct[box.account_id][person_id]):
                if dormant(mailbox.id, person.id, right):
                    if _hash(mailbox.id, person.id, right, "seen") % 2:
                        continue  # never used on record
                    days = rng.randrange(91, USAGE_DAYS + 1)
                else:
                    days = rng.randrange(31, 86)
                    if first:
                        days, first = USAGE_DAYS, False
                when = book.at(book.end - timedelta(days=days), 8, 18)
                book.item(when, USE_OPERATIONS[right], person.upn, ip, mailbox=mailbox,
                          logon="delegate", subject="Re: your request",
                          send_as=mailbox.upn if right != "FullAccess" else None)
