"""Enable mailbox auditing: Set-Mailbox -AuditEnabled $true."""

from __future__ import annotations

from mailwarden.remediate.kinds.base import exo_setting
from mailwarden.remediate.model import ActionKind

KIND = exo_setting(
    ActionKind.ENABLE_MAILBOX_AUDIT,
    check="mailbox-audit-disabled",
    read_cmdlet="Get-Mailbox",
    set_cmdlet="Set-Mailbox",
    wanted={"AuditEnabled": True},
    summary="turn mailbox auditing on",
    breaks="Nothing; audit records take space in the mailbox's Recoverable Items folder.",
)
