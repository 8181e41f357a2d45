"""Lookups built once per snapshot, so that no per-mailbox question scans a whole source."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

from mailwarden.assess.groups import GroupGraph
from mailwarden.assess.lookup import KeyedLookup, address, proxy_value
from mailwarden.model.findings import Problem, ProblemKind
from mailwarden.model.inventory import (
    Account,
    CalendarProcessing,
    CasMailbox,
    ExoUser,
    Group,
    InboxRule,
    Mailbox,
    MailboxPermission,
    MailboxStatistics,
    MailRecipient,
    RecipientPermission,
    RoleAssignment,
    RoleEligibility,
    SkippedRecord,
    Snapshot,
    UserRegistration,
)
from mailwarden.text import plural

_Row = TypeVar(
    "_Row",
    MailboxPermission,
    RecipientPermission,
    InboxRule,
    SkippedRecord,
    CalendarProcessing,
    MailboxStatistics,
)
#: Sources whose rows grant access to one mailbox each.
PERMISSION_SOURCES = ("exo/Get-MailboxPermission", "exo/Get-RecipientPermission")


class TenantIndex:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.problems: list[Problem] = []
        self.verified_domains = frozenset(d.lower() for d in snapshot.tenant.verified_domains)
        self._index_accounts(snapshot.accounts)
        self._index_groups(snapshot.groups)
        self.group_graph = GroupGraph(
            snapshot.group_members, available=snapshot.available("graph/groupMembers")
        )
        self._index_mailboxes(snapshot.mailboxes)
        self._cas: KeyedLookup[CasMailbox] = KeyedLookup(
            snapshot.cas_mailboxes,
            (
                "external_directory_object_id",
                "guid",
                "primary_smtp_address",
                lambda r: (r.identity, r.name),
            ),
        )
        self._exo_users: KeyedLookup[ExoUser] = KeyedLookup(
            snapshot.exo_users,
            (
                "external_directory_object_id",
                "user_principal_name",
                "identity",
            ),
        )
        self.registrations: dict[str, UserRegistration] = {
            r.id.lower(): r for r in snapshot.registrations
        }
        self._index_roles(snapshot)
        self._index_eligibility(snapshot)
        self.permissions = self._per_mailbox(
            "exo/Get-MailboxPermission", snapshot.mailbox_permissions, lambda p: p.identity
        )
        self.send_as = self._per_mailbox(
            "exo/Get-RecipientPermission", snapshot.recipient_permissions, lambda p: p.identity
        )
        self.rules = self._per_mailbox(
            "exo/Get-InboxRule", snapshot.inbox_rules, lambda r: r.mailbox
        )
        self.calendars = self._per_mailbox(
            "exo/Get-CalendarProcessing", snapshot.calendar_processing, lambda r: r.mailbox
        )
        self.statistics = self._per_mailbox(
            "exo/Get-MailboxStatistics", snapshot.mailbox_statistics, lambda r: r.mailbox
        )
        self._index_skipped_permissions(snapshot.skipped)
        self._index_mail_recipients(snapshot.mail_contacts + snapshot.mail_users)

    # -- accounts and groups ----------------------------------------------------------------

    def _index_accounts(self, accounts: tuple[Account, ...]) -> None:
        self.accounts = accounts
        self.account_by_id = {a.id.lower(): a for a in accounts}
        self._accounts = KeyedLookup(
            accounts,
            (
                "id",
                "user_principal_name",
                "mail",
                "on_premises_sid",
                "security_identifier",
                "mail_nickname",
            ),
        )
        self._account_sids = KeyedLookup(accounts, ("on_premises_sid", "security_identifier"))
        self._account_names: dict[str, list[int]] | None = None

    def _index_groups(self, groups: tuple[Group, ...]) -> None:
        self.groups = groups
        self.group_by_id = {g.id.lower(): g for g in groups}
        self._groups = KeyedLookup(
            groups,
            (
                "id",
                "mail",
                "security_identifier",
                "on_premises_sid",
                "mail_nickname",
            ),
        )
        self._group_sids = KeyedLookup(groups, ("security_identifier", "on_premises_sid"))
        self._group_names: dict[str, list[int]] | None = None

    @staticmethod
    def _names(names: Iterable[str | None]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = defaultdict(list)
        for position, name in enumerate(names):
            if name:
                found[name.lower()].append(position)
        return dict(found)

    def account(self, key: str | None) -> Account | None:
        """An account by id, UPN, mail, SID or mailNickname."""
        return self._accounts.find(key)

    def group(self, key: str | None) -> Group | None:
        """A group by id, mail, SID or mailNickname."""
        return self._groups.find(key)

    def account_by_sid(self, sid: str) -> Account | None:
        return self._account_sids.find(sid)

    def group_by_sid(self, sid: str) -> Group | None:
        return self._group_sids.find(sid)

    def accounts_named(self, name: str) -> list[Account]:
        if self._account_names is None:
            self._account_names = self._names(a.display_name for a in self.accounts)
        return [self.accounts[i] for i in self._account_names.get(name.lower(), ())]

    def groups_named(self, name: str) -> list[Group]:
        if self._group_names is None:
            self._group_names = self._names(g.display_name for g in self.groups)
        return [self.groups[i] for i in self._group_names.get(name.lower(), ())]

    # -- Exchange objects -------------------------------------------------------------------

    def _index_mailboxes(self, mailboxes: tuple[Mailbox, ...]) -> None:
        self.mailboxes = mailboxes
        self._mailboxes = KeyedLookup(
            mailboxes,
            (
                "guid",
                "external_directory_object_id",
                "user_principal_name",
                "primary_smtp_address",
                "identity",
                "distinguished_name",
                lambda m: (m.name, m.alias),
                lambda m: (address(a) for a in m.email_addresses),
                # An inbox rule names an internal recipient by its legacyExchangeDN, or by
                # an older one kept as an X500 proxy address.
                "legacy_exchange_dn",
                lambda m: (proxy_value(a, "x500") for a in m.email_addresses),
            ),
        )
        self._mailbox_display = KeyedLookup(mailboxes, ("display_name",))
        self._mailbox_names: dict[str, list[int]] | None = None

    def mailbox_position(self, key: str | None) -> int | None:
        """By an Exchange identity, else by display name (when only one mailbox has it)."""
        found = self._mailboxes.position(key)
        return found if found is not None else self._mailbox_display.position(key)

    def mailbox_by_name(self, key: str) -> Mailbox | None:
        """A mailbox by an Exchange identity (not by display name, which need not be unique)."""
        return self._mailboxes.find(key)

    def mailbox(self, key: str | None) -> Mailbox | None:
        position = self.mailbox_position(key)
        return None if position is None else self.mailboxes[position]

    def account_of_mailbox(self, mailbox: Mailbox) -> Account | None:
        """The Entra account behind a mailbox: by ExternalDirectoryObjectId, else UPN."""
        if mailbox.external_directory_object_id:
            found = self.account_by_id.get(mailbox.external_directory_object_id.lower())
            if found is not None:
                return found
        for key in (mailbox.user_principal_name, mailbox.primary_smtp_address):
            if key:
                found = self.account(key)
                if found is not None and found.upn == key.lower():
                    return found
        return None

    def cas_of(self, mailbox: Mailbox) -> CasMailbox | None:
        for key in (
            mailbox.external_directory_object_id,
            mailbox.guid,
            mailbox.primary_smtp_address,
            mailbox.identity,
            mailbox.name,
        ):
            found = self._cas.find(key)
            if found is not None:
                return found
        return None

    def exo_user_of(self, mailbox: Mailbox, account: Account | None) -> ExoUser | None:
        keys = (
            account.id if account else None,
            mailbox.external_directory_object_id,
            mailbox.user_principal_name,
            account.upn if account else None,
            mailbox.identity,
            mailbox.name,
        )
        for key in keys:
            found = self._exo_users.find(key)
            if found is not None:
                return found
        return None

    # -- mail contacts and mail users --------------------------------------------------------

    def _index_mail_recipients(self, recipients: tuple[MailRecipient, ...]) -> None:
        self.mail_recipients = recipients
        self._mail_recipients = KeyedLookup(
            recipients,
            (
                "external_directory_object_id",
                "guid",
                "legacy_exchange_dn",
                "user_principal_name",
                "primary_smtp_address",
                "identity",
                "distinguished_name",
                lambda r: (r.name, r.alias),
                lambda r: (address(a) for a in r.email_addresses),
                lambda r: (proxy_value(a, "x500") for a in r.email_addresses),
            ),
        )
        self._mail_recipient_names: dict[str, list[int]] | None = None

    def mail_recipient(self, key: str | None) -> MailRecipient | None:
        """A mail contact or mail user by any Exchange identity or address (not by display
        name, which need not be unique)."""
        return self._mail_recipients.find(key)

    def mail_recipients_named(self, display_name: str) -> list[MailRecipient]:
        """Every mail contact and mail user with this display name."""
        if self._mail_recipient_names is None:
            self._mail_recipient_names = self._names(r.display_name for r in self.mail_recipients)
        found = self._mail_recipient_names.get(display_name.lower(), ())
        return [self.mail_recipients[i] for i in found]

    def mailboxes_named(self, display_name: str) -> list[Mailbox]:
        """Every mailbox with this display name."""
        if self._mailbox_names is None:
            self._mailbox_names = self._names(m.display_name for m in self.mailboxes)
        return [self.mailboxes[i] for i in self._mailbox_names.get(display_name.lower(), ())]

    # -- rows per mailbox -------------------------------------------------------------------

    def _index_skipped_permissions(self, skipped: tuple[SkippedRecord, ...]) -> None:
        """Permission rows the reader could not use, by the mailbox they name. A row that
        names no mailbox at all could belong to any: `unplaced_permissions`."""
        rows = tuple(r for r in skipped if r.source.split("[", 1)[0] in PERMISSION_SOURCES)
        self.unplaced_permissions: tuple[SkippedRecord, ...] = tuple(
            r for r in rows if not r.subject
        )
        # A row naming a mailbox Get-Mailbox does not list concerns no mailbox assessed.
        placed = tuple(r for r in rows if self.mailbox_position(r.subject) is not None)
        self.skipped_permissions = self._per_mailbox(
            "skipped permission rows", placed, lambda r: r.subject or ""
        )

    def _per_mailbox(
        self, source: str, rows: tuple[_Row, ...], identity: Callable[[_Row], str]
    ) -> dict[int, list[_Row]]:
        """Rows grouped by the position of the mailbox they belong to. A row naming no
        known mailbox is reported, not dropped silently."""
        grouped: dict[int, list[_Row]] = defaultdict(list)
        unmatched: dict[str, int] = {}
        for row in rows:
            position = self.mailbox_position(identity(row))
            if position is None:
                unmatched[identity(row)] = unmatched.get(identity(row), 0) + 1
            else:
                grouped[position].append(row)
        for name, count in sorted(unmatched.items()):
            self.problems.append(
                Problem(
                    kind=ProblemKind.UNMATCHED_OBJECT,
                    source=source,
                    subject=name,
                    detail=f"{plural(count, 'row')} {'names' if count == 1 else 'name'} a "
                    "mailbox that Get-Mailbox does not list",
                )
            )
        return dict(grouped)

    # -- roles ------------------------------------------------------------------------------

    def _index_roles(self, snapshot: Snapshot) -> None:
        """Directory roles by principal, named by template id (what CA policies use)."""
        templates = {
            d.id.lower(): ((d.template_id or d.id).lower(), d.display_name or d.id)
            for d in snapshot.role_definitions
        }
        self.roles_by_principal: dict[str, list[tuple[RoleAssignment, str, str]]] = defaultdict(
            list
        )
        for assignment in snapshot.role_assignments:
            template, name = templates.get(
                assignment.role_definition_id.lower(),
                (assignment.role_definition_id.lower(), assignment.role_definition_id),
            )
            self.roles_by_principal[assignment.principal_id.lower()].append(
                (assignment, template, name)
            )

    def roles_of(self, account_id: str) -> list[tuple[RoleAssignment, str, str]]:
        """(assignment, role template id, role name) held directly or through a group."""
        held = list(self.roles_by_principal.get(account_id.lower(), ()))
        for principal, assignments in self.roles_by_principal.items():
            if principal in self.group_by_id and self.group_graph.contains(principal, account_id):
                held.extend(assignments)
        return held

    def eligible_roles_of(self, account_id: str) -> list[tuple[RoleEligibility, str]]:
        """(eligibility, role name) the account may activate (PIM), directly or through a
        group; schedules that are not provisioned or ended before collection do not count."""
        held = list(self._eligible.get(account_id.lower(), ()))
        for principal, schedules in self._eligible.items():
            if principal in self.group_by_id and self.group_graph.contains(principal, account_id):
                held.extend(schedules)
        return held

    def _index_eligibility(self, snapshot: Snapshot) -> None:
        names = {d.id.lower(): d.display_name or d.id for d in snapshot.role_definitions}
        now = snapshot.collected_at
        self._eligible: dict[str, list[tuple[RoleEligibility, str]]] = defaultdict(list)
        for schedule in snapshot.role_eligibilities:
            if (schedule.status or "provisioned").lower() != "provisioned":
                continue
            if schedule.end is not None and now is not None and schedule.end <= now:
                continue
            name = names.get(schedule.role_definition_id.lower(), schedule.role_definition_id)
            self._eligible[schedule.principal_id.lower()].append((schedule, name))
