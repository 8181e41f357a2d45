"""Reject Direct Send: Set-OrganizationConfig -RejectDirectSend $true (office-docs-powershell
Set-OrganizationConfig.md). A rollback sets the journalled value back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import differs, select
from mailwarden.remediate.wire import Wire

CHECK = "direct-send-allowed"
WANTED = {"RejectDirectSend": True}


def build(t: Target) -> Iterator[Action]:
    if CHECK not in t.failing or t.upn:
        return
    yield t.action(
        ActionKind.REJECT_DIRECT_SEND,
        calls=(ExoCall(cmdlet="Set-OrganizationConfig", parameters=dict(WANTED)),),
        reasons=(t.reason(CHECK),),
        breaks="Printers, scanners and services that send anonymously 'from' your own "
        "domains to your mailboxes without an inbound connector matched by their IP address "
        "or certificate are rejected: give them such a connector first.",
        detail={**WANTED, "target": "the tenant"},
    )


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-OrganizationConfig", {})
    return {"RejectDirectSend": row.get("RejectDirectSend")}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all_same(WANTED, state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    # Never set before means off: Direct Send was not rejected.
    value = bool(prior.get("RejectDirectSend"))
    return (ExoCall(cmdlet="Set-OrganizationConfig", parameters={"RejectDirectSend": value}),)


def script(action: Action) -> ScriptStep:
    return ScriptStep(read=select("Get-OrganizationConfig", ("Identity", "RejectDirectSend")),
                      needed=differs("RejectDirectSend", True))


KIND = Kind(
    kind=ActionKind.REJECT_DIRECT_SEND,
    answers=(CHECK,),
    build=build,
    read=read,
    satisfied=satisfied,
    undo=undo,
    script=script,
    describe=lambda action: "reject Direct Send (Set-OrganizationConfig -RejectDirectSend)",
)
