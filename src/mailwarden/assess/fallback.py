"""The mailboxes to assess when Get-Mailbox failed, and the licence of user mailboxes when
graph/users failed: from the sources that remain and the tenant's last stored run.

Get-Mailbox is the inventory. Without it the mailboxes are still known from:
- Get-User, whose RecipientTypeDetails names shared, room, equipment, scheduling and user
  mailboxes (a user mailbox is ownerless when its Entra account has no licence, which
  graph/users says);
- Get-CASMailbox and the per-mailbox sources (Get-MailboxPermission, Get-InboxRule, which
  a collection reads for ownerless mailboxes only), which name mailboxes but not their type;
- the last stored run of the tenant (`PriorInventory`), which named its ownerless
  mailboxes and their kinds.
Each mailbox is assessed as a `Mailbox` holding only what those sources say (identity,
type, account); Get-Mailbox stays a failed source, so every check that needs it reports
`error` for these mailboxes, never `pass`. A mailbox named only by sources without its type
is listed as not assessed, not guessed.

Without graph/users a user mailbox's licence is unknown. Exchange documents no property
for it: its objects carry `SKUAssigned`, but Microsoft marks that property "for internal use
and is not intended to be used in your code"
(https://learn.microsoft.com/previous-versions/office/exchange-server-api/ff441587(v=exchg.150)),
so it is not read. A user mailbox the last stored run assessed as unlicensed is assessed as
unlicensed, and said to be known from that run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mailwarden.model.findings import (
    KnownMailbox,
    MailboxKind,
    PriorInventory,
    Problem,
    ProblemKind,
)
from mailwarden.model.inventory import Account, Mailbox, Snapshot
from mailwarden.text import plural

MAILBOXES = "exo/Get-Mailbox"
USERS = "graph/users"
#: RecipientTypeDetails as Exchange spells it, for a kind the last run assessed.
TYPE_OF_KIND = {
    MailboxKind.SHARED: "SharedMailbox",
    MailboxKind.ROOM: "RoomMailbox",
    MailboxKind.EQUIPMENT: "EquipmentMailbox",
    MailboxKind.SCHEDULING: "SchedulingMailbox",
    MailboxKind.UNLICENSED_USER: "UserMailbox",
}
#: Get-User's RecipientTypeDetails of a user that has a mailbox (not MailUser, User, ...).
MAILBOX_TYPES = frozenset(
    {
        "sharedmailbox", "roommailbox", "equipmentmailbox", "schedulingmailbox",
        "usermailbox", "linkedmailbox", "discoverymailbox", "arbitrationmailbox",
        "auditlogmailbox", "auxauditlogmailbox", "monitoringmailbox",
        "supervisoryreviewpolicymailbox", "systemmailbox", "publicfoldermailbox",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackInventory:
    """The mailboxes known without Get-Mailbox, each with the sources that name it."""

    mailboxes: tuple[Mailbox, ...]
    origins: tuple[tuple[str, ...], ...]  # per mailbox: "Get-User", "the run of ...", ...


class _Builder:
    """Mailboxes merged by any identity they share (lower case)."""

    def __init__(self) -> None:
        self.values: list[dict[str, Any]] = []
        self.origins: list[list[str]] = []
        self._by_key: dict[str, int] = {}

    def add(self, origin: str, **values: Any) -> None:
        present = {k: v for k, v in values.items() if v not in (None, "", ())}
        keys = [str(v).lower() for k, v in present.items() if k in _KEY_FIELDS]
        if not keys:
            return
        position = next((self._by_key[k] for k in keys if k in self._by_key), None)
        if position is None:
            position = len(self.values)
            self.values.append({})
            self.origins.append([])
        merged = self.values[position]
        for name, value in present.items():
            merged.setdefault(name, value)
        if origin not in self.origins[position]:
            self.origins[position].append(origin)
        for key in keys:
            self._by_key.setdefault(key, position)

    def result(self) -> FallbackInventory:
        return FallbackInventory(
            mailboxes=tuple(Mailbox(**values) for values in self.values),
            origins=tuple(tuple(o) for o in self.origins),
        )


#: The `Mailbox` fields that identify one mailbox whichever source names it.
_KEY_FIELDS = frozenset({"identity", "name", "user_principal_name", "primary_smtp_address",
                         "guid", "external_directory_object_id"})


def _account_of(
    accounts: dict[str, Account], by_upn: dict[str, Account], *keys: str | None
) -> Account | None:
    for key in keys:
        if key:
            found = accounts.get(key.lower()) or by_upn.get(key.lower())
            if found is not None:
                return found
    return None


def fallback_inventory(snapshot: Snapshot, prior: PriorInventory | None) -> FallbackInventory:
    """Every mailbox the sources other than Get-Mailbox (and the last run) name."""
    accounts = {a.id.lower(): a for a in snapshot.accounts}
    by_upn = {a.upn: a for a in snapshot.accounts}
    builder = _Builder()
    for user in snapshot.exo_users:
        if (user.recipient_type_details or "").lower() not in MAILBOX_TYPES:
            continue
        account = _account_of(accounts, by_upn, user.external_directory_object_id,
                              user.user_principal_name)
        builder.add(
            "Get-User", identity=user.identity, user_principal_name=user.user_principal_name,
            external_directory_object_id=user.external_directory_object_id
            or (account.id if account else None),
            recipient_type_details=user.recipient_type_details,
            display_name=account.display_name if account else None,
            primary_smtp_address=account.mail if account else None,
        )
    if prior is not None:
        for known in prior.mailboxes:
            builder.add(prior.label, **_from_prior(known, accounts, by_upn))
    for cas in snapshot.cas_mailboxes:
        builder.add(
            "Get-CASMailbox", identity=cas.identity, name=cas.name,
            primary_smtp_address=cas.primary_smtp_address, guid=cas.guid,
            external_directory_object_id=cas.external_directory_object_id,
        )
    named: Iterable[tuple[str, str]] = [
        *(("Get-MailboxPermission", p.identity) for p in snapshot.mailbox_permissions),
        *(("Get-InboxRule", r.mailbox) for r in snapshot.inbox_rules),
    ]
    for origin, identity in named:
        builder.add(origin, identity=identity)
    return builder.result()


def _from_prior(
    known: KnownMailbox, accounts: dict[str, Account], by_upn: dict[str, Account]
) -> dict[str, Any]:
    account = _account_of(accounts, by_upn, known.upn)
    return {
        "user_principal_name": known.upn,
        "recipient_type_details": TYPE_OF_KIND.get(known.kind),
        "display_name": known.display_name,
        "external_directory_object_id": account.id if account else None,
    }


def with_fallback_mailboxes(
    snapshot: Snapshot, prior: PriorInventory | None
) -> tuple[Snapshot, FallbackInventory | None]:
    """The snapshot to assess: when Get-Mailbox failed, its mailboxes are the ones the other
    sources know (Get-Mailbox stays a problem, so the checks that need it say `error`)."""
    if snapshot.available(MAILBOXES):
        return snapshot, None
    found = fallback_inventory(snapshot, prior)
    return replace(snapshot, mailboxes=found.mailboxes), found


def prior_kinds(prior: PriorInventory | None) -> dict[str, KnownMailbox]:
    """The last run's ownerless mailboxes by UPN (lower case)."""
    return {m.upn.lower(): m for m in prior.mailboxes} if prior is not None else {}


def licences_from_prior(count: int, prior: PriorInventory) -> Problem:
    """What the inventory took from the last run because graph/users failed."""
    return Problem(
        kind=ProblemKind.INCOMPLETE_INVENTORY,
        source=USERS,
        subject=None,
        detail=f"graph/users was not collected: {plural(count, 'user mailbox', 'user mailboxes')}"
        f" {'is' if count == 1 else 'are'} taken as unlicensed from {prior.label} (their "
        "licence now is unknown); checks that need graph/users report error for them",
    )


def inventory_note(
    snapshot: Snapshot,
    found: FallbackInventory,
    positions: Iterable[int],
    prior: PriorInventory | None,
    erroring: Sequence[str],
) -> Problem:
    """Where the ownerless mailboxes came from when Get-Mailbox failed, and what is lacking.
    `positions` are those of the ownerless mailboxes among `found.mailboxes`; `erroring`
    the checks that read Get-Mailbox's own properties."""
    by_origin: dict[str, int] = {}
    total = 0
    for position in positions:
        total += 1
        for origin in found.origins[position]:
            by_origin[origin] = by_origin.get(origin, 0) + 1
    sources = ", ".join(f"{origin} ({count})" for origin, count in by_origin.items())
    detail = (
        f"Get-Mailbox was not collected ({snapshot.problem(MAILBOXES)}): "
        f"{plural(total, 'ownerless mailbox', 'ownerless mailboxes')} known"
        + (f" from {sources}" if sources else "")
        + f"; {plural(len(erroring), 'check')} that {'reads' if len(erroring) == 1 else 'read'}"
        f" Get-Mailbox's own properties report error for them ({', '.join(erroring)}), and "
        "a mailbox none of these sources names is missing"
    )
    if prior is None:
        detail += "; no earlier stored run of the tenant was there to add to them"
    return Problem(kind=ProblemKind.INCOMPLETE_INVENTORY, source=MAILBOXES, subject=None,
                   detail=detail)
