"""Reject meeting requests from outside the organisation at a room or equipment mailbox:
Set-CalendarProcessing -ProcessExternalMeetingMessages $false (Microsoft's default).

Planned only where the finding says external requests are processed; a room that fails
only because it forwards requests to an outside delegate needs a person to choose its
delegates, and stays manual.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import differs, quote, select
from mailwarden.remediate.wire import Wire

CHECK = "room-external-booking"
WANTED = {"ProcessExternalMeetingMessages": False}


def build(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None or finding.evidence.get("process_external_meeting_messages") is not True:
        return
    yield t.action(
        ActionKind.REJECT_EXTERNAL_BOOKING,
        calls=(ExoCall(cmdlet="Set-CalendarProcessing",
                       parameters={"Identity": t.upn, **WANTED}),),
        reasons=(t.reason(CHECK),),
        breaks="People outside the organisation can no longer book the room directly; they "
        "ask someone inside to book it for them.",
        detail=dict(WANTED),
    )


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-CalendarProcessing", {"Identity": action.upn})
    return {name: row.get(name) for name in WANTED}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all_same(WANTED, state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (ExoCall(cmdlet="Set-CalendarProcessing",
                    parameters={"Identity": action.upn, **prior}),)


def script(action: Action) -> ScriptStep:
    return ScriptStep(
        read=select(f"Get-CalendarProcessing -Identity {quote(action.upn)}",
                    ("Identity", "ProcessExternalMeetingMessages")),
        needed=differs("ProcessExternalMeetingMessages", False),
    )


KIND = Kind(kind=ActionKind.REJECT_EXTERNAL_BOOKING, answers=(CHECK,), build=build, read=read,
            satisfied=satisfied, undo=undo, script=script,
            describe=lambda action: "reject meeting requests from outside the organisation")
