"""Conditional access against legacy clients, changed for the whole tenant at once
(`model.findings.legacy_fix` decides what; this module makes and undoes it).

- `ca-remove-exclusion`: one action per enabled legacy-auth block, for every ownerless
  account it excludes by id. Apply reads the policy, journals its `conditions.users` as
  read, and PATCHes `/identity/conditionalAccess/policies/{id}` with that whole users
  object minus the accounts (the documented PATCH keeps what it is not given, but a
  client that sends the object it has just read is right whichever way a service merges
  a nested complex value). A policy gone or no longer enabled since the scan is refused:
  the planned change would not be the fix. Rollback puts the exact prior excludeUsers
  back, keeping whatever else changed in the users condition since.
- `ca-create-legacy-block`: one policy for all users, report-only, excluding the
  break-glass accounts (POST `/identity/conditionalAccess/policies`, 201). Applying it
  again finds the policy by its name and does nothing; rollback deletes it (DELETE,
  204).

Break-glass accounts are resolved to object ids when the plan is made, never removed
from an exclusion list, and excluded from the new policy. With none configured the plan
says so on the action: the policy is still created, report-only, so it blocks nobody.
Permissions (Graph docs, conditionalaccesspolicy-update / conditionalaccessroot-post-
policies / conditionalaccesspolicy-delete): Policy.Read.All and
Policy.ReadWrite.ConditionalAccess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mailwarden.model.findings import Finding
from mailwarden.model.findings.legacy_fix import (
    CHECK_ID,
    NEW_POLICY_NAME,
    create_powershell,
    legacy_fix,
    new_policy_body,
    removal_powershell,
)
from mailwarden.model.findings.legacy_fix import Account as FixAccount
from mailwarden.model.findings.legacy_fix import Removal as FixRemoval
from mailwarden.model.inventory import Snapshot
from mailwarden.remediate.errors import PolicyChangedError
from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, never
from mailwarden.remediate.model import Action, ActionKind, Call, GraphCall, Reason, action_id
from mailwarden.remediate.pstext import quote
from mailwarden.remediate.wire import Wire

POLICIES = "/identity/conditionalAccess/policies"
USER_LISTS = ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups",
              "includeRoles", "excludeRoles")


def grouped_actions(
    findings: Sequence[Finding], snapshot: Snapshot, break_glass_ids: Sequence[str]
) -> tuple[list[Action], set[str]]:
    """The tenant-wide actions for the failing legacy-auth findings given, and the
    mailboxes they answer (the others stay manual work)."""
    fix = legacy_fix(findings, break_glass_ids)
    messages = {f.resource.upn or "": f.message for f in findings}
    policies = {p.id.lower(): p for p in snapshot.ca_policies}
    actions: list[Action] = []
    answered: set[str] = set()
    for removal in fix.removals:
        policy = policies.get(removal.policy_id.lower())
        users = _users_of(policy) if policy is not None else {}
        actions.append(_removal(removal, users, messages, break_glass_ids))
        answered |= {a.upn for a in removal.accounts}
    if fix.create_for:
        actions.append(_creation(fix.create_for, messages, break_glass_ids))
        answered |= {a.upn for a in fix.create_for}
    return actions, answered


def _users_of(policy: Any) -> dict[str, list[str]]:
    u = policy.users
    return {"includeUsers": list(u.include_users), "excludeUsers": list(u.exclude_users),
            "includeGroups": list(u.include_groups), "excludeGroups": list(u.exclude_groups),
            "includeRoles": list(u.include_roles), "excludeRoles": list(u.exclude_roles)}


def _reasons(accounts: Sequence[FixAccount], messages: Mapping[str, str]) -> tuple[Reason, ...]:
    return tuple(Reason(check_id=CHECK_ID, message=messages.get(a.upn, a.upn)) for a in accounts)


def _without(users: Mapping[str, Any], remove: Sequence[str]) -> dict[str, Any]:
    gone = {r.lower() for r in remove}
    kept = [u for u in users.get("excludeUsers") or () if str(u).lower() not in gone]
    return {**{k: v for k, v in users.items() if not k.startswith("@odata.")},
            "excludeUsers": kept}


def _patch(policy_id: str, users: Mapping[str, Any]) -> GraphCall:
    return GraphCall(method="PATCH", path=f"{POLICIES}/{policy_id}",
                     body={"conditions": {"users": dict(users)}})


def _removal(removal: FixRemoval, users: Mapping[str, Any], messages: Mapping[str, str],
             break_glass_ids: Sequence[str]) -> Action:
    remove = [a.account_id for a in removal.accounts]
    kind = ActionKind.CA_REMOVE_EXCLUSION
    return Action(
        id=action_id(kind, "", removal.policy_id), kind=kind, upn="", account_id=None,
        calls=(_patch(removal.policy_id, _without(users, remove)),),
        reasons=_reasons(removal.accounts, messages),
        breaks=f"Legacy clients (IMAP, POP, SMTP AUTH, EWS with basic auth, old ActiveSync) "
        f"can no longer sign in as {', '.join(a.upn for a in removal.accounts)}: a device or "
        "script that still uses one of them with these accounts stops.",
        detail={"policy_id": removal.policy_id, "policy": removal.policy, "remove": remove,
                "mailboxes": [a.upn for a in removal.accounts],
                "break_glass": list(break_glass_ids)},
        note=f"Only '{removal.policy}' changes: its excludeUsers loses these accounts, the "
        "rest of its users condition is sent back as read just before. Break-glass accounts "
        "stay excluded.",
    )


def _creation(accounts: Sequence[FixAccount], messages: Mapping[str, str],
              break_glass_ids: Sequence[str]) -> Action:
    kind = ActionKind.CA_CREATE_LEGACY_BLOCK
    note = ("Created report-only (enabledForReportingButNotEnforced): it blocks nobody until "
            "someone reads its results in the sign-in logs and turns it on.")
    if break_glass_ids:
        note += f" Excludes the break-glass accounts {', '.join(break_glass_ids)}."
    else:
        note += (" WARNING: no break-glass account is configured (setting break_glass, "
                 "--break-glass), so the policy excludes nobody; name them before turning "
                 "it on.")
    return Action(
        id=action_id(kind, "", NEW_POLICY_NAME), kind=kind, upn="", account_id=None,
        calls=(GraphCall(method="POST", path=POLICIES, body=new_policy_body(break_glass_ids)),),
        reasons=_reasons(accounts, messages),
        breaks="Nothing while report-only; once turned on, every legacy client of every "
        "account but the break-glass ones is blocked.",
        detail={"display_name": NEW_POLICY_NAME, "mailboxes": [a.upn for a in accounts],
                "break_glass": list(break_glass_ids)},
        note=note,
    )


# -- ca-remove-exclusion --------------------------------------------------------------

async def read_policy(action: Action, wire: Wire) -> State:
    policy = await wire.graph_get(f"{POLICIES}/{action.detail['policy_id']}")
    conditions = policy.get("conditions") or {}
    users = conditions.get("users") if isinstance(conditions, Mapping) else None
    return {"state": policy.get("state"),
            "users": {k: v for k, v in (users or {}).items() if not k.startswith("@odata.")}}


def _excluded(state: Mapping[str, Any]) -> set[str]:
    users = state.get("users") or {}
    return {str(u).lower() for u in users.get("excludeUsers") or ()}


def removal_satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return not _excluded(state) & {str(r).lower() for r in action.detail["remove"]}


def removal_calls(action: Action, state: Mapping[str, Any]) -> tuple[Call, ...]:
    name = action.detail["policy"]
    if str(state.get("state") or "").lower() != "enabled":
        raise PolicyChangedError(
            f"'{name}' is now {state.get('state')!r}, not enabled as when the tenant was "
            "scanned: taking accounts out of its exclusions would not block legacy clients; "
            "scan again and plan anew")
    spared = {b.lower() for b in action.detail.get("break_glass") or ()}
    remove = [r for r in action.detail["remove"] if str(r).lower() not in spared]
    return (_patch(action.detail["policy_id"], _without(state.get("users") or {}, remove)),)


def removal_restore(
    action: Action, prior: Mapping[str, Any], current: Mapping[str, Any]
) -> tuple[Call, ...]:
    before = list((prior.get("users") or {}).get("excludeUsers") or ())
    if _excluded(current) == {str(u).lower() for u in before}:
        return ()
    users = {**(current.get("users") or {}), "excludeUsers": before}
    return (_patch(action.detail["policy_id"], users),)


def removal_undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return (_patch(action.detail["policy_id"], prior.get("users") or {}),)


def removal_powershell_of(action: Action) -> list[str]:
    removal = FixRemoval(
        policy_id=action.detail["policy_id"], policy=action.detail["policy"],
        accounts=tuple(FixAccount(upn=u, account_id=i) for u, i in
                       zip(action.detail["mailboxes"], action.detail["remove"], strict=True)))
    return removal_powershell(removal)


# -- ca-create-legacy-block -----------------------------------------------------------

async def read_created(action: Action, wire: Wire) -> State:
    listing = await wire.graph_get(f"{POLICIES}?$select=id,displayName")
    name = str(action.detail["display_name"]).lower()
    found = [p for p in listing.get("value") or () if isinstance(p, Mapping)
             and str(p.get("displayName") or "").lower() == name]
    return {"policy_id": str(found[0]["id"]) if found else None}


def created_satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return state.get("policy_id") is not None


def created_restore(
    action: Action, prior: Mapping[str, Any], current: Mapping[str, Any]
) -> tuple[Call, ...]:
    if prior.get("policy_id") is not None or current.get("policy_id") is None:
        return ()
    return (GraphCall(method="DELETE", path=f"{POLICIES}/{current['policy_id']}"),)


def created_undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    return ()  # the id of the policy made is known only by reading: see `created_restore`


def created_powershell(action: Action) -> list[str]:
    return create_powershell(list(action.detail.get("break_glass") or ()))


# -- the exported script's read and guard (kinds.base.ScriptStep) -----------------------

def removal_script(action: Action) -> ScriptStep:
    pid = quote(str(action.detail["policy_id"]))
    ids = ", ".join(quote(str(r)) for r in action.detail["remove"])
    return ScriptStep(
        read=(f"Get-MgIdentityConditionalAccessPolicy -ConditionalAccessPolicyId {pid} | "
              "Select-Object Id, DisplayName, State, "
              "@{n = 'ExcludeUsers'; e = { @($_.Conditions.Users.ExcludeUsers) }}"),
        needed=f"@(@($state.ExcludeUsers) | Where-Object {{ $_ -in @({ids}) }}).Count -gt 0",
    )


def created_script(action: Action) -> ScriptStep:
    name = quote(str(action.detail["display_name"]))
    return ScriptStep(
        read=(f"Get-MgIdentityConditionalAccessPolicy -All | Where-Object {{ $_.DisplayName "
              f"-eq {name} }} | Select-Object Id, DisplayName, State"),
        needed="$null -eq $state",
    )


REMOVE_EXCLUSION = Kind(
    kind=ActionKind.CA_REMOVE_EXCLUSION, answers=(CHECK_ID,), build=never,
    read=read_policy, satisfied=removal_satisfied, undo=removal_undo,
    calls_for=removal_calls, restore=removal_restore, powershell=removal_powershell_of,
    script=removal_script,
    describe=lambda action: f"take {', '.join(action.detail['mailboxes'])} out of the "
    f"exclusions of '{action.detail['policy']}'",
)
CREATE_LEGACY_BLOCK = Kind(
    kind=ActionKind.CA_CREATE_LEGACY_BLOCK, answers=(CHECK_ID,), build=never,
    read=read_created, satisfied=created_satisfied, undo=created_undo,
    restore=created_restore, powershell=created_powershell, script=created_script,
    describe=lambda action: f"create '{action.detail['display_name']}', report-only, for all "
    "users but the break-glass accounts",
)
