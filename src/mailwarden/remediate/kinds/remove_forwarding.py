"""Remove external forwarding: clear ForwardingSmtpAddress and/or ForwardingAddress, the
ones the finding saw sending mail outside the organisation, with one Set-Mailbox.

DeliverToMailboxAndForward is turned off too when no forwarding is left. Forwarding by
inbox rule is `disable_inbox_rule`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.model.findings.evidence import ExternalForwarding, evidence_of
from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import any_differs, quote, select
from mailwarden.remediate.wire import Wire

CHECK = ExternalForwarding.CHECK_ID
_FORWARDING = ("ForwardingSmtpAddress", "ForwardingAddress", "DeliverToMailboxAndForward")


def build(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None or t.mailbox is None:
        return
    where = {e.where for e in evidence_of(finding, ExternalForwarding).external}
    clear = [p for p in ("ForwardingSmtpAddress", "ForwardingAddress") if p in where]
    if not clear:
        return
    parameters: dict[str, Any] = dict.fromkeys(clear)
    left = [
        p
        for p, value in (
            ("ForwardingSmtpAddress", t.mailbox.forwarding_smtp_address),
            ("ForwardingAddress", t.mailbox.forwarding_address),
        )
        if value and p not in clear
    ]
    if not left and t.mailbox.deliver_to_mailbox_and_forward:
        parameters["DeliverToMailboxAndForward"] = False
    yield t.action(
        ActionKind.REMOVE_FORWARDING,
        calls=(ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": t.upn, **parameters}),),
        reasons=(t.reason(CHECK),),
        breaks="Whoever received the mailbox's mail outside the organisation stops getting "
        "it; if a partner depends on it, arrange a reviewed alternative.",
        detail={"parameters": parameters},
    )


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-Mailbox", {"Identity": action.upn})
    return {p: row.get(p) for p in _FORWARDING}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    wanted: Mapping[str, Any] = action.detail["parameters"]
    return all_same(wanted, state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": action.upn, **prior}),)


def script(action: Action) -> ScriptStep:
    wanted: Mapping[str, Any] = action.detail["parameters"]
    return ScriptStep(
        read=select(f"Get-Mailbox -Identity {quote(action.upn)}", ("Identity", *_FORWARDING)),
        needed=any_differs(wanted),
    )


def describe(action: Action) -> str:
    cleared = [p for p in action.detail["parameters"] if p != "DeliverToMailboxAndForward"]
    return f"stop forwarding: clear {' and '.join(cleared)}"


KIND = Kind(
    kind=ActionKind.REMOVE_FORWARDING, answers=(CHECK,),
    build=build, read=read, satisfied=satisfied, undo=undo, script=script, describe=describe,
)
