"""Disable remote PowerShell for the mailbox's account: Set-User -RemotePowerShellEnabled
$false."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.wire import Wire

CHECK = "remote-powershell-enabled"
WANTED = {"RemotePowerShellEnabled": False}


def build(t: Target) -> Iterator[Action]:
    if CHECK not in t.failing:
        return
    yield t.action(
        ActionKind.DISABLE_REMOTE_POWERSHELL,
        calls=(ExoCall(cmdlet="Set-User", parameters={"Identity": t.upn, **WANTED}),),
        reasons=(t.reason(CHECK),),
        breaks="Scripts that connect to Exchange Online PowerShell as this account stop.",
        detail=dict(WANTED),
    )


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-User", {"Identity": action.upn})
    return {"RemotePowerShellEnabled": row.get("RemotePowerShellEnabled")}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all_same(WANTED, state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (ExoCall(cmdlet="Set-User", parameters={"Identity": action.upn, **prior}),)


KIND = Kind(
    kind=ActionKind.DISABLE_REMOTE_POWERSHELL, answers=(CHECK,),
    build=build, read=read, satisfied=satisfied, undo=undo,
)
