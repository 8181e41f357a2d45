"""The access map of one mailbox: every grant, resolved, expanded to people.

Which entries count:
- FullAccess, ChangePermission, ChangeOwner and DeleteItem from Get-MailboxPermission,
  SendAs from Get-RecipientPermission, and each GrantSendOnBehalfTo entry of Get-Mailbox.
  ReadPermission alone reads the permissions, not the mail, and is left out.
- NT AUTHORITY\\SELF (and the mailbox naming its own account) is the owner, not a delegate.
- Inherited entries are Exchange's own (SYSTEM, Exchange Servers, the forest's
  administrators, denied by default): they come from the organisation's container, not
  from a grant on this mailbox, and are counted as ignored. An inherited entry that names
  a user or group of the tenant is kept, marked inherited.
- Deny removes what it denies: a person denied FullAccess holds no FullAccess, whether
  the allow and the deny name them directly or through groups.
- A permission row of the mailbox that the reader could not use (no User, Trustee or
  AccessRights) leaves the map incomplete: what it granted is unknown, so the checks
  that read the map say `error` rather than `pass`.
- A mailbox Get-MailboxPermission was read for but holds no row at all was not really
  read: Exchange lists NT AUTHORITY\\SELF (FullAccess, ReadPermission) on every mailbox
  ("By default, the following permissions are assigned to user mailboxes: FullAccess and
  ReadPermission are directly assigned to NT AUTHORITY\\SELF",
  https://learn.microsoft.com/powershell/module/exchange/get-mailboxpermission). Its map
  is incomplete, as for a row that could not be read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailwarden.assess.index import TenantIndex
from mailwarden.assess.options import AssessOptions
from mailwarden.assess.trustees import ANONYMOUS_NAMES, TrusteeResolver
from mailwarden.model.findings import Grant, MailboxAccess, PersonAccess, Right, TrusteeKind
from mailwarden.model.inventory import Account, Mailbox
from mailwarden.text import plural

MAILBOX_RIGHTS = frozenset(
    {Right.FULL_ACCESS, Right.CHANGE_PERMISSION, Right.CHANGE_OWNER, Right.DELETE_ITEM}
)
PERMISSIONS = "exo/Get-MailboxPermission"
RECIPIENT_PERMISSIONS = "exo/Get-RecipientPermission"
MAILBOXES = "exo/Get-Mailbox"
#: Where trustees are found: an unresolved one is a deleted object only if these were read.
DIRECTORY = ("graph/users", "graph/groups")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    right: str
    trustee: str
    source: str
    deny: bool = False
    inherited: bool = False


def _entries(index: TenantIndex, position: int, mailbox: Mailbox) -> Iterator[_Entry]:
    for row in index.permissions.get(position, ()):
        for right in row.access_rights:
            if right in MAILBOX_RIGHTS:
                yield _Entry(
                    right=right,
                    trustee=row.user,
                    source=PERMISSIONS,
                    deny=row.deny,
                    inherited=row.is_inherited,
                )
    for send_as in index.send_as.get(position, ()):
        if Right.SEND_AS in send_as.access_rights:
            yield _Entry(
                right=Right.SEND_AS,
                trustee=send_as.trustee,
                source=RECIPIENT_PERMISSIONS,
                deny=send_as.access_control_type.lower() == "deny",
                inherited=send_as.is_inherited,
            )
    for trustee in mailbox.grant_send_on_behalf_to or ():
        yield _Entry(right=Right.SEND_ON_BEHALF, trustee=trustee, source=MAILBOXES)


class AccessMapper:
    def __init__(self, index: TenantIndex, options: AssessOptions) -> None:
        self.index = index
        self.options = options
        self.resolver = TrusteeResolver(index)
        self.collected_at = index.snapshot.collected_at
        self._bases: dict[str, PersonAccess | None] = {}
        self._people_cache: dict[tuple[str, tuple[str, ...], tuple[str, ...]], PersonAccess] = {}

    def map(
        self, position: int, mailbox: Mailbox, upn: str, owner: Account | None
    ) -> MailboxAccess:
        snapshot = self.index.snapshot
        unknown = [
            f"{source} was not collected ({snapshot.problem(source)})"
            for source in (PERMISSIONS, RECIPIENT_PERMISSIONS)
            if not snapshot.available(source)
        ]
        unknown += [
            f"{source} could not be read for this mailbox ({problem})"
            for source in (PERMISSIONS, RECIPIENT_PERMISSIONS)
            if (problem := snapshot.mailbox_problem(source, mailbox)) is not None
        ]
        if not snapshot.available(MAILBOXES):
            # The mailboxes were listed by other sources: GrantSendOnBehalfTo is unknown.
            unknown.append(f"{MAILBOXES} was not collected ({snapshot.problem(MAILBOXES)}), so "
                           "GrantSendOnBehalfTo is unknown")
        unknown += self._unread_rows(position)
        empty = self.no_permission_rows(position, mailbox)
        if empty is not None:
            unknown.append(empty)
        grants: list[Grant] = []
        ignored = 0
        allow: dict[str, list[tuple[str, str]]] = defaultdict(list)  # id -> (right, via)
        deny: dict[str, set[str]] = defaultdict(set)
        for entry in _entries(self.index, position, mailbox):
            trustee = self.resolver.resolve(entry.trustee)
            own = owner is not None and trustee.object_id == owner.id.lower()
            if (
                trustee.kind in {TrusteeKind.SELF, TrusteeKind.SYSTEM}
                or own
                or (entry.inherited and trustee.kind not in {TrusteeKind.USER, TrusteeKind.GROUP})
            ):
                ignored += 1
                continue
            people: int | None = None
            members: frozenset[str] = frozenset()
            via = "direct"
            if trustee.kind is TrusteeKind.USER and trustee.object_id:
                members = frozenset({trustee.object_id})
            elif trustee.kind is TrusteeKind.GROUP and trustee.object_id:
                expansion = self.index.group_graph.expand(trustee.object_id)
                members, people, via = expansion.users, len(expansion.users), trustee.name or "?"
                if not expansion.complete:
                    unknown.append(f"members of group '{via}' were not all collected")
            broad = self._broad_reason(trustee.kind, trustee.name, people)
            grants.append(
                Grant(
                    right=entry.right,
                    trustee=entry.trustee,
                    kind=trustee.kind,
                    source=entry.source,
                    name=trustee.name,
                    object_id=trustee.object_id,
                    deny=entry.deny,
                    inherited=entry.inherited,
                    people=people,
                    broad_reason=None if entry.deny else broad,
                    note=trustee.note,
                )
            )
            if entry.deny:
                for member in members:
                    deny[member].add(entry.right)
            else:
                pair = (entry.right, via)
                for member in members:
                    allow[member].append(pair)
        unresolved = sum(1 for g in grants if g.kind is TrusteeKind.ORPHANED)
        for source in DIRECTORY if unresolved else ():
            if not snapshot.available(source):
                # Without the directory a grant nothing answers to may be a live user or
                # group, and what it reaches is unknown.
                unknown.append(f"{plural(unresolved, 'grant')} could not be resolved: "
                               f"{source} was not collected ({snapshot.problem(source)})")
        people_access, missing = self._people(allow, deny)
        if missing:
            unknown.append(f"{plural(missing, 'delegate')} {'is' if missing == 1 else 'are'} "
                           "not in graph/users")
        allowed = [g for g in grants if not g.deny]
        return MailboxAccess(
            upn=upn,
            grants=tuple(grants),
            people=people_access,
            orphaned=tuple(g for g in allowed if g.kind is TrusteeKind.ORPHANED),
            broad=tuple(g for g in allowed if g.broad_reason),
            ignored=ignored,
            unknown=tuple(dict.fromkeys(unknown)),
        )

    def no_permission_rows(self, position: int, mailbox: Mailbox) -> str | None:
        """Why this mailbox's Get-MailboxPermission answer cannot be complete, when it was
        read (not failed for the source or the mailbox) and holds no row, not even SELF."""
        snapshot = self.index.snapshot
        if (
            not snapshot.available(PERMISSIONS)
            or snapshot.mailbox_problem(PERMISSIONS, mailbox) is not None
            or position in self.index.permissions
            or position in self.index.skipped_permissions
        ):
            return None
        return (f"{PERMISSIONS} has no row for this mailbox, not even NT AUTHORITY\\SELF, "
                "which Exchange lists on every mailbox: its permissions were not read")

    def _unread_rows(self, position: int) -> list[str]:
        """Permission rows of this mailbox the reader had to skip: whatever they granted is
        unknown. Rows that name no mailbox at all might be this mailbox's."""
        unread = [
            f"row {row.index} of {row.source} could not be read ({row.reason})"
            for row in self.index.skipped_permissions.get(position, ())
        ]
        unplaced: dict[str, int] = {}
        for row in self.index.unplaced_permissions:
            unplaced[row.source] = unplaced.get(row.source, 0) + 1
        unread += [
            f"{plural(count, 'row')} of {source} that {'names' if count == 1 else 'name'} no "
            "mailbox could not be read"
            for source, count in sorted(unplaced.items())
        ]
        return unread

    def _broad_reason(self, kind: TrusteeKind, name: str | None, people: int | None) -> str | None:
        if kind is TrusteeKind.BROAD:
            reach = ("anyone, even without signing in" if (name or "").lower() in ANONYMOUS_NAMES
                     else "every user of the tenant")
            return f"'{name}' reaches {reach}"
        if kind is TrusteeKind.GROUP and (people or 0) >= self.options.broad_group_min:
            return f"group '{name}' reaches {people} people"
        return None

    def _people(
        self, allow: dict[str, list[tuple[str, str]]], deny: dict[str, set[str]]
    ) -> tuple[tuple[PersonAccess, ...], int]:
        people = []
        missing = 0
        for account_id, pairs in allow.items():
            denied = deny.get(account_id)
            if denied:
                pairs = [pair for pair in pairs if pair[0] not in denied]
                if not pairs:
                    continue
            base = self._base(account_id)
            if base is None:
                missing += 1
                continue
            rights: tuple[str, ...]
            via: tuple[str, ...]
            if len(pairs) == 1:  # the common case: one grant, directly or through one group
                rights, via = (pairs[0][0],), (pairs[0][1],)
            else:
                rights = tuple(sorted({right for right, _ in pairs}))
                via = tuple(sorted({v for _, v in pairs}, key=lambda v: (v != "direct", v.lower())))
            people.append(self._with(base, rights, via))
        return tuple(sorted(people, key=lambda p: p.upn)), missing

    def _with(
        self, base: PersonAccess, rights: tuple[str, ...], via: tuple[str, ...]
    ) -> PersonAccess:
        key = (base.account_id, rights, via)
        found = self._people_cache.get(key)
        if found is None:
            # Spelled out: dataclasses.replace costs several times more, per person.
            found = PersonAccess(
                upn=base.upn,
                account_id=base.account_id,
                display_name=base.display_name,
                rights=rights,
                via=via,
                enabled=base.enabled,
                guest=base.guest,
                external=base.external,
                licensed=base.licensed,
                left_recently=base.left_recently,
                left_at=base.left_at,
                last_sign_in=base.last_sign_in,
            )
            self._people_cache[key] = found
        return found

    def _base(self, account_id: str) -> PersonAccess | None:
        """A person's account-derived facts, computed once per account (large groups put
        the same people on many mailboxes)."""
        if account_id in self._bases:
            return self._bases[account_id]
        account = self.index.account_by_id.get(account_id)
        base = None if account is None else self.person(account, (), ())
        self._bases[account_id] = base
        return base

    def person(
        self, account: Account, rights: tuple[str, ...], via: tuple[str, ...]
    ) -> PersonAccess:
        upn = account.user_principal_name.lower()
        guest = (account.user_type or "").lower() == "guest" or "#ext#" in upn
        domains = self.index.verified_domains
        if guest or not domains:
            external = guest
        else:
            external = (account.mail or upn).rsplit("@", 1)[-1].lower() not in domains
        return PersonAccess(
            upn=upn,
            account_id=account.id.lower(),
            display_name=account.display_name,
            rights=rights,
            via=via,
            enabled=account.account_enabled,
            guest=guest,
            external=external,
            licensed=None if account.licenses is None else bool(account.licenses),
            left_recently=self._left_recently(account),
            left_at=account.leave_date,
            last_sign_in=account.last_successful_sign_in,
        )

    def _left_recently(self, account: Account) -> bool:
        """A disabled account whose person left within the window: by the leave date when
        one is set and has passed, else by the last successful sign-in. A missing leave date
        says nothing (most tenants never set it, and Graph returns null to an app without
        User-LifeCycleInfo.Read.All); a future one is a departure still to come."""
        if account.account_enabled is not False or self.collected_at is None:
            return False
        left = account.leave_date
        if left is not None and left > self.collected_at:
            left = None
        moment = left or account.last_successful_sign_in
        if moment is None:
            return False
        return self.collected_at - moment <= timedelta(days=self.options.left_recently_days)


def access_path(
    index: TenantIndex, access: MailboxAccess, person: PersonAccess, right: str
) -> str | None:
    """How `person` holds `right` on the mailbox, in words: "directly", or "a member of
    'Finance Team', nested in 'Finance', which holds it" (the shortest way through the
    groups the grants name). None when no allowed grant of that right reaches the person."""
    ways: list[tuple[int, str]] = []
    for grant in access.grants:
        if grant.right != right or grant.deny or grant.object_id is None:
            continue
        if grant.kind is TrusteeKind.USER and grant.object_id == person.account_id:
            ways.append((0, "directly"))
        elif grant.kind is TrusteeKind.GROUP:
            chain = index.group_graph.path(grant.object_id, person.account_id)
            if chain is not None:
                names = [_group_name(index, group_id) for group_id in reversed(chain)]
                nested = "".join(f", nested in '{name}'" for name in names[1:])
                ways.append((len(chain), f"a member of '{names[0]}'{nested}, which holds it"))
    return min(ways)[1] if ways else None


def _group_name(index: TenantIndex, group_id: str) -> str:
    group = index.group_by_id.get(group_id.lower())
    return (group.display_name if group is not None else None) or group_id


def days_before(moment: datetime | None, now: datetime | None) -> int | None:
    if moment is None or now is None:
        return None
    return max(0, (now - moment).days)
