"""Enable mailbox auditing: Set-Mailbox -AuditEnabled $true."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.wire import Wire

CHECK = "mailbox-audit-disabled"
WANTED = {"AuditEnabled": True}


def build(t: Target) -> Iterator[Action]:
    if CHECK not in t.failing:
        return
    yield t.action(
        ActionKind.ENABLE_MAILBOX_AUDIT,
        calls=(ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": t.upn, **WANTED}),),
        reasons=(t.reason(CHECK),),
        breaks="Nothing; audit records take space in the mailbox's Recoverable Items folder.",
        detail=dict(WANTED),
    )


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-Mailbox", {"Identity": action.upn})
    return {"AuditEnabled": row.get("AuditEnabled")}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all_same(WANTED, state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": action.upn, **prior}),)


KIND = Kind(
    kind=ActionKind.ENABLE_MAILBOX_AUDIT, answers=(CHECK,),
    build=build, read=read, satisfied=satisfied, undo=undo,
)
