"""Remove departed people from a room's booking delegates: Set-CalendarProcessing
-ResourceDelegates @{Remove = ...}, which leaves the other delegates as they are.
The journal keeps the whole list; a rollback sets it back as it was."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import quote, select, value_text
from mailwarden.remediate.wire import Wire

CHECK = "room-delegate-left"
PROPERTY = "ResourceDelegates"


def build(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None:
        return
    departed = [str(n) for n in finding.evidence.get("departed_delegates") or ()]
    if not departed:
        return
    yield t.action(
        ActionKind.REMOVE_ROOM_DELEGATE,
        *sorted(n.lower() for n in departed),
        calls=(ExoCall(cmdlet="Set-CalendarProcessing",
                       parameters={"Identity": t.upn, PROPERTY: {"Remove": departed}}),),
        reasons=(t.reason(CHECK),),
        breaks="Requests that need approval go to the remaining delegates; with none left, "
        "in-policy requests are booked or declined automatically.",
        detail={"remove": departed},
    )


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-CalendarProcessing", {"Identity": action.upn})
    return {PROPERTY: list(row.get(PROPERTY) or [])}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    gone = {str(n).lower() for n in action.detail.get("remove", ())}
    return not any(str(n).lower() in gone for n in state.get(PROPERTY) or ())


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    delegates = list(prior.get(PROPERTY) or [])
    return (ExoCall(cmdlet="Set-CalendarProcessing",
                    parameters={"Identity": action.upn, PROPERTY: delegates}),)


def _departed(action: Action) -> list[str]:
    return [str(n) for n in action.detail.get("remove", ())]


def script(action: Action) -> ScriptStep:
    # Still needed while any departed delegate is listed (-contains compares without case).
    gone = value_text(_departed(action))
    return ScriptStep(
        read=select(f"Get-CalendarProcessing -Identity {quote(action.upn)}",
                    ("Identity", PROPERTY)),
        needed=f"@(@($state.{PROPERTY}) | Where-Object {{ @({gone}) -contains \"$_\" }}).Count "
        "-gt 0",
    )


def describe(action: Action) -> str:
    return f"remove departed booking delegates {', '.join(_departed(action))}"


KIND = Kind(kind=ActionKind.REMOVE_ROOM_DELEGATE, answers=(CHECK,), build=build, read=read,
            satisfied=satisfied, undo=undo, script=script, describe=describe)
