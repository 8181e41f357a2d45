"""The emulated tenant's state: the recorded tenant's sources, indexed the way the services
look things up.

Exchange resolves an `-Identity` given in any of its forms (address, UPN, alias, name,
GUIDs, directory object id, distinguished name), and per-mailbox cmdlets return the rows
of one mailbox; Graph looks users and groups up by id (users also by UPN). The indexes
are built once from the sources and rebuilt by `replace_source`, under `lock`, so that
later write calls (remediation) can change the state and a rescan sees the result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mailwarden.emulator.logs_store import LogRecords
from mailwarden.tenant.logs import LogKind
from mailwarden.tenant.recorded import RecordedTenant, as_object_list

LogsByKind = Mapping[LogKind, Iterable[Mapping[str, Any]]]
#: Recipient properties Exchange accepts as an identity, in the order they are indexed.
IDENTITY_FIELDS: tuple[str, ...] = (
    "Identity",
    "PrimarySmtpAddress",
    "UserPrincipalName",
    "Alias",
    "Name",
    "Guid",
    "ExchangeGuid",
    "ExternalDirectoryObjectId",
    "DistinguishedName",
    "LegacyExchangeDN",
)

#: Cmdlet -> (its source, the row property naming the recipient it belongs to).
CMDLET_SOURCES: Mapping[str, tuple[str, str]] = {
    "Get-Mailbox": ("exo/Get-Mailbox", "Identity"),
    "Get-CASMailbox": ("exo/Get-CASMailbox", "Identity"),
    "Get-User": ("exo/Get-User", "Identity"),
    "Get-MailboxPermission": ("exo/Get-MailboxPermission", "Identity"),
    "Get-RecipientPermission": ("exo/Get-RecipientPermission", "Identity"),
    "Get-InboxRule": ("exo/Get-InboxRule", "MailboxOwnerId"),
    "Get-CalendarProcessing": ("exo/Get-CalendarProcessing", "Identity"),
    "Get-MailboxStatistics": ("exo/Get-MailboxStatistics", "Identity"),
    "Get-MailboxAuditBypassAssociation": ("exo/Get-MailboxAuditBypassAssociation", "Identity"),
    "Get-AuthenticationPolicy": ("exo/Get-AuthenticationPolicy", "Identity"),
    "Get-MailContact": ("exo/Get-MailContact", "Identity"),
    "Get-MailUser": ("exo/Get-MailUser", "Identity"),
    "Get-OrganizationConfig": ("exo/Get-OrganizationConfig", "Identity"),
    "Get-TransportConfig": ("exo/Get-TransportConfig", "Identity"),
    "Get-ApplicationAccessPolicy": ("exo/Get-ApplicationAccessPolicy", "Identity"),
    "Get-ManagementRoleAssignment": ("exo/Get-ManagementRoleAssignment", "Identity"),
}
#: Cmdlets that answer with the tenant's one configuration object.
SINGLE_OBJECT_CMDLETS = frozenset({"Get-OrganizationConfig", "Get-TransportConfig"})
#: Cmdlets whose rows hang off a recipient (an -Identity / -Mailbox selects its rows).
RECIPIENT_CMDLETS = frozenset(
    {
        "Get-Mailbox",
        "Get-CASMailbox",
        "Get-User",
        "Get-MailboxPermission",
        "Get-RecipientPermission",
        "Get-InboxRule",
        "Get-CalendarProcessing",
        "Get-MailboxStatistics",
        "Get-MailboxAuditBypassAssociation",
        "Get-MailContact",
        "Get-MailUser",
    }
)
#: Of those, the ones whose identity must be a mailbox (a user without one is not found).
MAILBOX_CMDLETS = frozenset(
    {
        "Get-Mailbox",
        "Get-CASMailbox",
        "Get-MailboxPermission",
        "Get-InboxRule",
        "Get-CalendarProcessing",
        "Get-MailboxStatistics",
    }
)


def _get(row: Mapping[str, Any], name: str) -> Any:
    """A property in any case, as Exchange and the recorded-tenant readers allow."""
    if name in row:
        return row[name]
    lowered = name.lower()
    return next((v for k, v in row.items() if str(k).lower() == lowered), None)


def _forms(row: Mapping[str, Any]) -> list[str]:
    """Every identity form of a recipient row, lower case."""
    forms = [str(v).lower() for f in IDENTITY_FIELDS if (v := _get(row, f)) not in (None, "")]
    for address in _get(row, "EmailAddresses") or ():
        text = str(address)
        if text.lower().startswith("smtp:"):
            forms.append(text[5:].lower())
    return forms


@dataclass(slots=True)
class Recipient:
    """One mailbox, user, mail user or mail contact as Exchange knows it, with every form of
    its identity."""

    number: int
    forms: set[str] = field(default_factory=set)
    has_mailbox: bool = False
    display: str = ""


class TenantState:
    """The data the emulator serves, plus lookups by identity. Mutable, under `lock`."""

    def __init__(self, tenant: RecordedTenant) -> None:
        self.lock = threading.RLock()
        self.data: dict[str, Any] = dict(tenant.data)
        self.errors: dict[str, str] = dict(tenant.errors)
        #: What the recorded tenant's licences withheld; what is served follows its
        #: graph/subscribedSkus (emulator.licensing), this is only handed back.
        self.limitations: dict[str, str] = dict(tenant.limitations)
        #: Per-mailbox failures the recorded tenant holds: source -> identity (lower) -> why.
        self.mailbox_errors: dict[str, dict[str, str]] = {
            source: {str(k).lower(): v for k, v in failed.items()}
            for source, failed in tenant.mailbox_errors.items()
        }
        self._logs = LogRecords()
        self._pending_logs: Callable[[], LogsByKind] | None = None
        self._reindex()

    # -- sources -----------------------------------------------------------------------
    def available(self, source: str) -> bool:
        """False when the source failed or was never recorded: the service then refuses."""
        return source in self.data and source not in self.errors

    def rows(self, source: str) -> list[dict[str, Any]]:
        return [r for r in as_object_list(self.data.get(source)) if isinstance(r, dict)]

    def replace_source(self, source: str, value: Any) -> None:
        """Swap one source's content (a write call's effect) and rebuild the lookups."""
        with self.lock:
            self.data[source] = value
            self.errors.pop(source, None)
            self._reindex()

    def add_log_records(self, kind: LogKind, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add log records (at start, or between a client's reads); returns how many."""
        return self.logs.add(kind, rows)

    def defer_logs(self, load: Callable[[], LogsByKind]) -> None:
        """Records to add the first time the logs are read: a tenant of many that no
        client asks for its logs never holds them (they are most of its memory)."""
        self._pending_logs = load

    @property
    def logs(self) -> LogRecords:
        """Sign-ins, directory audits and UAL records, served by the log endpoints."""
        if self._pending_logs is not None:
            with self.lock:
                load, self._pending_logs = self._pending_logs, None
                if load is not None:
                    for kind, rows in load().items():
                        self._logs.add(kind, rows)
        return self._logs

    def recorded(self) -> RecordedTenant:
        with self.lock:
            return RecordedTenant(data=dict(self.data), errors=dict(self.errors),
                                  limitations=dict(self.limitations),
                                  mailbox_errors=dict(self.mailbox_errors))

    def mailbox_error(self, source: str, recipient: Recipient) -> str | None:
        """Why the recorded tenant has no rows of `source` for this mailbox, or None."""
        failed = self.mailbox_errors.get(source)
        if not failed:
            return None
        return next((failed[form] for form in recipient.forms if form in failed), None)

    # -- tenant ------------------------------------------------------------------------
    @property
    def tenant_info(self) -> Mapping[str, Any]:
        info = self.data.get("tenant")
        return info if isinstance(info, Mapping) else {}

    @property
    def tenant_id(self) -> str:
        return str(self.tenant_info.get("tenantId") or "00000000-0000-0000-0000-000000000000")

    @property
    def domains(self) -> list[str]:
        names = [str(d) for d in self.tenant_info.get("verifiedDomains") or () if d]
        default = self.tenant_info.get("defaultDomain")
        if default and str(default) not in names:
            names.insert(0, str(default))
        return names

    def knows_tenant(self, name: str) -> bool:
        """A tenant id, a verified domain, or a multi-tenant alias."""
        wanted = name.lower()
        known = {self.tenant_id.lower(), "organizations", "common"}
        return wanted in known | {d.lower() for d in self.domains}

    # -- Graph lookups -----------------------------------------------------------------
    def user(self, key: str) -> dict[str, Any] | None:
        return self._users.get(key.lower())

    def group(self, key: str) -> dict[str, Any] | None:
        return self._groups.get(key.lower())

    def members(self, group_id: str) -> list[dict[str, Any]]:
        raw = self.data.get("graph/groupMembers")
        if not isinstance(raw, Mapping):
            return []
        found = raw.get(group_id)
        if found is None:
            found = next((v for k, v in raw.items() if str(k).lower() == group_id.lower()), [])
        return [m for m in as_object_list(found) if isinstance(m, dict)]

    # -- Exchange lookups --------------------------------------------------------------
    def resolve(self, identity: str, *, mailbox: bool) -> Recipient | None:
        """The recipient an -Identity names, in any of its forms (None when unknown)."""
        text = identity.strip().lower()
        if text.lower().startswith("smtp:"):
            text = text[5:]
        recipient = self._by_form.get(text)
        if recipient is None or (mailbox and not recipient.has_mailbox):
            return None
        return recipient

    def cmdlet_rows(self, cmdlet: str, recipient: Recipient | None) -> list[dict[str, Any]]:
        """Rows of a cmdlet's source; only the recipient's when one is given."""
        if recipient is None:
            return self.rows(CMDLET_SOURCES[cmdlet][0])
        return list(self._rows_by_recipient.get(cmdlet, {}).get(recipient.number, ()))

    def rule_rows(self, identity: str) -> list[dict[str, Any]]:
        """Inbox rules by their own identity ("mailbox\\rule id")."""
        wanted = identity.lower()
        return [
            r for r in self.rows("exo/Get-InboxRule")
            if str(_get(r, "Identity") or "").lower() == wanted
        ]

    def mailbox_recipients(self) -> Iterable[Recipient]:
        return (r for r in self._recipients if r.has_mailbox)

    # -- indexes -----------------------------------------------------------------------
    def _reindex(self) -> None:
        with self.lock:
            self._users = self._index_by(self.rows("graph/users"), ("id", "userPrincipalName"))
            self._groups = self._index_by(self.rows("graph/groups"), ("id",))
            self._recipients: list[Recipient] = []
            self._by_form: dict[str, Recipient] = {}
            for row in self.rows("exo/Get-Mailbox"):
                self._add_recipient(row, has_mailbox=True)
            # Mail contacts and mail users are recipients without a mailbox: -Identity
            # finds them, the per-mailbox cmdlets do not.
            for source in ("exo/Get-User", "exo/Get-CASMailbox", "exo/Get-MailContact",
                           "exo/Get-MailUser"):
                for row in self.rows(source):
                    self._add_recipient(row, has_mailbox=source == "exo/Get-CASMailbox")
            self._rows_by_recipient: dict[str, dict[int, list[dict[str, Any]]]] = {}
            for cmdlet in RECIPIENT_CMDLETS:
                source, key = CMDLET_SOURCES[cmdlet]
                grouped: dict[int, list[dict[str, Any]]] = {}
                for row in self.rows(source):
                    owner = self._owner(row, key)
                    if owner is not None:
                        grouped.setdefault(owner.number, []).append(row)
                self._rows_by_recipient[cmdlet] = grouped

    @staticmethod
    def _index_by(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        index: dict[str, dict[str, Any]] = {}
        for row in rows:
            for key in keys:
                value = _get(row, key)
                if value:
                    index.setdefault(str(value).lower(), row)
        return index

    def _add_recipient(self, row: Mapping[str, Any], *, has_mailbox: bool) -> None:
        forms = _forms(row)
        # Get-User and Get-CASMailbox rows describe recipients Get-Mailbox may already know.
        known = next((self._by_form[f] for f in forms if f in self._by_form), None)
        recipient = known or Recipient(number=len(self._recipients))
        if known is None:
            self._recipients.append(recipient)
            recipient.display = str(_get(row, "Identity") or (forms[0] if forms else ""))
        recipient.has_mailbox = recipient.has_mailbox or has_mailbox
        for form in forms:
            recipient.forms.add(form)
            self._by_form.setdefault(form, recipient)

    def _owner(self, row: Mapping[str, Any], key: str) -> Recipient | None:
        value = _get(row, key)
        if value in (None, ""):
            return None
        return self._by_form.get(str(value).lower())
