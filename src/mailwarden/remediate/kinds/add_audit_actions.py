"""Add missing audit actions: Set-Mailbox -AuditOwner/-AuditDelegate/-AuditAdmin @{Add=...}
with exactly the actions the finding says each list lacks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.model.findings.evidence import MissingAuditActions, evidence_of
from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, listed
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import lacks, quote, select
from mailwarden.remediate.wire import Wire

CHECK = MissingAuditActions.CHECK_ID
AUDIT_LISTS = ("AuditOwner", "AuditDelegate", "AuditAdmin")


def build(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None:
        return
    gaps = evidence_of(finding, MissingAuditActions).gaps
    lacking = {gap.audit_list: gap.actions for gap in gaps}
    add = {name: sorted(lacking[name]) for name in AUDIT_LISTS if lacking.get(name)}
    if not add:
        return
    parameters: dict[str, Any] = {"Identity": t.upn}
    parameters.update({name: {"Add": actions} for name, actions in add.items()})
    yield t.action(
        ActionKind.ADD_AUDIT_ACTIONS,
        calls=(ExoCall(cmdlet="Set-Mailbox", parameters=parameters),),
        reasons=(t.reason(CHECK),),
        breaks="Nothing; the mailbox stops following Microsoft's default audit set, so later "
        "additions to that set must be added by hand.",
        detail={"add": add},
        note="A rollback restores the lists of actions; Set-Mailbox -DefaultAuditSet puts a "
        "mailbox back on Microsoft's defaults.",
    )


def _added(action: Action) -> Mapping[str, list[str]]:
    add: Mapping[str, list[str]] = action.detail["add"]
    return add


async def read(action: Action, wire: Wire) -> State:
    row = await wire.exo_row("Get-Mailbox", {"Identity": action.upn})
    return {name: listed(row.get(name)) for name in _added(action)}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all(
        {a.lower() for a in actions} <= {v.lower() for v in listed(state.get(name))}
        for name, actions in _added(action).items()
    )


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": action.upn, **prior}),)


def script(action: Action) -> ScriptStep:
    added = _added(action)
    return ScriptStep(
        read=select(f"Get-Mailbox -Identity {quote(action.upn)}", ["Identity", *added]),
        needed=" -or ".join(lacks(name, item) for name, items in added.items() for item in items),
    )


def describe(action: Action) -> str:
    added = _added(action)
    lists = ", ".join(f"{name} +{len(items)}" for name, items in added.items())
    return f"audit {sum(len(i) for i in added.values())} more actions ({lists})"


KIND = Kind(
    kind=ActionKind.ADD_AUDIT_ACTIONS, answers=(CHECK,),
    build=build, read=read, satisfied=satisfied, undo=undo, script=script, describe=describe,
)
