"""Where forwarding sends a mailbox's mail: each target of ForwardingSmtpAddress,
ForwardingAddress and the ForwardTo / ForwardAsAttachmentTo / RedirectTo actions of its
inbox rules, resolved to a recipient of the tenant or an address outside it.

Exchange writes the four differently (the tests cite the published shapes):

- ForwardingSmtpAddress is an address with an `smtp:` prefix.
- ForwardingAddress is the *identity* (the Name: an alias, a display-name-like name or a
  GUID) of a recipient of the organisation: a mailbox, a group, or a mail contact or mail
  user, whose mail goes to an external address. It is never an address to parse.
- An inbox rule target is `"Display Name" [SMTP:a@b]` for a typed address, or
  `"Display Name" [EX:<legacyExchangeDN>]` for a recipient picked from the address book,
  which may be a mail contact or a mail user as well as a mailbox.
- A mail contact's or mail user's ExternalEmailAddress, where its mail goes, is `SMTP:a@b`.

A target is *internal* when it resolves to a mailbox of the tenant, to a group whose
members are all inside, or to an address in a verified domain that no mail contact or
mail user carries; *external* when its mail reaches an address outside the verified
domains; *unknown* otherwise, with the reason. A check must not pass on an unknown
target: a name nothing answers to may well be a contact whose source was not read.

Contacts come from Exchange (exo/Get-MailContact), not from Graph's /contacts: Graph's
orgContact has `mail` and `proxyAddresses`, but neither the Exchange Name that
ForwardingAddress shows, nor the legacyExchangeDN an inbox rule names, nor the
ExternalEmailAddress mail is delivered to (Microsoft Graph v1.0 CSDL, EntityType
orgContact), and Get-MailContact gives all three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mailwarden.assess.index import TenantIndex
from mailwarden.assess.lookup import address
from mailwarden.model.inventory import Group, Mailbox, MailRecipient
from mailwarden.text import plural

#: The sources that list the recipients whose mail leaves the organisation.
MAIL_RECIPIENT_SOURCES = ("exo/Get-MailContact", "exo/Get-MailUser")
#: `"Name" [SMTP:a@b]` or `"Name" [EX:/o=ExchangeLabs/...]`, as Get-InboxRule writes them.
_TARGET = re.compile(r"^(?P<name>.*?)\s*\[(?P<kind>SMTP|EX):(?P<value>[^\]]+)\]\s*$", re.IGNORECASE)
#: How far a chain of recipients is followed (a mail user whose external address is a
#: contact's address ...); real chains are one or two long.
_MAX_HOPS = 4


class Reach(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """Where one forwarding target sends mail."""

    where: str  # "ForwardingSmtpAddress", "ForwardingAddress" or "inbox rule '<name>'"
    target: str  # as the source wrote it
    reach: Reach
    outside: tuple[str, ...] = ()  # addresses outside the verified domains mail goes to
    via: str | None = None  # the recipient it resolved to, e.g. "mail contact 'Fabrikam'"
    reason: str | None = None  # why it is unknown
    rule: str | None = None  # the inbox rule's identity


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reach:
    """A resolution before it is tied to a target."""

    reach: Reach
    outside: tuple[str, ...] = ()
    via: str | None = None
    reason: str | None = None


def _unknown(reason: str, via: str | None = None) -> _Reach:
    return _Reach(reach=Reach.UNKNOWN, reason=reason, via=via)


def _internal(via: str | None) -> _Reach:
    return _Reach(reach=Reach.INTERNAL, via=via)


def rule_target_parts(target: str) -> tuple[str | None, str | None, str]:
    """(kind "SMTP"/"EX" or None, its value, display name) of an inbox rule target."""
    match = _TARGET.match(target)
    if match is None:
        return None, None, target.strip().strip('"')
    name = match.group("name").strip().strip('"').strip()
    return match.group("kind").upper(), match.group("value").strip(), name


def _named(mailbox: Mailbox, value: str) -> bool:
    """Whether `value` is the mailbox's own name (Name, Identity, GUID, object id or DN),
    the forms a ForwardingAddress takes, rather than an alias or an address."""
    wanted = value.lower()
    own = (mailbox.name, mailbox.identity, mailbox.guid, mailbox.external_directory_object_id,
           mailbox.distinguished_name)
    return any(wanted == item.lower() for item in own if item)


class ForwardingResolver:
    """Resolves forwarding targets against the mailboxes, mail contacts, mail users and
    groups of one snapshot."""

    def __init__(self, index: TenantIndex) -> None:
        self.index = index
        self.domains = index.verified_domains
        snapshot = index.snapshot
        self.missing = tuple(s for s in MAIL_RECIPIENT_SOURCES if not snapshot.available(s))

    # -- the three spellings --------------------------------------------------------------

    def smtp_address(self, where: str, text: str) -> Destination:
        """ForwardingSmtpAddress: `smtp:a@b`."""
        return self._tie(where, text, self._address(address(text.strip()).lower(), 0))

    def recipient(self, where: str, text: str) -> Destination:
        """ForwardingAddress: the identity of a recipient of the organisation."""
        return self._tie(where, text, self._identity(text.strip(), 0))

    def rule_target(self, where: str, text: str, rule: str | None) -> Destination:
        """One ForwardTo / ForwardAsAttachmentTo / RedirectTo entry of an inbox rule."""
        kind, value, name = rule_target_parts(text)
        if kind == "SMTP" and value:
            found = self._address(address(value).lower(), 0)
        elif kind == "EX" and value:
            found = self._legacy_dn(value, name)
        elif "@" in name:
            found = self._address(address(name).lower(), 0)
        else:
            found = self._identity(name, 0)
        return self._tie(where, text, found, rule)

    @staticmethod
    def _tie(where: str, text: str, found: _Reach, rule: str | None = None) -> Destination:
        return Destination(
            where=where,
            target=text,
            reach=found.reach,
            outside=found.outside,
            via=found.via,
            reason=found.reason,
            rule=rule,
        )

    # -- resolution -----------------------------------------------------------------------

    def _address(self, value: str, hops: int) -> _Reach:
        """An SMTP address: a mailbox's, a contact's or mail user's (followed to where its
        mail goes), a group's, else judged by its domain."""
        index = self.index
        found = self._one(
            [index.mailbox_by_name(value), index.mail_recipient(value), index.group(value)],
            value,
            hops,
        )
        return found if found is not None else self._domain(value)

    def _domain(self, value: str) -> _Reach:
        """An address no recipient of the tenant carries: judged by its domain."""
        domain = value.rsplit("@", 1)[-1]
        if not self.domains:
            return _unknown("the verified domains are unknown")
        if domain not in self.domains:
            return _Reach(reach=Reach.EXTERNAL, outside=(value,))
        if self.missing:
            return _unknown(
                f"{value} is in a verified domain, but {self._missing_text()}, so it may "
                "be a mail contact's or mail user's address that leads outside"
            )
        return _internal(None)

    def _identity(self, value: str, hops: int) -> _Reach:
        """An Exchange identity (Name, alias, GUID, DN, address) of a recipient."""
        if not value:
            return _unknown("the target names nobody")
        if "@" in value:
            return self._address(address(value).lower(), hops)
        index = self.index
        mailbox = index.mailbox_by_name(value)
        if mailbox is not None and self.missing and not _named(mailbox, value):
            # Exchange shows the target's Name; a mailbox that only has it as an alias or
            # address is no proof while an unread contact may carry that Name.
            return self._nobody(value)
        groups = index.groups_named(value)
        found = self._one(
            [mailbox, index.mail_recipient(value),
             index.group(value) or (groups[0] if len(groups) == 1 else None)],
            value,
            hops,
        )
        return found if found is not None else self._nobody(value)

    def _legacy_dn(self, value: str, name: str) -> _Reach:
        """An [EX:...] rule target: by legacyExchangeDN (or an X500 proxy address), else by
        the display name written before it, when only one recipient carries it."""
        index = self.index
        found = self._one([index.mailbox_by_name(value), index.mail_recipient(value)], value, 0)
        if found is not None:
            return found
        if self.missing or not name:
            return self._nobody(value)
        by_name = self._one(
            [*index.mailboxes_named(name), *index.mail_recipients_named(name),
             *index.groups_named(name)],
            name,
            0,
        )
        return by_name if by_name is not None else self._nobody(value)

    def _one(
        self, candidates: list[Mailbox | MailRecipient | Group | None], value: str, hops: int
    ) -> _Reach | None:
        """The resolution of the one recipient found; None when there is none."""
        present = [c for c in candidates if c is not None]
        if len(present) > 1:
            return _unknown(f"several recipients answer to '{value}'")
        if not present:
            return None
        (found,) = present
        if isinstance(found, Mailbox):
            return _internal(f"mailbox {found.primary_smtp_address or found.name}")
        if isinstance(found, MailRecipient):
            return self._mail_recipient(found, hops)
        return self._group(found, hops)

    def _nobody(self, value: str) -> _Reach:
        if self.missing:
            return _unknown(
                f"no mailbox or group answers to '{value}', and {self._missing_text()}"
            )
        return _unknown(
            f"no mailbox, mail contact, mail user or group answers to '{value}'"
        )

    def _missing_text(self) -> str:
        names = " and ".join(self.missing)
        return f"{names} {'was' if len(self.missing) == 1 else 'were'} not collected"

    def _mail_recipient(self, recipient: MailRecipient, hops: int) -> _Reach:
        kind = "mail user" if recipient.user_principal_name or "mailuser" in (
            recipient.recipient_type_details or "").lower() else "mail contact"
        via = f"{kind} '{recipient.display_name or recipient.name or recipient.identity}'"
        target = address(recipient.external_email_address or "").strip().lower()
        if not target or "@" not in target:
            return _unknown("its ExternalEmailAddress is not known", via)
        if hops >= _MAX_HOPS:
            return _unknown(f"a chain of more than {_MAX_HOPS} recipients", via)
        if self.index.mail_recipient(target) is recipient:  # its own address, as usual
            found = self._domain(target)
        else:  # another recipient's: a mailbox (a mail user pointing back inside), ...
            found = self._address(target, hops + 1)
        return _Reach(reach=found.reach, outside=found.outside, via=via, reason=found.reason)

    def _group(self, group: Group, hops: int) -> _Reach:
        """Mail to a group reaches its members, nested groups included: guests, mail users
        and mail contacts among them take it outside."""
        index = self.index
        via = f"group '{group.display_name or group.id}'"
        expansion = index.group_graph.expand(group.id)
        if not expansion.complete:
            return _unknown("its members were not all collected", via)
        outside: list[str] = []
        unknown: list[str] = []
        for user_id in sorted(expansion.users):
            member = index.mail_recipient(user_id)
            account = index.account_by_id.get(user_id)
            if member is not None:
                reached = self._mail_recipient(member, hops + 1)
            elif account is not None and account.is_guest:
                reached = (self._address(account.mail.lower(), hops + 1) if account.mail
                           else _unknown(f"guest {account.upn} has no mail address"))
            else:
                continue  # a member with a mailbox, or none: mail stays inside
            outside += reached.outside
            if reached.reach is Reach.UNKNOWN:
                unknown.append(reached.reason or "?")
        for group_id in sorted(expansion.groups):
            for contact_id in index.group_graph.direct_contacts(group_id):
                contact = index.mail_recipient(contact_id)
                if contact is None:
                    unknown.append(f"its member contact {contact_id} is not among the mail "
                                   "contacts")
                    continue
                reached = self._mail_recipient(contact, hops + 1)
                outside += reached.outside
                if reached.reach is Reach.UNKNOWN:
                    unknown.append(reached.reason or "?")
        if outside:
            return _Reach(reach=Reach.EXTERNAL, outside=tuple(dict.fromkeys(outside)), via=via)
        if unknown:
            shown = "; ".join(unknown[:3])
            return _unknown(f"{plural(len(unknown), 'member')} cannot be placed: {shown}", via)
        return _internal(via)
