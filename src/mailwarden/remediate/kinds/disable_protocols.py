"""Disable protocols: turn off IMAP, POP, SMTP AUTH (and, when asked, EWS and ActiveSync)
on the mailbox with one Set-CASMailbox.

EWS and ActiveSync serve legitimate clients, so they are turned off only when the plan's
options ask for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import any_differs, quote, select
from mailwarden.remediate.wire import Wire

#: Protocol checks -> the Set-CASMailbox parameter and the value that turns it off.
PROTOCOL_PARAMETERS: Mapping[str, tuple[str, bool]] = {
    "imap-enabled": ("ImapEnabled", False),
    "pop-enabled": ("PopEnabled", False),
    "ews-enabled": ("EwsEnabled", False),
    "activesync-enabled": ("ActiveSyncEnabled", False),
    "smtp-auth-enabled": ("SmtpClientAuthenticationDisabled", True),
}
_LABELS = {
    "ImapEnabled": "IMAP",
    "PopEnabled": "POP",
    "EwsEnabled": "EWS",
    "ActiveSyncEnabled": "ActiveSync",
    "SmtpClientAuthenticationDisabled": "SMTP AUTH",
}


def build(t: Target) -> Iterator[Action]:
    wanted = {"ews-enabled": t.include_ews, "activesync-enabled": t.include_activesync}
    checks = [c for c in PROTOCOL_PARAMETERS if c in t.failing and wanted.get(c, True)]
    if not checks:
        return
    parameters = dict(PROTOCOL_PARAMETERS[c] for c in checks)
    yield t.action(
        ActionKind.DISABLE_PROTOCOLS,
        calls=(ExoCall(cmdlet="Set-CASMailbox", parameters={"Identity": t.upn, **parameters}),),
        reasons=tuple(t.reason(c) for c in checks),
        breaks="Clients that open the mailbox over "
        + ", ".join(_LABELS[p] for p in parameters)
        + " (mail apps, scanners or scripts using its password) stop; Outlook and OWA "
        "through delegated access keep working.",
        detail={"parameters": parameters},
    )


def _parameters(action: Action) -> Mapping[str, Any]:
    parameters: Mapping[str, Any] = action.detail["parameters"]
    return parameters


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-CASMailbox", {"Identity": action.upn})
    return {p: row.get(p) for p in _parameters(action)}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all_same(_parameters(action), state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (ExoCall(cmdlet="Set-CASMailbox", parameters={"Identity": action.upn, **prior}),)


def script(action: Action) -> ScriptStep:
    parameters = _parameters(action)
    return ScriptStep(
        read=select(f"Get-CASMailbox -Identity {quote(action.upn)}", ["Identity", *parameters]),
        needed=any_differs(parameters),
    )


def describe(action: Action) -> str:
    return f"turn {', '.join(_LABELS[p] for p in _parameters(action))} off"


KIND = Kind(
    kind=ActionKind.DISABLE_PROTOCOLS, answers=tuple(PROTOCOL_PARAMETERS),
    build=build, read=read, satisfied=satisfied, undo=undo, script=script, describe=describe,
)
