"""Disable remote PowerShell for the mailbox's account: Set-User -RemotePowerShellEnabled
$false."""

from __future__ import annotations

from mailwarden.remediate.kinds.base import exo_setting
from mailwarden.remediate.model import ActionKind

KIND = exo_setting(
    ActionKind.DISABLE_REMOTE_POWERSHELL,
    check="remote-powershell-enabled",
    read_cmdlet="Get-User",
    set_cmdlet="Set-User",
    wanted={"RemotePowerShellEnabled": False},
    summary="turn remote PowerShell off",
    breaks="Scripts that connect to Exchange Online PowerShell as this account stop.",
)
