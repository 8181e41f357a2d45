"""Disable an inbox rule that forwards mail outside the organisation or hides what
arrives: Disable-InboxRule, one action per rule. The rule is kept, not deleted, so that
a rollback can enable it again and a person can still read what it did.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.assess.checks.mailflow import target_address
from mailwarden.model.findings.evidence import ExternalForwarding, HidingInboxRules, evidence_of
from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import quote, select
from mailwarden.remediate.wire import Wire

FORWARDING = ExternalForwarding.CHECK_ID
HIDING = HidingInboxRules.CHECK_ID


def _forwarding_rules(t: Target) -> set[str]:
    """The rules the finding saw sending mail outside: named in its evidence (a target
    that resolved to a mail contact or mail user names no address itself), or, for a
    finding written before evidence named rules, with an SMTP target outside."""
    finding = t.failing.get(FORWARDING)
    if finding is None:
        return set()
    named = {e.rule for e in evidence_of(finding, ExternalForwarding).external if e.rule}
    for rule in t.rules:
        targets = rule.forward_to + rule.forward_as_attachment_to + rule.redirect_to
        addresses = [a for a in map(target_address, targets) if a]
        if rule.identity and any(a.rsplit("@", 1)[-1] not in t.domains for a in addresses):
            named.add(rule.identity)
    return named


def build(t: Target) -> Iterator[Action]:
    chosen: dict[str, list[str]] = {}  # rule identity -> check ids
    forwarding = _forwarding_rules(t)
    for rule in t.rules:
        if rule.identity in forwarding and rule.enabled is not False and rule.identity:
            chosen.setdefault(rule.identity, []).append(FORWARDING)
    hiding = t.failing.get(HIDING)
    for item in evidence_of(hiding, HidingInboxRules).rules if hiding is not None else ():
        if item.identity:
            chosen.setdefault(item.identity, []).append(HIDING)
    names = {r.identity: r.name for r in t.rules if r.identity}
    for identity, checks in sorted(chosen.items()):
        yield t.action(
            ActionKind.DISABLE_INBOX_RULE, identity,
            calls=(ExoCall(cmdlet="Disable-InboxRule", parameters={"Identity": identity}),),
            reasons=tuple(t.reason(c) for c in dict.fromkeys(checks)),
            breaks=f"Inbox rule '{names.get(identity) or identity}' stops running; mail it "
            "forwarded or filed stays in the inbox. The rule is kept, not deleted.",
            detail={"rule": identity, "name": names.get(identity)},
        )


def _rule(action: Action) -> str:
    return str(action.detail["rule"])


async def read(action: Action, wire: Wire) -> State:
    # The rule may be a hidden one, which Get-InboxRule finds only with -IncludeHidden.
    row = await wire.exo_row("Get-InboxRule", {"Identity": _rule(action), "IncludeHidden": True})
    return {"Enabled": row.get("Enabled")}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return state.get("Enabled") is False


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    cmdlet = "Enable-InboxRule" if prior.get("Enabled") else "Disable-InboxRule"
    return (ExoCall(cmdlet=cmdlet, parameters={"Identity": _rule(action)}),)


def script(action: Action) -> ScriptStep:
    return ScriptStep(
        read=select(f"Get-InboxRule -Identity {quote(_rule(action))} -IncludeHidden",
                    ("Identity", "Name", "Enabled")),
        needed="$state.Enabled -ne $false",
    )


def describe(action: Action) -> str:
    return f"disable inbox rule '{action.detail.get('name') or _rule(action)}'"


KIND = Kind(
    kind=ActionKind.DISABLE_INBOX_RULE, answers=(FORWARDING, HIDING),
    build=build, read=read, satisfied=satisfied, undo=undo, script=script, describe=describe,
)
