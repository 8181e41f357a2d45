"""Who a permission entry names: a user, a group, everyone, or nobody left.

Exchange writes trustees in several spellings: a UPN or address, an Exchange Name
(often the alias, or a GUID for newer objects), a group's display name, a bare SID once
the object behind it was deleted, or `DOMAIN\\name` for its own service principals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailwarden.assess.index import TenantIndex
from mailwarden.model.findings import TrusteeKind
from mailwarden.model.inventory import Account, Group

#: Principals that stand for everybody (mailbox folder permissions use Default/Anonymous).
BROAD_NAMES = frozenset(
    {
        "default",
        "anonymous",
        "everyone",
        "authenticated users",
        "nt authority\\authenticated users",
        "nt authority\\anonymous logon",
        "all users",
        "all company",
    }
)
#: The broad principals that reach people who never signed in; the others reach every user.
ANONYMOUS_NAMES = frozenset({"anonymous", "anonymous logon", "nt authority\\anonymous logon"})
SELF_NAMES = frozenset({"nt authority\\self", "self"})
WELL_KNOWN_SIDS = {
    "s-1-1-0": (TrusteeKind.BROAD, "Everyone"),
    "s-1-5-7": (TrusteeKind.BROAD, "Anonymous Logon"),
    "s-1-5-11": (TrusteeKind.BROAD, "Authenticated Users"),
    "s-1-5-10": (TrusteeKind.SELF, "NT AUTHORITY\\SELF"),
    "s-1-5-18": (TrusteeKind.SYSTEM, "NT AUTHORITY\\SYSTEM"),
    "s-1-5-19": (TrusteeKind.SYSTEM, "NT AUTHORITY\\LOCAL SERVICE"),
    "s-1-5-20": (TrusteeKind.SYSTEM, "NT AUTHORITY\\NETWORK SERVICE"),
}
#: Exchange Online's own groups that appear (inherited) on every older mailbox.
EXCHANGE_SYSTEM_NAMES = frozenset(
    {
        "administrator",
        "domain admins",
        "enterprise admins",
        "organization management",
        "exchange servers",
        "exchange trusted subsystem",
        "exchange windows permissions",
        "managed availability servers",
        "public folder management",
        "discovery management",
        "exchange domain servers",
    }
)
SID_PATTERN = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)
GUID_PATTERN = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trustee:
    kind: TrusteeKind
    name: str | None = None  # UPN (lower case) of a user, display name of a group
    object_id: str | None = None
    note: str | None = None


def _user(account: Account) -> Trustee:
    return Trustee(kind=TrusteeKind.USER, name=account.upn, object_id=account.id.lower())


def _group(group: Group) -> Trustee:
    return Trustee(
        kind=TrusteeKind.GROUP, name=group.display_name or group.id, object_id=group.id.lower()
    )


class TrusteeResolver:
    """Resolves trustee strings against the tenant, each distinct string once."""

    def __init__(self, index: TenantIndex) -> None:
        self._index = index
        self._cache: dict[str, Trustee] = {}

    def resolve(self, raw: str) -> Trustee:
        key = raw.strip().lower()
        found = self._cache.get(key)
        if found is None:
            found = self._resolve(raw.strip(), key)
            self._cache[key] = found
        return found

    def _resolve(self, text: str, key: str) -> Trustee:
        if key in SELF_NAMES:
            return Trustee(kind=TrusteeKind.SELF, name=text)
        if key in BROAD_NAMES:
            return Trustee(kind=TrusteeKind.BROAD, name=text)
        if SID_PATTERN.match(text):
            return self._by_sid(text, key)
        if "\\" in text:
            return self._qualified(text, key)
        found = self._by_identity(key)
        if found is not None:
            return found
        if "@" in key:
            return Trustee(
                kind=TrusteeKind.ORPHANED, name=text, note="no account, group or mailbox has it"
            )
        return self._by_display_name(text, key)

    def _by_sid(self, text: str, key: str) -> Trustee:
        if key in WELL_KNOWN_SIDS:
            kind, name = WELL_KNOWN_SIDS[key]
            return Trustee(kind=kind, name=name)
        account = self._index.account_by_sid(key)
        if account is not None:
            return _user(account)
        group = self._index.group_by_sid(key)
        if group is not None:
            return _group(group)
        return Trustee(
            kind=TrusteeKind.ORPHANED,
            name=text,
            note="no account or group has this SID: the object it named was deleted",
        )

    def _qualified(self, text: str, key: str) -> Trustee:
        domain, _, name = key.partition("\\")
        # Exchange Online's forest prefixes its own groups; no tenant object is meant.
        if domain == "nt authority" or name in EXCHANGE_SYSTEM_NAMES:
            return Trustee(kind=TrusteeKind.SYSTEM, name=text)
        found = self._by_identity(name) or self._by_unique_display_name(name)
        if found is not None:
            return found
        return Trustee(kind=TrusteeKind.ORPHANED, name=text, note="no object answers to this name")

    def _by_identity(self, key: str) -> Trustee | None:
        """By id, UPN, address, alias or Exchange Name: keys the tenant keeps unique."""
        index = self._index
        candidates: dict[str, Trustee] = {}
        account = index.account(key)
        if account is not None:
            candidates[account.id.lower()] = _user(account)
        group = index.group(key)
        if group is not None:
            candidates[group.id.lower()] = _group(group)
        mailbox = index.mailbox_by_name(key)
        if mailbox is not None:
            owner = index.account_of_mailbox(mailbox)
            if owner is not None:
                candidates[owner.id.lower()] = _user(owner)
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        if len(candidates) > 1:
            return Trustee(
                kind=TrusteeKind.AMBIGUOUS,
                name=key,
                note="several objects answer to it: "
                + ", ".join(sorted(t.name or t.object_id or "?" for t in candidates.values())),
            )
        return None

    def _by_unique_display_name(self, key: str) -> Trustee | None:
        found = self._display_candidates(key)
        return found if found is not None and found.kind is not TrusteeKind.AMBIGUOUS else None

    def _display_candidates(self, text: str) -> Trustee | None:
        """Exchange lists users by UPN and groups by Name (their display name), so a bare
        display name is first a group's; a user's only when no group carries it."""
        groups = self._index.groups_named(text)
        if len(groups) == 1:
            return _group(groups[0])
        accounts = [] if groups else self._index.accounts_named(text)
        if len(accounts) == 1:
            return _user(accounts[0])
        if groups or accounts:
            return Trustee(
                kind=TrusteeKind.AMBIGUOUS,
                name=text,
                note=f"{len(groups) or len(accounts)} "
                f"{'groups' if groups else 'accounts'} carry this display name",
            )
        return None

    def _by_display_name(self, text: str, key: str) -> Trustee:
        found = self._display_candidates(text)
        if found is not None:
            return found
        return Trustee(
            kind=TrusteeKind.ORPHANED,
            name=text,
            note="no account, group or mailbox answers to this name",
        )
