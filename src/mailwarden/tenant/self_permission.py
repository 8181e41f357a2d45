"""The permission entry Exchange lists on every mailbox: NT AUTHORITY\\SELF.

"By default, the following permissions are assigned to user mailboxes: FullAccess and
ReadPermission are directly assigned to NT AUTHORITY\\SELF. This entry gives a user
permission to their own mailbox."
(https://learn.microsoft.com/powershell/module/exchange/get-mailboxpermission). So a
Get-MailboxPermission answer for a mailbox is never empty: the synthetic tenants write this
row for every mailbox they write permissions for, the emulator answers it for every mailbox
whose recorded rows lack it, and the assessment takes a mailbox with no row at all as one
whose permissions were not read (`assess.access`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SELF_PRINCIPAL = "NT AUTHORITY\\SELF"
#: The well-known SID of the principal SELF.
SELF_SID = "S-1-5-10"


def self_permission_row(identity: str) -> dict[str, Any]:
    """Get-MailboxPermission's SELF row of the mailbox `identity`, as Exchange shapes it
    (several rights joined into one element, as the admin API returns them)."""
    return {
        "Identity": identity, "User": SELF_PRINCIPAL,
        "AccessRights": ["FullAccess, ReadPermission"], "IsInherited": False, "Deny": False,
        "InheritanceType": "All", "UserSid": SELF_SID,
    }


def is_self_row(row: Mapping[str, Any]) -> bool:
    """Whether a Get-MailboxPermission row names SELF (by name or SID, in any case)."""
    names = {str(value).lower() for key, value in row.items()
             if str(key).lower() in {"user", "usersid", "trustee"}}
    return SELF_PRINCIPAL.lower() in names or SELF_SID.lower() in names
