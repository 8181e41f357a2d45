"""Block sign-in: disable the mailbox's account and revoke its sessions (Microsoft Graph).

A rollback enables the account again; revoked sessions stay revoked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, all_same
from mailwarden.remediate.model import Action, ActionKind, Call, GraphCall
from mailwarden.remediate.pstext import quote
from mailwarden.remediate.wire import Wire

#: Checks a blocked sign-in makes pass (or not applicable).
SIGN_IN_CHECKS = ("sign-in-enabled", "resource-account-enabled", "no-mfa-on-enabled-account")
WANTED = {"accountEnabled": False}


def build(t: Target) -> Iterator[Action]:
    checks = [c for c in SIGN_IN_CHECKS if c in t.failing]
    if not checks or not t.account_id:
        return
    path = f"/users/{t.account_id}"
    yield t.action(
        ActionKind.BLOCK_SIGN_IN,
        calls=(
            GraphCall(method="PATCH", path=path, body=dict(WANTED)),
            GraphCall(method="POST", path=f"{path}/revokeSignInSessions"),
        ),
        reasons=tuple(t.reason(c) for c in checks),
        breaks="Nothing that uses delegated access; anything that signs in with the "
        "account's own password (a scanner, a meeting-room console, a script) stops.",
        detail=dict(WANTED),
        note="Revoked sessions stay revoked: a rollback enables sign-in again only.",
    )


async def read(action: Action, wire: Wire) -> State:
    user = await wire.graph_get(f"/users/{action.account_id}?$select=id,accountEnabled")
    return {"accountEnabled": user.get("accountEnabled")}


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return all_same(WANTED, state)


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    body = {"accountEnabled": prior["accountEnabled"]}
    return (GraphCall(method="PATCH", path=f"/users/{action.account_id}", body=body),)


def script(action: Action) -> ScriptStep:
    """Get-MgUser returns only a few properties unless -Property names them
    (https://learn.microsoft.com/powershell/module/microsoft.graph.users/get-mguser)."""
    user = quote(str(action.account_id))
    return ScriptStep(
        read=f"Get-MgUser -UserId {user} -Property 'id,userPrincipalName,accountEnabled' | "
        "Select-Object Id, UserPrincipalName, AccountEnabled",
        needed="$state.AccountEnabled -ne $false",
    )


def describe(action: Action) -> str:
    return "block sign-in, revoke sessions"


KIND = Kind(
    kind=ActionKind.BLOCK_SIGN_IN, answers=SIGN_IN_CHECKS,
    build=build, read=read, satisfied=satisfied, undo=undo, script=script, describe=describe,
)
