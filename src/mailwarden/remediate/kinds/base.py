"""What an action kind is: how its actions are built from a mailbox's failing findings,
how the state they change is read, when that state is already as wanted, and the calls
that put a journalled prior state back.

`build` is pure. `read` returns a small JSON object holding only the properties the
action changes, as the service spelled them, so that the journal shows exactly what a
rollback will restore; `undo` turns such an object back into calls. `script` is the same
read and test for the exported PowerShell script (`ScriptStep`): what it saves before the
change, and whether the change is still needed, so that running the script twice changes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mailwarden.model.findings import Finding, MailboxAccess
from mailwarden.model.inventory import InboxRule, Mailbox
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall, Reason, action_id
from mailwarden.remediate.pstext import any_differs, quote, select
from mailwarden.remediate.wire import Wire

State = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class AppScope:
    """A mail-enabled security group to restrict applications to (--app-scope-group)."""

    group_id: str
    name: str
    sid: str | None  # what the policy's identity names besides the group's object id


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What the builders know about one ownerless mailbox."""

    upn: str
    account_id: str | None
    failing: Mapping[str, Finding]  # check id -> its failing finding
    access: MailboxAccess | None
    mailbox: Mailbox | None
    rules: tuple[InboxRule, ...]
    domains: frozenset[str]
    include_ews: bool = False
    include_activesync: bool = False
    include_external_delegates: bool = False  # remove guests' and external people's grants
    #: For tenant findings (upn ""): the tenant, the group a new application access policy
    #: restricts an app to, and whether an app's Entra grants may be removed.
    tenant_id: str | None = None
    app_scope: AppScope | None = None
    remove_app_grants: bool = False

    def reason(self, check_id: str) -> Reason:
        return Reason(check_id=check_id, message=self.failing[check_id].message)

    def action(self, kind: ActionKind, *id_parts: str, calls: tuple[Call, ...],
               reasons: tuple[Reason, ...], breaks: str,
               detail: Mapping[str, Any] | None = None, reversible: bool = True,
               note: str | None = None) -> Action:
        """An action on this mailbox; its id is stable for the kind, the mailbox and
        `id_parts` (what else tells two actions of one kind on one mailbox apart)."""
        return Action(id=action_id(kind, self.upn, *id_parts), kind=kind, upn=self.upn,
                      account_id=self.account_id, calls=calls, reasons=reasons, breaks=breaks,
                      detail=detail or {}, reversible=reversible, note=note)


Build = Callable[[Target], Iterator[Action]]
Read = Callable[[Action, Wire], Awaitable[State]]
Satisfied = Callable[[Action, Mapping[str, Any]], bool]
Undo = Callable[[Action, Mapping[str, Any]], tuple[Call, ...]]
#: The calls that make the change, from the state read just before (raises a
#: MailwardenError when that state makes the planned change wrong).
CallsFor = Callable[[Action, Mapping[str, Any]], tuple[Call, ...]]
#: The calls that put the journalled prior state back, from the prior and the current
#: state; () when nothing is to be done.
Restore = Callable[[Action, Mapping[str, Any], Mapping[str, Any]], tuple[Call, ...]]
#: The action as PowerShell lines for the export, when its calls alone do not say it.
PowerShell = Callable[[Action], list[str]]


def never(target: Target) -> Iterator[Action]:
    """The per-mailbox builder of a kind whose actions are built for the whole tenant."""
    return iter(())


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptStep:
    """How the exported script reads and guards one action.

    `read` is a PowerShell pipeline whose output is the current state of what the action
    changes: the script saves it to its state file before the change. `needed` is an
    expression over `$state` (that output) that is true while the change is still to be
    made; when it is false the script leaves the object alone.
    """

    read: str
    needed: str


Script = Callable[[Action], ScriptStep]
Describe = Callable[[Action], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """One action kind and its four operations."""

    kind: ActionKind
    answers: tuple[str, ...]  # the check ids its actions can fix
    build: Build  # failing findings of one mailbox -> its actions of this kind
    read: Read  # the current value of what an action changes
    satisfied: Satisfied  # is that value already what the action would make it?
    undo: Undo  # the calls that put a journalled prior value back
    # How the exported script reads and guards an action; a kind without one is exported
    # with a warning that the script cannot tell whether its change is already made.
    script: Script | None = None
    # One short line a person reads in plans and journals ("remove FullAccess of x").
    describe: Describe | None = None
    calls_for: CallsFor | None = None  # None: the action's own calls
    restore: Restore | None = None  # None: `undo` unless the state is already the prior
    powershell: PowerShell | None = None  # None: the export spells each call


def same(a: Any, b: Any) -> bool:
    """Equal as Exchange compares: strings and lists of strings without regard to case or
    order; an empty string or list is the same as null."""
    if a in ("", [], None) and b in ("", [], None):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return sorted(str(x).lower() for x in a) == sorted(str(x).lower() for x in b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


def all_same(wanted: Mapping[str, Any], state: Mapping[str, Any]) -> bool:
    """Does `state` hold every value of `wanted`?"""
    return all(same(state.get(name), value) for name, value in wanted.items())


def listed(values: Any) -> list[str]:
    """A multi-valued property as a list, however the service wrote it."""
    if values is None:
        return []
    if isinstance(values, list):
        return [str(v) for v in values]
    return [str(values)]


def exo_setting(
    kind: ActionKind,
    *,
    check: str,
    read_cmdlet: str,
    set_cmdlet: str,
    wanted: Mapping[str, Any],
    breaks: str,
    summary: str,
) -> Kind:
    """A kind that sets Exchange properties of the mailbox's recipient to `wanted`: built
    from the failing `check`, read with `read_cmdlet`, undone by setting the journalled
    values back with `set_cmdlet`."""

    def build(t: Target) -> Iterator[Action]:
        if check not in t.failing:
            return
        yield t.action(
            kind,
            calls=(ExoCall(cmdlet=set_cmdlet, parameters={"Identity": t.upn, **wanted}),),
            reasons=(t.reason(check),),
            breaks=breaks,
            detail=dict(wanted),
        )

    async def read(action: Action, wire: Wire) -> State:
        row = await wire.exo_row(read_cmdlet, {"Identity": action.upn})
        return {name: row.get(name) for name in wanted}

    def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
        return all_same(wanted, state)

    def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
        return (ExoCall(cmdlet=set_cmdlet, parameters={"Identity": action.upn, **prior}),)

    def script(action: Action) -> ScriptStep:
        return ScriptStep(
            read=select(f"{read_cmdlet} -Identity {quote(action.upn)}", ["Identity", *wanted]),
            needed=any_differs(wanted),
        )

    return Kind(kind=kind, answers=(check,), build=build, read=read, satisfied=satisfied,
                undo=undo, script=script, describe=lambda action: summary)
